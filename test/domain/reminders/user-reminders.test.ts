import { randomBytes } from 'node:crypto';
import { WebClient } from '@slack/web-api';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import { userReminderTexts } from '../../../src/app/schedules.js';
import { setpassFromConfig } from '../../../src/app/wiring/setpass.js';
import { AccountGuard, protectionPolicy } from '../../../src/domain/accounts/protection.js';
import { ApplicationStore } from '../../../src/domain/applications/store.js';
import { Audit } from '../../../src/domain/audit/audit.js';
import { FEDERATED_ACCOUNT } from '../../../src/domain/provision/steps.js';
import type { ReminderOutbox } from '../../../src/domain/reminders/ports.js';
import {
  CLAIM_LEASE_MS,
  lastReminder,
  readReminderLedger,
  remindUser,
  remindUsers,
  type UserReminderDeps,
} from '../../../src/domain/reminders/user-reminders.js';
import { SetpassCrypto } from '../../../src/domain/setpass/crypto.js';
import type { Setpass } from '../../../src/domain/setpass/service.js';
import { MailOutbox } from '../../../src/mail/outbox.js';
import { type SmtpTransport, transportFromConfig } from '../../../src/mail/transport.js';
import { loadConfig } from '../../../src/platform/config/config.js';
import { Sealer } from '../../../src/platform/crypto/sealer.js';
import { keys } from '../../../src/platform/keys.js';
import { silentLogger } from '../../../src/platform/log.js';
import { slackJobNotices } from '../../../src/slack/job-notices.js';
import { adminClient, afterRevocationTick } from '../../keystone/fixtures.js';
import { keystoneEnv, TEST_ADMIN_CHANNEL, TEST_BOT_TOKEN, testEnv, uniquePrefix } from '../../support/bot.js';
import { FaultProxy } from '../../support/fault-proxy.js';
import { type SlackFake, startSlackFake } from '../../support/slack-fake.js';
import { type SmtpTestServer, startSmtpServer } from '../../support/smtp.js';
import { passwordWorks } from '../setpass/helpers.js';
import { approvedApplicant, HOUR } from './fixtures.js';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const PIN = '4821';
const keystone = adminClient();
const closers: (() => Promise<unknown> | unknown)[] = [];
let smtp: SmtpTestServer;
let slack: SlackFake;
let slackClient: WebClient;

beforeAll(async () => {
  smtp = await startSmtpServer();
  slack = await startSlackFake();
  slackClient = new WebClient(TEST_BOT_TOKEN, {
    slackApiUrl: `${slack.url}/api/`,
    retryConfig: { retries: 0 },
  });
});
beforeEach(() => {
  smtp.reset();
  slack.reset();
});
// Slack refuses what breaks Block Kit's limits; so does the fake.
afterEach(() => slack?.assertNothingRefused());
afterAll(async () => {
  for (const close of closers.reverse()) await close();
  await smtp?.close();
  await slack?.close();
});

/** One deployment's settings: a Redis prefix and SETPASS_SECRET shared by all its runners. */
function deployment() {
  return {
    prefix: uniquePrefix('remind'),
    secret: randomBytes(32).toString('base64'),
  };
}

/**
 * A runner as one bot replica has it: its own connections, outbox and setpass, the shared Redis.
 * `through` is the Keystone client its setpass side talks to (a slowed one for the race tests).
 */
