/**
 * A lockout stands until an admin acts. Wrong PINs burn the link; the reminders then send nothing
 * (a fresh link would hand whoever guessed new attempts), `/kaizen status` says so, and once an
 * admin's reset has issued a new link the reminders take up again from it. The running bot, the
 * real Keystone, the test SMTP server and the Slack fake; the reminder runs use a fake clock.
 */
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { userReminderTexts } from '../../../src/app/schedules.js';
import {
  readReminderLedger,
  remindUsers,
  type UserReminderDeps,
} from '../../../src/domain/reminders/user-reminders.js';
import type { Setpass } from '../../../src/domain/setpass/service.js';
import { ADMIN, kaizen, press, responseMatching } from '../../commands/helpers.js';
import { adminClient, newMember } from '../../keystone/fixtures.js';
import { keystoneEnv, startTestBot, type TestBot, testEnv } from '../../support/bot.js';
import { type SlackFake, startSlackFake } from '../../support/slack-fake.js';
import { type ReceivedMail, type SmtpTestServer, startSmtpServer } from '../../support/smtp.js';
import { applicant, HOUR } from './fixtures.js';

const NEVER = '0 0 1 1 *';
const PIN = '4821';
const WRONG_PIN = '1111';

let slack: SlackFake;
let smtp: SmtpTestServer;
let running: TestBot;
let setpass: Setpass;

beforeAll(async () => {
  slack = await startSlackFake();
  smtp = await startSmtpServer();
  running = await startTestBot(
    testEnv({
      ...keystoneEnv(inject('keystone')),
      SLACK_API_URL: `${slack.url}/api/`,
      SLACK_ADMINS: ADMIN,
      SMTP_URL: smtp.url,
      SMTP_CA_FILE: smtp.caFile,
      MAIL_FROM: 'Kaizen <noreply@kaizen.test>',
      PUBLIC_URL: 'https://register.kaizen.test',
      SHEET_POLL_CRON: NEVER,
      REMINDER_CRON: NEVER,
      ADMIN_REMINDER_CRON: NEVER,
    }),
  );
  setpass = running.bot.services.setpass!;
});
// Slack refuses what breaks Block Kit's limits; so does the fake.
afterEach(() => slack?.assertNothingRefused());
afterAll(async () => {
  await running?.stop();
  await Promise.allSettled([slack?.close(), smtp?.close()]);
});

/** The bot's own reminder job, run by hand at the clock's time. */
function reminders(clock: { now: Date }): UserReminderDeps {
  const { services } = running.bot;
  return {
    redis: services.redis,
    store: services.applications!,
    links: setpass,
    outbox: services.mail!,
    notices: undefined,
    texts: userReminderTexts(services.config),
    audit: services.audit,
    log: services.log,
    policy: { afterMs: 48 * HOUR, intervalMs: 48 * HOUR, max: 3 },
    now: () => clock.now,
  };
}

/** An approved applicant: a real Keystone user, the record in `notified`, a live link with the PIN. */
async function approvedUser() {
  const { user } = await newMember(adminClient());
  const store = running.bot.services.applications!;
  const input = applicant({ email: user.name });
  const pinHash = setpass.hashPin(PIN);
  await store.create({ applicant: input, pinHash, quota: { kind: 'preset', preset: 'small' } });
  await store.transition(input.id, ['pending'], 'approving', { decidedBy: ADMIN });
  const link = await setpass.issue({ userId: user.id, username: user.name }, pinHash);
  await store.checkpoint(input.id, 'user', user.id);
  await store.checkpoint(input.id, 'setpass', 'issued');
  await store.transition(input.id, ['approving'], 'notified');
  return { user, link };
}

const tokenOf = (url: string) => new URL(url).searchParams.get('token') ?? '';
const linkIn = (mail: ReceivedMail) =>
  /https:\/\/register\.kaizen\.test\/\?token=[\w%-]+/.exec(mail.text)?.[0];
const mailsTo = (email: string) => smtp.messages.filter((mail) => mail.to.includes(email));

describe('a user locked out by wrong PINs', () => {
  it('gets no reminder and no fresh link until an admin resets; then the reminders resume', async () => {
    const { user, link } = await approvedUser();
    const issuedAt = (await setpass.status(user.id)).createdAt!;
    const outcomes: string[] = [];
    for (let i = 0; i < 3; i++) {
      const outcome = await setpass.changePassword({
        token: tokenOf(link.url),
        pin: WRONG_PIN,
        password: 'Blue-Otter-Harbor-Stencil-9',
        confirmPassword: 'Blue-Otter-Harbor-Stencil-9',
        clientIp: '198.51.100.7',
      });
      outcomes.push(outcome.kind);
    }
    expect(outcomes).toEqual(['wrong_pin', 'wrong_pin', 'locked_out']);
    expect(await setpass.status(user.id)).toMatchObject({ live: false, lockedOut: { attempts: 3 } });

    // Every reminder would be due by now, and the link is dead: still nothing goes out.
    const clock = { now: issuedAt };
    for (const hours of [48, 96, 144, 192, 400]) {
      clock.now = new Date(issuedAt.getTime() + hours * HOUR);
      expect(await remindUsers(reminders(clock))).toEqual({ sent: 0, gaveUp: 0, failed: 0 });
    }
    expect(await setpass.current(user.id)).toBeUndefined();
    expect(await readReminderLedger(running.bot.services.redis, user.id)).toMatchObject({ sent: 0 });
    expect(mailsTo(user.name)).toEqual([]);

    const locked = await kaizen(running, slack, `status ${user.name}`);
    expect(locked.blocksText).toContain(
      '*Password link:* none live; locked out after 3 wrong PINs; a reset sends a new link',
    );

    const confirm = await kaizen(running, slack, `reset ${user.name}`);
    const pressed = await press(running, slack, confirm.buttons.find((button) => button.text === 'Reset')!);
    await responseMatching(slack, pressed.responseId, /Password reset for/);
    const [resetMail] = await smtp.waitForMessages(1, 10_000);
    const resetLink = linkIn(resetMail!);
    expect(resetLink).toBeDefined();
    expect(resetLink).not.toBe(link.url);
    const status = await setpass.status(user.id);
    expect(status.live).toBe(true);
    expect(status.lockedOut).toBeUndefined();
    const unlocked = await kaizen(running, slack, `status ${user.name}`);
    expect(unlocked.blocksText).toContain('*Password link:* live until');
    expect(unlocked.blocksText).not.toContain('locked out');

    // The reminders count from the new link.
    clock.now = new Date(status.createdAt!.getTime() + 47 * HOUR);
    expect(await remindUsers(reminders(clock))).toMatchObject({ sent: 0 });
    clock.now = new Date(status.createdAt!.getTime() + 48 * HOUR);
    expect(await remindUsers(reminders(clock))).toMatchObject({ sent: 1 });
    const [, reminder] = await smtp.waitForMessages(2, 10_000);
    expect(reminder!.to).toEqual([user.name]);
    expect(reminder!.subject).toBe('Reminder: choose your OpenStack password');
    expect(linkIn(reminder!)).toBe(resetLink);
  });
});
