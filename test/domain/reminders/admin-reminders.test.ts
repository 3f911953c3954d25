import { WebClient } from '@slack/web-api';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ApplicationStore } from '../../../src/domain/applications/store.js';
import { Audit } from '../../../src/domain/audit/audit.js';
import {
  type AdminReminderDeps,
  nextAdminReminderAt,
  remindAdmins,
} from '../../../src/domain/reminders/admin-reminders.js';
import { InFlight } from '../../../src/platform/inflight.js';
import { JobScheduler } from '../../../src/platform/jobs/scheduler.js';
import { silentLogger } from '../../../src/platform/log.js';
import { Metrics } from '../../../src/platform/metrics.js';
import { slackJobNotices } from '../../../src/slack/job-notices.js';
import { adminDigest, stillWaitingReply } from '../../../views/reminders.js';
import { TEST_ADMIN_CHANNEL, TEST_BOT_TOKEN, uniquePrefix } from '../../support/bot.js';
import { metricValue } from '../../support/metrics.js';
import { type SlackFake, startSlackFake } from '../../support/slack-fake.js';
import { DAY, HOUR, pendingApplication, waitUntil } from './fixtures.js';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const clients: Redis[] = [];
let slack: SlackFake;
let client: WebClient;

function redisWith(prefix: string): Redis {
  const redis = new Redis(REDIS_URL, { keyPrefix: prefix });
  clients.push(redis);
  return redis;
}

beforeAll(async () => {
  slack = await startSlackFake();
  client = new WebClient(TEST_BOT_TOKEN, { slackApiUrl: `${slack.url}/api/`, retryConfig: { retries: 0 } });
});
beforeEach(() => slack.reset());
// Slack refuses what breaks Block Kit's limits; so does the fake.
afterEach(() => slack?.assertNothingRefused());
afterAll(async () => {
  await Promise.all(clients.map((c) => c.quit()));
  await slack?.close();
});

/** Deps on a fresh prefix, with a clock the test moves. */
function setup() {
  const redis = redisWith(uniquePrefix('admin-remind'));
  const store = new ApplicationStore(redis);
  const clock = { now: new Date() };
  const deps: AdminReminderDeps = {
    redis,
    store,
    notices: slackJobNotices(client, TEST_ADMIN_CHANNEL),
    texts: { digest: adminDigest, threadReply: stillWaitingReply },
    audit: new Audit(redis, 1000),
    log: silentLogger,
    afterMs: DAY,
    now: () => clock.now,
  };
  return { redis, store, clock, deps };
}

async function postCard(text: string): Promise<{ channel: string; ts: string }> {
  const posted = await client.chat.postMessage({ channel: TEST_ADMIN_CHANNEL, text });
  return { channel: TEST_ADMIN_CHANNEL, ts: posted.ts! };
}

/** Top-level messages in the admin channel that are digests (not cards, not thread replies). */
function digests() {
  return slack
    .messages(TEST_ADMIN_CHANNEL)
    .filter((m) => m.threadTs === undefined && m.text?.includes('waiting for a decision'));
}

describe('nextAdminReminderAt', () => {
  it('is `after` from arrival, then doubles after each reminder', () => {
    expect(nextAdminReminderAt(0, { count: 0, lastAt: undefined }, DAY)).toBe(DAY);
    expect(nextAdminReminderAt(0, { count: 1, lastAt: DAY }, DAY)).toBe(DAY + 2 * DAY);
    expect(nextAdminReminderAt(0, { count: 2, lastAt: 3 * DAY }, DAY)).toBe(3 * DAY + 4 * DAY);
  });
});

