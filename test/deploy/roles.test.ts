/**
 * KAIZEN_ROLE: the public `setpass` role runs with only its own settings, refuses admin secrets,
 * serves no Slack endpoint, yet carries the whole password flow against the real Keystone; its
 * events reach Slack through the `bot` role, once however many bot replicas run. The `bot` role
 * serves no password page. Every Redis command of these flows is checked for Cluster safety.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type CliIo, runCli } from '../../src/app/cli.js';
import { type RunningKaizen, startKaizen } from '../../src/app/start.js';
import type { KeystoneClient } from '../../src/keystone/index.js';
import { type Env, loadConfig } from '../../src/platform/config/config.js';
import { keys } from '../../src/platform/keys.js';
import { createLogger } from '../../src/platform/log.js';
import { VERSION } from '../../src/platform/version.js';
import { openLink, passwordWorks, strongPassword, submit, tokenOf } from '../domain/setpass/helpers.js';
import { adminClient, afterRevocationTick, newMember } from '../keystone/fixtures.js';
import {
  keystoneEnv,
  startTestBot,
  TEST_ADMIN_CHANNEL,
  type TestBot,
  testEnv,
  uniquePrefix,
} from '../support/bot.js';
import { type SlackFake, startSlackFake } from '../support/slack-fake.js';
import { type RedisRecorder, recordRedisKeys } from './redis-recorder.js';

const silent = createLogger({ level: 'silent', pretty: false });

/** Exactly what the setpass role needs, and nothing else. */
function setpassEnv(overrides: Env = {}): Env {
  return {
    KAIZEN_ROLE: 'setpass',
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'silent',
    REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
    REDIS_KEY_PREFIX: uniquePrefix('setpass-role'),
    SETPASS_SECRET: randomBytes(32).toString('base64'),
    PUBLIC_URL: 'https://register.example.org',
    OS_AUTH_URL: inject('keystone').authUrl,
    ...overrides,
  };
}

