/**
 * PINs on the real bot (real Redis, the real Keystone): what a Redis dump gives away about them,
 * how long they are kept, and how many guesses parallel submissions get.
 */
import { createHash, createHmac, randomBytes, scryptSync } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { deriveKey } from '../../../src/domain/setpass/crypto.js';
import type { Setpass } from '../../../src/domain/setpass/service.js';
import { keys } from '../../../src/platform/keys.js';
import { adminClient, newMember } from '../../keystone/fixtures.js';
import { keystoneEnv, startTestBot, TEST_ADMIN_CHANNEL, type TestBot, testEnv } from '../../support/bot.js';
import { dumpRedis } from '../../support/redis-dump.js';
import { type SlackFake, startSlackFake } from '../../support/slack-fake.js';
import { heading, strongPassword, submit, tokenOf } from './helpers.js';

const MAX_ATTEMPTS = 3;
const ALL_PINS = Array.from({ length: 10_000 }, (_, n) => String(n).padStart(4, '0'));

/** `scheme$salt$hash` values anywhere in a dump: what a PIN hash looks like at rest. */
function pinHashesIn(dump: Map<string, string>): { scheme: string; salt: Buffer; hash: Buffer }[] {
  const found = new Map<string, { scheme: string; salt: Buffer; hash: Buffer }>();
  for (const value of dump.values()) {
    for (const m of value.matchAll(/"([a-z]+)\$([A-Za-z0-9_-]{8,})\$([A-Za-z0-9_-]{16,})"/g)) {
      found.set(m[0], {
        scheme: m[1]!,
        salt: Buffer.from(m[2]!, 'base64url'),
        hash: Buffer.from(m[3]!, 'base64url'),
      });
    }
  }
  return [...found.values()];
}

/** Every PIN whose digest, made the ways `candidates` knows, matches a stored hash. */
function offlineSearch(
  hashes: { salt: Buffer; hash: Buffer }[],
  candidates: ((salt: Buffer, pin: string) => Buffer)[],
): string[] {
  const hits: string[] = [];
  for (const { salt, hash } of hashes) {
    for (const pin of ALL_PINS) {
      if (candidates.some((digest) => digest(salt, pin).equals(hash))) hits.push(pin);
    }
  }
  return hits;
}

