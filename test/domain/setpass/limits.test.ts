/**
 * The failure budgets stop attackers, not the people behind one address: opening dead links costs
 * nothing, IPv6 clients count per /64, proxies may be named by CIDR range, a burst of parallel
 * submissions cannot overdraw a budget, and PIN hashing never takes more than its few threads.
 */
import type { IncomingMessage } from 'node:http';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { FailureLimits, KDF_CONCURRENCY, kdfSlots } from '../../../src/domain/setpass/limits.js';
import { PinHasher } from '../../../src/domain/setpass/pin.js';
import type { Setpass } from '../../../src/domain/setpass/service.js';
import type { KeystoneClient } from '../../../src/keystone/index.js';
import { ConfigError, loadConfig } from '../../../src/platform/config/config.js';
import { addressBucket, clientIp, normalizeIp } from '../../../src/platform/http/client-ip.js';
import { adminClient, afterRevocationTick, newMember } from '../../keystone/fixtures.js';
import { keystoneEnv, startTestBot, type TestBot, testEnv, uniquePrefix } from '../../support/bot.js';
import { type SlackFake, startSlackFake } from '../../support/slack-fake.js';
import { openLink, passwordWorks, strongPassword, submit, tokenOf } from './helpers.js';

const PIN = '4821';
/** Well-formed tokens that no link has. */
const deadToken = (i: number) => `${'D'.repeat(40)}${String(i).padStart(3, '0')}`;

function request(peer: string, forwardedFor?: string): IncomingMessage {
  return {
    socket: { remoteAddress: peer },
    headers: forwardedFor === undefined ? {} : { 'x-forwarded-for': forwardedFor },
  } as unknown as IncomingMessage;
}

describe('client addresses', () => {
  it('counts IPv6 per /64 and IPv4-mapped IPv6 as the IPv4 address', () => {
    expect(addressBucket('2001:db8:1:2:aaaa::1')).toBe('2001:db8:1:2::/64');
    expect(addressBucket('2001:0db8:0001:0002:ffff:ffff:ffff:ffff')).toBe('2001:db8:1:2::/64');
    expect(addressBucket('2001:db8:1:3::1')).toBe('2001:db8:1:3::/64');
    expect(addressBucket('::1')).toBe('0:0:0:0::/64');
    expect(addressBucket('::ffff:203.0.113.7')).toBe('203.0.113.7');
    expect(addressBucket('::ffff:cb00:7107')).toBe('203.0.113.7');
    expect(addressBucket('203.0.113.7')).toBe('203.0.113.7');
    expect(normalizeIp('[2001:db8::1]')).toBe('2001:db8::1');
  });

  it('honours X-Forwarded-For from proxies named by address or CIDR range, v4 and v6', () => {
    const proxies = ['10.1.0.0/16', 'fd00:1::/32', '192.0.2.9'];
    expect(clientIp(request('10.1.200.3', '198.51.100.4'), proxies)).toBe('198.51.100.4');
    expect(clientIp(request('::ffff:10.1.0.1', '198.51.100.4'), proxies)).toBe('198.51.100.4');
    expect(clientIp(request('fd00:1:ab::5', '2001:db8::7'), proxies)).toBe('2001:db8::7');
    expect(clientIp(request('192.0.2.9', '198.51.100.4, 10.1.0.2'), proxies)).toBe('198.51.100.4');
    // Outside the ranges the header is the client's own word, and ignored.
    expect(clientIp(request('10.2.0.1', '198.51.100.4'), proxies)).toBe('10.2.0.1');
    expect(clientIp(request('fd00:2::5', '198.51.100.4'), proxies)).toBe('fd00:2::5');
    // A client cannot claim to be past the proxy by prepending an address.
    expect(clientIp(request('10.1.0.1', '6.6.6.6, 198.51.100.4'), proxies)).toBe('198.51.100.4');
  });

  it('takes addresses and CIDR ranges in TRUSTED_PROXIES and refuses a malformed entry at start', () => {
    const config = loadConfig({ TRUSTED_PROXIES: '127.0.0.1, 10.0.0.0/8 fd00::/8,::1' });
    expect(config.http.trustedProxies).toEqual(['127.0.0.1', '10.0.0.0/8', 'fd00::/8', '::1']);
    for (const wrong of ['10.0.0.0/33', 'proxy.example.org', '10.0.0/8', 'fd00::/129', '10.0.0.1/8/2']) {
      let problems: string[] = [];
      try {
        loadConfig({ TRUSTED_PROXIES: `127.0.0.1, ${wrong}` });
      } catch (error) {
        if (!(error instanceof ConfigError)) throw error;
        problems = error.problems;
      }
      expect(problems, wrong).toEqual([
        `TRUSTED_PROXIES: expected a comma-separated list of IP addresses and CIDR ranges such as 127.0.0.1, 10.0.0.0/8, fd00::/8, got "127.0.0.1, ${wrong}"`,
      ]);
    }
  });
});

