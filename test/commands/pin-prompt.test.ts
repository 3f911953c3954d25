/**
 * `kaizen reset <user> --yes` at a real terminal (a tmux pane): with no PIN on file the executable
 * asks for one without echoing it, takes Backspace, and the reset it then does is a working one —
 * the emailed link accepts that PIN on the password page.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { EXIT } from '../../src/app/cli.js';
import type { KeystoneClient } from '../../src/keystone/index.js';
import type { Env } from '../../src/platform/config/config.js';
import { KaizenError } from '../../src/platform/errors.js';
import { adminClient, newMember } from '../keystone/fixtures.js';
import { mailWorldEnv, startTestBot, type TestBot } from '../support/bot.js';
import { type SlackFake, startSlackFake } from '../support/slack-fake.js';
import { type SmtpTestServer, startSmtpServer } from '../support/smtp.js';
import { ADMIN } from './helpers.js';

const run = promisify(execFile);
const PUBLIC_URL = 'https://register.kaizen.test';
const PIN = '8642';
const NEW_PASSWORD = 'Violet-Harbor-Stencil-42';
/** tsx compiles the CLI on start; the CLI then closes Redis within its own 10 s. */
const PROMPT_DEADLINE_MS = 30_000;
const EXIT_DEADLINE_MS = 30_000;

/** A tmux server of its own (its own socket), so nothing else's sessions are touched. */
class Terminal {
  private constructor(private readonly socket: string) {}

  static async start(script: string): Promise<Terminal> {
    const terminal = new Terminal(`kaizen-pin-${randomBytes(4).toString('hex')}`);
    await terminal.tmux('new-session', '-d', '-s', 'cli', '-x', '160', '-y', '40', `bash ${script}`);
    return terminal;
  }

  tmux(...args: string[]): Promise<{ stdout: string }> {
    return run('tmux', ['-L', this.socket, ...args]);
  }

  async screen(): Promise<string> {
    return (await this.tmux('capture-pane', '-p', '-t', 'cli')).stdout;
  }

  async keys(...keys: string[]): Promise<void> {
    await this.tmux('send-keys', '-t', 'cli', ...keys);
  }

  async close(): Promise<void> {
    await this.tmux('kill-server').catch(() => undefined);
  }
}

async function until<T>(probe: () => Promise<T | undefined>, ms: number, what: string): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const found = await probe();
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((done) => setTimeout(done, 100));
  }
}

const shellQuote = (value: string): string => `'${value.replaceAll("'", `'\\''`)}'`;

describe('the terminal PIN prompt of kaizen reset', () => {
  let slack: SlackFake;
  let smtp: SmtpTestServer;
  let env: Env;
  let running: TestBot;
  let keystone: KeystoneClient;
  let dir: string;
  let terminal: Terminal | undefined;

  beforeAll(async () => {
    slack = await startSlackFake();
    smtp = await startSmtpServer();
    env = mailWorldEnv({ slack, smtp }, inject('keystone'), {
      SLACK_ADMINS: ADMIN,
      PUBLIC_URL,
      ALLOW_INSECURE_PUBLIC_URL: 'true',
    });
    running = await startTestBot(env);
    keystone = adminClient();
    dir = await mkdtemp(join(tmpdir(), 'kaizen-pin-'));
  });
  afterAll(async () => {
    await terminal?.close();
    await running?.stop();
    await Promise.allSettled([slack?.close(), smtp?.close()]);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  async function passwordWorks(userId: string, password: string): Promise<boolean> {
    try {
      await keystone.passwordLogin({ userId, password, scope: 'unscoped' });
      return true;
    } catch (error) {
      if (error instanceof KaizenError && error.kind === 'unauthorized') return false;
      throw error;
    }
  }

  it('asks for the PIN without echoing it, resets, exits 0, and the emailed link takes that PIN', async () => {
    const member = await newMember(keystone);
    const count = smtp.messages.length;
    const rcFile = join(dir, 'rc');
    // Only the test bot's settings reach the executable; the pane stays open after it ends so
    // the screen can still be read, and its exit status is kept in a file.
    const settings = Object.entries({ PATH: process.env.PATH, HOME: process.env.HOME, ...env })
      .filter((entry): entry is [string, string] => entry[1] !== undefined)
      .map(([key, value]) => `${key}=${shellQuote(value)}`)
      .join(' ');
    const script = join(dir, 'run.sh');
    await writeFile(
      script,
      [
        `cd ${shellQuote(process.cwd())}`,
        `env -i ${settings} node_modules/.bin/tsx src/app/kaizen.ts reset ${shellQuote(member.user.name)} --yes --as alice`,
        `echo $? > ${shellQuote(rcFile)}`,
        'exec sleep 600',
        '',
      ].join('\n'),
    );
    terminal = await Terminal.start(script);
    const shown = terminal;

    const prompt = `PIN for ${member.user.name} (4 digits, not shown): `;
    await until(
      async () => ((await shown.screen()).includes(prompt.trimEnd()) ? true : undefined),
      PROMPT_DEADLINE_MS,
      'the PIN prompt',
    );
    // A wrong last digit, taken back with Backspace, then Enter.
    await shown.keys(PIN, '9', 'BSpace');
    const typed = await shown.screen();
    await shown.keys('Enter');
    const code = await until(
      async () => {
        const text = await readFile(rcFile, 'utf8').catch(() => undefined);
        return text === undefined || text.trim() === '' ? undefined : Number(text.trim());
      },
      EXIT_DEADLINE_MS,
      'the kaizen process to exit',
    );
    const after = await shown.screen();

    const promptLine = typed.split('\n').find((line) => line.startsWith('PIN for'));
    expect(promptLine?.trimEnd()).toBe(prompt.trimEnd());
    expect(typed).not.toContain(PIN);
    expect(after).not.toContain(PIN);
    expect(
      after
        .split('\n')
        .find((line) => line.startsWith('PIN for'))
        ?.trimEnd(),
    ).toBe(prompt.trimEnd());
    expect(after).toContain(`Password reset for ${member.user.name}`);
    expect(code).toBe(EXIT.ok);

    expect(await passwordWorks(member.user.id, member.password)).toBe(false);
    const mail = (await smtp.waitForMessages(count + 1, 10_000))[count]!;
    expect(mail.to).toEqual([member.user.name]);
    const link = mail.text.match(/https:\/\/register\.kaizen\.test\/\?token=[A-Za-z0-9_%-]+/)?.[0];
    expect(link).toBeDefined();

    const page = await fetch(link!.replace(PUBLIC_URL, running.url));
    const html = await page.text();
    expect(page.status).toBe(200);
    const csrf = html.match(/name="csrf" value="([^"]+)"/)?.[1] ?? '';
    const cookie = page.headers.get('set-cookie')?.split(';')[0] ?? '';
    const submitted = await fetch(`${running.url}/`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie },
      body: new URLSearchParams({
        token: new URL(link!).searchParams.get('token') ?? '',
        csrf,
        pin: PIN,
        password: NEW_PASSWORD,
        confirm_password: NEW_PASSWORD,
      }).toString(),
    });
    expect(submitted.status).toBe(200);
    expect(await passwordWorks(member.user.id, NEW_PASSWORD)).toBe(true);
  }, 90_000);
});
