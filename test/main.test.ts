import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { testEnv } from './support/bot.js';

const TSX = 'node_modules/.bin/tsx';

function run(env: Record<string, string | undefined>): { child: ChildProcess; output: () => string } {
  const chunks: string[] = [];
  // Only the given settings: the test machine's own environment must not leak into the bot.
  const child = spawn(TSX, ['src/main.ts'], {
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

describe('npm start (src/main.ts)', () => {
  it('explains what to set and exits non-zero when nothing is configured', async () => {
    const { child, output } = run({});
    expect(await exitCode(child)).toBe(1);
    expect(output()).toContain('Nothing to run');
    expect(output()).toContain('SLACK_BOT_TOKEN');
    expect(output()).toContain('README.md');
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