/** `npm start` as a child process with only `env` (the test machine's own environment kept out). */
async function startProcess(env: Env): Promise<{ code: number | null; output: string }> {
  const child: ChildProcess = spawn('node_modules/.bin/tsx', ['src/app/main.ts'], {
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const chunks: string[] = [];
  child.stdout?.on('data', (chunk) => chunks.push(String(chunk)));
  child.stderr?.on('data', (chunk) => chunks.push(String(chunk)));
  const [code] = (await once(child, 'exit')) as [number | null];
  return { code, output: chunks.join('') };
}

describe('the setpass role refuses what it must not hold', () => {
  it('stops with a message naming OS_PASSWORD, and a non-zero exit, when an admin password is set', async () => {
    const password = `admin-${randomBytes(6).toString('hex')}`;
    const { code, output } = await startProcess(setpassEnv({ OS_USERNAME: 'admin', OS_PASSWORD: password }));
    expect(code).toBe(2);
    expect(output).toContain(
      'OS_PASSWORD: must not be set when KAIZEN_ROLE=setpass; the public password page holds no admin credentials or Slack tokens',
    );
    expect(output).toContain('OS_USERNAME: must not be set');
    expect(output).not.toContain(password);
    expect(output).not.toMatch(/\n\s+at /);
  });

  it('stops on an http:// PUBLIC_URL in production', async () => {
    const { code, output } = await startProcess(
      setpassEnv({ NODE_ENV: 'production', PUBLIC_URL: 'http://register.example.org' }),
    );
    expect(code).toBe(2);
    expect(output).toContain('PUBLIC_URL: must be https:// in production');
  });
});

describe('kaizen doctor in the setpass role', () => {
  it('checks only Redis, Keystone reachability and the password-page settings', async () => {
    const lines: string[] = [];
    const io: CliIo = { out: (text) => lines.push(text), err: (text) => lines.push(text) };
    const code = await runCli(['doctor', '--json'], setpassEnv(), io);
    const report = JSON.parse(lines.join('\n')) as { name: string; status: string; detail: string }[];
    expect(code).toBe(0);
    expect(report.map((line) => [line.name, line.status])).toEqual([
      ['redis', 'ok'],
      ['setpass', 'ok'],
    ]);
    expect(report[1]?.detail).toContain('Keystone answers');
  });
});

describe('routes per role', () => {
  let slack: SlackFake;
  let page: RunningKaizen;
  let bot: TestBot;

  beforeAll(async () => {
    slack = await startSlackFake();
    page = await startKaizen(loadConfig(setpassEnv()), { log: silent });
    bot = await startTestBot(
      testEnv({ KAIZEN_ROLE: 'bot', SLACK_API_URL: `${slack.url}/api/`, ...keystoneEnv(inject('keystone')) }),
    );
  });
  afterAll(async () => {
    await page?.stop();
    await bot?.stop();
    await slack?.close();
  });

  it('setpass: no Slack endpoint, no Slack client, health with Redis and Keystone', async () => {
    expect(page.slack).toBeUndefined();
    expect((await fetch(`${page.url}/slack/events`, { method: 'POST', body: '{}' })).status).toBe(404);
    const health = await fetch(`${page.url}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({
      status: 'ok',
      checks: { redis: 'ok', keystone: 'ok' },
      version: VERSION,
    });
    // The public listener of the setpass role never serves /metrics; without METRICS_PORT nothing does.
    expect((await fetch(`${page.url}/metrics`)).status).toBe(404);
    expect(page.metricsPort).toBeUndefined();
  });

  it('setpass with METRICS_PORT: /metrics on that loopback listener only, never on the public one', async () => {
    const withMetrics = await startKaizen(loadConfig(setpassEnv({ METRICS_PORT: '0' })), { log: silent });
    try {
      expect(withMetrics.metricsPort).toBeGreaterThan(0);
      const scraped = await fetch(`http://127.0.0.1:${withMetrics.metricsPort}/metrics`);
      expect(scraped.status).toBe(200);
      const text = await scraped.text();
      expect(text).toContain('# TYPE kaizen_build_info gauge');
      expect(text).toMatch(/kaizen_build_info\{version="[^"]+",node="v[\d.]+",role="setpass"\} 1/);
      expect(text).toContain('kaizen_dependency_up{dependency="redis"} 1');
      expect((await fetch(`${withMetrics.url}/metrics`)).status).toBe(404);
      // Only /metrics is served there: the page and the API stay on the public listener.
      expect((await fetch(`http://127.0.0.1:${withMetrics.metricsPort}/`)).status).toBe(404);
    } finally {
      await withMetrics.stop();
    }
  });

  it('bot: /metrics on the main listener', async () => {
    const scraped = await fetch(`${bot.url}/metrics`);
    expect(scraped.status).toBe(200);
    expect(await scraped.text()).toContain('kaizen_build_info{');
  });

  it('bot: no password page, no assets and no PUT /token (the setpass role has them)', async () => {
    for (const path of ['/', '/assets/setpass.css']) {
      const onBot = await fetch(`${bot.url}${path}`);
      expect(onBot.status, path).toBe(404);
      expect(await onBot.text(), path).toBe('Not found\n');
      const onPage = await fetch(`${page.url}${path}`);
      expect(onPage.status, path).toBe(200);
      await onPage.arrayBuffer();
    }
    const put = (base: string) => fetch(`${base}/token/some-user`, { method: 'PUT', body: '{}' });
    expect((await put(bot.url)).status).toBe(404);
    expect((await put(page.url)).status).toBe(401);
    expect((await fetch(`${bot.url}/healthz`)).status).toBe(200);
  });
});

describe('the setpass role on its own host, two bot replicas on the same Redis', () => {
  const PIN = '4821';
  const PUBLIC_URL = 'https://register.kaizen.test';
  const prefix = uniquePrefix('split');
  const secret = randomBytes(32).toString('base64');
  let recorder: RedisRecorder;
  let slack: SlackFake;
  let page: RunningKaizen;
  let bots: TestBot[];
  let keystone: KeystoneClient;
  let inspector: Redis;
  let ipCount = 0;
  /** An address of its own per test, as a proxy would forward it: failure budgets are per address. */
  const freshIp = () => `203.0.113.${++ipCount}`;

  beforeAll(async () => {
    recorder = recordRedisKeys();
    slack = await startSlackFake();
    const shared = { REDIS_KEY_PREFIX: prefix, SETPASS_SECRET: secret, PUBLIC_URL };
    page = await startKaizen(loadConfig(setpassEnv({ ...shared, TRUSTED_PROXIES: '127.0.0.1' })), {
      log: silent,
    });
    const botEnv = () =>
      testEnv({
        ...shared,
        ...keystoneEnv(inject('keystone')),
        KAIZEN_ROLE: 'bot',
        SLACK_API_URL: `${slack.url}/api/`,
      });
    bots = [await startTestBot(botEnv()), await startTestBot(botEnv())];
    keystone = adminClient();
    inspector = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', { keyPrefix: prefix });
  });
  afterAll(async () => {
    recorder?.stop();
    await page?.stop();
    for (const bot of bots ?? []) await bot.stop();
    await slack?.close();
    inspector?.disconnect();
  });

  /** A Keystone member with a link issued by the bot side (which sets the temporary password). */
  async function memberWithLink() {
    const member = await newMember(keystone);
    const link = await bots[0]!.bot.services.setpass!.issue(
      { userId: member.user.id, username: member.user.name },
      bots[0]!.bot.services.setpass!.hashPin(PIN),
    );
    return { ...member, link, token: tokenOf(link.url) };
  }

  const noticesAbout = (username: string) =>
    slack.messages(TEST_ADMIN_CHANNEL).filter((message) => message.text?.includes(username));

  /** Resolves once every event on the stream has been acknowledged by the bots' consumer group. */
  async function eventsSettled(): Promise<void> {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const [last] = (await inspector.xrevrange(keys.events(), '+', '-', 'COUNT', 1)) as [string, string[]][];
      const groups = (await inspector.xinfo('GROUPS', `${prefix}${keys.events()}`)) as unknown[][];
      const group = groups.map((flat) => new Map(chunk(flat))).find((g) => g.get('name') === 'kaizen-bot');
      if (last && group && group.get('last-delivered-id') === last[0] && group.get('pending') === 0) return;
      if (Date.now() > deadline)
        throw new Error('the bots did not acknowledge the password-page events in 10 s');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  it('serves the whole page flow with only its own settings: the password changes in Keystone', async () => {
    const member = await memberWithLink();
    expect(member.link.url.startsWith(`${PUBLIC_URL}/?token=`)).toBe(true);
    const ip = freshIp();
    const opened = await openLink(page.url, member.token, ip);
    expect(opened.status).toBe(200);
    expect(opened.csrf).toBeTruthy();

    const password = strongPassword();
    const answer = await submit(page.url, member.token, { pin: PIN, password, ip });
    expect(answer.status).toBe(200);
    expect(answer.html).toContain('Your password is set');
    await afterRevocationTick();
    expect(await passwordWorks(keystone, member.user.id, password)).toBe(true);
    expect(await passwordWorks(keystone, member.user.id, member.password)).toBe(false);

    // The bot side hears of it through the stream.
    await slack.waitFor(
      () => noticesAbout(member.user.name).length > 0,
      10_000,
      'the password-changed notice',
    );
    expect((await openLink(page.url, member.token, ip)).status).toBe(404);
  });

  it('answers PUT /token for an admin token scoped by itself, and refuses others', async () => {
    const member = await newMember(keystone);
    const ks = inject('keystone');
    const admin = await keystone.passwordLogin({
      username: ks.username,
      userDomainName: ks.userDomainName,
      password: ks.password,
      scope: 'unscoped',
    });
    const put = (token: string | undefined) =>
      fetch(`${page.url}/token/${member.user.id}`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json', ...(token ? { 'x-auth-token': token } : {}) },
        body: JSON.stringify({ password: member.password, pin: '1234' }),
      });

    const answer = await put(admin.token);
    expect(answer.status).toBe(200);
    expect(answer.headers.get('content-type')).toMatch(/^text\/plain/);
    const token = await answer.text();
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect((await openLink(page.url, token, freshIp())).status).toBe(200);

    expect((await put(undefined)).status).toBe(401);
    const own = await keystone.passwordLogin({
      userId: member.user.id,
      password: member.password,
      scope: 'unscoped',
    });
    expect((await put(own.token)).status).toBe(403);
  });

  it('reports a lockout that reaches Slack and the audit once, with two bot replicas consuming', async () => {
    const member = await memberWithLink();
    const ip = freshIp();
    for (const pin of ['0000', '1111']) {
      expect((await submit(page.url, member.token, { pin, password: strongPassword(), ip })).status).toBe(
        400,
      );
    }
    const locked = await submit(page.url, member.token, { pin: '2222', password: strongPassword(), ip });
    expect(locked.status).toBe(403);
    expect(locked.html).toContain('This link has been disabled');

    await slack.waitFor(
      () => noticesAbout(member.user.name).some((message) => message.text?.includes('locked out')),
      10_000,
      'the lockout notice',
    );
    await eventsSettled();
    expect(noticesAbout(member.user.name)).toHaveLength(1);
    expect(noticesAbout(member.user.name)[0]?.text).toContain('/kaizen reset');
    const audit = await bots[1]!.bot.services.audit.read({ subject: member.user.name });
    expect(audit.filter((entry) => entry.action === 'setpass.lockout')).toHaveLength(1);
  });

  it('sent only Redis commands, scripts, pipelines and transactions whose keys share one slot', () => {
    const kinds = new Set(recorder.batches.flatMap((batch) => batch.commands));
    for (const command of ['eval', 'xadd', 'xreadgroup', 'xack']) expect(kinds, command).toContain(command);
    const crossing = recorder
      .crossSlot()
      .map((batch) => `${batch.site ?? 'unknown'}: ${batch.commands.join(',')} ${batch.keys.join(' ')}`);
    expect(crossing).toEqual([]);
  });
});

/** [k1, v1, k2, v2] → [[k1, v1], [k2, v2]]. */
function chunk(flat: unknown[]): [unknown, unknown][] {
  const pairs: [unknown, unknown][] = [];
  for (let i = 0; i + 1 < flat.length; i += 2) pairs.push([flat[i], flat[i + 1]]);
  return pairs;
}