function runner(where: ReturnType<typeof deployment>, clock: { now: Date }, through = keystone) {
  const config = loadConfig(
    testEnv({
      ...keystoneEnv(inject('keystone')),
      REDIS_KEY_PREFIX: where.prefix,
      SETPASS_SECRET: where.secret,
      PUBLIC_URL: 'https://register.example.org',
      SMTP_URL: smtp.url,
      SMTP_CA_FILE: smtp.caFile,
      MAIL_FROM: 'Kaizen <kaizen@example.org>',
      SUPPORT_EMAIL: 'help@example.org',
    }),
  );
  const redis = new Redis(REDIS_URL, { keyPrefix: where.prefix });
  const transport = transportFromConfig(config.mail, { timeoutMs: 3_000 }) as SmtpTransport;
  const outbox = new MailOutbox(
    redis,
    transport,
    new Sealer(config.setpass.secret!, 'kaizen mail outbox'),
    silentLogger,
  );
  closers.push(
    () => redis.quit(),
    () => transport.close(),
  );
  const setpass = setpassFromConfig(config, { redis, keystone: through, log: silentLogger }) as Setpass;
  const store = new ApplicationStore(redis);
  const deps: UserReminderDeps = {
    redis,
    store,
    links: setpass,
    outbox,
    notices: slackJobNotices(slackClient, TEST_ADMIN_CHANNEL),
    accounts: new AccountGuard(keystone, protectionPolicy(config)),
    texts: userReminderTexts(config),
    audit: new Audit(redis, 1000),
    log: silentLogger,
    policy: { afterMs: 48 * HOUR, intervalMs: 48 * HOUR, max: 3 },
    now: () => clock.now,
  };
  const setpassCrypto = new SetpassCrypto(config.setpass.secret!);
  return { deps, setpass, store, outbox, redis, setpassCrypto };
}

/** An approved applicant of this runner: a real Keystone user, the record in `notified`, a live link. */
const approvedUser = (r: ReturnType<typeof runner>) => approvedApplicant(r, keystone, PIN);

const tokenOf = (url: string) => new URL(url).searchParams.get('token') ?? '';
const strongPassword = () => `Blue-Otter-${randomBytes(6).toString('hex')}-Harbor!`;
const gaveUpNotices = () =>
  slack.messages(TEST_ADMIN_CHANNEL).filter((m) => m.text?.includes('has not set a password after'));

