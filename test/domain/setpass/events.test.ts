/** The password-page event stream and its consumer group, against the real Redis. */
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { Audit } from '../../../src/domain/audit/audit.js';
import {
  auditSetpassEvent,
  parseSetpassEvent,
  publishSetpassEvent,
  type SetpassEvent,
  SetpassEventConsumer,
} from '../../../src/domain/setpass/events.js';
import { keys } from '../../../src/platform/keys.js';
import { silentLogger } from '../../../src/platform/log.js';
import { uniquePrefix } from '../../support/bot.js';

const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const clients: Redis[] = [];
const consumers: SetpassEventConsumer[] = [];

function client(prefix: string): Redis {
  const redis = new Redis(url, { keyPrefix: prefix });
  clients.push(redis);
  return redis;
}

afterAll(async () => {
  for (const consumer of consumers) await consumer.stop();
  for (const redis of clients) await redis.quit();
});

/** Resolves once `check` holds, polling; for work done by the consumers' own loops. */
async function until(
  check: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const at = new Date('2026-11-28T10:00:00.000Z');
const lockout = (n: number): SetpassEvent => ({
  type: 'lockout',
  userId: `u${n}`,
  username: `user${n}@example.org`,
  at,
  clientIp: '203.0.113.9',
  attempts: 3,
});

describe('setpass events', () => {
  it('round-trip through the stream fields', async () => {
    const redis = client(uniquePrefix('events-fields'));
    await publishSetpassEvent(redis, lockout(1));
    await publishSetpassEvent(redis, {
      type: 'password_changed',
      userId: 'u2',
      username: 'b@example.org',
      at,
      clientIp: '::1',
    });
    const entries = await redis.xrange(keys.events(), '-', '+');
    expect(entries.map(([, fields]) => fields)).toEqual([
      [
        'type',
        'lockout',
        'user_id',
        'u1',
        'user_name',
        'user1@example.org',
        'at',
        '2026-11-28T10:00:00.000Z',
        'client_ip',
        '203.0.113.9',
        'attempts',
        '3',
      ],
      [
        'type',
        'password_changed',
        'user_id',
        'u2',
        'user_name',
        'b@example.org',
        'at',
        '2026-11-28T10:00:00.000Z',
        'client_ip',
        '::1',
      ],
    ]);
    expect(entries.map(([, fields]) => parseSetpassEvent(fields))).toEqual([
      lockout(1),
      { type: 'password_changed', userId: 'u2', username: 'b@example.org', at, clientIp: '::1' },
    ]);
    expect(
      parseSetpassEvent(['type', 'something_new', 'user_id', 'u', 'user_name', 'n', 'at', at.toISOString()]),
    ).toBe(undefined);
    const changed: SetpassEvent = {
      type: 'account_changed',
      userId: 'u3',
      username: 'c@example.org',
      at,
      clientIp: '198.51.100.7',
    };
    await publishSetpassEvent(redis, changed);
    const [, last] = (await redis.xrevrange(keys.events(), '+', '-', 'COUNT', 1))[0]!;
    expect(parseSetpassEvent(last)).toEqual(changed);
  });

  it('are handled once each across two consumers of one group', async () => {
    const prefix = uniquePrefix('events-group');
    const seen: string[] = [];
    const handler = async (event: SetpassEvent) => {
      seen.push(event.userId);
    };
    for (const name of ['replica-a', 'replica-b']) {
      const consumer = new SetpassEventConsumer(client(prefix), handler, silentLogger, {
        consumer: name,
        blockMs: 100,
      });
      consumers.push(consumer);
      consumer.start();
    }
    const publisher = client(prefix);
    for (let n = 0; n < 30; n++) await publishSetpassEvent(publisher, lockout(n));
    await until(() => seen.length >= 30, '30 handled events');
    // Anything handled twice would show up here, as would a pending (unacknowledged) entry.
    await until(
      async () => Number((await publisher.xpending(keys.events(), 'kaizen-bot'))[0]) === 0,
      'no pending entries',
    );
    expect(seen.sort()).toEqual(Array.from({ length: 30 }, (_, n) => `u${n}`).sort());
  });

  it('are handled again, by another replica, when a handler failed', async () => {
    const prefix = uniquePrefix('events-retry');
    let failures = 0;
    const failing = new SetpassEventConsumer(
      client(prefix),
      async () => {
        failures += 1;
        throw new Error('Slack is down');
      },
      silentLogger,
      { consumer: 'failing', blockMs: 100, minIdleMs: 60_000 },
    );
    consumers.push(failing);
    failing.start();
    const publisher = client(prefix);
    await publishSetpassEvent(publisher, lockout(7));
    await until(() => failures === 1, 'the failing delivery');
    await failing.stop();

    const handled: SetpassEvent[] = [];
    const healthy = new SetpassEventConsumer(
      client(prefix),
      async (event) => {
        handled.push(event);
      },
      silentLogger,
      { consumer: 'healthy', blockMs: 100, minIdleMs: 50 },
    );
    consumers.push(healthy);
    healthy.start();
    await until(() => handled.length === 1, 'the event claimed from the failed replica');
    expect(handled[0]).toEqual(lockout(7));
    await until(
      async () => Number((await publisher.xpending(keys.events(), 'kaizen-bot'))[0]) === 0,
      'no pending entries',
    );
  });

  it('skip entries this version does not understand, so they do not block the stream', async () => {
    const prefix = uniquePrefix('events-unknown');
    const publisher = client(prefix);
    await publisher.xadd(keys.events(), '*', 'type', 'from_the_future');
    await publishSetpassEvent(publisher, lockout(9));
    const handled: string[] = [];
    const consumer = new SetpassEventConsumer(
      client(prefix),
      async (event) => {
        handled.push(event.userId);
      },
      silentLogger,
      { blockMs: 100 },
    );
    consumers.push(consumer);
    consumer.start();
    await until(() => handled.length === 1, 'the known event');
    await until(
      async () => Number((await publisher.xpending(keys.events(), 'kaizen-bot'))[0]) === 0,
      'both entries acknowledged',
    );
    expect(handled).toEqual(['u9']);
  });

  it('write an audit line per event', async () => {
    const redis = client(uniquePrefix('events-audit'));
    const audit = new Audit(redis, 1000);
    await auditSetpassEvent(audit, lockout(3));
    await auditSetpassEvent(audit, {
      type: 'password_changed',
      userId: 'u4',
      username: 'd@example.org',
      at,
      clientIp: '198.51.100.4',
    });
    const lines = await audit.read();
    expect(
      lines.map(({ actor, action, subject, outcome, detail }) => ({
        actor,
        action,
        subject,
        outcome,
        detail,
      })),
    ).toEqual([
      {
        actor: 'user:u4',
        action: 'setpass.password_changed',
        subject: 'd@example.org',
        outcome: 'ok',
        detail: 'password set through the link (from 198.51.100.4)',
      },
      {
        actor: 'user:u3',
        action: 'setpass.lockout',
        subject: 'user3@example.org',
        outcome: 'denied',
        detail: 'password link disabled after 3 wrong PINs (from 203.0.113.9)',
      },
    ]);
  });
});