describe('PINs', () => {
  let slack: SlackFake;
  let running: TestBot;
  let setpass: Setpass;
  let ipCount = 0;
  const freshIp = () => `198.51.100.${++ipCount}`;

  beforeAll(async () => {
    slack = await startSlackFake();
    running = await startTestBot(
      testEnv({
        ...keystoneEnv(inject('keystone')),
        SLACK_API_URL: `${slack.url}/api/`,
        PUBLIC_URL: 'https://register.kaizen.test',
        TRUSTED_PROXIES: '127.0.0.1',
        SETPASS_MAX_PIN_ATTEMPTS: String(MAX_ATTEMPTS),
      }),
    );
    setpass = running.bot.services.setpass!;
  });
  afterAll(async () => {
    await running?.stop();
    await slack?.close();
  });

  async function memberWithLink(pin: string) {
    const member = await newMember(adminClient());
    const link = await setpass.issue(
      { userId: member.user.id, username: member.user.name },
      setpass.hashPin(pin),
    );
    return { ...member, token: tokenOf(link.url) };
  }

  it('leave nothing in a Redis dump that an offline search of all 10,000 finds without SETPASS_SECRET', async () => {
    const pin = '7302';
    const member = await memberWithLink(pin);
    const { config } = running.bot.services;
    const plain = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
    const dump = await dumpRedis(plain, config.redis.keyPrefix);

    // The PIN is on file and in the link's record, each time only in the keyed form.
    const hashes = pinHashesIn(dump);
    expect(hashes.length).toBeGreaterThanOrEqual(1);
    expect(hashes.map((h) => h.scheme)).toEqual(hashes.map(() => 'hmac'));

    // Whatever unkeyed construction the searcher tries, nothing matches.
    const sha256 = (salt: Buffer, candidate: string) =>
      createHash('sha256').update(salt).update(candidate).digest();
    const emptyKey = (salt: Buffer, candidate: string) =>
      createHmac('sha256', Buffer.alloc(0)).update(salt).update(candidate).digest();
    const saltAsKey = (salt: Buffer, candidate: string) =>
      createHmac('sha256', salt).update(candidate).digest();
    expect(offlineSearch(hashes, [sha256, emptyKey, saltAsKey])).toEqual([]);

    // The control: the same search with the key from the secret finds the PIN, and only it.
    const key = deriveKey(config.setpass.secret!, 'kaizen setpass pin hmac');
    const keyed = (salt: Buffer, candidate: string) =>
      createHmac('sha256', key).update(salt).update(candidate).digest();
    const found = offlineSearch(hashes, [keyed]);
    expect(found.length).toBe(hashes.length);
    expect(new Set(found)).toEqual(new Set([pin]));

    // The PIN on file expires: one link lifetime after the link does, renewed by each new link.
    const pinTtl = await plain.pexpiretime(`${config.redis.keyPrefix}${keys.setpassPin(member.user.id)}`);
    const status = await setpass.status(member.user.id);
    expect(pinTtl).toBe(status.expiresAt!.getTime() + config.setpass.tokenTtlMs);
    plain.disconnect();
  });

  it('get no more checks than the link has attempts, however many are sent at once: a right PIN sent last is never tried', async () => {
    const pin = '5821';
    const member = await memberWithLink(pin);
    const clientIp = freshIp();
    const password = strongPassword();
    const guesses = ALL_PINS.filter((p) => p !== pin)
      .slice(0, 19)
      .concat(pin);
    // All at once; the right PIN comes with a mistyped confirmation, so a check of it would say so
    // on the same form ("fix") without using the link.
    const outcomes = await Promise.all(
      guesses.map((guess) =>
        setpass.changePassword({
          token: member.token,
          pin: guess,
          password,
          confirmPassword: `${password}!`,
          clientIp,
        }),
      ),
    );
    const kinds = outcomes.map((o) => o.kind);
    expect(kinds.filter((k) => k === 'wrong_pin')).toHaveLength(MAX_ATTEMPTS - 1);
    expect(kinds.filter((k) => k === 'locked_out')).toHaveLength(1);
    // The rest were not checked: told to come back while the attempts were being checked, or
    // told the link is gone once they were. The right PIN among them is one of those.
    expect(kinds.filter((k) => k === 'rate_limited' || k === 'dead')).toHaveLength(20 - MAX_ATTEMPTS);
    expect(['rate_limited', 'dead']).toContain(outcomes.at(-1)!.kind);
    expect(await setpass.status(member.user.id)).toMatchObject({
      live: false,
      lockedOut: { attempts: MAX_ATTEMPTS },
    });
  });

  it('burn the link at exactly SETPASS_MAX_PIN_ATTEMPTS when 20 wrong PINs are posted at once', async () => {
    const member = await memberWithLink('4821');
    const clientIp = freshIp();
    const answers = await Promise.all(
      ALL_PINS.slice(1000, 1020).map((guess) =>
        submit(running.url, member.token, { pin: guess, ip: clientIp }),
      ),
    );
    const statuses = answers.map((a) => a.status);
    // Each check is one wrong PIN (400, the last one 403 "disabled"); the rest were not checked:
    // asked to come back (429) while attempts were being checked, or told the link is gone (404).
    expect(statuses.filter((s) => s === 400)).toHaveLength(MAX_ATTEMPTS - 1);
    expect(statuses.filter((s) => s === 403)).toHaveLength(1);
    expect(statuses.filter((s) => s === 429 || s === 404)).toHaveLength(20 - MAX_ATTEMPTS);
    expect(heading(answers[statuses.indexOf(403)]!.html)).toBe('This link has been disabled');
    expect(await setpass.status(member.user.id)).toMatchObject({
      lockedOut: { attempts: MAX_ATTEMPTS },
    });
    const notices = await slack.waitFor(
      (calls) => {
        const lockouts = calls.filter(
          (c) =>
            c.method === 'chat.postMessage' &&
            c.args.channel === TEST_ADMIN_CHANNEL &&
            String(c.args.text).startsWith(`🔒 ${member.user.name} was locked out`),
        );
        return lockouts.length > 0 && lockouts;
      },
      10_000,
      'the lockout notice',
    );
    expect(notices).toHaveLength(1);
    expect(String(notices[0]!.args.text)).toContain(`after ${MAX_ATTEMPTS} wrong PINs`);
  });

  it('still take a PIN hashed with scrypt by an earlier version, and keep it keyed from the first right PIN on', async () => {
    const pin = '6150';
    const salt = randomBytes(16);
    const hash = scryptSync(pin, salt, 32, { N: 16384, r: 8, p: 1, maxmem: 64 * 1024 * 1024 });
    const legacy = `scrypt$${salt.toString('base64url')}$${hash.toString('base64url')}`;
    const member = await newMember(adminClient());
    const link = await setpass.issue({ userId: member.user.id, username: member.user.name }, legacy);
    const token = tokenOf(link.url);
    const ip = freshIp();

    const wrong = await submit(running.url, token, { pin: '0150', ip });
    expect(wrong.status).toBe(400);
    expect(await setpass.pinOnFile(member.user.id)).toBe(legacy);
    // A right PIN with a mistyped confirmation: the PIN is checked, the form comes back.
    const password = strongPassword();
    const fix = await submit(running.url, token, { pin, password, confirm: `${password}!`, ip });
    expect(fix.status).toBe(400);
    const rehashed = await setpass.pinOnFile(member.user.id);
    expect(rehashed).toMatch(/^hmac\$/);
    expect(await setpass.pins.verify(pin, rehashed!)).toEqual({ matches: true });

    const done = await submit(running.url, token, { pin, password, ip });
    expect(done.status).toBe(200);
  });
});
