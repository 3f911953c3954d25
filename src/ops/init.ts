/**
 * `kaizen init`: from a fresh clone to a `.env` that starts. It asks (on a terminal) or takes from
 * flags (in scripts) the public URL(s) and the Slack mode, writes `.env` (mode 0600) with a new
 * SETPASS_SECRET, prints the Slack manifest with the URLs filled in, then runs `doctor` and says
 * what is left to set.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { parse as parseDotenv } from 'dotenv';
import { type Env, loadConfig, settings } from '../platform/config/config.js';
import { describeError, KaizenError } from '../platform/errors.js';
import { type DoctorLine, formatDoctor, runDoctor } from './doctor.js';
import { envExample } from './env-example.js';
import { botBaseUrl, renderManifest, type SlackMode } from './manifest.js';

export interface InitIo {
  out: (text: string) => void;
  err: (text: string) => void;
  /** Asks a question and answers the line typed; absent when no one is at a terminal. */
  ask?: (question: string) => Promise<string>;
}

export interface InitAnswers {
  /** Base of the emailed links: the page host (one host: the only host). */
  publicUrl: string;
  slack: SlackMode;
  /** One host runs everything; two hosts: this .env is the bot's, the page host runs `setpass`. */
  layout: 'one-host' | 'two-hosts';
}

export interface InitOptions {
  envFile: string;
  force: boolean;
  /** Further settings, NAME → value, from `--set` and `--from-env`. */
  extra: Env;
}

export const INIT_USAGE = [
  'usage: kaizen init [--url <https://host>] [--page-url <url> --bot-url <url>] [--socket-mode]',
  '                   [--set NAME=value …] [--from-env] [--env-file .env] [--force]',
  '',
  '  --url         one host: the password page and Slack both at this URL',
  '  --page-url    two hosts: the page host (PUBLIC_URL, the emailed links)',
  '  --bot-url     two hosts: the bot host, where Slack sends /slack/events',
  '  --socket-mode Slack connects out from the bot (SLACK_APP_TOKEN): no URL for Slack',
  '  --set         one more setting, e.g. --set SLACK_ADMIN_CHANNEL=C0123 (repeatable)',
  '  --from-env    also write every setting already in the environment (secrets stay off argv)',
  'Without flags on a terminal, it asks.',
].join('\n');

type Parsed = { answers: Partial<InitAnswers> & { botUrl?: string }; options: InitOptions };

export function parseInitArgs(args: string[], env: Env): Parsed | string {
  const known = new Set(Object.values(settings).map((s) => s.env));
  const options: InitOptions = { envFile: '.env', force: false, extra: {} };
  const answers: Parsed['answers'] = {};
  let socket = false;
  let pageUrl: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const word = args[i]!;
    const value = () => {
      const next = args[++i];
      if (next === undefined || next.startsWith('--')) throw new Error(`${word} needs a value`);
      return next;
    };
    try {
      if (word === '--url') {
        pageUrl = value();
        answers.layout = 'one-host';
      } else if (word === '--page-url') {
        pageUrl = value();
        answers.layout = 'two-hosts';
      } else if (word === '--bot-url') {
        answers.botUrl = value();
        answers.layout = 'two-hosts';
      } else if (word === '--socket-mode') socket = true;
      else if (word === '--env-file') options.envFile = value();
      else if (word === '--force') options.force = true;
      else if (word === '--from-env') {
        for (const name of known) if (env[name]?.trim()) options.extra[name] = env[name];
      } else if (word === '--set') {
        const pair = value();
        const at = pair.indexOf('=');
        const name = at > 0 ? pair.slice(0, at) : '';
        if (!known.has(name))
          return `--set ${name || pair}: not a setting (kaizen config --defaults lists them)`;
        options.extra[name] = pair.slice(at + 1);
      } else return `unknown option ${word}\n\n${INIT_USAGE}`;
    } catch (error) {
      return (error as Error).message;
    }
  }
  if (pageUrl !== undefined) answers.publicUrl = pageUrl;
  if (socket) answers.slack = { kind: 'socket' };
  else if (answers.layout === 'one-host' && pageUrl !== undefined)
    answers.slack = { kind: 'http', botUrl: pageUrl };
  else if (answers.botUrl !== undefined) answers.slack = { kind: 'http', botUrl: answers.botUrl };
  return { answers, options };
}

/** Fills in what the flags left open by asking; without a terminal, says which flag is missing. */
async function complete(answers: Parsed['answers'], io: InitIo): Promise<InitAnswers> {
  const ask = async (question: string, fallback?: string): Promise<string> => {
    if (!io.ask)
      throw new KaizenError('invalid', `not on a terminal: give the answer as a flag\n\n${INIT_USAGE}`);
    const typed = (await io.ask(fallback ? `${question} [${fallback}] ` : `${question} `)).trim();
    return typed || fallback || '';
  };
  let layout = answers.layout;
  if (layout === undefined) {
    const typed = await ask(
      'Run everything on this host (1), or a bot host and a separate page host (2)?',
      '1',
    );
    layout = typed.startsWith('2') ? 'two-hosts' : 'one-host';
  }
  let slack = answers.slack;
  if (slack === undefined) {
    const typed = await ask('Slack over HTTP (h; needs a public https URL) or Socket Mode (s)?', 'h');
    if (typed.toLowerCase().startsWith('s')) slack = { kind: 'socket' };
  }
  const pagePrompt =
    layout === 'one-host' ? 'Public https URL of this host' : 'Public https URL of the page host';
  const publicUrl = answers.publicUrl ?? (await ask(`${pagePrompt} (e.g. https://register.example.org):`));
  if (slack === undefined) {
    const botUrl =
      layout === 'one-host'
        ? publicUrl
        : (answers.botUrl ?? (await ask('Public https URL of the bot host, where Slack sends requests:')));
    slack = { kind: 'http', botUrl };
  }
  if (slack.kind === 'http') botBaseUrl(slack.botUrl);
  return { layout, publicUrl: pageBaseUrl(publicUrl), slack };
}

