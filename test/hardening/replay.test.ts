/**
 * A signed Slack request is acted on once. The same bytes with the same timestamp and signature,
 * sent again inside Slack's five-minute window (a captured `/kaizen resend`, a captured Reset
 * click), get an empty 200 and change nothing: no email queued, no audit line, no second reset, no
 * reply.
 * A new request for the same thing (a new timestamp, so a new signature) is handled as usual.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Env } from '../../src/platform/config/config.js';
import { keys } from '../../src/platform/keys.js';
import { ADMIN, kaizen, responseMatching } from '../commands/helpers.js';
import { adminClient, newMember } from '../keystone/fixtures.js';
import { mailWorldEnv, startTestBot, TEST_SIGNING_SECRET, type TestBot } from '../support/bot.js';
import { metricValue } from '../support/metrics.js';
import { dumpRedis } from '../support/redis-dump.js';
import { type SlackFake, startSlackFake } from '../support/slack-fake.js';
import { blockActionPayload, payloadBody, sendSigned, slashCommandBody } from '../support/slack-sign.js';
import { type SmtpTestServer, startSmtpServer } from '../support/smtp.js';

const FORM = 'application/x-www-form-urlencoded';
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const SEEN = /^slack:seen:\{slack\}:/;

let slack: SlackFake;
let smtp: SmtpTestServer;
let env: Env;
let running: TestBot;
let inspector: Redis;

beforeAll(async () => {
  slack = await startSlackFake();
  smtp = await startSmtpServer();
  env = mailWorldEnv({ slack, smtp }, inject('keystone'), {
    SLACK_ADMINS: ADMIN,
  });
  running = await startTestBot(env);
  inspector = new Redis(REDIS_URL);
});

afterAll(async () => {
  inspector?.disconnect();
  await running?.stop();
  await Promise.allSettled([slack?.close(), smtp?.close()]);
});

/** Every key and value under the bot's prefix, the replay marks left out. */
async function stored(): Promise<Map<string, string>> {
  const prefix = env.REDIS_KEY_PREFIX ?? '';
  const all = await dumpRedis(inspector, prefix);
  return new Map([...all].filter(([key]) => !SEEN.test(key.slice(prefix.length))));
}

/** Nothing waits in the outbox: what a replay could add is then all that can change. */
async function outboxEmpty(): Promise<void> {
  await expect
    .poll(async () => inspector.zcard(`${env.REDIS_KEY_PREFIX}${keys.mailOutbox()}`), { timeout: 15_000 })
    .toBe(0);
}

async function memberWithLink() {
  const member = await newMember(adminClient());
  await running.bot.services.setpass!.issue(
    { userId: member.user.id, username: member.user.name },
    running.bot.services.setpass!.hashPin('1357'),
  );
  return member;
}

describe('a replayed signed request', () => {
  it('a replayed /kaizen resend gets an empty 200 and sends no second email', async () => {
    const member = await memberWithLink();
    const timestamp = Math.floor(Date.now() / 1000);
    const responseId = `replay-${member.user.id}`;
    const body = slashCommandBody({
      text: `resend ${member.user.name}`,
      user_id: ADMIN,
      response_url: slack.responseUrl(responseId),
    });
    const mailsBefore = smtp.messages.length;

    const first = await sendSigned(running.eventsUrl, TEST_SIGNING_SECRET, body, FORM, { timestamp });
    expect(first.status).toBe(200);
    expect(first.text).not.toBe('');
    await smtp.waitForMessages(mailsBefore + 1, 15_000);
    await outboxEmpty();
    const before = await stored();
    const responses = slack.responses.filter((post) => post.id === responseId).length;
    const replays = () =>
      metricValue(running.bot.services.metrics, 'kaizen_refused_requests_total', { reason: 'replay' });
    const replaysBefore = await replays();

    const again = await sendSigned(running.eventsUrl, TEST_SIGNING_SECRET, body, FORM, { timestamp });
    expect(again.status).toBe(200);
    expect(again.text).toBe('');
    expect(await replays()).toBe(replaysBefore + 1);
    // The listener's work is done before Slack gets its answer: anything queued would be in Redis now.
    expect(await stored()).toEqual(before);
    expect(slack.responses.filter((post) => post.id === responseId)).toHaveLength(responses);
    expect(smtp.messages).toHaveLength(mailsBefore + 1);
    const audit = await running.bot.services.audit.read({ subject: member.user.name });
    expect(audit.filter((entry) => entry.action === 'link_resent')).toHaveLength(1);

    // The same command sent anew (its own timestamp and signature) is handled as always.
    const fresh = await kaizen(running, slack, `resend ${member.user.name}`);
    expect(fresh.text).toContain(member.user.name);
    const audited = await running.bot.services.audit.read({ subject: member.user.name });
    expect(audited.filter((entry) => entry.action === 'link_resent')).toHaveLength(2);
  });

  it('a replayed Reset click resets nothing a second time', async () => {
    const member = await memberWithLink();
    const confirm = await kaizen(running, slack, `reset ${member.user.name}`);
    const button = confirm.buttons.find((each) => each.text === 'Reset')!;
    const timestamp = Math.floor(Date.now() / 1000);
    const body = payloadBody(
      blockActionPayload({
        user: ADMIN,
        actionId: button.actionId,
        value: button.value,
        blockId: 'kaizen_reset',
        response_url: slack.responseUrl(`click-${member.user.id}`),
      }),
    );
    const first = await sendSigned(running.eventsUrl, TEST_SIGNING_SECRET, body, FORM, { timestamp });
    expect(first.status).toBe(200);
    await responseMatching(slack, `click-${member.user.id}`, /Password reset for/);
    await outboxEmpty();
    const before = await stored();
    const answers = () => slack.responses.filter((post) => post.id === `click-${member.user.id}`).length;
    const posts = answers();

    const again = await sendSigned(running.eventsUrl, TEST_SIGNING_SECRET, body, FORM, { timestamp });
    expect(again.status).toBe(200);
    expect(again.text).toBe('');
    expect(await stored()).toEqual(before);
    expect(answers()).toBe(posts);
    const audit = await running.bot.services.audit.read({ subject: member.user.name });
    expect(audit.filter((entry) => entry.action === 'password_reset')).toHaveLength(1);
  });

  it('is remembered under the prefix by a hash of its signature, until its window closes', async () => {
    const prefix = env.REDIS_KEY_PREFIX ?? '';
    const marks = (await inspector.keys(`${prefix}slack:seen:*`)).map((key) => key.slice(prefix.length));
    expect(marks.length).toBeGreaterThanOrEqual(4);
    for (const key of marks) {
      expect(key).toMatch(/^slack:seen:\{slack\}:[A-Za-z0-9_-]{43}$/);
      const ttl = await inspector.ttl(`${prefix}${key}`);
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(301);
    }
  });
});