describe('admin reminders with a fake clock', () => {
  it('list waiting applicants after 24h in one digest and in each card thread, then back off 48h, 96h', async () => {
    const { store, clock, deps } = setup();
    const ann = await pendingApplication(store, await postCard('card ann'), {
      email: 'ann@example.org',
      firstName: 'Ann',
    });
    const bob = await pendingApplication(store, await postCard('card bob'), {
      email: 'bob@example.org',
      firstName: 'Bob',
    });
    const start = Date.parse(ann.createdAt);
    const at = (ms: number) => {
      clock.now = new Date(start + ms);
    };

    at(23 * HOUR);
    expect((await remindAdmins(deps)).reminded).toEqual([]);
    expect(digests()).toHaveLength(0);

    at(24 * HOUR + 1_000);
    const first = await remindAdmins(deps);
    expect(first.reminded.map((a) => a.email).sort()).toEqual(['ann@example.org', 'bob@example.org']);
    expect(digests()).toHaveLength(1);
    expect(digests()[0]!.text).toContain('ann@example.org');
    expect(digests()[0]!.text).toContain('bob@example.org');
    for (const record of [ann, bob]) {
      const replies = slack.messages(TEST_ADMIN_CHANNEL).filter((m) => m.threadTs === record.card!.ts);
      expect(replies).toHaveLength(1);
      expect(replies[0]!.text).toContain('Still waiting for a decision');
    }

    // Same tick again, and any time in the next 48 hours: nothing new.
    expect((await remindAdmins(deps)).reminded).toEqual([]);
    at(24 * HOUR + 47 * HOUR);
    expect((await remindAdmins(deps)).reminded).toEqual([]);
    expect(digests()).toHaveLength(1);

    // Bob is decided meanwhile: only Ann is listed from now on.
    await store.transition(bob.id, ['pending'], 'rejected', { decidedBy: 'U0ADMIN', rejectReason: 'test' });
    at(24 * HOUR + 48 * HOUR + 2_000);
    const second = await remindAdmins(deps);
    expect(second.reminded.map((a) => [a.email, a.reminder])).toEqual([['ann@example.org', 2]]);
    expect(digests()).toHaveLength(2);

    at(72 * HOUR + 95 * HOUR);
    expect((await remindAdmins(deps)).reminded).toEqual([]);
    at(72 * HOUR + 96 * HOUR + 3_000);
    expect((await remindAdmins(deps)).reminded.map((a) => a.reminder)).toEqual([3]);
    expect(digests()).toHaveLength(3);
    const annReplies = slack.messages(TEST_ADMIN_CHANNEL).filter((m) => m.threadTs === ann.card!.ts);
    expect(annReplies).toHaveLength(3);
  });

  it('records each reminder in the audit', async () => {
    const { store, clock, deps } = setup();
    const ann = await pendingApplication(store, await postCard('card'), { email: 'audit@example.org' });
    clock.now = new Date(Date.parse(ann.createdAt) + 25 * HOUR);
    await remindAdmins(deps);
    const entries = await deps.audit.read({ subject: 'audit@example.org' });
    expect(entries.map((e) => e.action)).toEqual(['admin_reminder']);
    expect(entries[0]!.detail).toContain('reminder 1');
  });

  it('gives the claims back when the digest cannot be posted, so the next tick lists them', async () => {
    const { store, clock, deps } = setup();
    const ann = await pendingApplication(store, await postCard('card'), { email: 'retry@example.org' });
    clock.now = new Date(Date.parse(ann.createdAt) + 25 * HOUR);
    slack.failNext('chat.postMessage', { error: 'not_in_channel' });
    await expect(remindAdmins(deps)).rejects.toThrow();
    expect(digests()).toHaveLength(0);
    const retried = await remindAdmins(deps);
    expect(retried.reminded.map((a) => [a.email, a.reminder])).toEqual([['retry@example.org', 1]]);
    expect(digests()).toHaveLength(1);
  });

  it('posts no thread reply for an applicant whose card was never posted, but lists them', async () => {
    const { store, clock, deps } = setup();
    const ann = await pendingApplication(store, undefined, { email: 'nocard@example.org' });
    clock.now = new Date(Date.parse(ann.createdAt) + 25 * HOUR);
    await remindAdmins(deps);
    expect(digests()).toHaveLength(1);
    expect(slack.messages(TEST_ADMIN_CHANNEL).filter((m) => m.threadTs !== undefined)).toHaveLength(0);
  });
});

describe('admin reminders on three replicas', () => {
  it('post one digest per due step, however many replicas and ticks', async () => {
    const prefix = uniquePrefix('admin-remind-3');
    const setupRedis = redisWith(prefix);
    const store = new ApplicationStore(setupRedis);
    const ann = await pendingApplication(store, await postCard('card'), { email: 'three@example.org' });
    const clock = { now: new Date(Date.parse(ann.createdAt) + 25 * HOUR) };
    const replicas = [0, 1, 2].map(() => {
      const redis = redisWith(prefix);
      const inflight = new InFlight(silentLogger);
      const metrics = new Metrics();
      const scheduler = new JobScheduler({ redis, log: silentLogger, inflight, timezone: 'UTC', metrics });
      const deps: AdminReminderDeps = {
        redis,
        store: new ApplicationStore(redis),
        notices: slackJobNotices(client, TEST_ADMIN_CHANNEL),
        texts: { digest: adminDigest, threadReply: stillWaitingReply },
        audit: new Audit(redis, 1000),
        log: silentLogger,
        afterMs: DAY,
        now: () => clock.now,
      };
      scheduler.start([{ name: 'admin-reminders', schedule: '* * * * * *', run: () => remindAdmins(deps) }]);
      return { scheduler, inflight, metrics };
    });
    const ticksRun = async () => {
      const counts = await Promise.all(
        replicas.map((r) => metricValue(r.metrics, 'kaizen_job_runs_total', { outcome: 'ok' })),
      );
      return counts.reduce((sum, count) => sum + count, 0);
    };
    try {
      await waitUntil(() => digests().length === 1, 'the first digest');
      const after = await ticksRun();
      await waitUntil(async () => (await ticksRun()) >= after + 3, 'three more ticks');
      expect(digests()).toHaveLength(1);

      clock.now = new Date(clock.now.getTime() + 48 * HOUR);
      await waitUntil(() => digests().length === 2, 'the second digest');
      const later = await ticksRun();
      await waitUntil(async () => (await ticksRun()) >= later + 3, 'three more ticks');
      expect(digests()).toHaveLength(2);
      expect(slack.messages(TEST_ADMIN_CHANNEL).filter((m) => m.threadTs === ann.card!.ts)).toHaveLength(2);
    } finally {
      for (const { scheduler, inflight } of replicas) {
        await scheduler.stop();
        await inflight.drain(5_000);
      }
    }
  });
});
