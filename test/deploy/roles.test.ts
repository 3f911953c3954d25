/**
 * KAIZEN_ROLE: the public `setpass` role runs with only its own settings, refuses admin secrets,
 * and serves no Slack endpoint; the `bot` role serves no password page.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type RunningKaizen, startKaizen } from '../../src/app.js';
import { type CliIo, runCli } from '../../src/cli.js';
import { type Env, loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/log.js';
import { keystoneEnv, startTestBot, type TestBot, testEnv, uniquePrefix } from '../support/bot.js';
import { type SlackFake, startSlackFake } from '../support/slack-fake.js';

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
  const child: ChildProcess = spawn('node_modules/.bin/tsx', ['src/main.ts'], {
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
    expect(await health.json()).toEqual({ status: 'ok', checks: { redis: 'ok', keystone: 'ok' } });
    expect((await fetch(`${page.url}/metrics`)).status).toBe(200);
  });

  it('bot: no password page and no PUT /token', async () => {
    expect((await fetch(`${bot.url}/?token=${'a'.repeat(43)}`)).status).toBe(404);
    const put = await fetch(`${bot.url}/token/some-user`, { method: 'PUT', body: '{}' });
    expect(put.status).toBe(404);
    expect((await fetch(`${bot.url}/healthz`)).status).toBe(200);
  });
});
