/**
 * SIGTERM while an approval is in flight, to a real bot process: the bot stops taking work,
 * drains what is running (the run held at its user step by a proxy in front of Keystone), and
 * stops once it is done.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ADMIN_1,
  cardOf,
  click,
  footprint,
  type Harness,
  isApproved,
  ONE_OF_EVERYTHING,
  setApplications,
  startHarness,
  uniqueApplicant,
  waitForCard,
} from '../approval/harness.js';
import { TEST_ADMIN_CHANNEL, TEST_SIGNING_SECRET, uniquePrefix } from '../support/bot.js';
import { type BotProcess, BotProcesses } from '../support/bot-process.js';
import { FaultProxy } from '../support/fault-proxy.js';
import { sendSlashCommand } from '../support/slack-sign.js';

/** src/app/start.ts drains for 20 s by default (main.ts passes no other value). */
const DRAIN_MS = 20_000;
const USER_STEP = /^POST \/v3\/users /;

const processes = new BotProcesses();
const proxies: FaultProxy[] = [];
let world: Harness;

beforeAll(async () => {
  world = await startHarness('shutdown');
});
afterAll(async () => {
  await processes.killAll();
  await Promise.allSettled(proxies.map((proxy) => proxy.cut()));
  await world?.close();
});

/** A bot process whose Keystone goes through a proxy, and one applicant with a card on it. */
async function botWithApplicant(label: string) {
  const authUrl = world.env('x').OS_AUTH_URL!;
  const proxy = await FaultProxy.start(authUrl);
  proxies.push(proxy);
  const env = world.env(uniquePrefix(label), { LOG_LEVEL: 'info', OS_AUTH_URL: proxy.urlFor(authUrl) });
  const bot = await processes.start(env);
  const who = uniqueApplicant(label);
  setApplications(world.sheets, [who.cells]);
  const sync = await sendSlashCommand(bot.eventsUrl, TEST_SIGNING_SECRET, {
    text: 'sync',
    user_id: ADMIN_1,
    response_url: world.slack.responseUrl(randomBytes(4).toString('hex')),
  });
  expect(sync.status).toBe(200);
  const card = await world.slack.waitFor(
    () => {
      try {
        return structuredClone(cardOf(world.slack, who.email));
      } catch {
        return undefined;
      }
    },
    15_000,
    `the card of ${who.email} in ${TEST_ADMIN_CHANNEL}`,
  );
  return { proxy, bot, who, card };
}

/** Resolves with the exit code, or undefined when the process is still running after `ms`. */
async function exitWithin(bot: BotProcess, ms: number): Promise<number | null | undefined> {
  const stopped = bot.stop('SIGTERM');
  return Promise.race([
    stopped,
    new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), ms)),
  ]);
}

describe('SIGTERM with an approval in flight', () => {
  it('drains: the run held at the user step finishes once Keystone answers, then the process exits 0', async () => {
    const { proxy, bot, who, card } = await botWithApplicant('drain');
    const atUserStep = proxy.hold(USER_STEP);
    await click(bot, card, ADMIN_1, 'applicant_approve');
    await atUserStep;
    const exiting = exitWithin(bot, DRAIN_MS + 15_000);
    await expect.poll(() => bot.output().includes('signal received'), { timeout: 10_000 }).toBe(true);
    // Still draining: the process waits for the run.
    expect(bot.alive).toBe(true);
    proxy.release();
    expect(await exiting).toBe(0);
    await waitForCard(world.slack, who.email, isApproved);
    expect(await footprint(world, who)).toEqual(ONE_OF_EVERYTHING);
    expect(bot.output()).not.toContain('shutdown timed out');
  }, 90_000);
});
