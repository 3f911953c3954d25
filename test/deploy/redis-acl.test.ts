/**
 * deploy/redis/users.acl, loaded by a redis-server of the test's own: the public setpass role,
 * signed in as its own Redis user, carries a password change end to end (link, wrong PIN, right
 * PIN, events to the bot, PUT /token with its audit line), yet cannot read or write anything of
 * the bot's: an `app:` key, the streams it appends to, or the keyspace as a whole.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type RunningKaizen, startKaizen } from '../../src/app/start.js';
import type { KeystoneClient } from '../../src/keystone/index.js';
import { loadConfig } from '../../src/platform/config/config.js';
import { keys } from '../../src/platform/keys.js';
import {
  askForgot,
  openLink,
  passwordWorks,
  strongPassword,
  submit,
  tokenOf,
} from '../domain/setpass/helpers.js';
import { adminClient, afterRevocationTick, newMember } from '../keystone/fixtures.js';
import { keystoneEnv, startTestBot, TEST_ADMIN_CHANNEL, type TestBot, testEnv } from '../support/bot.js';
import { type CapturedLog, captureLogs } from '../support/log-capture.js';
import { PrivateRedis, startRedis } from '../support/redis-server.js';
import { type SlackFake, startSlackFake } from '../support/slack-fake.js';

const PREFIX = 'kaizen:';
const PIN = '4821';
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

describe('the Redis ACL of the deployment guide', () => {
  const botPassword = randomBytes(24).toString('base64url');
  const pagePassword = randomBytes(24).toString('base64url');
  const secret = randomBytes(32).toString('base64');
  let dir: string;
  let shipped: string;
  let redis: PrivateRedis;
  let slack: SlackFake;
  let bot: TestBot;
  let page: RunningKaizen;
  let pageLog: CapturedLog;
  let asPage: Redis;
  let asBot: Redis;
  let keystone: KeystoneClient;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kaizen-acl-'));
    shipped = await readFile('deploy/redis/users.acl', 'utf8');
    const filled = shipped
      .replace('#REPLACE-WITH-SHA256-OF-THE-BOT-PASSWORD', `#${sha256(botPassword)}`)
      .replace('#REPLACE-WITH-SHA256-OF-THE-SETPASS-PASSWORD', `#${sha256(pagePassword)}`);
    await writeFile(join(dir, 'users.acl'), filled);
    redis = await PrivateRedis.start(['--aclfile', join(dir, 'users.acl')]);
    const botUrl = `redis://:${botPassword}@127.0.0.1:${redis.port}`;
    const pageUrl = `redis://kaizen-setpass:${pagePassword}@127.0.0.1:${redis.port}`;

    slack = await startSlackFake();
    const shared = {
      REDIS_KEY_PREFIX: PREFIX,
      SETPASS_SECRET: secret,
      PUBLIC_URL: 'https://register.kaizen.test',
    };
    bot = await startTestBot(
      testEnv({
        ...shared,
        ...keystoneEnv(inject('keystone')),
        KAIZEN_ROLE: 'bot',
        REDIS_URL: botUrl,
        SLACK_API_URL: `${slack.url}/api/`,
      }),
    );
    pageLog = captureLogs('warn');
    page = await startKaizen(
      loadConfig({
        ...shared,
        KAIZEN_ROLE: 'setpass',
        PORT: '0',
        HOST: '127.0.0.1',
        REDIS_URL: pageUrl,
        OS_AUTH_URL: inject('keystone').authUrl,
        TRUSTED_PROXIES: '127.0.0.1',
        METRICS_PORT: '0',
        METRICS_HOST: '127.0.0.1',
      }),
      { log: pageLog.log },
    );
    asPage = new Redis(pageUrl, { maxRetriesPerRequest: 0 });
    asBot = new Redis(botUrl, { maxRetriesPerRequest: 0 });
    keystone = adminClient();
  });
  afterAll(async () => {
    asPage?.disconnect();
    asBot?.disconnect();
    await page?.stop();
    await bot?.stop();
    await slack?.close();
    await redis?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('as shipped, with its placeholders, keeps Redis from starting', async () => {
    await writeFile(join(dir, 'shipped.acl'), shipped);
    await expect(
      startRedis(['--port', '0', '--save', '', '--aclfile', join(dir, 'shipped.acl')], /Ready to accept/),
    ).rejects.toThrow(/exited/);
  });

  it('is what the guide tells to type as ACL SETUSER', async () => {
    const rules = (text: string, head: RegExp) =>
      text
        .split('\n')
        .find((line) => head.test(line))
        ?.replace(head, '');
    const guide = await readFile('deploy/README.md', 'utf8');
    const typed = rules(guide, /^ACL SETUSER kaizen-setpass on >\S+ /);
    expect(typed).toBeTruthy();
    expect(typed).toBe(rules(shipped, /^user kaizen-setpass on #\S+ /));
  });

  it('lets the setpass role set a password through the page, with its events reaching the bot', async () => {
    const member = await newMember(keystone);
    const link = await bot.bot.services.setpass!.issue(
      { userId: member.user.id, username: member.user.name },
      bot.bot.services.setpass!.hashPin(PIN),
    );
    const token = tokenOf(link.url);
    const ip = '203.0.113.80';
    expect((await openLink(page.url, token, ip)).status).toBe(200);
    expect((await submit(page.url, token, { pin: '0000', password: strongPassword(), ip })).status).toBe(400);
    const password = strongPassword();
    const done = await submit(page.url, token, { pin: PIN, password, ip });
    expect(done.status).toBe(200);
    await afterRevocationTick();
    expect(await passwordWorks(keystone, member.user.id, password)).toBe(true);
    await slack.waitFor(
      () => slack.messages(TEST_ADMIN_CHANNEL).some((message) => message.text?.includes(member.user.name)),
      10_000,
      'the password-changed notice from the events stream',
    );
    expect((await fetch(`${page.url}/healthz`)).status).toBe(200);
    // Its metrics, read from Redis as the setpass user, on the loopback metrics listener only.
    expect((await fetch(`${page.url}/metrics`)).status).toBe(404);
    expect((await fetch(`http://127.0.0.1:${page.metricsPort}/metrics`)).status).toBe(200);
    expect(pageLog.text()).not.toMatch(/NOPERM|no permissions/i);
  });

  it('lets the setpass role take a /forgot request and put it on the events stream', async () => {
    const member = await newMember(keystone);
    await bot.bot.services.setpass!.issue(
      { userId: member.user.id, username: member.user.name },
      bot.bot.services.setpass!.hashPin(PIN),
    );
    const answer = await askForgot(page.url, { name: member.user.name, pin: PIN, ip: '203.0.113.81' });
    expect(answer.status).toBe(200);
    const entries = await asBot.xrange(`${PREFIX}${keys.events()}`, '-', '+');
    const asked = entries.filter(
      ([, fields]) => fields.includes('forgot_requested') && fields.includes(member.user.id),
    );
    expect(asked).toHaveLength(1);
    expect(pageLog.text()).not.toMatch(/NOPERM|no permissions/i);
  });

  it('lets the setpass role answer PUT /token, which appends to the audit stream', async () => {
    const member = await newMember(keystone);
    const ks = inject('keystone');
    const admin = await keystone.passwordLogin({
      username: ks.username,
      userDomainName: ks.userDomainName,
      password: ks.password,
      scope: 'unscoped',
    });
    const answer = await fetch(`${page.url}/token/${member.user.id}`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json', 'x-auth-token': admin.token },
      body: JSON.stringify({ password: member.password, pin: '1234' }),
    });
    expect(answer.status).toBe(200);
    const audit = await bot.bot.services.audit.read({ subject: member.user.id });
    expect(audit.map((entry) => entry.action)).toContain('setpass.token_issued');
  });

  it("refuses the setpass user every key of the bot's, and reading or trimming the streams", async () => {
    const appKey = `${PREFIX}${keys.application('acl-probe')}`;
    await asBot.set(appKey, 'the bot wrote this');
    const refused = [
      () => asPage.set(appKey, 'the page wrote this'),
      () => asPage.set(`${PREFIX}app:{app}:new-one`, 'x'),
      () => asPage.get(appKey),
      () => asPage.del(`${PREFIX}${keys.applicationIndex()}`),
      () => asPage.hset(`${PREFIX}${keys.mailMessage('m1')}`, 'body', 'x'),
      () => asPage.set(`${PREFIX}${keys.sheetSeen('row')}`, '1'),
      () => asPage.xrange(`${PREFIX}${keys.events()}`, '-', '+'),
      () => asPage.xtrim(`${PREFIX}${keys.audit()}`, 'MAXLEN', 0),
      () => asPage.del(`${PREFIX}${keys.audit()}`),
      () => asPage.set('app:{app}:unprefixed', 'x'),
      () => asPage.eval("return redis.call('SET', KEYS[1], 'x')", 1, appKey),
      () => asPage.keys('*'),
      () => asPage.flushall(),
      () => asPage.config('GET', 'requirepass'),
    ];
    for (const attempt of refused) await expect(attempt()).rejects.toThrow(/NOPERM/);
    expect(await asBot.get(appKey)).toBe('the bot wrote this');
    // Its own keys it may use.
    const own = `${PREFIX}${keys.setpassDone('acl-probe')}`;
    await asPage.set(own, '1');
    expect(await asPage.get(own)).toBe('1');
  });
});