describe('failure budgets in Redis', () => {
  const prefix = uniquePrefix('limits');
  const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', { keyPrefix: prefix });
  const budgets = { perUser: { points: 4, windowSeconds: 60 }, perIp: { points: 5, windowSeconds: 60 } };
  // The limiter's keys expire with their window.
  afterAll(() => redis.disconnect());

  it('lets exactly the budget through when 20 submissions reserve at once', async () => {
    const limits = new FailureLimits(redis, budgets);
    const answers = await Promise.all(Array.from({ length: 20 }, () => limits.reserve('198.51.100.20')));
    expect(answers.filter((answer) => answer.kind === 'reserved')).toHaveLength(5);
    expect(answers.filter((answer) => answer.kind === 'blocked')).toHaveLength(15);
  });

  it('gives the points back for a submission that did not fail, and keeps them for one that did', async () => {
    const limits = new FailureLimits(redis, budgets);
    const ip = '198.51.100.21';
    for (let i = 0; i < 10; i++) {
      const reservation = await limits.reserve(ip);
      if (reservation.kind !== 'reserved') throw new Error(`blocked after ${i} good submissions`);
      expect((await reservation.charge.reserveUser('user-a')).kind).toBe('allowed');
      await reservation.charge.settle(false);
    }
    for (let i = 0; i < 4; i++) {
      const reservation = await limits.reserve(ip);
      if (reservation.kind !== 'reserved') throw new Error('blocked too early');
      expect((await reservation.charge.reserveUser('user-b')).kind).toBe('allowed');
      await reservation.charge.settle(true);
    }
    const fifth = await limits.reserve(ip);
    if (fifth.kind !== 'reserved') throw new Error('the address budget was spent too early');
    expect(await fifth.charge.reserveUser('user-b')).toMatchObject({ kind: 'blocked', scope: 'user' });
    await fifth.charge.settle(true);
    expect(await limits.reserve(ip)).toMatchObject({ kind: 'blocked', scope: 'ip' });
    expect(await limits.checkIp(ip)).toMatchObject({ kind: 'blocked' });
  });

  it('counts every address of one IPv6 /64 together', async () => {
    const limits = new FailureLimits(redis, budgets);
    for (let i = 1; i <= 5; i++) {
      const reservation = await limits.reserve(`2001:db8:77:1::${i.toString(16)}`);
      if (reservation.kind !== 'reserved') throw new Error(`blocked at ${i}`);
      await reservation.charge.settle(true);
    }
    expect((await limits.reserve('2001:db8:77:1:ffff:ffff:ffff:ffff')).kind).toBe('blocked');
    expect((await limits.reserve('2001:db8:77:2::1')).kind).toBe('reserved');
  });
});

describe('checking a PIN against a hash kept from before keyed hashes (scrypt)', () => {
  it(`runs at most ${KDF_CONCURRENCY} at once: another waits for a slot`, async () => {
    const pins = new PinHasher(Buffer.alloc(32, 7));
    const legacy = `scrypt$${Buffer.alloc(16, 1).toString('base64url')}$${Buffer.alloc(32, 2).toString('base64url')}`;
    const releases: (() => void)[] = [];
    const held = Array.from({ length: KDF_CONCURRENCY }, () =>
      kdfSlots.run(() => new Promise<void>((resolve) => releases.push(resolve))),
    );
    let hashed = false;
    const hashing = pins.verify('1234', legacy).then(() => {
      hashed = true;
    });
    // Long enough for an unbounded scrypt (milliseconds) to have finished many times over.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(hashed).toBe(false);
    for (const release of releases) release();
    await Promise.all([...held, hashing]);
    expect(hashed).toBe(true);
  });
});

describe('the password page behind a proxy named by CIDR range', () => {
  let slack: SlackFake;
  let running: TestBot;
  let setpass: Setpass;
  let keystone: KeystoneClient;

  beforeAll(async () => {
    slack = await startSlackFake();
    running = await startTestBot(
      testEnv({
        ...keystoneEnv(inject('keystone')),
        SLACK_API_URL: `${slack.url}/api/`,
        PUBLIC_URL: 'https://register.kaizen.test',
        TRUSTED_PROXIES: '127.0.0.0/8, ::1/128',
      }),
    );
    setpass = running.bot.services.setpass!;
    keystone = adminClient();
  });
  afterAll(async () => {
    await running?.stop();
    await slack?.close();
  });

  async function memberWithLink() {
    const member = await newMember(keystone);
    const link = await setpass.issue(
      { userId: member.user.id, username: member.user.name },
      setpass.hashPin(PIN),
    );
    return { ...member, token: tokenOf(link.url) };
  }

  it('does not charge for opening dead links: their address still sets a password on a live one', async () => {
    const ip = '203.0.113.50';
    for (let i = 0; i < 40; i++) expect((await openLink(running.url, deadToken(i), ip)).status).toBe(404);
    const member = await memberWithLink();
    expect((await openLink(running.url, member.token, ip)).status).toBe(200);
    const password = strongPassword();
    const done = await submit(running.url, member.token, { pin: PIN, password, ip });
    expect(done.status).toBe(200);
    await afterRevocationTick();
    expect(await passwordWorks(keystone, member.user.id, password)).toBe(true);
  });

  it('counts failed submissions from a rotating IPv6 /64 as one client; the next /64 is another', async () => {
    const member = await memberWithLink();
    // One anti-forgery pair, as an attacker would reuse it: the failures must reach the budget.
    const { csrf, cookie } = await openLink(running.url, member.token, '2001:db8:5:6::1');
    const post = (token: string, ip: string) =>
      submit(running.url, token, { pin: '1234', password: strongPassword(), csrf, cookie, ip });
    // All at once: each takes its point before any work, so exactly the budget gets through.
    const answers = await Promise.all(
      Array.from({ length: 30 }, (_, i) => post(deadToken(i), `2001:db8:5:6:${(i + 1).toString(16)}::1`)),
    );
    expect(answers.map((answer) => answer.status)).toEqual(Array(30).fill(404));
    expect((await post(deadToken(31), '2001:db8:5:6:ffff:1:2:3')).status).toBe(429);
    expect((await openLink(running.url, member.token, '2001:db8:5:6::abcd')).status).toBe(429);
    expect((await openLink(running.url, member.token, '2001:db8:5:7::1')).status).toBe(200);
    expect((await openLink(running.url, member.token, '203.0.113.51')).status).toBe(200);
  });
});
