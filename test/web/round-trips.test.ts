/**
 * Round trips to Redis per password-page request: opening a link reads the address's failure budget
 * and the token record in one script; a wrong PIN takes the address's point with the record, then
 * the user's point with the counting of the PIN (checked in between, without I/O). Counted, not timed.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { Setpass } from '../../src/domain/setpass/service.js';
import { KeystoneClient } from '../../src/keystone/index.js';
import { silentLogger } from '../../src/platform/log.js';
import { LuaScripts } from '../../src/platform/redis-scripts.js';
import { recordRedisKeys } from '../deploy/redis-recorder.js';
import { uniquePrefix } from '../support/bot.js';

const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', {
  keyPrefix: uniquePrefix('round-trips'),
});
afterAll(() => redis.quit());

// Neither path reaches Keystone: the client is never called.
const setpass = new Setpass({
  redis,
  keystone: new KeystoneClient({ authUrl: 'http://127.0.0.1:9/v3' }),
  log: silentLogger,
  secret: randomBytes(32),
  publicUrl: 'http://127.0.0.1',
  tokenTtlMs: 3_600_000,
  maxPinAttempts: 5,
  passwordMinLength: 12,
  passwordMinScore: 3,
});

async function link(userId: string): Promise<string> {
  const issued = await setpass.issueToken({
    userId,
    username: `${userId}@example.org`,
    pinHash: setpass.hashPin('4821'),
    temporaryPassword: randomBytes(18).toString('base64url'),
  });
  return issued.token;
}

/** What `work` sent to Redis, one entry per round trip. */
async function roundTrips(work: () => Promise<unknown>): Promise<string[][]> {
  await redis.ping();
  const recorder = recordRedisKeys();
  try {
    await work();
  } finally {
    recorder.stop();
  }
  return recorder.batches.map((batch) => batch.commands);
}

describe('Redis round trips of the password page', () => {
  it('opens a link, live or dead, in one round trip', async () => {
    const token = await link('rt-user-1');
    // The first use of a script on a Redis that has not run it yet sends it in full, once.
    await setpass.openLink(token, '198.51.100.9');
    let view: unknown;
    expect(await roundTrips(async () => (view = await setpass.openLink(token, '198.51.100.1')))).toEqual([
      ['evalsha'],
    ]);
    expect(view).toMatchObject({ kind: 'live', username: 'rt-user-1@example.org' });
    expect(
      await roundTrips(async () => (view = await setpass.openLink('D'.repeat(43), '198.51.100.1'))),
    ).toHaveLength(1);
    expect(view).toEqual({ kind: 'dead' });
  });

  it('answers a wrong PIN in two round trips and still counts it against the link', async () => {
    const token = await link('rt-user-2');
    const submission = {
      token,
      pin: '0000',
      password: '',
      confirmPassword: '',
      clientIp: '198.51.100.2',
    };
    await setpass.changePassword({ ...submission, clientIp: '198.51.100.9' });
    let outcome: unknown;
    const trips = await roundTrips(async () => (outcome = await setpass.changePassword(submission)));
    expect(outcome).toMatchObject({ kind: 'wrong_pin', attemptsLeft: 3 });
    expect(trips).toEqual([['evalsha'], ['evalsha']]);
    expect(await setpass.openLink(token, '198.51.100.2')).toMatchObject({ attemptsLeft: 3 });
  });

  it('takes a right PIN in the same two round trips, not counted against the link', async () => {
    const token = await link('rt-user-3');
    const submission = { token, pin: '0000', password: '', confirmPassword: '', clientIp: '198.51.100.3' };
    expect(await setpass.changePassword(submission)).toMatchObject({ kind: 'wrong_pin', attemptsLeft: 4 });
    let outcome: unknown;
    const trips = await roundTrips(
      async () => (outcome = await setpass.changePassword({ ...submission, pin: '4821' })),
    );
    // Right PIN, no password yet: the form asks for one; the wrong PIN before it is all that counts.
    expect(outcome).toMatchObject({ kind: 'fix', problems: { password: ['Enter a new password.'] } });
    // The look-up and the counting; then, a right PIN not being a failure, the address's and the
    // user's points are given back (two more scripts).
    expect(trips).toEqual([['evalsha'], ['evalsha'], ['evalsha'], ['evalsha']]);
    expect(await setpass.openLink(token, '198.51.100.3')).toMatchObject({ attemptsLeft: 4 });
  });
});

describe('scripts sent by their SHA-1', () => {
  it('are sent in full once when Redis does not have them (new, or after a restart or failover)', async () => {
    const scripts = new LuaScripts(redis);
    // A script no Redis has seen: a comment of its own makes its SHA-1 new.
    const script = `-- ${randomBytes(8).toString('hex')}\nreturn redis.call('INCR', KEYS[1])`;
    const first = await roundTrips(async () =>
      expect(await scripts.evalsha(script, 1, 'rt:counter')).toBe(1),
    );
    expect(first).toEqual([['evalsha'], ['eval']]);
    const second = await roundTrips(async () =>
      expect(await scripts.evalsha(script, 1, 'rt:counter')).toBe(2),
    );
    expect(second).toEqual([['evalsha']]);
    await redis.del('rt:counter');
  });
});
