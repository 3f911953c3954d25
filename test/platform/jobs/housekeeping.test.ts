import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { Audit } from '../../../src/domain/audit/audit.js';
import { keepHouse } from '../../../src/platform/jobs/housekeeping.js';
import { keys } from '../../../src/platform/keys.js';
import { silentLogger } from '../../../src/platform/log.js';
import { uniquePrefix } from '../../support/bot.js';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const clients: Redis[] = [];
afterAll(() => Promise.all(clients.map((c) => c.quit())));

function redisWith(prefix: string): Redis {
  const redis = new Redis(REDIS_URL, { keyPrefix: prefix });
  clients.push(redis);
  return redis;
}

describe('housekeeping', () => {
  it('releases application locks that have no expiry and leaves every other key alone', async () => {
    const prefix = uniquePrefix('house');
    const redis = redisWith(prefix);
    const neighbour = redisWith(uniquePrefix('house-other'));
    await redis.set(keys.applicationLock('stuck'), 'owner');
    await redis.set(keys.applicationLock('live'), 'owner', 'PX', 60_000);
    await redis.set(keys.application('stuck'), '{}');
    await neighbour.set(keys.applicationLock('theirs'), 'owner');

    const run = await keepHouse({ redis, keyPrefix: prefix, auditMaxLength: 100, log: silentLogger });

    expect(run.locksReleased).toBe(1);
    expect(await redis.exists(keys.applicationLock('stuck'))).toBe(0);
    expect(await redis.exists(keys.applicationLock('live'))).toBe(1);
    expect(await redis.exists(keys.application('stuck'))).toBe(1);
    // Another deployment on the same Redis (another prefix) is not touched.
    expect(await neighbour.exists(keys.applicationLock('theirs'))).toBe(1);
  });

  it('finds locks under a prefix with glob characters in it', async () => {
    const prefix = `${uniquePrefix('house')}[a]*:`;
    const redis = redisWith(prefix);
    await redis.set(keys.applicationLock('stuck'), 'owner');
    const run = await keepHouse({ redis, keyPrefix: prefix, auditMaxLength: 100, log: silentLogger });
    expect(run.locksReleased).toBe(1);
    expect(await redis.exists(keys.applicationLock('stuck'))).toBe(0);
  });

  it('trims the audit stream to AUDIT_MAX_LENGTH exactly', async () => {
    const prefix = uniquePrefix('house');
    const redis = redisWith(prefix);
    // Approximate trimming on append lets the stream grow past the cap.
    const audit = new Audit(redis, 100);
    for (let i = 0; i < 250; i++) {
      await audit.record({ actor: 'system', action: 'test', subject: `s${i}`, outcome: 'info' });
    }
    expect(await redis.xlen(keys.audit())).toBeGreaterThan(100);
    const run = await keepHouse({ redis, keyPrefix: prefix, auditMaxLength: 100, log: silentLogger });
    expect(await redis.xlen(keys.audit())).toBe(100);
    expect(run.auditTrimmed).toBeGreaterThan(0);
    const newest = await audit.read({ limit: 1 });
    expect(newest[0]!.subject).toBe('s249');
  });
});
