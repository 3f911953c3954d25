import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { ApplicationStore } from '../../../src/domain/applications/store.js';
import { readReminderLedger } from '../../../src/domain/reminders/user-reminders.js';
import { adminClient, newMember } from '../../keystone/fixtures.js';
import {
  keystoneEnv,
  startTestBot,
  TEST_ADMIN_CHANNEL,
  type TestBot,
  testEnv,
  uniquePrefix,
} from '../../support/bot.js';
import { type SlackFake, startSlackFake } from '../../support/slack-fake.js';
import { type SmtpTestServer, startSmtpServer } from '../../support/smtp.js';
import { applicant } from './fixtures.js';

describe('three bots with reminders every second', () => {
  let smtp: SmtpTestServer;
  let slack: SlackFake;
  const bots: TestBot[] = [];

  beforeAll(async () => {
    smtp = await startSmtpServer();
    slack = await startSlackFake();
    const shared = {
      ...keystoneEnv(inject('keystone')),
      SLACK_API_URL: `${slack.url}/api/`,
      REDIS_KEY_PREFIX: uniquePrefix('remind-bots'),
      SETPASS_SECRET: randomBytes(32).toString('base64'),
      PUBLIC_URL: 'https://register.example.org',
      SMTP_URL: smtp.url,
      SMTP_CA_FILE: smtp.caFile,
      MAIL_FROM: 'Kaizen <kaizen@example.org>',
      REMINDER_CRON: '* * * * * *',
      REMINDER_AFTER: '1s',
      REMINDER_INTERVAL: '1s',
      REMINDER_MAX: '2',
    };
    for (let i = 0; i < 3; i++) bots.push(await startTestBot(testEnv(shared)));
  });
  // Slack refuses what breaks Block Kit's limits; so does the fake.
  afterEach(() => slack?.assertNothingRefused());
  afterAll(async () => {
    for (const bot of bots) await bot.stop();
    await smtp?.close();
    await slack?.close();
  });

  it('send each reminder once, then tell the admins once', async () => {
    const { services } = bots[0]!.bot;
    const setpass = services.setpass!;
    const { user } = await newMember(adminClient());
    const pinHash = setpass.hashPin('1357');
    const input = applicant({ email: user.name });
    const store = new ApplicationStore(services.redis);
    await store.create({ applicant: input, pinHash, quota: { kind: 'preset', preset: 'small' } });
    await store.transition(input.id, ['pending'], 'approving', { decidedBy: 'U0ADMIN' });
    await setpass.issue({ userId: user.id, username: user.name }, pinHash);
    await store.checkpoint(input.id, 'user', user.id);
    await store.checkpoint(input.id, 'setpass', 'issued');
    await store.transition(input.id, ['approving'], 'notified');

    const notice = await slack.waitFor(
      (calls) =>
        calls.find(
          (c) =>
            c.method === 'chat.postMessage' &&
            c.args.channel === TEST_ADMIN_CHANNEL &&
            String(c.args.text).includes(`${user.name} has not set a password after 2 reminders`),
        ),
      20_000,
      'the note that the reminders ran out',
    );
    expect(notice).toBeDefined();

    const mails = smtp.messages.filter((m) => m.to.includes(user.name));
    expect(mails.map((m) => m.subject)).toEqual([
      'Reminder: choose your OpenStack password',
      'Last reminder: choose your OpenStack password',
    ]);
    const mail = services.mail!;
    expect(await mail.status(`reminder:${user.id}:1`)).toBe('delivered');
    expect(await mail.status(`reminder:${user.id}:2`)).toBe('delivered');
    expect(await readReminderLedger(services.redis, user.id)).toMatchObject({ sent: 2, pending: undefined });
    const audit = await services.audit.read({ subject: user.name });
    expect(audit.filter((e) => e.action === 'reminder_sent')).toHaveLength(2);
    expect(audit.filter((e) => e.action === 'reminders_exhausted')).toHaveLength(1);
    expect(
      slack.calls('chat.postMessage').filter((c) => String(c.args.text).includes('has not set a password')),
    ).toHaveLength(1);
  });
});
