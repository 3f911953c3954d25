import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { copyFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { testEnv } from '../support/bot.js';

const TSX = 'node_modules/.bin/tsx';

function run(
  env: Record<string, string | undefined>,
  cwd = process.cwd(),
): { child: ChildProcess; output: () => string } {
  const chunks: string[] = [];
  // Only the given settings: the test machine's own environment must not leak into the bot.
  const child = spawn(resolve(TSX), [resolve('src/app/main.ts')], {
    cwd,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.on('data', (chunk) => chunks.push(String(chunk)));
  child.stderr?.on('data', (chunk) => chunks.push(String(chunk)));
  return { child, output: () => chunks.join('') };
}

async function exitCode(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null) return child.exitCode;
  const [code] = (await once(child, 'exit')) as [number | null];
  return code;
}

describe('npm start (src/app/main.ts)', () => {
  it('explains what to set and exits non-zero when nothing is configured', async () => {
    const { child, output } = run({});
    expect(await exitCode(child)).toBe(1);
    expect(output()).toContain('Nothing to run');
    expect(output()).toContain('SLACK_BOT_TOKEN');
    expect(output()).toContain('README.md');
  });

  it('starts from a copied .env.example with the clear message, not a bot that serves nothing', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kaizen-env-example-'));
    try {
      await copyFile('.env.example', join(dir, '.env'));
      const { child, output } = run({}, dir);
      expect(await exitCode(child)).toBe(1);
      expect(output()).toContain('Nothing to run');
      expect(output()).toContain('kaizen init');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('counts mail, Sheets or Keystone alone as nothing to run: they serve no one by themselves', async () => {
    const { child, output } = run({
      SMTP_URL: 'smtp://127.0.0.1:2525',
      MAIL_FROM: 'Kaizen <noreply@kaizen.test>',
      OS_AUTH_URL: 'http://127.0.0.1:9/v3',
      OS_USERNAME: 'admin',
      OS_PASSWORD: 'not-used',
    });
    expect(await exitCode(child)).toBe(1);
    expect(output()).toContain('Nothing to run');
  });

  it('names each wrong setting and exits 2', async () => {
    const { child, output } = run({ SETPASS_MAX_PIN_ATTEMPTS: 'abc', PORT: '-1' });
    expect(await exitCode(child)).toBe(2);
    expect(output()).toContain('SETPASS_MAX_PIN_ATTEMPTS');
    expect(output()).toContain('PORT');
    expect(output()).not.toMatch(/\n\s+at /);
  });

  it('serves, then stops cleanly on SIGTERM', async () => {
    const env = testEnv({ LOG_LEVEL: 'info', SLACK_API_URL: 'http://127.0.0.1:9/api/' });
    const { child, output } = run(env as Record<string, string>);
    await expect.poll(() => /"port":(\d+)/.exec(output())?.[1], { timeout: 20_000 }).toBeTruthy();
    const port = /"port":(\d+)/.exec(output())![1];
    const health = await fetch(`http://127.0.0.1:${port}/healthz`);
    expect(health.status).toBe(200);
    child.kill('SIGTERM');
    const code = await exitCode(child);
    if (code !== 0) console.log(output());
    expect(code).toBe(0);
    expect(output()).toContain('shutting down');
    expect(output()).not.toContain(env.SLACK_SIGNING_SECRET!);
  });
});
