/**
 * In production every line the bot writes is JSON, whoever writes it: our code, Bolt and the Web
 * API client, ioredis, Node. The bot runs as a child process (what systemd runs) with NODE_ENV=production
 * and LOG_LEVEL=debug, and goes through start-up, health and metrics scrapes, a forged Slack
 * request, a sync, a refused and an accepted click, a provisioning run and a clean stop.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ADMIN_1,
  cardOf,
  click,
  type Harness,
  isApproved,
  OUTSIDER,
  setApplications,
  startHarness,
  uniqueApplicant,
  waitForCard,
} from '../approval/harness.js';
import { TEST_SIGNING_SECRET, uniquePrefix } from '../support/bot.js';
import { type BotProcess, BotProcesses } from '../support/bot-process.js';
import { freePort } from '../support/local-http.js';
import { sendSlashCommand } from '../support/slack-sign.js';

const processes = new BotProcesses();
let world: Harness;
let bot: BotProcess;

beforeAll(async () => {
  world = await startHarness('json-logs');
  bot = await processes.start(
    world.env(uniquePrefix('json-logs'), { NODE_ENV: 'production', LOG_LEVEL: 'debug' }),
  );
});
afterAll(async () => {
  await processes.killAll();
  await world?.close();
});

/** Every line the process wrote, parsed; fails naming the lines that are not JSON objects. */
function jsonLines(process: BotProcess): Record<string, unknown>[] {
  const lines = process
    .output()
    .split('\n')
    .filter((line) => line.trim() !== '');
  const notJson = lines.filter((line) => {
    try {
      const parsed = JSON.parse(line) as unknown;
      return typeof parsed !== 'object' || parsed === null;
    } catch {
      return true;
    }
  });
  expect(notJson).toEqual([]);
  return lines.map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe('the production log', () => {
  it('is one JSON object per line, from start-up to a clean stop', async () => {
    expect((await fetch(`${bot.url}/healthz`)).status).toBe(200);
    expect((await fetch(`${bot.url}/metrics`)).status).toBe(200);
    const forged = await sendSlashCommand(bot.eventsUrl, 'not-the-signing-secret', {
      text: 'help',
      user_id: OUTSIDER,
    });
    expect(forged.status).toBe(401);

    const ann = uniqueApplicant('json');
    setApplications(world.sheets, [ann.cells]);
    const sync = await sendSlashCommand(bot.eventsUrl, TEST_SIGNING_SECRET, {
      text: 'sync',
      user_id: ADMIN_1,
    });
    expect(sync.status).toBe(200);
    const card = await waitForCard(world.slack, ann.email, () => true);
    await click(bot, card, OUTSIDER, 'applicant_approve');
    await click(bot, cardOf(world.slack, ann.email), ADMIN_1, 'applicant_approve');
    await waitForCard(world.slack, ann.email, isApproved, 30_000);
    expect(await bot.stop('SIGTERM')).toBe(0);

    const parsed = jsonLines(bot);
    expect(parsed.length).toBeGreaterThan(20);
    for (const line of parsed) {
      expect(typeof line.level, JSON.stringify(line)).toBe('number');
      expect(typeof line.msg, JSON.stringify(line)).toBe('string');
    }
    const started = parsed.find((line) => line.msg === 'kaizen is listening');
    expect(started?.version).toMatch(/^\d+\.\d+\.\d+/);
    // The Slack SDK's own lines come through pino too, under the bolt component.
    expect(parsed.some((line) => line.component === 'bolt')).toBe(true);
    expect(parsed.some((line) => typeof line.requestId === 'string')).toBe(true);
  });

  it('stays JSON when Slack cannot be reached at start-up (the Web API client logs its failure)', async () => {
    const offline = await processes.start(
      world.env(uniquePrefix('json-logs-offline'), {
        NODE_ENV: 'production',
        LOG_LEVEL: 'info',
        SLACK_API_URL: `http://127.0.0.1:${await freePort()}/api/`,
      }),
    );
    expect(await offline.stop('SIGTERM')).toBe(0);
    const parsed = jsonLines(offline);
    expect(parsed.some((line) => line.component === 'bolt' && line.level === 40)).toBe(true);
  });
});
