/**
 * The `kaizen` executable as an operator runs it: a process of its own, its exit status and what it
 * prints. Only the given settings reach it, as in test/app/main.test.ts.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT } from '../../src/app/cli.js';
import { testEnv } from '../support/bot.js';

const TSX = 'node_modules/.bin/tsx';
/** Redis closes within the CLI's own 10 s, then the process ends; longer means it hangs. */
const EXIT_DEADLINE_MS = 20_000;

interface Finished {
  code: number | null;
  stdout: string;
  stderr: string;
}

async function kaizen(args: string[], env: Record<string, string | undefined>): Promise<Finished> {
  const child = spawn(TSX, ['src/app/kaizen.ts', ...args], {
    // A working directory without a .env, so nothing but `env` configures it.
    cwd: process.cwd(),
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const stdout: string[] = [];
  const stderr: string[] = [];
  child.stdout.on('data', (chunk) => stdout.push(String(chunk)));
  child.stderr.on('data', (chunk) => stderr.push(String(chunk)));
  const timer = setTimeout(() => child.kill('SIGKILL'), EXIT_DEADLINE_MS);
  const [code] = (await once(child, 'exit')) as [number | null];
  clearTimeout(timer);
  return { code, stdout: stdout.join(''), stderr: stderr.join('') };
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kaizen-exe-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('the kaizen executable', () => {
  it('exits 0 for help and config, printing to stdout only', async () => {
    const help = await kaizen(['help'], {});
    expect(help).toMatchObject({ code: EXIT.ok, stderr: '' });
    expect(help.stdout).toContain('usage: kaizen <command>');
    const config = await kaizen(['config'], {});
    expect(config.code).toBe(EXIT.ok);
    expect(config.stdout).toContain('SLACK_BOT_TOKEN');
  });

  it('exits 1 for an unknown command or a missing operator name, saying what was wrong', async () => {
    const unknown = await kaizen(['frobnicate'], {});
    expect(unknown.code).toBe(EXIT.userError);
    expect(unknown.stderr).toContain('kaizen: unknown command "frobnicate"');
    const noName = await kaizen(['pending', '--as'], {});
    expect(noName.code).toBe(EXIT.userError);
    expect(noName.stderr).toContain('--as needs the name of the operator');
  });

  it('exits 2 for a wrong setting, naming it, without a stack trace', async () => {
    const wrong = await kaizen(['pending', '--as', 'tester'], testEnv({ PORT: '-1' }));
    expect(wrong.code).toBe(EXIT.failure);
    expect(wrong.stderr).toContain('PORT');
    expect(wrong.stderr).not.toMatch(/\n\s+at /);
  });

  it("exits 2, and does exit, when the command's promise rejects after Redis was opened", async () => {
    // A key file that reads as JSON but is no service-account key: the Sheets client refuses it
    // only after the command's Redis connection is open, and the command's promise rejects.
    const keyFile = join(dir, `key-${randomBytes(4).toString('hex')}.json`);
    await writeFile(keyFile, JSON.stringify({ type: 'service_account' }));
    const failed = await kaizen(
      ['pending', '--as', 'tester'],
      testEnv({ GOOGLE_SHEET_ID: 'sheet', GOOGLE_APPLICATION_CREDENTIALS: keyFile }),
    );
    expect(failed.code).toBe(EXIT.failure);
    expect(failed.stderr).toContain('is not a service-account JSON key');
    expect(failed.stderr).not.toMatch(/\n\s+at /);
  }, 30_000);
});
