/**
 * After full password-link flows (issued by the bot and through PUT /token, renewed, mistyped,
 * locked out, completed), no Redis key or value under the bot's prefix, and no log line, holds a
 * token, a PIN, a temporary password or a new password in plaintext.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { adminClient, newMember } from '../../keystone/fixtures.js';
import { keystoneEnv, startTestBot, type TestBot, testEnv } from '../../support/bot.js';
import { captureLogs } from '../../support/log-capture.js';
import { dumpRedis } from '../../support/redis-dump.js';
import { type SlackFake, startSlackFake } from '../../support/slack-fake.js';
import { openLink, strongPassword, submit, tokenOf } from './helpers.js';

const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

describe('secrets at rest and in logs', () => {
  let slack: SlackFake;
  let running: TestBot;
  const captured = captureLogs('debug');

  beforeAll(async () => {
    slack = await startSlackFake();
    running = await startTestBot(
      testEnv({
        ...keystoneEnv(inject('keystone')),
        SLACK_API_URL: `${slack.url}/api/`,
        PUBLIC_URL: 'https://register.kaizen.test',
        LOG_LEVEL: 'debug',
      }),
      captured.log,
    );
  });
  afterAll(async () => {
    await running?.stop();
    await slack?.close();
  });

  it('finds none of them after every kind of flow', async () => {
    const { setpass, config } = running.bot.services;
    const admin = adminClient();
    const adminToken = await admin.getAdminToken();
    const tokens: string[] = [];
    const passwords: string[] = [];
    const pins = ['5306', '6417', '7528', '8639'];

    // Issued by the bot (provisioning, reset): a wrong PIN, a mismatch, a weak password, then done.
    const one = await newMember(admin);
    const link = await setpass!.issue(
      { userId: one.user.id, username: one.user.name },
      setpass!.hashPin(pins[0]!),
    );
    tokens.push(tokenOf(link.url));
    passwords.push((await setpass!.tokens.current(one.user.id))!.temporaryPassword, one.password);
    await submit(running.url, tokens[0]!, { pin: '1029' });
    const mismatch = strongPassword();
    passwords.push(mismatch);
    await submit(running.url, tokens[0]!, { pin: pins[0], password: mismatch, confirm: `${mismatch}!` });
    await submit(running.url, tokens[0]!, { pin: pins[0], password: 'password1234' });
    const chosen = strongPassword();
    passwords.push(chosen);
    expect((await submit(running.url, tokens[0]!, { pin: pins[0], password: chosen })).status).toBe(200);

    // Through PUT /token, renewed, then locked out.
    const put = async (userId: string, body: object) => {
      const response = await fetch(`${running.url}/token/${userId}`, {
        method: 'PUT',
        headers: { 'x-auth-token': adminToken, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      expect(response.status).toBe(200);
      const token = await response.text();
      tokens.push(token);
      return token;
    };
    const two = await newMember(admin);
    passwords.push(two.password);
    await put(two.user.id, { password: two.password, pin: pins[1] });
    const renewed = await put(two.user.id, {});
    for (const pin of ['0001', '0002', '0003']) await submit(running.url, renewed, { pin });

    // Through PUT /token, completed.
    const three = await newMember(admin);
    passwords.push(three.password);
    const third = await put(three.user.id, { password: three.password, pin: pins[2] });
    const chosenThree = strongPassword();
    passwords.push(chosenThree);
    expect((await submit(running.url, third, { pin: pins[2], password: chosenThree })).status).toBe(200);

    // Still live at the end, so its records are there to be scanned.
    const four = await newMember(admin);
    const live = await setpass!.issue(
      { userId: four.user.id, username: four.user.name },
      setpass!.hashPin(pins[3]!),
    );
    tokens.push(tokenOf(live.url));
    passwords.push((await setpass!.tokens.current(four.user.id))!.temporaryPassword, four.password);
    expect((await openLink(running.url, tokens.at(-1)!)).status).toBe(200);

    // The bot has read the events: both notices are out, so the stream and audit are complete.
    await slack.waitFor(
      (calls) =>
        calls.filter(
          (c) => c.method === 'chat.postMessage' && /set their password|locked out/.test(String(c.args.text)),
        ).length >= 3,
      10_000,
      'two password-set notices and a lockout notice',
    );

    const plain = new Redis(redisUrl);
    const stored = await dumpRedis(plain, config.redis.keyPrefix);
    plain.disconnect();
    const kinds = [...stored.keys()].map((key) =>
      key.slice(config.redis.keyPrefix.length).split(':').slice(0, 2).join(':'),
    );
    // Not vacuous: every kind of record the flows write is there.
    for (const kind of [
      'setpass:tok',
      'setpass:user',
      'setpass:pin',
      'setpass:done',
      'setpass:limit',
      'audit',
      'events',
    ]) {
      expect(kinds).toContain(kind);
    }

    const everything = [...stored].map(([key, value]) => `${key} ${value}`).join('\n');
    const logs = captured.text();
    expect(logs).toContain('password set through a link');
    expect(logs).toContain('password link disabled after too many wrong PINs');
    for (const [where, text] of [
      ['redis', everything],
      ['logs', logs],
    ] as const) {
      for (const secret of [...tokens, ...passwords, adminToken]) {
        expect(text.includes(secret), `a token or password in ${where}`).toBe(false);
      }
      for (const pin of pins) {
        // Timestamps and ids are full of digits: a PIN counts only when it stands alone.
        expect(new RegExp(`(?<![0-9])${pin}(?![0-9])`).test(text), `PIN ${pin} in ${where}`).toBe(false);
      }
    }
  });
});
