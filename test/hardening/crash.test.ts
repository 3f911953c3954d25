/**
 * Two slow faults, run side by side because both wait on the bot's own timers: the bot process
 * killed with SIGKILL in the middle of 20 approvals and started again (the dead runs are resumed,
 * admins click again), and the mail relay down for a while (the outbox delivers once it is back).
 * Each ends with exactly one project, user, role, email and admitted row per applicant.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { ApplicationStore } from '../../src/domain/applications/store.js';
import {
  ADMIN_1,
  ADMIN_2,
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
  waitForApproved,
  waitForCard,
} from '../approval/harness.js';
import { TEST_ADMIN_CHANNEL, TEST_SIGNING_SECRET, type TestBot, uniquePrefix } from '../support/bot.js';
import { BotProcesses } from '../support/bot-process.js';
import { FaultProxy } from '../support/fault-proxy.js';
import { captureLogs } from '../support/log-capture.js';
import type { SlackStoredMessage } from '../support/slack-fake.js';
import { sendSlashCommand } from '../support/slack-sign.js';
import { type Place, redisPlace, SecretLedger, slackPlace } from './secret-scan.js';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const APPLICANTS = 20;

const processes = new BotProcesses();
const proxies: FaultProxy[] = [];
const worlds: Harness[] = [];
const ledger = new SecretLedger();
const places: Place[] = [];

afterAll(async () => {
  await processes.killAll();
  await Promise.allSettled(proxies.map((proxy) => proxy.cut()));
  await Promise.allSettled(worlds.map((world) => world.close()));
});

describe.concurrent('slow faults', () => {
  it('SIGKILL in the middle of 20 approvals, a restart and clicks again: exactly one of everything', async () => {
    const world = await startHarness('crash');
    worlds.push(world);
    const prefix = uniquePrefix('crash');
    const env = world.env(prefix, { LOG_LEVEL: 'info' });
    ledger.addSettings(env);
    const people = Array.from({ length: APPLICANTS }, (_, i) =>
      uniqueApplicant(`kill${i}`, { pin: ledger.newPin() }),
    );
    setApplications(
      world.sheets,
      people.map((who) => who.cells),
    );

    // The first process reaches Keystone through a proxy that can hold its runs at the role step,
    // so the kill lands while the third wave is certainly mid-run.
    const authUrl = env.OS_AUTH_URL!;
    const proxy = await FaultProxy.start(authUrl);
    proxies.push(proxy);
    const first = await processes.start({ ...env, OS_AUTH_URL: proxy.urlFor(authUrl) });
    const sync = await sendSlashCommand(first.eventsUrl, TEST_SIGNING_SECRET, {
      text: 'sync',
      user_id: ADMIN_1,
      response_url: world.slack.responseUrl(randomBytes(4).toString('hex')),
    });
    expect(sync.status).toBe(200);
    const cards = await world.slack.waitFor(
      () => {
        const posted = world.slack.messages(TEST_ADMIN_CHANNEL);
        return posted.length >= APPLICANTS
          ? people.map((who) => structuredClone(cardOf(world.slack, who.email)))
          : undefined;
      },
      30_000,
      'the 20 applicant cards',
    );

    // Approvals in waves of five, as admins work through a queue: two waves done, the third in
    // the middle of its steps when the process is killed, the fourth not clicked yet.
    const waves = [0, 5, 10, 15].map((start) => cards.slice(start, start + 5));
    const clickWave = async (wave: SlackStoredMessage[], on: { eventsUrl: string }) => {
      const acks = await Promise.all(
        wave.map((card, i) => click(on, card, i % 2 === 0 ? ADMIN_1 : ADMIN_2, 'applicant_approve')),
      );
      expect(acks.map((ack) => ack.status)).toEqual(wave.map(() => 200));
    };
    const current = (card: SlackStoredMessage) => world.slack.message(card.channel, card.ts)!;
    for (const wave of waves.slice(0, 2)) {
      await clickWave(wave, first);
      await waitForApproved(world.slack, wave, 60_000, 'a wave approved');
    }
    const atRoleStep = proxy.hold(/^PUT \/v3\/projects\/[^/ ]+\/users\/[^/ ]+\/roles\//);
    await clickWave(waves[2]!, first);
    await atRoleStep;
    await world.slack.waitFor(
      () => waves[2]!.some((card) => textOf(current(card)).includes('user ✓')),
      60_000,
      'the third wave past its user step',
    );
    expect(await first.stop('SIGKILL')).toBe(-1);
    // What the dead process had asked for is dropped with it, as a crash drops it.
    await proxy.cut();

    const redis = new Redis(REDIS_URL, { keyPrefix: prefix });
    try {
      const store = new ApplicationStore(redis);
      const states = (await store.list()).map((record) => record.state);
      const count = (state: string) => states.filter((each) => each === state).length;
      // In the middle: ten done, the third wave's five cut off before their role step went
      // through (the proxy held it), five never started.
      expect(count('notified') + count('provisioned')).toBe(10);
      expect(count('approving')).toBe(5);
      expect(count('pending')).toBe(5);
      // A dead process's leases lapse on their own (runs after three minutes, mail sends after two);
      // the test lets that time pass for them instead of waiting it out.
      const leases = [
        ...(await redis.keys(`${prefix}lock:app:*`)),
        ...(await redis.keys(`${prefix}mail:lease:*`)),
      ];
      for (const key of leases) await redis.pexpire(key.slice(prefix.length), 1);
    } finally {
      redis.disconnect();
    }

    const second = await processes.start(env);
    // Admins click again on the cards as they first saw them: a waiting applicant is approved now,
    // one whose run died is being approved already (its run is resumed), a finished one is done.
    const before = world.slack.ephemerals().length;
    const again = await Promise.all(cards.map((card) => click(second, card, ADMIN_2, 'applicant_approve')));
    expect(again.every((ack) => ack.status === 200)).toBe(true);
    const told = world.slack
      .ephemerals()
      .slice(before)
      .map((message) => message.text ?? '');
    expect(
      told.filter((text) => text.startsWith('This applicant was already approved')).length,
    ).toBeGreaterThanOrEqual(10);
    expect(
      told.filter((text) => text.startsWith('This applicant is already being approved')).length,
    ).toBeGreaterThan(0);
    await waitForApproved(world.slack, cards, 100_000, 'every card approved after the restart');
    await world.smtp.waitForMessages(APPLICANTS, 60_000);

    const footprints = await Promise.all(people.map((who) => footprint(world, who)));
    expect(footprints).toEqual(Array(APPLICANTS).fill(ONE_OF_EVERYTHING));
    expect(world.smtp.messages).toHaveLength(APPLICANTS);
    // One card per applicant, never a second one.
    for (const who of people) {
      const shown = world.slack
        .messages(TEST_ADMIN_CHANNEL)
        .filter((message) => textOf(message).includes(`*Email*\\n${who.email}`));
      expect(shown).toHaveLength(1);
    }
    expect(second.alive).toBe(true);
    expect(second.output()).not.toMatch(/unhandled|uncaught/i);

    ledger.addMailedTokens(world.smtp);
    const users = await Promise.all(people.map((who) => world.keystone.findUserByName(who.email, 'default')));
    await ledger.addTemporaryPasswords(
      env,
      users.map((user) => user?.id ?? ''),
    );
    places.push(await redisPlace(REDIS_URL, prefix), slackPlace(world.slack));
    for (const bot of processes.all()) places.push([`the log of process ${bot.child.pid}`, bot.output()]);
  }, 180_000);

  it('the mail relay down for a while: the welcome email waits in the outbox and is delivered once when it is back', async () => {
    const world = await startHarness('mail');
    worlds.push(world);
    const logs = captureLogs('info');
    const prefix = uniquePrefix('mail');
    const bot: TestBot = await world.start(prefix, {}, logs.log);
    ledger.addSettings(bot.env);
    const gus = uniqueApplicant('mail-gus', { pin: ledger.newPin() });
    setApplications(world.sheets, [gus.cells]);
    await poll(bot);
    const card = cardOf(world.slack, gus.email);
    const id = buttonsOf(card)[0]?.value ?? '';

    await world.smtp.stop();
    await click(bot, card, ADMIN_1, 'applicant_approve');
    const queued = await waitForCard(world.slack, gus.email, isApproved);
    expect(textOf(queued)).toContain('email queued');
    expect((await recordOf(bot, id))?.state).toBe('provisioned');
    expect(await bot.bot.services.mail?.pending()).toBe(1);

    await world.smtp.start();
    // The outbox retries on its own backoff (about 30 s for the first retry).
    const [mail] = await world.smtp.waitForMessages(1, 60_000);
    expect(mail?.to).toEqual([gus.email]);
    await world.slack.waitFor(
      () => !textOf(cardOf(world.slack, gus.email)).includes('email queued'),
      10_000,
      'the card to say the email went out',
    );
    expect((await recordOf(bot, id))?.state).toBe('notified');
    expect(await bot.bot.services.mail?.pending()).toBe(0);
    expect(await footprint(world, gus)).toEqual(ONE_OF_EVERYTHING);
    expect(logs.text()).toContain('mail not sent yet; will retry');

    ledger.addMailedTokens(world.smtp);
    const user = await world.keystone.findUserByName(gus.email, 'default');
    await ledger.addTemporaryPasswords(bot.env, [user?.id ?? '']);
    places.push(await redisPlace(REDIS_URL, prefix), slackPlace(world.slack), ['the log', logs.text()]);
  }, 120_000);
});

describe('secrets', () => {
  it('none of the tokens, PINs or passwords handled here is in Redis, the logs or Slack', () => {
    expect(places.length).toBeGreaterThanOrEqual(5);
    expect(ledger.size).toBeGreaterThan(40);
    expect(ledger.leaks(places)).toEqual([]);
  });
});
