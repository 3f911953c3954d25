import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startTestBot, TEST_ADMIN_CHANNEL, type TestBot, testEnv, uniquePrefix } from '../../support/bot.js';
import { type SheetsFake, startSheetsFake } from '../../support/sheets-fake.js';
import { type SlackFake, startSlackFake } from '../../support/slack-fake.js';
import { HEADER, row } from './fixtures.js';

const TAB = 'Form Responses 1';
let slack: SlackFake;
let sheets: SheetsFake;
const bots: TestBot[] = [];

async function bot(prefix: string): Promise<TestBot> {
  const started = await startTestBot(
    testEnv({
      REDIS_KEY_PREFIX: prefix,
      SLACK_API_URL: `${slack.url}/api/`,
      SLACK_ADMINS: 'U0ADMIN1',
      GOOGLE_SHEETS_API_URL: `${sheets.url}/`,
      GOOGLE_APPLICATION_CREDENTIALS: sheets.keyFile,
      GOOGLE_SHEET_ID: sheets.spreadsheetId,
      SHEET_POLL_CRON: '0 0 1 1 *',
    }),
  );
  bots.push(started);
  return started;
}

function intakeOf(running: TestBot) {
  const intake = running.bot.intake;
  if (!intake) throw new Error('no sheet intake on this bot');
  return intake;
}

const cards = () =>
  slack.messages(TEST_ADMIN_CHANNEL).filter((message) => (message.text ?? '').startsWith('New applicant'));

beforeAll(async () => {
  slack = await startSlackFake();
  sheets = await startSheetsFake();
});
// Slack refuses what breaks Block Kit's limits; so does the fake.
afterEach(() => slack?.assertNothingRefused());
afterAll(async () => {
  await Promise.allSettled(bots.map((running) => running.stop()));
  await slack?.close();
  await sheets?.close();
});

describe('the sheet intake in running bots', () => {
  it('two bots sharing one Redis post each applicant once, with one values.get per poll each', async () => {
    const prefix = uniquePrefix('bots');
    const [a, b] = await Promise.all([bot(prefix), bot(prefix)]);
    const rows = Array.from({ length: 8 }, (_, i) =>
      row({ email: `person${i}@example.org`, timestamp: `11/04/2026 09:0${i}:00` }),
    );
    sheets.setTab(TAB, [HEADER, ...rows]);
    sheets.calls.length = 0;

    const counts = await Promise.all([intakeOf(a!).poll(), intakeOf(b!).poll()]);
    expect(counts[0].new + counts[1].new).toBe(8);
    expect(sheets.calls.filter((call) => call.operation === 'values.get')).toHaveLength(2);
    expect(cards()).toHaveLength(8);
    expect(new Set(cards().map((card) => card.text)).size).toBe(8);

    // Sorted by hand, one row deleted: nothing is posted again.
    sheets.setTab(TAB, [HEADER, ...[...rows].reverse().slice(1)]);
    await Promise.all([intakeOf(a!).poll(), intakeOf(b!).poll()]);
    expect(cards()).toHaveLength(8);
  });

  it('a sheet without the expected headers gets one notice in the admin channel', async () => {
    const running = await bot(uniquePrefix('bots'));
    sheets.setTab(TAB, [
      ['Timestamp', 'Mail', 'Name'],
      ['x', 'y', 'z'],
    ]);
    const before = slack.messages(TEST_ADMIN_CHANNEL).length;
    const counts = await intakeOf(running).poll();
    await intakeOf(running).poll();
    expect(counts.problem).toMatch(/has no column for Email, First name, Last name, PIN/);
    const posted = slack.messages(TEST_ADMIN_CHANNEL).slice(before);
    expect(posted).toHaveLength(1);
    expect(JSON.stringify(posted[0]?.blocks)).toContain(
      'has no column for Email, First name, Last name, PIN',
    );
  });
});
