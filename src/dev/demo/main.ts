/**
 * `npm run demo [-- --watch] [-- --port N]`: the whole flow on one machine, in a browser. Starts (or
 * reuses) Redis and Keystone, the Slack, Sheets and mail stand-ins, and the bot as `npm start` runs
 * it, then serves the demo page and prints its URL. Ctrl-C stops what this run started, by pid, and
 * deletes the run's Redis keys. A second run while one is up prints the running one's URL.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { KeystoneClient } from '../../keystone/index.js';
import { freePort } from '../local-http.js';
import { DemoBot } from './bot.js';
import {
  deleteKeys,
  ensureKeystone,
  ensureRedis,
  type KeystoneAccess,
  pidAlive,
  stopPid,
  type UsedService,
} from './services.js';
import { DemoSite } from './site.js';
import type { DemoState } from './state.js';
import { DEMO_ADMIN_CHANNEL, DEMO_REGION, type DemoWorld, PEOPLE, startWorld } from './world.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const DEFAULT_PORT = 5380;
/** Midnight on New Year's Day: schedules the demo has no use for never fire. */
const NEVER = '0 0 1 1 *';

const say = (line: string) => process.stderr.write(`demo: ${line}\n`);

function runningDemo(stateFile: string): DemoState | undefined {
  try {
    const state = JSON.parse(readFileSync(stateFile, 'utf8')) as DemoState;
    return pidAlive(state.pid) && state.pid !== process.pid ? state : undefined;
  } catch {
    return undefined;
  }
}

/**
 * `--watch`; `--port N` for the page (0: any free port); `--state-dir DIR` for the logs and the
 * running demo's record (default .demo/), so a test's demo never meets a developer's.
 */
function parseArgs(argv: string[]): { watch: boolean; port: number; stateDir: string } {
  const optionValue = (flag: string) => {
    const at = argv.indexOf(flag);
    return at >= 0 ? argv[at + 1] : undefined;
  };
  const port = Number(optionValue('--port') ?? DEFAULT_PORT);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error('--port takes a port number');
  return {
    watch: argv.includes('--watch'),
    port,
    stateDir: resolve(optionValue('--state-dir') ?? join(repoRoot, '.demo')),
  };
}

