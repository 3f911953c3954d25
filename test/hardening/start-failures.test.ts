/**
 * A start that fails ends the process at once, non-zero, with one line that says why: under a
 * supervisor a process that prints an error and lingers looks healthy and is never restarted.
 * Each case runs `npm run dev`'s entry point as a child process with only its own settings.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Env } from '../../src/platform/config/config.js';
import { keystoneEnv, testEnv } from '../support/bot.js';

/**
 * How long a failing start may take: tsx compiling the bot (seconds, many more on a busy two-core
 * machine running the rest of the suite), plus Redis's connect timeout (5 s) when Redis is slow. A
 * process that stays up this long has hung: a failed start used to keep running for good.
 */
const EXIT_WITHIN_MS = 45_000;

const children: ChildProcess[] = [];
let taken: Server;
let takenPort: number;
const dir = mkdtempSync(join(tmpdir(), 'kaizen-start-'));

beforeAll(async () => {
  taken = createServer();
  await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
  takenPort = (taken.address() as { port: number }).port;
});

afterAll(async () => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  await new Promise((resolve) => taken.close(resolve));
});

/** Starts the bot; resolves with its exit code and output, or with `code: 'running'` when it is still up after the deadline. */
async function start(env: Env): Promise<{ code: number | 'running'; output: string }> {
  const child = spawn('node_modules/.bin/tsx', ['src/app/main.ts'], {
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  const chunks: string[] = [];
  child.stdout?.on('data', (chunk) => chunks.push(String(chunk)));
  child.stderr?.on('data', (chunk) => chunks.push(String(chunk)));
  let timer: NodeJS.Timeout | undefined;
  const code = await Promise.race([
    once(child, 'exit').then(([exitCode]) => exitCode as number),
    new Promise<'running'>((resolve) => {
      timer = setTimeout(() => resolve('running'), EXIT_WITHIN_MS);
    }),
  ]);
  clearTimeout(timer);
  return { code, output: chunks.join('') };
}

function botEnv(overrides: Env): Env {
  return testEnv({
    ...keystoneEnv(inject('keystone')),
    SLACK_API_URL: 'http://127.0.0.1:9/api/',
    PUBLIC_URL: 'https://register.kaizen.test',
    ...overrides,
  });
}

describe.concurrent('a start that fails', { timeout: EXIT_WITHIN_MS + 15_000 }, () => {
  it('exits 1 with one line naming the port when the port is taken', async () => {
    const { code, output } = await start(botEnv({ PORT: String(takenPort) }));
    expect(code, output).toBe(1);
    expect(output).toContain(
      `kaizen failed to start: port ${takenPort} on 127.0.0.1 is already in use by another process; stop it or set PORT to a free port.`,
    );
    expect(output).not.toMatch(/\n\s+at /);
  }, 30_000);

  it('exits 1 with one line when QUOTA_PRESETS_FILE does not exist', async () => {
    const missing = join(dir, 'no-such-presets.json');
    const { code, output } = await start(botEnv({ QUOTA_PRESETS_FILE: missing }));
    expect(code, output).toBe(1);
    expect(output).toContain(`kaizen failed to start: QUOTA_PRESETS_FILE: cannot read the file ${missing}`);
    expect(output).not.toMatch(/\n\s+at /);
  }, 30_000);

  it('exits 1 with one line when QUOTA_PRESETS_FILE is not JSON', async () => {
    const file = join(dir, 'presets.json');
    writeFileSync(file, '{ small: ');
    const { code, output } = await start(botEnv({ QUOTA_PRESETS_FILE: file }));
    expect(code, output).toBe(1);
    expect(output).toContain(`kaizen failed to start: QUOTA_PRESETS_FILE: ${file} is not valid JSON`);
  }, 30_000);

  it('exits 1 in the setpass role too when the port is taken', async () => {
    const { code, output } = await start({
      KAIZEN_ROLE: 'setpass',
      PORT: String(takenPort),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'silent',
      REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
      SETPASS_SECRET: testEnv().SETPASS_SECRET,
      PUBLIC_URL: 'https://register.kaizen.test',
      OS_AUTH_URL: inject('keystone').authUrl,
    });
    expect(code, output).toBe(1);
    expect(output).toContain(`port ${takenPort} on 127.0.0.1 is already in use`);
  }, 30_000);
});