describe('user reminders with a fake clock', () => {
  it('go out REMINDER_AFTER after the link, then every REMINDER_INTERVAL, stop at REMINDER_MAX, then tell the admins once', async () => {
    const clock = { now: new Date() };
    const r = runner(deployment(), clock);
    const user = await approvedUser(r);
    const at = (hours: number) => {
      clock.now = new Date(user.issuedAt.getTime() + hours * HOUR);
    };

    at(47);
    expect(await remindUsers(r.deps)).toMatchObject({ sent: 0 });
    expect(smtp.messages).toHaveLength(0);

    at(48);
    expect(await remindUsers(r.deps)).toMatchObject({ sent: 1 });
    const [first] = await smtp.waitForMessages(1);
    expect(first!.to).toEqual([user.email]);
    expect(first!.subject).toBe('Reminder: choose your OpenStack password');
    // The link is the live one, unchanged.
    expect(first!.text).toContain(user.link.url);
    expect(first!.text).toContain('Questions? Write to help@example.org');

    expect(await remindUsers(r.deps)).toMatchObject({ sent: 0 });
    at(48 + 47);
    expect(await remindUsers(r.deps)).toMatchObject({ sent: 0 });
    at(96);
    expect(await remindUsers(r.deps)).toMatchObject({ sent: 1 });
    at(144);
    expect(await remindUsers(r.deps)).toMatchObject({ sent: 1 });
    const mails = await smtp.waitForMessages(3);
    expect(mails.map((m) => m.subject)).toEqual([
      'Reminder: choose your OpenStack password',
      'Reminder: choose your OpenStack password',
      'Last reminder: choose your OpenStack password',
    ]);
    expect(gaveUpNotices()).toHaveLength(0);

    at(144 + 47);
    expect(await remindUsers(r.deps)).toMatchObject({ sent: 0, gaveUp: 0 });
    at(192);
    expect(await remindUsers(r.deps)).toMatchObject({ sent: 0, gaveUp: 1 });
    expect(gaveUpNotices()).toHaveLength(1);
    expect(gaveUpNotices()[0]!.text).toContain(`${user.email} has not set a password after 3 reminders`);

    at(500);
    expect(await remindUsers(r.deps)).toMatchObject({ sent: 0, gaveUp: 0 });
    expect(smtp.messages).toHaveLength(3);
    expect(gaveUpNotices()).toHaveLength(1);

    expect(await lastReminder(r.redis, user.userId)).toEqual({
      count: 3,
      at: new Date(user.issuedAt.getTime() + 144 * HOUR),
    });
    const audit = await r.deps.audit.read({ subject: user.email });
    expect(audit.map((e) => e.action)).toEqual([
      'reminders_exhausted',
      'reminder_sent',
      'reminder_sent',
      'reminder_sent',
    ]);
    expect(audit[1]!.detail).toBe('reminder 3 of 3');
  });

  it('skip a protected account: a user who became an operator gets no reminder and no fresh link', async () => {
    const clock = { now: new Date() };
    const r = runner(deployment(), clock);
    const user = await approvedUser(r);
    const adminRole = await keystone.findRole('admin');
    const project = (await keystone.listUserProjects(user.userId))[0]!;
    await keystone.assignProjectRole(project.id, user.userId, adminRole!.id);

    clock.now = new Date(user.issuedAt.getTime() + 500 * HOUR);
    expect(await remindUsers(r.deps)).toMatchObject({ sent: 0, gaveUp: 0, failed: 0 });
    expect(smtp.messages).toHaveLength(0);
    expect(await readReminderLedger(r.redis, user.userId)).toMatchObject({ sent: 0 });
    expect((await r.setpass.current(user.userId))?.url).toBe(user.link.url);
  });

  it('skip a federated account: it has no password here, so there is no link to remind of', async () => {
    const clock = { now: new Date() };
    const r = runner(deployment(), clock);
    const user = await approvedUser(r);
    // As a federated approval of this user leaves its record (KAIZEN_IDENTITY=federated).
    await r.store.checkpoint(user.applicantId, 'setpass', FEDERATED_ACCOUNT);

    clock.now = new Date(user.issuedAt.getTime() + 500 * HOUR);
    const record = (await r.store.get(user.applicantId))!;
    expect(await remindUser(r.deps, record)).toEqual({
      kind: 'skipped',
      reason:
        'federated account: it signs in through its institution and has no password here, so no link to remind of',
    });
    expect(await remindUsers(r.deps)).toMatchObject({ sent: 0, gaveUp: 0, failed: 0 });
    expect(smtp.messages).toHaveLength(0);
    expect(gaveUpNotices()).toHaveLength(0);
  });

  it('stop once the password is set through the link', async () => {
    const clock = { now: new Date() };
    const r = runner(deployment(), clock);
    const user = await approvedUser(r);
    clock.now = new Date(user.issuedAt.getTime() + 48 * HOUR);
    expect(await remindUsers(r.deps)).toMatchObject({ sent: 1 });

    const changed = await r.setpass.changePassword({
      token: tokenOf(user.link.url),
      pin: PIN,
      password: strongPassword(),
      confirmPassword: '',
      clientIp: '127.0.0.1',
    });
    // A mismatch is a fix on the same form, not an attempt; then the real submission.
    expect(changed.kind).toBe('fix');
    const password = strongPassword();
    const done = await r.setpass.changePassword({
      token: tokenOf(user.link.url),
      pin: PIN,
      password,
      confirmPassword: password,
      clientIp: '127.0.0.1',
    });
    expect(done.kind).toBe('done');

    for (const hours of [96, 144, 192, 240]) {
      clock.now = new Date(user.issuedAt.getTime() + hours * HOUR);
      expect(await remindUsers(r.deps)).toEqual({ sent: 0, gaveUp: 0, failed: 0 });
    }
    expect(smtp.messages).toHaveLength(1);
    expect(gaveUpNotices()).toHaveLength(0);
  });

  it('send a fresh link when the old one expired, and the fresh link takes the original PIN', async () => {
    const clock = { now: new Date() };
    const r = runner(deployment(), clock);
    const user = await approvedUser(r);
    // The link expires: Redis drops both of its keys, as their TTL would.
    const hmac = await r.redis.hget(keys.setpassUser(user.userId), 'hmac');
    await r.redis.del(keys.setpassToken(hmac!), keys.setpassUser(user.userId));
    expect((await r.setpass.status(user.userId)).live).toBe(false);

    clock.now = new Date(user.issuedAt.getTime() + 48 * HOUR);
    expect(await remindUsers(r.deps)).toMatchObject({ sent: 1 });
    const [mail] = await smtp.waitForMessages(1);
    expect(mail!.text).toContain('Your earlier link expired, so here is a new one.');
    const fresh = /https:\/\/register\.example\.org\/\?token=[\w%-]+/.exec(mail!.text)?.[0];
    expect(fresh).toBeDefined();
    expect(fresh).not.toBe(user.link.url);
    expect((await r.setpass.status(user.userId)).live).toBe(true);
    const audit = await r.deps.audit.read({ subject: user.email });
    expect(audit[0]!.detail).toContain('fresh link');

    const password = strongPassword();
    const done = await r.setpass.changePassword({
      token: tokenOf(fresh!),
      pin: PIN,
      password,
      confirmPassword: password,
      clientIp: '127.0.0.1',
    });
    expect(done).toEqual({ kind: 'done', username: user.email });
    await afterRevocationTick();
    const login = await keystone.passwordLogin({ userId: user.userId, password, scope: 'unscoped' });
    expect(login.info.user.id).toBe(user.userId);
  });
});

