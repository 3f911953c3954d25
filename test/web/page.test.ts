/**
 * The password page on the real bot: real Redis, the real Keystone, the Slack fake for the admin
 * channel. Every answer a person can get, and what it does to the link, Keystone and the audit.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type RunningKaizen, startKaizen } from '../../src/app/start.js';
import { SetpassCrypto } from '../../src/domain/setpass/crypto.js';
import type { Setpass } from '../../src/domain/setpass/service.js';
import type { KeystoneClient } from '../../src/keystone/index.js';
import { type Env, loadConfig } from '../../src/platform/config/config.js';
import { keys } from '../../src/platform/keys.js';
import { createLogger } from '../../src/platform/log.js';
import {
  alerts,
  expectPageHeaders,
  heading,
  openLink,
  passwordWorks,
  post,
  strongPassword,
  submit,
  tokenOf,
} from '../domain/setpass/helpers.js';
import { adminClient, afterRevocationTick, newMember } from '../keystone/fixtures.js';
import { keystoneEnv, startTestBot, TEST_ADMIN_CHANNEL, type TestBot, testEnv } from '../support/bot.js';
import { type SlackFake, startSlackFake } from '../support/slack-fake.js';

const PIN = '4821';
const PUBLIC_URL = 'https://register.kaizen.test';
const DEAD = 'This link is no longer valid';

describe('the password page', () => {
  let slack: SlackFake;
  let env: Env;
  let running: TestBot;
  let setpass: Setpass;
  let keystone: KeystoneClient;
  let ipCount = 0;
  /** A client address of its own per test: the failure budget per address is shared otherwise. */
  const freshIp = () => `198.51.100.${++ipCount}`;

  /** A Keystone member with a live link and the PIN on file. */
  async function memberWithLink() {
    const member = await newMember(keystone);
    const link = await setpass.issue(
      { userId: member.user.id, username: member.user.name },
      setpass.hashPin(PIN),
    );
    return { ...member, link, token: tokenOf(link.url) };
  }

  async function eventually<T>(probe: () => Promise<T | undefined>, what: string): Promise<T> {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const found = await probe();
      if (found !== undefined) return found;
      if (Date.now() > deadline) throw new Error(`no ${what} within 10 s`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  beforeAll(async () => {
    slack = await startSlackFake();
    env = testEnv({
      ...keystoneEnv(inject('keystone')),
      SLACK_API_URL: `${slack.url}/api/`,
      PUBLIC_URL,
      SUPPORT_EMAIL: 'help@kaizen.test',
      LOGIN_URL: 'https://cloud.kaizen.test/dashboard',
      SETPASS_SITE_NAME: 'Kaizen Cloud',
      TRUSTED_PROXIES: '127.0.0.1',
    });
    running = await startTestBot(env);
    setpass = running.bot.services.setpass!;
    keystone = adminClient();
  });
  afterAll(async () => {
    await running?.stop();
    await slack?.close();
  });

  it('without a token explains that the emailed link is needed', async () => {
    const response = await fetch(`${running.url}/`);
    const html = await response.text();
    expect(response.status).toBe(200);
    expectPageHeaders(response.headers);
    expect(heading(html)).toBe('Open the link from your email');
    expect(html).toContain('<title>Open the link from your email · Kaizen Cloud</title>');
  });

  it('serves its stylesheet and script from /assets, and nothing inline', async () => {
    const css = await fetch(`${running.url}/assets/setpass.css`);
    expect(css.status).toBe(200);
    expect(css.headers.get('content-type')).toBe('text/css; charset=utf-8');
    expect(await css.text()).toContain('.card');
    const js = await fetch(`${running.url}/assets/setpass.js`);
    expect(js.status).toBe(200);
    expect(js.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(js.headers.get('x-content-type-options')).toBe('nosniff');
  });

  it('shows the form for a live link, with the user name and a SameSite, HttpOnly anti-forgery cookie', async () => {
    const member = await memberWithLink();
    const opened = await openLink(running.url, member.token, freshIp());
    expect(opened.status).toBe(200);
    expectPageHeaders(opened.headers);
    expect(heading(opened.html)).toBe('Choose your password');
    expect(opened.html).toContain(`value="${member.user.name}"`);
    const setCookie = opened.headers.get('set-cookie') ?? '';
    expect(setCookie).toMatch(/^kaizen-csrf=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Strict$/);
    expect(opened.cookie).toBe(`kaizen-csrf=${opened.csrf}`);
  });

  it('names the cookie __Host- and marks it Secure when the request came over HTTPS', async () => {
    const member = await memberWithLink();
    const response = await fetch(`${running.url}/?token=${member.token}`, {
      headers: { 'x-forwarded-proto': 'https', 'x-forwarded-for': freshIp() },
    });
    expect(response.headers.get('set-cookie')).toMatch(
      /^__Host-kaizen-csrf=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Strict; Secure$/,
    );
  });

  it('answers every dead link with the same 404 page: unknown, malformed, expired, used, replaced, locked', async () => {
    const ip = freshIp();
    const pages: { status: number; html: string }[] = [];
    const look = async (token: string) => {
      const opened = await openLink(running.url, token, ip);
      expectPageHeaders(opened.headers);
      expect(opened.headers.get('set-cookie')).toBeNull();
      pages.push({ status: opened.status, html: opened.html });
    };
    await look('A'.repeat(43));
    await look('not-a-token');

    const expired = await memberWithLink();
    const crypto = new SetpassCrypto(running.bot.services.config.setpass.secret!);
    await running.bot.services.redis.del(keys.setpassToken(crypto.tokenHmac(expired.token)));
    await look(expired.token);

    const replaced = await memberWithLink();
    await setpass.issue({ userId: replaced.user.id, username: replaced.user.name }, undefined);
    await look(replaced.token);

    const used = await memberWithLink();
    expect((await submit(running.url, used.token, { pin: PIN, password: strongPassword(), ip })).status).toBe(
      200,
    );
    await look(used.token);

    const locked = await memberWithLink();
    for (const pin of ['0000', '0001', '0002']) await submit(running.url, locked.token, { pin, ip });
    await look(locked.token);

    expect(pages.map((page) => page.status)).toEqual([404, 404, 404, 404, 404, 404]);
    expect(new Set(pages.map((page) => page.html)).size).toBe(1);
    expect(heading(pages[0]!.html)).toBe(DEAD);
    expect(pages[0]!.html).toContain('write to <a href="mailto:help@kaizen.test">help@kaizen.test</a>');

    const posted = await submit(running.url, 'A'.repeat(43), {
      pin: PIN,
      password: strongPassword(),
      ip,
      csrf: 'x',
      cookie: 'kaizen-csrf=x',
    });
    expect(posted.status).toBe(404);
    expect(posted.html).toBe(pages[0]!.html);
  });

  it('asks for a missing or malformed PIN without counting an attempt', async () => {
    const member = await memberWithLink();
    const ip = freshIp();
    const missing = await submit(running.url, member.token, { pin: '', password: strongPassword(), ip });
    expect(missing.status).toBe(400);
    expect(alerts(missing.html)).toEqual(['Enter the 4-digit PIN you chose when you applied.']);
    const malformed = await submit(running.url, member.token, {
      pin: '12a4',
      password: strongPassword(),
      ip,
    });
    expect(alerts(malformed.html)).toEqual(['The PIN is exactly 4 digits (0–9).']);
    expect(malformed.html).not.toContain('12a4');

    const wrong = await submit(running.url, member.token, { pin: '9999', ip });
    expect(wrong.status).toBe(400);
    expect(alerts(wrong.html)).toEqual([
      'That PIN is not the one on file. 2 attempts left before this link is disabled.',
    ]);
    expect(wrong.html).not.toContain('9999');
    // Reopening the link still says how many are left.
    expect((await openLink(running.url, member.token, ip)).html).toContain(
      '2 attempts left before this link is disabled.',
    );
  });

  it('checks the passwords only after the PIN, and a mismatch or a weak password is not an attempt', async () => {
    const member = await memberWithLink();
    const ip = freshIp();
    const password = strongPassword();

    const mismatch = await submit(running.url, member.token, {
      pin: PIN,
      password,
      confirm: `${password}x`,
      ip,
    });
    expect(mismatch.status).toBe(400);
    expect(alerts(mismatch.html)).toEqual([
      'The two passwords do not match. Type the same password in both fields.',
    ]);

    const short = await submit(running.url, member.token, { pin: PIN, password: 'Tr0ub4d!', ip });
    expect(alerts(short.html)[0]).toBe('Use at least 12 characters (this one has 8).');

    const common = await submit(running.url, member.token, { pin: PIN, password: 'password1234', ip });
    expect(alerts(common.html)[0]).toMatch(/^This password is too easy to guess/);
    expect(alerts(common.html).length).toBeGreaterThan(1);

    const named = await submit(running.url, member.token, {
      pin: PIN,
      password: `${member.user.name}-quartz-lantern`,
      ip,
    });
    expect(alerts(named.html)).toContain('Do not use your user name or email address in your password.');

    const empty = await submit(running.url, member.token, { pin: PIN, password: '', ip });
    expect(alerts(empty.html)).toEqual(['Enter a new password.']);

    // A wrong PIN with a mismatch is about the PIN: nothing about the passwords is revealed.
    const wrongPin = await submit(running.url, member.token, { pin: '1111', password, confirm: 'other', ip });
    expect(alerts(wrongPin.html)).toEqual([
      'That PIN is not the one on file. 2 attempts left before this link is disabled.',
    ]);
    for (const page of [mismatch, short, common, named]) {
      expect(page.html).not.toContain(password);
      expect(page.html).not.toContain('password1234');
      expect(page.html).not.toContain(`value="${PIN}"`);
    }
    expect(await passwordWorks(keystone, member.user.id, password)).toBe(false);
  });

  it('sets the password, says what to do next, kills the link and tells the admins', async () => {
    const member = await memberWithLink();
    const temporary = (await setpass.tokens.current(member.user.id))!.temporaryPassword;
    const password = strongPassword();
    const done = await submit(running.url, member.token, { pin: PIN, password, ip: freshIp() });
    expect(done.status).toBe(200);
    expectPageHeaders(done.headers);
    expect(heading(done.html)).toBe('Your password is set');
    expect(done.html).toContain(
      `Sign in at <a href="https://cloud.kaizen.test/dashboard">https://cloud.kaizen.test/dashboard</a> with the user name <strong>${member.user.name}</strong>`,
    );
    expect(done.html).not.toContain(password);

    await afterRevocationTick();
    expect(await passwordWorks(keystone, member.user.id, password)).toBe(true);
    expect(await passwordWorks(keystone, member.user.id, temporary)).toBe(false);
    expect((await openLink(running.url, member.token)).status).toBe(404);
    expect(await setpass.status(member.user.id)).toEqual({ live: false });
    expect(await setpass.passwordSetAt(member.user.id)).toBeInstanceOf(Date);
    expect(await setpass.current(member.user.id)).toBeUndefined();

    const notice = await slack.waitFor(
      (calls) =>
        calls.find(
          (call) =>
            call.method === 'chat.postMessage' &&
            call.args.text === `✅ ${member.user.name} set their password`,
        ),
      10_000,
      'the password-set notice',
    );
    expect(notice.args.channel).toBe(TEST_ADMIN_CHANNEL);
    const line = await eventually(
      async () =>
        (await running.bot.services.audit.read({ subject: member.user.name })).find(
          (entry) => entry.action === 'setpass.password_changed',
        ),
      'audit line',
    );
    expect(line).toMatchObject({ actor: `user:${member.user.id}`, outcome: 'ok' });
  });

  it('burns the link on exactly the third wrong PIN, tells the admins without the PIN, and audits it', async () => {
    const member = await memberWithLink();
    const ip = freshIp();
    const first = await submit(running.url, member.token, { pin: '1357', ip });
    expect(alerts(first.html)).toEqual([
      'That PIN is not the one on file. 2 attempts left before this link is disabled.',
    ]);
    const second = await submit(running.url, member.token, { pin: '2468', ip });
    expect(alerts(second.html)).toEqual([
      'That PIN is not the one on file. 1 attempt left before this link is disabled.',
    ]);
    const third = await submit(running.url, member.token, { pin: '3579', ip });
    expect(third.status).toBe(403);
    expectPageHeaders(third.headers);
    expect(heading(third.html)).toBe('This link has been disabled');
    expect(third.html).toContain('The PIN was entered wrongly 3 times');
    expect(third.html).toContain('To get a new link, write to <a href="mailto:help@kaizen.test">');

    // Dead now, even with the right PIN.
    const after = await submit(running.url, member.token, {
      pin: PIN,
      password: strongPassword(),
      ip,
      csrf: 'x',
      cookie: 'kaizen-csrf=x',
    });
    expect(after.status).toBe(404);

    const expected = `🔒 ${member.user.name} was locked out of their password link after 3 wrong PINs; use /kaizen reset ${member.user.name} to send a new one`;
    const notice = await slack.waitFor(
      (calls) => calls.find((call) => call.method === 'chat.postMessage' && call.args.text === expected),
      10_000,
      'the lockout notice',
    );
    expect(notice.args.channel).toBe(TEST_ADMIN_CHANNEL);
    const line = await eventually(
      async () =>
        (await running.bot.services.audit.read({ subject: member.user.name })).find(
          (entry) => entry.action === 'setpass.lockout',
        ),
      'audit line',
    );
    expect(line).toMatchObject({
      outcome: 'denied',
      detail: `password link disabled after 3 wrong PINs (from ${ip})`,
    });
    expect(await setpass.status(member.user.id)).toEqual({
      live: false,
      lockedOut: { attempts: 3, at: expect.any(Date) },
    });
  });

  it('changes the password once when two tabs submit at the same moment', async () => {
    const member = await memberWithLink();
    const ip = freshIp();
    const [a, b] = await Promise.all([
      openLink(running.url, member.token, ip),
      openLink(running.url, member.token, ip),
    ]);
    const passwords = [strongPassword(), strongPassword()];
    const answers = await Promise.all(
      [a, b].map((tab, i) =>
        submit(running.url, member.token, {
          pin: PIN,
          password: passwords[i],
          csrf: tab.csrf,
          cookie: tab.cookie,
          ip,
        }),
      ),
    );
    expect(answers.map((answer) => answer.status).sort()).toEqual([200, 404]);
    const winner = answers.findIndex((answer) => answer.status === 200);
    await afterRevocationTick();
    expect(await passwordWorks(keystone, member.user.id, passwords[winner]!)).toBe(true);
    expect(await passwordWorks(keystone, member.user.id, passwords[1 - winner]!)).toBe(false);
  });

  it('keeps the per-user budget of wrong PINs across renewed links', async () => {
    // The default budget is three links' worth: 9 wrong PINs a day for SETPASS_MAX_PIN_ATTEMPTS=3.
    const member = await newMember(keystone);
    const user = { userId: member.user.id, username: member.user.name };
    let link = await setpass.issue(user, setpass.hashPin(PIN));
    let wrong = 0;
    for (let renewal = 0; renewal < 4; renewal++) {
      for (let i = 0; i < 2; i++) {
        const answer = await submit(running.url, tokenOf(link.url), { pin: '0000', ip: freshIp() });
        expect(answer.status).toBe(400);
        wrong += 1;
      }
      link = await setpass.issue(user, undefined);
    }
    expect(wrong).toBe(8);
    expect((await submit(running.url, tokenOf(link.url), { pin: '0000', ip: freshIp() })).status).toBe(400);

    // Budget spent: even the right PIN on a fresh link from a fresh address waits.
    const blocked = await submit(running.url, tokenOf(link.url), {
      pin: PIN,
      password: strongPassword(),
      ip: freshIp(),
    });
    expect(blocked.status).toBe(429);
    expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThan(3600);
    expect(heading(blocked.html)).toBe('Too many attempts');
    expect(blocked.html).toMatch(/Try again in \d+ hours/);
  });

  it('keeps a budget per client address across links, and other addresses are not affected', async () => {
    const ip = freshIp();
    const member = await memberWithLink();
    // Opening a dead link costs nothing; submitting one (with a valid anti-forgery pair) does.
    const { csrf, cookie } = await openLink(running.url, member.token, ip);
    const answers = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        submit(running.url, `${'B'.repeat(40)}${String(i).padStart(3, '0')}`, { pin: PIN, csrf, cookie, ip }),
      ),
    );
    expect(answers.map((answer) => answer.status)).toEqual(Array(30).fill(404));
    const blocked = await openLink(running.url, member.token, ip);
    expect(blocked.status).toBe(429);
    expect(heading(blocked.html)).toBe('Too many attempts');
    expect((await openLink(running.url, member.token, freshIp())).status).toBe(200);
  });

  it('treats a record altered in Redis as a dead link, and keeps serving', async () => {
    const member = await memberWithLink();
    const crypto = new SetpassCrypto(running.bot.services.config.setpass.secret!);
    const key = keys.setpassToken(crypto.tokenHmac(member.token));
    const redis = running.bot.services.redis;
    const sealed = (await redis.hget(key, 'pw'))!;
    const bytes = Buffer.from(sealed.slice(3), 'base64url');
    bytes[bytes.length - 1] = (bytes[bytes.length - 1] ?? 0) ^ 0x80;
    await redis.hset(key, 'pw', `v1.${bytes.toString('base64url')}`);

    const ip = freshIp();
    expect((await openLink(running.url, member.token, ip)).status).toBe(404);
    const posted = await submit(running.url, member.token, {
      pin: PIN,
      password: strongPassword(),
      ip,
      csrf: 'y',
      cookie: 'kaizen-csrf=y',
    });
    expect(posted.status).toBe(404);
    expect((await fetch(`${running.url}/healthz`)).status).toBe(200);
  });

  it('refuses a post without the anti-forgery cookie or with another value, keeping the link', async () => {
    const member = await memberWithLink();
    const ip = freshIp();
    const opened = await openLink(running.url, member.token, ip);
    const withoutCookie = await submit(running.url, member.token, {
      pin: PIN,
      password: strongPassword(),
      csrf: opened.csrf,
      cookie: '',
      ip,
    });
    expect(withoutCookie.status).toBe(403);
    expect(alerts(withoutCookie.html)[0]).toMatch(/^This page had expired or your browser did not send back/);
    const mismatched = await submit(running.url, member.token, {
      pin: PIN,
      password: strongPassword(),
      csrf: `${opened.csrf}x`,
      cookie: opened.cookie,
      ip,
    });
    expect(mismatched.status).toBe(403);
    expect(await setpass.status(member.user.id)).toMatchObject({ live: true });
    expect(
      (await submit(running.url, member.token, { pin: PIN, password: strongPassword(), ip })).status,
    ).toBe(200);
  });

  it('accepts only a form body of reasonable size', async () => {
    const json = await post(running.url, JSON.stringify({ token: 'x' }), {
      'content-type': 'application/json',
    });
    expect(json.status).toBe(415);
    expectPageHeaders(json.headers);
    const multipart = await post(running.url, 'x', { 'content-type': 'multipart/form-data; boundary=x' });
    expect(multipart.status).toBe(415);
    const huge = await post(running.url, `token=${'a'.repeat(1024 * 1024)}`, {
      'content-type': 'application/x-www-form-urlencoded',
    });
    expect(huge.status).toBe(413);
    expect(heading(huge.html)).toBe('That was too much to send');
  });

  it('says the link no longer fits when the temporary password was changed in Keystone meanwhile', async () => {
    const member = await memberWithLink();
    await keystone.setUserPassword(member.user.id, strongPassword());
    const answer = await submit(running.url, member.token, {
      pin: PIN,
      password: strongPassword(),
      ip: freshIp(),
    });
    expect(answer.status).toBe(409);
    expect(heading(answer.html)).toBe('This link does not match your account any more');
    expect((await openLink(running.url, member.token)).status).toBe(404);
    expect(await setpass.status(member.user.id)).toEqual({ live: false });
  });

  it('keeps the link when Keystone cannot be reached, so the user can simply try again', async () => {
    const member = await memberWithLink();
    // A public setpass host sharing this Redis and secret, whose Keystone is down.
    let outage: RunningKaizen | undefined;
    try {
      outage = await startKaizen(
        loadConfig({
          KAIZEN_ROLE: 'setpass',
          PORT: '0',
          HOST: '127.0.0.1',
          REDIS_URL: env.REDIS_URL,
          REDIS_KEY_PREFIX: env.REDIS_KEY_PREFIX,
          SETPASS_SECRET: env.SETPASS_SECRET,
          PUBLIC_URL,
          OS_AUTH_URL: 'http://127.0.0.1:9/v3',
        }),
        { log: createLogger({ level: 'silent', pretty: false }) },
      );
      const ip = freshIp();
      const answer = await submit(outage.url, member.token, { pin: PIN, password: strongPassword(), ip });
      expect(answer.status).toBe(503);
      expect(heading(answer.html)).toBe('Please try again in a few minutes');
      expect(answer.html).toContain('Your link still works');
    } finally {
      await outage?.stop();
    }
    const password = strongPassword();
    expect((await submit(running.url, member.token, { pin: PIN, password, ip: freshIp() })).status).toBe(200);
    await afterRevocationTick();
    expect(await passwordWorks(keystone, member.user.id, password)).toBe(true);
  });
});
