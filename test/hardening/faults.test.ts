/**
 * Faults in what the bot depends on, while it runs: Redis stopped and restarted (a Redis of this
 * test's own), Keystone unreachable and back (through a proxy that can cut it off), and the Slack
 * Web API answering 429 and 5xx. The bot must keep serving, say what is wrong, and afterwards
 * leave exactly one of everything.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VERSION } from '../../src/platform/version.js';
import {
  ADMIN_1,
  ADMIN_2,
  applicantWithCard,
  buttonsOf,
  cardOf,
  click,
  footprint,
  type Harness,
  isApproved,
  ONE_OF_EVERYTHING,
  poll,
  recordOf,
  setApplications,
  startHarness,
  textOf,
  uniqueApplicant,
  waitForCard,
} from '../approval/harness.js';
import { kaizen } from '../commands/helpers.js';
import { startTestBot, TEST_ADMIN_CHANNEL, type TestBot, uniquePrefix } from '../support/bot.js';
import { FaultProxy } from '../support/fault-proxy.js';
import { captureLogs } from '../support/log-capture.js';
import { PrivateRedis } from '../support/redis-server.js';
import { type Place, redisPlace, SecretLedger, slackPlace } from './secret-scan.js';

let world: Harness;
const logs = captureLogs('info');
/** Captures of single tests' bots, read by the secrets scan with the file's own. */
const logCaptures: ReturnType<typeof captureLogs>[] = [];
const ledger = new SecretLedger();
/** Where each bot of this file keeps its data, for the secrets scan at the end. */
const stores: { url: string; prefix: string }[] = [];
const extraBots: TestBot[] = [];
/** Applicants approved here, with the bot that approved them, for their temporary passwords. */
const approvedBy: { bot: TestBot; email: string }[] = [];
let redis: PrivateRedis | undefined;

async function health(
  bot: TestBot,
): Promise<{ status: number; body: { status: string; checks: Record<string, string> } }> {
  const response = await fetch(`${bot.url}/healthz`);
  return { status: response.status, body: (await response.json()) as never };
}