describe('user reminders on several runners', () => {
  it('send each reminder once when three runners race on one Redis', async () => {
    const where = deployment();
    const clock = { now: new Date() };
    const runners = [runner(where, clock), runner(where, clock), runner(where, clock)];
    const user = await approvedUser(runners[0]!);

    clock.now = new Date(user.issuedAt.getTime() + 48 * HOUR);
    const first = await Promise.all(runners.map((r) => remindUsers(r.deps)));
    expect(first.reduce((sum, run) => sum + run.sent, 0)).toBe(1);
    clock.now = new Date(user.issuedAt.getTime() + 96 * HOUR);
    const second = await Promise.all(runners.map((r) => remindUsers(r.deps)));
    expect(second.reduce((sum, run) => sum + run.sent, 0)).toBe(1);

    await smtp.waitForMessages(2);
    expect(smtp.messages.filter((m) => m.to.includes(user.email))).toHaveLength(2);
    expect(await runners[0]!.outbox.pending()).toBe(0);
    expect(await runners[0]!.outbox.status(`reminder:${user.userId}:1`)).toBe('delivered');
    expect(await runners[0]!.outbox.status(`reminder:${user.userId}:2`)).toBe('delivered');
    expect(await lastReminder(runners[1]!.redis, user.userId)).toMatchObject({ count: 2 });
  });

  it('finish a reminder a stopped runner had claimed but not sent: once, after the claim lease', async () => {
    const where = deployment();
    const clock = { now: new Date() };
    const stopped = runner(where, clock);
    const user = await approvedUser(stopped);
    clock.now = new Date(user.issuedAt.getTime() + 48 * HOUR);

    // The first runner stops between its claim and the send.
    const stopsBeforeSending: ReminderOutbox = {
      enqueue: async () => {
        throw new Error('the runner stopped');
      },
    };
    expect(await remindUsers({ ...stopped.deps, outbox: stopsBeforeSending })).toMatchObject({ failed: 1 });
    expect(await readReminderLedger(stopped.redis, user.userId)).toMatchObject({ sent: 0, pending: 1 });
    expect(smtp.messages).toHaveLength(0);

    // A new runner while the claim is young leaves it alone; once the lease is over it takes it.
    const restarted = runner(where, clock);
    expect(await remindUsers(restarted.deps)).toMatchObject({ sent: 0 });
    clock.now = new Date(clock.now.getTime() + CLAIM_LEASE_MS + 1_000);
    expect(await remindUsers(restarted.deps)).toMatchObject({ sent: 1 });
    await smtp.waitForMessages(1);
    expect(await readReminderLedger(restarted.redis, user.userId)).toMatchObject({
      sent: 1,
      pending: undefined,
    });

    // And the next reminder keeps its own schedule.
    clock.now = new Date(clock.now.getTime() + 47 * HOUR);
    expect(await remindUsers(restarted.deps)).toMatchObject({ sent: 0 });
    expect(smtp.messages).toHaveLength(1);
  });

  it('send no duplicate when a runner stopped after the send and before recording it', async () => {
    const where = deployment();
    const clock = { now: new Date() };
    const stopped = runner(where, clock);
    const user = await approvedUser(stopped);
    clock.now = new Date(user.issuedAt.getTime() + 48 * HOUR);

    const stopsAfterSending: ReminderOutbox = {
      enqueue: async (message, options) => {
        await stopped.outbox.enqueue(message, options);
        throw new Error('the runner stopped');
      },
    };
    expect(await remindUsers({ ...stopped.deps, outbox: stopsAfterSending })).toMatchObject({ failed: 1 });
    await smtp.waitForMessages(1);

    const restarted = runner(where, clock);
    clock.now = new Date(clock.now.getTime() + CLAIM_LEASE_MS + 1_000);
    expect(await remindUsers(restarted.deps)).toMatchObject({ sent: 1 });
    expect(smtp.messages).toHaveLength(1);
    expect(await restarted.outbox.status(`reminder:${user.userId}:1`)).toBe('delivered');
    expect(await lastReminder(restarted.redis, user.userId)).toMatchObject({ count: 1 });
    const audit = await restarted.deps.audit.read({ subject: user.email });
    expect(audit.map((e) => e.action)).toEqual(['reminder_sent']);
  });
});

