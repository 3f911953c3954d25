/** The token store against the real Redis, under a key prefix of its own. */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { newToken, SetpassCrypto } from '../../../src/domain/setpass/crypto.js';
import { TokenStore } from '../../../src/domain/setpass/store.js';
import { keys } from '../../../src/platform/keys.js';
import { uniquePrefix } from '../../support/bot.js';

const prefix = uniquePrefix('setpass-store');
const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', { keyPrefix: prefix });
const crypto = new SetpassCrypto(randomBytes(32));
const HOUR = 3_600_000;
const store = new TokenStore(redis, crypto, HOUR);

afterAll(async () => {
  const plain = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
  const found = await plain.keys(`${prefix}*`);
  if (found.length > 0) await plain.del(...found);
  plain.disconnect();
  await redis.quit();
});

let counter = 0;
function user(label = 'u') {
  counter += 1;
  return {
    userId: `${label}${counter}${randomBytes(4).toString('hex')}`,
    username: `${label}${counter}@example.org`,
    pinHash: 'scrypt$salt$hash',
    temporaryPassword: `temp-${randomBytes(8).toString('hex')}`,
  };
}

describe('TokenStore', () => {
  it('issues a token that finds its record, with the temporary password decrypted', async () => {
    const input = user();
    const issued = await store.issue(input);
    expect(issued.expiresAt.getTime() - issued.createdAt.getTime()).toBe(HOUR);
    const found = await store.find(issued.token);
    expect(found).toMatchObject({
      kind: 'found',
      record: {
        userId: input.userId,
        username: input.username,
        pinHash: input.pinHash,
        temporaryPassword: input.temporaryPassword,
        attempts: 0,
      },
    });
    expect(await store.find(newToken())).toEqual({ kind: 'missing' });
  });

  it('keeps the token key and the user pointer for exactly the link lifetime', async () => {
    const input = user();
    const issued = await store.issue(input);
    const tokenKey = keys.setpassToken(crypto.tokenHmac(issued.token));
    for (const key of [tokenKey, keys.setpassUser(input.userId)]) {
      const ttl = await redis.pttl(key);
      expect(ttl).toBeGreaterThan(HOUR - 60_000);
      expect(ttl).toBeLessThanOrEqual(HOUR);
    }
  });

  it('lets a short-lived link vanish by itself', async () => {
    const shortLived = new TokenStore(redis, crypto, 1_000);
    const input = user();
    const issued = await shortLived.issue(input);
    expect((await shortLived.find(issued.token)).kind).toBe('found');
    // Redis expires the key on its own clock: poll for that, with a generous deadline.
    const deadline = Date.now() + 10_000;
    while ((await shortLived.find(issued.token)).kind !== 'missing' && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(await shortLived.find(issued.token)).toEqual({ kind: 'missing' });
    expect(await shortLived.status(input.userId)).toEqual({ live: false });
    expect(await redis.exists(keys.setpassUser(input.userId))).toBe(0);
  });

  it('keeps one live token per user: issuing again kills the old one', async () => {
    const input = user();
    const first = await store.issue(input);
    const second = await store.issue({ ...input, temporaryPassword: 'another' });
    expect(await store.find(first.token)).toEqual({ kind: 'missing' });
    expect((await store.find(second.token)).kind).toBe('found');
    expect((await store.currentToken(input.userId))?.token).toBe(second.token);
    expect((await store.current(input.userId))?.temporaryPassword).toBe('another');
  });

  it('leaves exactly one live token when many issues race', async () => {
    const input = user();
    const issued = await Promise.all(Array.from({ length: 10 }, () => store.issue(input)));
    const live = [];
    for (const { token } of issued) if ((await store.find(token)).kind === 'found') live.push(token);
    expect(live).toHaveLength(1);
    expect((await store.currentToken(input.userId))?.token).toBe(live[0]);
  });

  it('reports the link status and forgets it on revoke', async () => {
    const input = user();
    expect(await store.status(input.userId)).toEqual({ live: false });
    const issued = await store.issue(input);
    const status = await store.status(input.userId);
    expect(status).toEqual({ live: true, createdAt: issued.createdAt, expiresAt: issued.expiresAt });
    expect(await store.revoke(input.userId)).toBe(true);
    expect(await store.status(input.userId)).toEqual({ live: false });
    expect(await store.find(issued.token)).toEqual({ kind: 'missing' });
    expect(await store.currentToken(input.userId)).toBeUndefined();
  });

  it('counts wrong PINs exactly: the third of three burns the token and the pointer, and marks a lockout until the next link', async () => {
    const input = user();
    const issued = await store.issue(input);
    const found = await store.find(issued.token);
    if (found.kind !== 'found') throw new Error('token not found');
    expect(await store.recordWrongPin(found.record, 3)).toEqual({
      kind: 'counted',
      attempts: 1,
      attemptsLeft: 2,
    });
    expect(await store.recordWrongPin(found.record, 3)).toEqual({
      kind: 'counted',
      attempts: 2,
      attemptsLeft: 1,
    });
    expect(await store.recordWrongPin(found.record, 3)).toEqual({ kind: 'burned', attempts: 3 });
    expect(await store.find(issued.token)).toEqual({ kind: 'missing' });
    expect(await store.status(input.userId)).toEqual({
      live: false,
      lockedOut: { attempts: 3, at: expect.any(Date) },
    });
    expect(await store.recordWrongPin(found.record, 3)).toEqual({ kind: 'gone' });

    await store.issue(input);
    const renewed = await store.status(input.userId);
    expect(renewed.live).toBe(true);
    expect(renewed.lockedOut).toBeUndefined();
    expect(await store.lockout(input.userId)).toBeUndefined();
  });

  it('burns on exactly the third wrong PIN when they arrive at once', async () => {
    const input = user();
    const issued = await store.issue(input);
    const found = await store.find(issued.token);
    if (found.kind !== 'found') throw new Error('token not found');
    const outcomes = await Promise.all(
      Array.from({ length: 5 }, () => store.recordWrongPin(found.record, 3)),
    );
    expect(outcomes.filter((o) => o.kind === 'counted')).toHaveLength(2);
    expect(outcomes.filter((o) => o.kind === 'burned')).toEqual([{ kind: 'burned', attempts: 3 }]);
    expect(outcomes.filter((o) => o.kind === 'gone')).toHaveLength(2);
  });

  it('lets exactly one of many concurrent claims take the token, and restores it for a retry', async () => {
    const input = user();
    const issued = await store.issue(input);
    const hmac = crypto.tokenHmac(issued.token);
    const claims = await Promise.all(Array.from({ length: 8 }, () => store.claim(hmac)));
    const won = claims.filter((claim) => claim !== undefined);
    expect(won).toHaveLength(1);
    expect(await store.find(issued.token)).toEqual({ kind: 'missing' });

    expect(await store.restore(won[0]!)).toBe(true);
    const back = await store.find(issued.token);
    expect(back).toMatchObject({ kind: 'found', record: { temporaryPassword: input.temporaryPassword } });
    expect(await redis.pttl(keys.setpassToken(hmac))).toBeGreaterThan(HOUR - 60_000);
  });

  it('does not bring back a claimed token once a newer one replaced it', async () => {
    const input = user();
    const issued = await store.issue(input);
    const claim = await store.claim(crypto.tokenHmac(issued.token));
    const newer = await store.issue(input);
    expect(await store.restore(claim!)).toBe(false);
    expect(await store.find(issued.token)).toEqual({ kind: 'missing' });
    expect((await store.find(newer.token)).kind).toBe('found');
  });

  it('finishes a claimed token: the pointer goes, the user is marked done', async () => {
    const input = user();
    const issued = await store.issue(input);
    const claim = await store.claim(crypto.tokenHmac(issued.token));
    const at = new Date('2026-11-28T12:00:00.000Z');
    await store.finish(claim!.record, at);
    expect(await store.status(input.userId)).toEqual({ live: false });
    expect(await redis.exists(keys.setpassUser(input.userId))).toBe(0);
    expect(await store.passwordSetAt(input.userId)).toEqual(at);
  });

  it('refuses records edited in Redis: a flipped byte, a swapped PIN hash, a record moved to another token', async () => {
    const victim = user();
    const issued = await store.issue(victim);
    const hmac = crypto.tokenHmac(issued.token);
    const tokenKey = keys.setpassToken(hmac);
    const sealed = (await redis.hget(tokenKey, 'pw'))!;

    const bytes = Buffer.from(sealed.split('.')[1]!, 'base64url');
    bytes[20] = (bytes[20] ?? 0) ^ 0xff;
    await redis.hset(tokenKey, 'pw', `v1.${bytes.toString('base64url')}`);
    expect(await store.find(issued.token)).toEqual({ kind: 'tampered', tokenHmac: hmac });

    await redis.hset(tokenKey, 'pw', sealed);
    expect((await store.find(issued.token)).kind).toBe('found');
    await redis.hset(tokenKey, 'pin', 'scrypt$attacker$known');
    expect((await store.find(issued.token)).kind).toBe('tampered');

    const other = await store.issue(user());
    const otherKey = keys.setpassToken(crypto.tokenHmac(other.token));
    await redis.copy(otherKey, tokenKey, 'REPLACE');
    expect((await store.find(issued.token)).kind).toBe('tampered');
  });

  it('keeps the PIN hash on file for two link lifetimes, renewed to one lifetime past each new link', async () => {
    const input = user();
    expect(await store.pinOnFile(input.userId)).toBeUndefined();
    await store.storePinHash(input.userId, 'hmac$a$b');
    expect(await store.pinOnFile(input.userId)).toBe('hmac$a$b');
    const stored = await redis.pttl(keys.setpassPin(input.userId));
    expect(stored).toBeGreaterThan(2 * HOUR - 60_000);
    expect(stored).toBeLessThanOrEqual(2 * HOUR);

    await redis.pexpire(keys.setpassPin(input.userId), 1_000);
    const issued = await store.issue(input);
    const renewed = await redis.pexpiretime(keys.setpassPin(input.userId));
    expect(renewed).toBe(issued.expiresAt.getTime() + HOUR);
    // The temporary password the link carries is kept as long, sealed, for a link sent again.
    expect(await redis.pexpiretime(keys.setpassTemporary(input.userId))).toBe(renewed);
    expect(await store.temporaryPassword(input.userId)).toBe(input.temporaryPassword);
    const sealed = await redis.get(keys.setpassTemporary(input.userId));
    expect(sealed).not.toContain(input.temporaryPassword);
  });

  it('forgets the temporary password once the link is redeemed', async () => {
    const input = user();
    const issued = await store.issue(input);
    const found = await store.find(issued.token);
    if (found.kind !== 'found') throw new Error('the link did not open');
    await store.finish(found.record, new Date());
    expect(await store.temporaryPassword(input.userId)).toBeUndefined();
    expect(await store.passwordSetAt(input.userId)).toBeInstanceOf(Date);
  });

  it('reserves no more attempts than the link has, however many ask at once', async () => {
    const input = user();
    const issued = await store.issue(input);
    const found = await store.find(issued.token);
    if (found.kind !== 'found') throw new Error('the link did not open');
    const record = found.record;
    const reservations = await Promise.all(Array.from({ length: 20 }, () => store.reserveAttempt(record, 3)));
    expect(reservations.filter((r) => r.kind === 'reserved')).toHaveLength(3);
    expect(reservations.filter((r) => r.kind === 'exhausted')).toHaveLength(17);

    // A right PIN gives its attempt back; a wrong one keeps it, and the third wrong one burns the link.
    await store.giveBackAttempt(record);
    expect(await store.reserveAttempt(record, 3)).toEqual({ kind: 'reserved' });
    expect(await store.recordWrongPin(record, 3)).toMatchObject({ kind: 'counted', attempts: 1 });
    expect(await store.recordWrongPin(record, 3)).toMatchObject({ kind: 'counted', attempts: 2 });
    expect(await store.reserveAttempt(record, 3)).toEqual({ kind: 'exhausted' });
    expect(await store.recordWrongPin(record, 3)).toEqual({ kind: 'burned', attempts: 3 });
    expect(await store.reserveAttempt(record, 3)).toEqual({ kind: 'gone' });
    expect(await store.lockout(input.userId)).toMatchObject({ attempts: 3 });
  });
});
