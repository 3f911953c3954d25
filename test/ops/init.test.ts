/**
 * `kaizen init` from a script (flags) and from a terminal (answers to its questions): it writes a
 * .env of mode 0600 with a fresh SETPASS_SECRET that passes `doctor` against the real services and
 * the fakes, prints the Slack manifest with the bot's URL, and says what is left.
 */
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseDotenv } from 'dotenv';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { runCli } from '../../src/app/cli.js';
import { runDoctor } from '../../src/ops/doctor.js';
import { type Env, loadConfig } from '../../src/platform/config/config.js';
import { HEADER } from '../domain/intake/fixtures.js';
import { approvalWorldEnv, TEST_ADMIN_CHANNEL } from '../support/bot.js';
import { type SheetsFake, startSheetsFake } from '../support/sheets-fake.js';
import { type SlackFake, startSlackFake } from '../support/slack-fake.js';
import { type SmtpTestServer, startSmtpServer } from '../support/smtp.js';

async function kaizen(env: Env, argv: string[], answers: string[] = []) {
  const lines: string[] = [];
  const asked: string[] = [];
  const code = await runCli(argv, env, {
    out: (t) => lines.push(t),
    err: (t) => lines.push(t),
    ...(answers.length > 0
      ? {
          ask: async (question: string) => {
            asked.push(question);
            return answers.shift() ?? '';
          },
        }
      : {}),
  });
  return { code, text: lines.join('\n'), asked };
}

/** The manifest init printed, parsed: it starts at its own first comment line. */
function printedManifest(text: string): {
  settings: { socket_mode_enabled: boolean; interactivity: { request_url?: string } };
  features: { slash_commands: { url?: string }[] };
} {
  const start = text.indexOf('# Slack app manifest');
  const end = text.indexOf('\nkaizen doctor:');
  return parseYaml(text.slice(start, end));
}