describe('user reminders and a password being set at the same moment', () => {
  it('never change the password the user chooses, wherever the reminder falls in the redemption (Keystone slow)', async () => {
    const authUrl = inject('keystone').authUrl;
    const proxy = await FaultProxy.start(authUrl);
    closers.push(() => proxy.cut());
    const clock = { now: new Date() };
    const r = runner(deployment(), clock, adminClient({ authUrl: proxy.urlFor(authUrl) }));
    // Each Keystone call takes this long more, as an LDAP-backed Keystone may.
    proxy.slow(100);

    // The reminder starts: with the submission, just after it, once the link has been taken out
    // for the change, or while Keystone is still answering the change.
    const starts: ((user: { link: { url: string } }, settled: () => boolean) => Promise<void>)[] = [
      async () => undefined,
      () => new Promise((resolve) => setImmediate(resolve)),
      async (user, settled) => {
        const hmac = r.setpassCrypto.tokenHmac(tokenOf(user.link.url));
        while (!settled() && (await r.redis.exists(keys.setpassToken(hmac))) === 1) {
          await new Promise((go) => setTimeout(go, 2));
        }
      },
      () => new Promise((resolve) => setTimeout(resolve, 120)),
    ];
    const chosen: { userId: string; password: string }[] = [];
    for (let round = 0; round < 20; round++) {
      const user = await approvedUser(r);
      clock.now = new Date(user.issuedAt.getTime() + 48 * HOUR);
      const password = strongPassword();
      const redeeming = r.setpass.changePassword({
        token: tokenOf(user.link.url),
        pin: PIN,
        password,
        confirmPassword: password,
        clientIp: '127.0.0.1',
      });
      let settled = false;
      void redeeming.finally(() => {
        settled = true;
      });
      await starts[round % starts.length]!(user, () => settled);
      const [outcome] = await Promise.all([redeeming, remindUsers(r.deps)]);
      expect(outcome, `round ${round}`).toEqual({ kind: 'done', username: user.email });
      // The next run sees the password set: nothing more for this user, ever.
      clock.now = new Date(user.issuedAt.getTime() + 96 * HOUR);
      await remindUsers(r.deps);
      expect(await readReminderLedger(r.redis, user.userId), `round ${round}`).toMatchObject({
        pending: undefined,
      });
      chosen.push({ userId: user.userId, password });
    }
    await afterRevocationTick();
    for (const [round, { userId, password }] of chosen.entries()) {
      expect(await passwordWorks(keystone, userId, password), `round ${round}`).toBe(true);
    }
  }, 300_000);
});