/** PUBLIC_URL may be http:// while trying things out (start-up refuses it in production). */
function pageBaseUrl(raw: string): string {
  let url: URL | undefined;
  try {
    url = new URL(raw.trim());
  } catch {
    url = undefined;
  }
  if (url === undefined || !['http:', 'https:'].includes(url.protocol)) {
    throw new KaizenError('invalid', `"${raw}" is not an http(s) URL such as https://register.example.org`);
  }
  return url.toString().replace(/\/+$/, '');
}

/** `.env.example` with these values in place of the blanks and commented defaults. */
export function envFileText(values: Env): string {
  let text = envExample();
  for (const [name, value] of Object.entries(values)) {
    if (value === undefined) continue;
    const line = `${name}=${quote(value)}`;
    const pattern = new RegExp(`^(?:# )?${name}=.*$`, 'm');
    text = pattern.test(text) ? text.replace(pattern, () => line) : `${text}${line}\n`;
  }
  return text;
}

function quote(value: string): string {
  return /[\s#"'\\$]/.test(value) ? `"${value.replace(/["\\]/g, '\\$&')}"` : value;
}

export async function runInit(args: string[], env: Env, io: InitIo): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) {
    io.out(INIT_USAGE);
    return 0;
  }
  const parsed = parseInitArgs(args, env);
  if (typeof parsed === 'string') {
    io.err(`kaizen init: ${parsed}`);
    return 1;
  }
  const { options } = parsed;
  if (existsSync(options.envFile) && !options.force) {
    io.err(`kaizen init: ${options.envFile} exists; run with --force to replace it (or edit it)`);
    return 1;
  }
  let answers: InitAnswers;
  try {
    answers = await complete(parsed.answers, io);
  } catch (error) {
    io.err(`kaizen init: ${describeError(error)}`);
    return 1;
  }

  const values: Env = {
    KAIZEN_ROLE: answers.layout === 'two-hosts' ? 'bot' : 'all',
    PUBLIC_URL: answers.publicUrl,
    SETPASS_SECRET: randomBytes(32).toString('base64'),
    ...options.extra,
  };
  if (answers.slack.kind === 'socket' && !values.SLACK_APP_TOKEN) values.SLACK_APP_TOKEN = '';
  writeFileSync(options.envFile, envFileText(values), { mode: 0o600 });
  // The mode given to writeFileSync applies only to a new file; a replaced one keeps its old mode.
  chmodSync(options.envFile, 0o600);
  io.out(`Wrote ${options.envFile} (mode 0600) with a new SETPASS_SECRET.`);
  if (answers.layout === 'two-hosts') {
    io.out(
      'This is the bot host (KAIZEN_ROLE=bot). The page host runs KAIZEN_ROLE=setpass with the same SETPASS_SECRET, PUBLIC_URL and Redis: see deploy/README.md.',
    );
  }

  io.out(
    '\nThe Slack app: paste this manifest at https://api.slack.com/apps → Create New App → From an app manifest.\n',
  );
  io.out(renderManifest(answers.slack).trimEnd());

  // What start-up will see: the environment wins over .env, as when the bot reads it.
  const effective: Env = { ...parseDotenv(readFileSync(options.envFile)), ...nonBlank(env) };
  let lines: DoctorLine[];
  try {
    lines = await runDoctor(loadConfig(effective));
  } catch (error) {
    io.out(`\n${describeError(error)}\nFix these in ${options.envFile}, then run kaizen doctor.`);
    return 2;
  }
  io.out(`\nkaizen doctor:\n${formatDoctor(lines)}`);
  io.out(`\n${whatIsLeft(lines, answers)}`);
  return lines.some((line) => line.status === 'failing') ? 2 : 0;
}

function nonBlank(env: Env): Env {
  return Object.fromEntries(Object.entries(env).filter(([, value]) => value?.trim()));
}

function whatIsLeft(lines: DoctorLine[], answers: InitAnswers): string {
  const off = lines.filter((line) => line.status === 'off');
  const failing = lines.filter((line) => line.status === 'failing');
  if (off.length === 0 && failing.length === 0) {
    return 'Every part is ready: start the bot with `npm start`.';
  }
  const todo = [
    ...failing.map((line) => `  - ${line.name}: fix it (${line.detail})`),
    ...off.map((line) => `  - ${line.name}: ${line.detail.replace(/^not configured: /, '')}`),
  ];
  const slackHint =
    answers.slack.kind === 'socket'
      ? 'SLACK_APP_TOKEN is an app-level token with connections:write (Basic Information → App-Level Tokens).'
      : 'SLACK_SIGNING_SECRET is under Basic Information; SLACK_BOT_TOKEN under OAuth & Permissions after installing.';
  return [
    'Left to do, in .env (then `npm run kaizen -- doctor`, and `npm start`):',
    ...todo,
    `Slack: ${slackHint}`,
    'README.md explains each setting; `npm start` runs the parts that are ready.',
  ].join('\n');
}