describe('kaizen init', () => {
  let dir: string;
  let slack: SlackFake;
  let sheets: SheetsFake;
  let smtp: SmtpTestServer;
  /** Everything but what init writes itself: the credentials a person has at hand. */
  let credentials: Env;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kaizen-init-'));
    [slack, sheets, smtp] = await Promise.all([startSlackFake(), startSheetsFake(), startSmtpServer()]);
    sheets.setTab('Form Responses 1', [HEADER]);
    // Without SLACK_ADMINS the admin channel must be private for doctor to pass.
    slack.setChannelInfo(TEST_ADMIN_CHANNEL, { isPrivate: true });
    const world = approvalWorldEnv({ slack, sheets, smtp }, inject('keystone'), inject('keystone').region);
    const { PUBLIC_URL: _url, SETPASS_SECRET: _secret, PORT: _port, ...rest } = world;
    credentials = rest;
  });
  afterAll(async () => {
    await Promise.all([slack?.close(), sheets?.close(), smtp?.close()]);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('driven by flags writes a .env (0600, new SETPASS_SECRET) that passes doctor, and prints the manifest', async () => {
    const envFile = join(dir, 'one-host.env');
    const { SLACK_ADMIN_CHANNEL: channel, ...fromEnvironment } = credentials;
    const run = await kaizen(fromEnvironment, [
      'init',
      '--url',
      'https://register.kaizen.test/',
      '--set',
      `SLACK_ADMIN_CHANNEL=${channel}`,
      '--from-env',
      '--env-file',
      envFile,
    ]);
    expect(run.text).toContain('Every part is ready');
    expect(run.code).toBe(0);

    expect((await stat(envFile)).mode & 0o777).toBe(0o600);
    const written = parseDotenv(await readFile(envFile, 'utf8'));
    expect(written.PUBLIC_URL).toBe('https://register.kaizen.test');
    expect(written.KAIZEN_ROLE).toBe('all');
    expect(Buffer.from(written.SETPASS_SECRET!, 'base64')).toHaveLength(32);
    expect(written.SLACK_ADMIN_CHANNEL).toBe(channel);
    // The secret is in the file only: not printed.
    expect(run.text).not.toContain(written.SETPASS_SECRET);

    // The file alone, as `npm start` would read it, passes doctor: every part on and ok.
    const lines = await runDoctor(loadConfig(written));
    expect(lines.map((line) => [line.name, line.status])).toEqual(
      ['redis', 'setpass', 'slack', 'keystone', 'sheets', 'mail'].map((name) => [name, 'ok']),
    );

    const manifest = printedManifest(run.text);
    expect(manifest.features.slash_commands[0]?.url).toBe('https://register.kaizen.test/slack/events');
    expect(manifest.settings.interactivity.request_url).toBe('https://register.kaizen.test/slack/events');
    expect(manifest.settings.socket_mode_enabled).toBe(false);
  });

  it('asks on a terminal: two hosts write the bot side, and Slack goes to the bot host', async () => {
    const envFile = join(dir, 'two-hosts.env');
    const run = await kaizen(
      {},
      ['init', '--env-file', envFile],
      ['2', 'h', 'https://register.kaizen.test', 'https://kaizen-bot.kaizen.test'],
    );
    expect(run.asked).toHaveLength(4);
    const written = parseDotenv(await readFile(envFile, 'utf8'));
    expect(written.KAIZEN_ROLE).toBe('bot');
    expect(written.PUBLIC_URL).toBe('https://register.kaizen.test');
    const manifest = printedManifest(run.text);
    expect(manifest.features.slash_commands[0]?.url).toBe('https://kaizen-bot.kaizen.test/slack/events');
    // Nothing but the URLs was given: doctor's off parts are listed as what is left.
    expect(run.text).toMatch(/Left to do, in \.env[\s\S]*slack: set SLACK_BOT_TOKEN/);
  });

  it('with Socket Mode prints a manifest without request URLs', async () => {
    const envFile = join(dir, 'socket.env');
    const run = await kaizen({}, [
      'init',
      '--url',
      'http://localhost:3000',
      '--socket-mode',
      '--env-file',
      envFile,
    ]);
    const manifest = printedManifest(run.text);
    expect(manifest.settings.socket_mode_enabled).toBe(true);
    expect(manifest.features.slash_commands[0]?.url).toBeUndefined();
    expect(manifest.settings.interactivity.request_url).toBeUndefined();
    expect(run.text).toContain('SLACK_APP_TOKEN');
  });

  it('leaves an existing .env alone unless told --force, and says which flag is missing off a terminal', async () => {
    const envFile = join(dir, 'existing.env');
    await writeFile(envFile, 'PORT=1234\n');
    const kept = await kaizen({}, ['init', '--url', 'https://register.kaizen.test', '--env-file', envFile]);
    expect(kept.code).toBe(1);
    expect(kept.text).toContain('exists; run with --force');
    expect(await readFile(envFile, 'utf8')).toBe('PORT=1234\n');

    const noTerminal = await kaizen({}, ['init', '--env-file', join(dir, 'none.env')]);
    expect(noTerminal.code).toBe(1);
    expect(noTerminal.text).toContain('not on a terminal: give the answer as a flag');
    expect(await kaizen({}, ['init', '--set', 'NOT_A_SETTING=1'])).toMatchObject({ code: 1 });
  });
});

describe('kaizen manifest', () => {
  it('fills in the bot URL, and refuses one Slack cannot call', async () => {
    const filled = await kaizen({}, ['manifest', '--url', 'https://kaizen-bot.example.org']);
    expect(filled.code).toBe(0);
    expect(filled.text).not.toContain('register.example.org');
    expect(filled.text.match(/https:\/\/kaizen-bot\.example\.org\/slack\/events/g)).toHaveLength(3);
    const plain = await kaizen({}, ['manifest', '--url', 'http://kaizen-bot.example.org']);
    expect(plain.code).toBe(1);
    expect(plain.text).toContain('Slack sends requests only to https:// URLs');
  });
});
