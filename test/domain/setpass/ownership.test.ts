/**
 * Who may set a user's password, on the real bot (real Redis, Keystone, SMTP; the Slack fake for
 * the admin channel): a password an operator set out of band survives reminders and resends,
 * however often the link is sent again; the user's link then says the account changed, and the
 * admins hear of it.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { offlineSurface } from '../../../commands/deps.js';
import { resend } from '../../../commands/resend.js';
import { resetPassword } from '../../../commands/reset.js';
import type { Caller } from '../../../commands/types.js';
import { userReminderTexts } from '../../../src/app/schedules.js';
import { commandDeps } from '../../../src/app/wiring/commands.js';
import { remindUser, type UserReminderDeps } from '../../../src/domain/reminders/user-reminders.js';
import { SetpassCrypto } from '../../../src/domain/setpass/crypto.js';
import { isKaizenError } from '../../../src/platform/errors.js';
import { keys } from '../../../src/platform/keys.js';
import { silentLogger } from '../../../src/platform/log.js';
import { adminClient, afterRevocationTick } from '../../keystone/fixtures.js';
import { keystoneEnv, startTestBot, TEST_ADMIN_CHANNEL, type TestBot, testEnv } from '../../support/bot.js';
import { type SlackFake, startSlackFake } from '../../support/slack-fake.js';
import { type SmtpTestServer, startSmtpServer } from '../../support/smtp.js';
import { approvedApplicant, HOUR } from '../reminders/fixtures.js';
import { heading, passwordWorks, strongPassword, submit, tokenOf } from './helpers.js';

const NEVER = '0 0 1 1 *';
const PIN = '3847';
const OPERATOR: Caller = { via: 'cli', name: 'ops', isAdmin: true };

describe('a password set outside the link', () => {
  let slack: SlackFake;
  let smtp: SmtpTestServer;
  let running: TestBot;
  const keystone = adminClient();

  beforeAll(async () => {
    slack = await startSlackFake();
    smtp = await startSmtpServer();
    running = await startTestBot(
      testEnv({
        ...keystoneEnv(inject('keystone')),
        SLACK_API_URL: `${slack.url}/api/`,
        SMTP_URL: smtp.url,
        SMTP_CA_FILE: smtp.caFile,
        MAIL_FROM: 'Kaizen <noreply@kaizen.test>',
        PUBLIC_URL: 'https://register.kaizen.test',
        ALLOW_INSECURE_PUBLIC_URL: 'true',
        TRUSTED_PROXIES: '127.0.0.1',
        SHEET_POLL_CRON: NEVER,
        REMINDER_CRON: NEVER,
        ADMIN_REMINDER_CRON: NEVER,
      }),
    );
  });
  afterAll(async () => {
    await running?.stop();
    await Promise.allSettled([slack?.close(), smtp?.close()]);
  });

  /** The bot's own reminder job, on a clock of the test's. */
  function reminderDeps(clock: { now: Date }): UserReminderDeps {
    const { services } = running.bot;
    return {
      redis: services.redis,
      store: services.applications!,
      links: services.setpass!,
      outbox: services.mail!,
      notices: undefined,
      texts: userReminderTexts(services.config),
      audit: services.audit,
      log: silentLogger,
      policy: { afterMs: 48 * HOUR, intervalMs: 48 * HOUR, max: 3 },
      now: () => clock.now,
    };
  }

  it('is never reset by a reminder or a resend; the link then says the account changed and the admins are told', async () => {
    const { services } = running.bot;
    const setpass = services.setpass!;
    const store = services.applications!;
    const config = services.config;
    const clock = { now: new Date() };
    const reminders = reminderDeps(clock);
    const commands = commandDeps(services, offlineSurface(silentLogger));
    const user = await approvedApplicant({ store, setpass }, keystone, PIN);
    const record = (await store.get(user.applicantId))!;
    const crypto = new SetpassCrypto(config.setpass.secret!);
    const expire = async (token: string) => {
      await services.redis.del(keys.setpassToken(crypto.tokenHmac(token)), keys.setpassUser(user.userId));
    };
    const sentLinks = () =>
      smtp.messages
        .filter((m) => m.to.includes(user.email))
        .map((m) => /https:\/\/register\.kaizen\.test\/\?token=[\w%-]+/.exec(m.text)?.[0]);

    // An operator sets the user's password by hand.
    const operatorPassword = strongPassword();
    await keystone.setUserPassword(user.userId, operatorPassword);
    await afterRevocationTick();

    // The link is sent again every way there is: resent while live, reminded after it expired,
    // resent while the new one is live, resent after that one expired.
    expect(await resend(commands, OPERATOR, { kind: 'name', text: user.email })).toMatchObject({
      kind: 'resent',
      renewed: false,
    });
    await expire(tokenOf(user.link.url));
    clock.now = new Date(user.issuedAt.getTime() + 48 * HOUR);
    expect(await remindUser(reminders, record)).toEqual({ kind: 'sent', reminder: 1, fresh: true });
    expect(await resend(commands, OPERATOR, { kind: 'name', text: user.email })).toMatchObject({
      kind: 'resent',
      renewed: false,
    });
    const reminded = (await smtp.waitForMessages(2)).find((m) => m.subject.includes('Reminder'))!;
    await expire(tokenOf(/https:\/\/\S+token=[\w%-]+/.exec(reminded.text)![0]));
    expect(await resend(commands, OPERATOR, { kind: 'name', text: user.email })).toMatchObject({
      kind: 'resent',
      renewed: true,
    });
    await smtp.waitForMessages(4);
    const links = sentLinks();
    expect(links).toHaveLength(4);
    expect(new Set(links).size).toBe(3);
    // None of it touched the password.
    expect(await passwordWorks(keystone, user.userId, operatorPassword)).toBe(true);

    // The user opens the last link and chooses a password: the operator's stands.
    const chosen = strongPassword();
    const answer = await submit(running.url, tokenOf(links.at(-1)!), { pin: PIN, password: chosen });
    expect(answer.status).toBe(409);
    expect(heading(answer.html)).toBe('This link does not match your account any more');
    await afterRevocationTick();
    expect(await passwordWorks(keystone, user.userId, operatorPassword)).toBe(true);
    expect(await passwordWorks(keystone, user.userId, chosen)).toBe(false);

    const notice = await slack.waitFor(
      (calls) =>
        calls.find(
          (c) =>
            c.method === 'chat.postMessage' &&
            String(c.args.text).startsWith(`⚠️ ${user.email} opened their password link`),
        ),
      10_000,
      'the account-changed notice',
    );
    expect(notice.args.channel).toBe(TEST_ADMIN_CHANNEL);
    expect(String(notice.args.text)).toContain(`/kaizen reset ${user.email}`);
    await expect
      .poll(async () => (await services.audit.read({ subject: user.email })).map((e) => e.action), {
        timeout: 10_000,
      })
      .toContain('setpass.account_changed');

    // And from now on nothing sends that stale password again: only a reset helps.
    clock.now = new Date(user.issuedAt.getTime() + 96 * HOUR);
    expect(await remindUser(reminders, record)).toMatchObject({ kind: 'skipped' });
    const refused = await resend(commands, OPERATOR, { kind: 'name', text: user.email }).catch(
      (error: unknown) => error,
    );
    expect(isKaizenError(refused, 'conflict')).toBe(true);
    expect(await passwordWorks(keystone, user.userId, operatorPassword)).toBe(true);
  });

  it('lets no reminder, resend or reset act while the link of the user is being redeemed or issued: they say so and leave it', async () => {
    const { services } = running.bot;
    const setpass = services.setpass!;
    const store = services.applications!;
    const clock = { now: new Date() };
    const reminders = reminderDeps(clock);
    const commands = commandDeps(services, offlineSurface(silentLogger));
    const user = await approvedApplicant({ store, setpass }, keystone, PIN);
    const record = (await store.get(user.applicantId))!;
    clock.now = new Date(user.issuedAt.getTime() + 48 * HOUR);

    // Another process holds the user's claim (as a redemption does while Keystone answers).
    let release = () => {};
    const holding = setpass.claims.run(user.userId, () => new Promise<void>((done) => (release = done)));
    await expect.poll(() => setpass.claims.held(user.userId)).toBe(true);
    const mailsBefore = smtp.messages.length;

    expect(await remindUser(reminders, record)).toEqual({ kind: 'busy' });
    const resent = await resend(commands, OPERATOR, { kind: 'name', text: user.email }).catch(
      (e: unknown) => e,
    );
    expect(isKaizenError(resent, 'conflict')).toBe(true);
    const reset = await resetPassword(commands, OPERATOR, user.userId, {
      purpose: `reset:busy:${user.userId}`,
    }).catch((e: unknown) => e);
    expect(isKaizenError(reset, 'conflict')).toBe(true);
    // Nothing happened: the first password still works, the link is the same, no mail went out.
    expect(
      await passwordWorks(
        keystone,
        user.userId,
        (await setpass.tokens.current(user.userId))!.temporaryPassword,
      ),
    ).toBe(true);
    expect(await setpass.current(user.userId)).toEqual(user.link);
    expect(smtp.messages.length).toBe(mailsBefore);

    // Once it is let go, the reminder that found it held goes out at the next run.
    release();
    await holding;
    expect(await remindUser(reminders, record)).toEqual({ kind: 'sent', reminder: 1, fresh: false });
  });
});