/** Polls /healthz until it answers `status` (the bot reconnects on its own schedule). */
async function healthBecomes(bot: TestBot, status: number, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const answer = await health(bot);
    if (answer.status === status) return answer;
    if (Date.now() > deadline)
      throw new Error(`/healthz still answers ${answer.status}: ${JSON.stringify(answer.body)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Waits until Keystone has a user of this name (a run's user step has gone through). */
async function waitForKeystoneUser(name: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while ((await world.keystone.findUserByName(name, 'default')) === undefined) {
    if (Date.now() > deadline) throw new Error(`Keystone has no user ${name} after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** A new applicant with a card on `bot`'s channel; its PIN is remembered for the secrets scan. */
const applicantWithPinAndCard = (bot: TestBot, label: string) =>
  applicantWithCard(world, bot, label, { pin: ledger.newPin() });

beforeAll(async () => {
  world = await startHarness('faults');
});
afterAll(async () => {
  await Promise.allSettled(extraBots.map((bot) => bot.stop()));
  await world?.close();
  await redis?.close();
});

describe('Redis stopped and restarted', () => {
  let bot: TestBot;
  /** The Redis of this describe; the file's afterAll removes it, after the secrets scan. */
  const own = () => {
    if (redis === undefined) throw new Error('no private Redis');
    return redis;
  };

  beforeAll(async () => {
    redis = await PrivateRedis.start();
    const prefix = uniquePrefix('faults-redis');
    bot = await world.start(prefix, { REDIS_URL: redis.url }, logs.log);
    stores.push({ url: redis.url, prefix });
    ledger.addSettings(bot.env);
  });

  it('while Redis is down /healthz says degraded, clicks and commands get a readable answer, and nothing is half-done', async () => {
    const ann = await applicantWithPinAndCard(bot, 'redis-ann');
    await own().shutdownKeepingData();

    const down = await healthBecomes(bot, 503);
    expect(down.body.status).toBe('degraded');
    expect(down.body.checks.redis).toMatch(/^failing: Redis/);
    expect(down.body.checks.keystone).toBe('ok');

    const clicked = await click(bot, ann.card, ADMIN_1, 'applicant_approve');
    expect(clicked.status).toBe(200);
    const told = world.slack.ephemerals(ADMIN_1).at(-1)?.text ?? '';
    expect(told).toMatch(/Redis/);
    expect(told).not.toMatch(/\n\s+at |Error:|ECONNREFUSED/);
    const pending = await kaizen(bot, world.slack, 'pending', ADMIN_1);
    expect(pending.text).toMatch(/Redis/);

    await own().up();
    const up = await healthBecomes(bot, 200);
    expect(up.body).toEqual({ status: 'ok', checks: { redis: 'ok', keystone: 'ok' }, version: VERSION });
    // The click during the outage changed nothing: still pending, nothing in Keystone.
    expect((await recordOf(bot, ann.id))?.state).toBe('pending');
    expect(await footprint(world, ann)).toMatchObject({ project: false, user: false, emails: 0 });

    const mails = world.smtp.messages.length;
    await click(bot, ann.card, ADMIN_2, 'applicant_approve');
    await waitForCard(world.slack, ann.email, isApproved);
    await world.smtp.waitForMessages(mails + 1);
    expect(await footprint(world, ann)).toEqual(ONE_OF_EVERYTHING);
    approvedBy.push({ bot, email: ann.email });
  }, 60_000);

  it('an approval running while Redis restarts carries on once it is back, and makes one of everything', async () => {
    // A bot of its own whose Keystone goes through a proxy that can hold the run at a step, and
    // whose log nothing else writes to.
    const runLogs = captureLogs('info');
    logCaptures.push(runLogs);
    const authUrl = world.env('x').OS_AUTH_URL!;
    const proxy = await FaultProxy.start(authUrl);
    const prefix = uniquePrefix('faults-redis-run');
    const held = await world.start(
      prefix,
      { REDIS_URL: own().url, OS_AUTH_URL: proxy.urlFor(authUrl) },
      runLogs.log,
    );
    extraBots.push(held);
    stores.push({ url: own().url, prefix });
    ledger.addSettings(held.env);
    try {
      const bob = await applicantWithPinAndCard(held, 'redis-bob');
      // The run creates the project, then stops at the user step: it is mid-run for certain.
      const atUserStep = proxy.hold(/^POST \/v3\/users /);
      expect((await click(held, bob.card, ADMIN_1, 'applicant_approve')).status).toBe(200);
      await atUserStep;
      expect((await recordOf(held, bob.id))?.state).toBe('approving');
      await own().shutdownKeepingData();
      await healthBecomes(held, 503);
      // The user is made while Redis is down: the step's outcome has nowhere to go until it is back.
      proxy.release();
      await waitForKeystoneUser(bob.email);
      await own().up();
      await healthBecomes(held, 200);
      const done = await waitForCard(world.slack, bob.email, isApproved, 30_000);
      expect(textOf(done)).toContain(`Approved by <@${ADMIN_1}>`);
      expect(await footprint(world, bob)).toEqual(ONE_OF_EVERYTHING);
      expect(runLogs.text()).toContain('redis connection problem');
      approvedBy.push({ bot: held, email: bob.email });
    } finally {
      proxy.release();
      await proxy.cut();
    }
  }, 60_000);
});

describe('Keystone unreachable, then back', () => {
  let proxy: FaultProxy;
  let bot: TestBot;

  beforeAll(async () => {
    const authUrl = world.env('x').OS_AUTH_URL!;
    proxy = await FaultProxy.start(authUrl);
    const prefix = uniquePrefix('faults-keystone');
    bot = await world.start(prefix, { OS_AUTH_URL: proxy.urlFor(authUrl) }, logs.log);
    stores.push({ url: bot.env.REDIS_URL!, prefix });
    ledger.addSettings(bot.env);
  });
  afterAll(async () => {
    await bot?.stop();
    await proxy?.cut();
  });

  it('/healthz says degraded, Approve stops at the project step with the reason and Retry; Retry after Keystone is back makes one of everything', async () => {
    const cid = await applicantWithPinAndCard(bot, 'keystone-cid');
    await proxy.cut();
    const down = await healthBecomes(bot, 503);
    expect(down.body.checks).toMatchObject({
      redis: 'ok',
      keystone: expect.stringMatching(/^failing: Keystone at http:\/\/127\.0\.0\.1:\d+\/v3 /),
    });

    await click(bot, cid.card, ADMIN_1, 'applicant_approve');
    const failed = await waitForCard(world.slack, cid.email, (card) =>
      buttonsOf(card).some((b) => b.text === 'Retry'),
    );
    expect(textOf(failed)).toMatch(
      new RegExp(
        `stopped at the \\*project\\* step: Keystone at http://127\\.0\\.0\\.1:${proxy.port}/v3 did not answer \\(connection refused\\)`,
      ),
    );
    expect(textOf(failed)).not.toMatch(/ECONNREFUSED|node:internal|\n\s+at /);
    expect(await footprint(world, cid)).toMatchObject({ project: false, user: false, emails: 0 });

    await proxy.restore();
    await healthBecomes(bot, 200);
    await click(bot, failed, ADMIN_2, 'applicant_retry');
    const done = await waitForCard(world.slack, cid.email, isApproved);
    expect(textOf(done)).toContain(`Approved by <@${ADMIN_2}>`);
    expect(await footprint(world, cid)).toEqual(ONE_OF_EVERYTHING);
    expect((await recordOf(bot, cid.id))?.failure).toBeUndefined();
    approvedBy.push({ bot, email: cid.email });
  }, 60_000);
});

describe('the Slack Web API rate-limiting and failing', () => {
  let bot: TestBot;

  beforeAll(async () => {
    const prefix = uniquePrefix('faults-slack');
    // Production's retry policy, which tests otherwise turn off.
    bot = await startTestBot(world.env(prefix), logs.log, { retries: 3, timeoutMs: 5_000 });
    extraBots.push(bot);
    stores.push({ url: bot.env.REDIS_URL!, prefix });
    ledger.addSettings(bot.env);
  });

  it('cards still go out in sheet order, and each card shows its steps in order, ending approved', async () => {
    const people = ['dee', 'eli', 'fay'].map((label) =>
      uniqueApplicant(`slack-${label}`, { pin: ledger.newPin() }),
    );
    setApplications(
      world.sheets,
      people.map((who) => who.cells),
    );
    world.slack.failNext('chat.postMessage', { status: 429, retryAfter: 1 });
    world.slack.failNext('chat.postMessage', { status: 503 });
    expect(await poll(bot)).toMatchObject({ new: 3 });
    const cards = people.map((who) => cardOf(world.slack, who.email));
    expect(cards.map((card) => Number(card.ts))).toEqual(
      cards.map((card) => Number(card.ts)).sort((a, b) => a - b),
    );
    expect(world.slack.calls('chat.postMessage').filter((call) => call.injectedFailure)).toHaveLength(2);

    const dee = people[0]!;
    const card = structuredClone(cards[0]!);
    world.slack.failNext('chat.update', { status: 500 }, 2);
    world.slack.failNext('chat.update', { status: 429, retryAfter: 1 });
    await click(bot, card, ADMIN_1, 'applicant_approve');
    const done = await waitForCard(world.slack, dee.email, isApproved, 30_000);
    expect(textOf(done)).toContain(`Approved by <@${ADMIN_1}>`);

    const updates = world.slack
      .calls('chat.update')
      .filter((call) => call.args.ts === card.ts && call.injectedFailure === undefined)
      .map((call) => JSON.stringify(call.args.blocks ?? []));
    expect(world.slack.calls('chat.update').filter((call) => call.injectedFailure)).toHaveLength(3);
    // Each redraw shows at least as many finished steps as the one before: none overtook another.
    const finished = updates.map((blocks) => (blocks.match(/✓|skipped|queued/g) ?? []).length);
    expect(finished).toEqual([...finished].sort((a, b) => a - b));
    expect(updates.at(-1)).toContain('Approved by');
    expect(
      world.slack.messages(TEST_ADMIN_CHANNEL).filter((message) => textOf(message).includes(dee.email)),
    ).toHaveLength(1);
    expect(await footprint(world, dee)).toEqual(ONE_OF_EVERYTHING);
    approvedBy.push({ bot, email: dee.email });
  }, 60_000);
});

describe('secrets', () => {
  it('none of the tokens, PINs or passwords handled here is in Redis, the log or Slack', async () => {
    ledger.addMailedTokens(world.smtp);
    for (const { bot, email } of approvedBy) {
      const user = await world.keystone.findUserByName(email, 'default');
      await ledger.addTemporaryPasswords(bot.env, [user?.id ?? '']);
    }
    expect(ledger.size).toBeGreaterThan(12);
    const places: Place[] = [
      ['the log', [logs, ...logCaptures].map((capture) => capture.text()).join('')],
      slackPlace(world.slack),
    ];
    for (const store of stores) places.push(await redisPlace(store.url, store.prefix));
    expect(ledger.leaks(places)).toEqual([]);
  });
});