function botEnv(world: DemoWorld, keystone: KeystoneAccess, redisUrl: string, prefix: string, port: number) {
  return {
    NODE_ENV: 'development',
    PORT: String(port),
    HOST: '127.0.0.1',
    LOG_LEVEL: 'info',
    SLACK_BOT_TOKEN: 'xoxb-kaizen-demo',
    SLACK_SIGNING_SECRET: randomBytes(16).toString('hex'),
    SLACK_ADMIN_CHANNEL: DEMO_ADMIN_CHANNEL,
    SLACK_ADMINS: PEOPLE.filter((person) => person.admin)
      .map((person) => person.id)
      .join(','),
    SLACK_API_URL: `${world.slack.url}/api/`,
    REDIS_URL: redisUrl,
    REDIS_KEY_PREFIX: prefix,
    SETPASS_SECRET: randomBytes(32).toString('base64'),
    OS_AUTH_URL: keystone.authUrl,
    OS_USERNAME: keystone.username,
    OS_PASSWORD: keystone.password,
    OS_PROJECT_NAME: keystone.projectName,
    OS_USER_DOMAIN_NAME: keystone.userDomainName,
    OS_PROJECT_DOMAIN_NAME: keystone.projectDomainName,
    OS_REGION_NAME: DEMO_REGION,
    SMTP_URL: world.smtp.url,
    SMTP_CA_FILE: world.smtp.caFile,
    MAIL_FROM: 'Kaizen demo <noreply@kaizen.demo>',
    SUPPORT_EMAIL: 'help@kaizen.demo',
    PUBLIC_URL: `http://127.0.0.1:${port}`,
    GOOGLE_SHEETS_API_URL: `${world.sheets.url}/`,
    GOOGLE_APPLICATION_CREDENTIALS: world.sheets.keyFile,
    GOOGLE_SHEET_ID: world.sheets.spreadsheetId,
    SHEET_POLL_CRON: '* * * * *',
    REMINDER_CRON: NEVER,
    ADMIN_REMINDER_CRON: NEVER,
    HOUSEKEEPING_CRON: NEVER,
  };
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const { stateDir } = args;
  const stateFile = join(stateDir, 'demo.json');
  const already = runningDemo(stateFile);
  if (already) {
    say(`already running (pid ${already.pid}); reusing it`);
    process.stdout.write(`${already.url}\n`);
    return;
  }
  mkdirSync(stateDir, { recursive: true });

  // Everything started is stopped in reverse order, whatever step failed.
  const undo: { what: string; run: () => Promise<void> }[] = [];
  const started: Record<string, number> = {};
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      for (const step of undo.reverse()) {
        await step.run().catch((error: unknown) => say(`stopping ${step.what} failed: ${String(error)}`));
      }
      const mine = readState(stateFile);
      if (mine?.pid === process.pid) rmSync(stateFile, { force: true });
    })();
    return stopping;
  };
  // A signal while a step runs (a first Keystone start takes minutes) is acted on when it ends, so
  // that what the step starts is stopped too.
  let ready = false;
  let interrupted = false;
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(signal, () => {
      if (!interrupted) {
        say(`${signal}: stopping everything this run started${ready ? '' : ' once the current step ends'}`);
      }
      interrupted = true;
      if (ready) void stop().then(() => process.exit(0));
    });
  }
  const checkpoint = async () => {
    if (!interrupted) return;
    await stop();
    process.exit(0);
  };
  const keep = (service: UsedService, name: string) => {
    say(service.description);
    const pid = service.pid;
    if (pid === undefined) return;
    started[name] = pid;
    undo.push({ what: name, run: () => stopPid(pid) });
  };

  try {
    const redisUrl = process.env.REDIS_URL || 'redis://127.0.0.1:6379';
    keep(await ensureRedis(redisUrl, stateDir), 'redis');
    await checkpoint();
    const keystone = await ensureKeystone(repoRoot, process.env, say);
    keep(keystone.service, 'keystone');
    await checkpoint();

    const world = await startWorld(keystone.access);
    undo.push({ what: 'the stand-ins', run: () => world.close() });
    await checkpoint();
    say(`stand-ins: Slack ${world.slack.url}, Sheets ${world.sheets.url}, SMTP port ${world.smtp.port}`);

    const prefix = `kaizen-demo:${Date.now().toString(36)}:`;
    undo.push({ what: 'the Redis keys', run: () => deleteKeys(redisUrl, prefix) });
    const botPort = await freePort();
    const env = botEnv(world, keystone.access, redisUrl, prefix, botPort);
    let state: DemoState | undefined;
    const bot = new DemoBot({
      repoRoot,
      stateDir,
      env,
      port: botPort,
      say,
      restarted: (pid) => {
        if (state === undefined) return;
        state = { ...state, botPid: pid };
        writeFileSync(stateFile, `${JSON.stringify(state, null, 2)}\n`);
      },
    });
    say('building the bot (npm start does the same)…');
    await bot.build();
    undo.push({ what: 'the bot', run: () => bot.close() });
    await checkpoint();
    await bot.start();
    await checkpoint();
    say(`the bot listens on ${bot.url} (pid ${bot.pid}); its log is ${join(stateDir, 'bot.log')}`);
    if (args.watch) {
      bot.watch();
      say('watching src/, views/ and commands/: a change restarts the bot');
    }

    const site = new DemoSite({
      world,
      eventsUrl: `${bot.url}/slack/events`,
      signingSecret: env.SLACK_SIGNING_SECRET,
      keystone: new KeystoneClient({
        authUrl: keystone.access.authUrl,
        auth: { kind: 'password', ...keystone.access },
        region: DEMO_REGION,
      }),
      keystoneUrl: keystone.access.authUrl,
      domainId: 'default',
    });
    // The usual port when it is free, so a bookmark keeps working; any free port otherwise.
    const url = `${await site.listen(args.port).catch(() => site.listen(0))}/`;
    undo.push({ what: 'the demo page', run: () => site.close() });

    state = { pid: process.pid, url, botPid: bot.pid, started, redisPrefix: prefix };
    writeFileSync(stateFile, `${JSON.stringify(state, null, 2)}\n`);
    ready = true;
    await checkpoint();
    say('ready; Ctrl-C stops it');
    process.stdout.write(`${url}\n`);
  } catch (error) {
    say(`could not start: ${error instanceof Error ? error.message : String(error)}`);
    await stop();
    process.exit(1);
  }
}

function readState(stateFile: string): DemoState | undefined {
  try {
    return JSON.parse(readFileSync(stateFile, 'utf8')) as DemoState;
  } catch {
    return undefined;
  }
}

await main();
