/**
 * `/kaizen sync` and `kaizen sync` read the sheet now: new applicants get their cards, invalid rows
 * are counted, and a second read finds nothing new.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type CliIo, runCli } from '../../src/app/cli.js';
import type { Env } from '../../src/platform/config/config.js';
import { HEADER, row } from '../domain/intake/fixtures.js';
import { startTestBot, TEST_ADMIN_CHANNEL, type TestBot, testEnv } from '../support/bot.js';
import { type SheetsFake, startSheetsFake } from '../support/sheets-fake.js';
import { type SlackFake, startSlackFake } from '../support/slack-fake.js';
import { ADMIN, expectReadable, kaizen } from './helpers.js';

/** Midnight on New Year's Day: the scheduled jobs do not fire during a test; the tests poll on purpose. */
const NEVER = '0 0 1 1 *';

describe('sync', () => {
  let slack: SlackFake;
  let sheets: SheetsFake;
  let env: Env;
  let running: TestBot;

  beforeAll(async () => {
    slack = await startSlackFake();
    sheets = await startSheetsFake();
    env = testEnv({
      SLACK_API_URL: `${slack.url}/api/`,
      SLACK_ADMINS: ADMIN,
      GOOGLE_SHEETS_API_URL: `${sheets.url}/`,
      GOOGLE_APPLICATION_CREDENTIALS: sheets.keyFile,
      GOOGLE_SHEET_ID: sheets.spreadsheetId,
      SHEET_POLL_CRON: NEVER,
      REMINDER_CRON: NEVER,
      ADMIN_REMINDER_CRON: NEVER,
    });
    running = await startTestBot(env);
  });
  // Slack refuses what breaks Block Kit's limits; so does the fake.
  afterEach(() => slack?.assertNothingRefused());
  afterAll(async () => {
    await running?.stop();
    await Promise.allSettled([slack?.close(), sheets?.close()]);
  });

  it('reads the sheet from Slack and says how many new applicants and invalid rows it found', async () => {
    sheets.setTab('Form Responses 1', [
      HEADER,
      row({ email: 'sync-one@example.org', timestamp: '11/02/2026 10:00:01', newProjectName: 'one-lab' }),
      row({ email: 'sync-two@example.org', timestamp: '11/02/2026 10:00:02', newProjectName: 'two-lab' }),
      row({ email: 'not-an-email', timestamp: '11/02/2026 10:00:03' }),
    ]);
    const reply = await kaizen(running, slack, 'sync');
    expect(reply.text).toContain('Read the sheet: 2 new applicants and 1 invalid row found (3 rows in all).');
    expectReadable(reply.text);
    const cards = slack
      .messages(TEST_ADMIN_CHANNEL)
      .filter((m) => JSON.stringify(m.blocks ?? []).includes('sync-'));
    expect(cards).toHaveLength(2);

    // The invalid row is still there (and counted); its notice went out once.
    const again = await kaizen(running, slack, 'SYNC');
    expect(again.text).toContain('Read the sheet: 0 new applicants and 1 invalid row found (3 rows in all).');
  });

  it('reads the sheet from the shell the same way, posting the new cards', async () => {
    sheets.setTab('Form Responses 1', [
      ...(sheets.tab('Form Responses 1') ?? []),
      row({ email: 'sync-three@example.org', timestamp: '11/02/2026 10:00:04', newProjectName: 'three-lab' }),
    ]);
    const out: string[] = [];
    const io: CliIo = { out: (t) => out.push(t), err: (t) => out.push(t) };
    const code = await runCli(['sync', '--json', '--as', 'ops'], env, io);
    expect(code).toBe(0);
    expect(JSON.parse(out.join('\n'))).toEqual({
      kind: 'synced',
      counts: { read: 4, new: 1, invalid: 1, duplicates: 0, problem: null, quotaRequests: null },
    });
    const cards = slack
      .messages(TEST_ADMIN_CHANNEL)
      .filter((m) => JSON.stringify(m.blocks ?? []).includes('sync-three'));
    expect(cards).toHaveLength(1);
  });

  it('says what is wrong with the sheet itself', async () => {
    sheets.setTab('Form Responses 1', [['Timestamp', 'Email']]);
    const reply = await kaizen(running, slack, 'sync');
    expect(reply.text).toMatch(/Read the sheet: 0 new applicants[\s\S]*:warning: .*First name/);
    expectReadable(reply.text);
  });
});
