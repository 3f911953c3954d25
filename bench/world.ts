/**
 * What several benchmarks share: the context run.ts hands them, the world of fakes and real services
 * an approval runs in (the same pieces the approval tests use), seeding applications, and cleaning
 * up the Redis keys and Keystone objects a run made.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { WebClient } from '@slack/web-api';
import { Redis } from 'ioredis';
import ts from 'typescript';
import { type ApplicationRecord, ApplicationStore } from '../src/domain/applications/store.js';
import { headerNames, mapColumns } from '../src/domain/intake/columns.js';
import { parseRow } from '../src/domain/intake/parse.js';
import { presetsFromConfig } from '../src/domain/quotas/presets.js';
import { PinHasher } from '../src/domain/setpass/pin.js';
import { type Env, loadConfig } from '../src/platform/config/config.js';
import { silentLogger } from '../src/platform/log.js';
import { postApplicantCard } from '../src/slack/applicant-cards.js';
import { HEADER, type RowInput, row } from '../test/domain/intake/fixtures.js';
import { approvalWorldEnv, TEST_ADMIN_CHANNEL } from '../test/support/bot.js';
import { freePort } from '../test/support/local-http.js';
import { keystoneAdmin, type ProvidedKeystone } from '../test/support/provided.js';
import {
  type KeystoneRegistration,
  type QuotaRecorder,
  startQuotaRecorder,
} from '../test/support/quota-recorder.js';
import { type SheetsFake, startSheetsFake } from '../test/support/sheets-fake.js';
import { type SlackFake, startSlackFake } from '../test/support/slack-fake.js';
import { type SmtpTestServer, startSmtpServer } from '../test/support/smtp.js';
import { pooled } from './stats.js';

export interface BenchContext {
  redisUrl: string;
  /** The real Keystone, when the selected benchmarks need one. */
  keystone: ProvidedKeystone | undefined;
}

export const ADMIN = 'U0BENCHADMIN';
export const APPLICATIONS_TAB = 'Form Responses 1';
export const ADMITTED_TAB = 'Current Users';
export { NEVER } from '../test/support/bot.js';

/** `node` arguments that run a TypeScript entry point, as `npm run bench` itself runs. */
export const TSX = ['--import', 'tsx'];

/**
 * bench/baselines.ts compiled to plain JavaScript (dist/bench/baselines.js), so the baselines run
 * on node alone as the bot runs from dist/, not under tsx's loader: like for like. The file imports
 * only node: modules and packages, so one file transpiled with the project's compiler settings is
 * the whole build.
 */
export function compiledBaselines(): string {
  const source = join(ROOT, 'bench/baselines.ts');
  const target = join(ROOT, 'dist/bench/baselines.js');
  const output = ts.transpileModule(readFileSync(source, 'utf8'), {
    compilerOptions: {
      target: ts.ScriptTarget.ES2022,
      // ESM, as the package is ("type": "module"), and the file awaits at its top level.
      module: ts.ModuleKind.ES2022,
    },
    fileName: source,
  });
  mkdirSync(dirname(target), { recursive: true });
  writeFileSync(target, output.outputText);
  return target;
}

const run = promisify(execFile);
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

export const benchPrefix = (label: string): string => `bench:${label}:${randomBytes(4).toString('hex')}:`;

export function requireKeystone(context: BenchContext): ProvidedKeystone {
  if (context.keystone === undefined) throw new Error('this benchmark needs Keystone; run.ts starts it');
  return context.keystone;
}

/** Deletes every key under `prefix` (SCAN, so a big run never blocks Redis). */
export async function deletePrefix(redisUrl: string, prefix: string): Promise<number> {
  const redis = new Redis(redisUrl);
  let deleted = 0;
  try {
    let cursor = '0';
    do {
      const [next, found] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      cursor = next;
      if (found.length > 0) deleted += await redis.unlink(...found);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
  return deleted;
}

/** A sheet row for applicant number `n` of a run: unique email, project and timestamp unless `input` says otherwise. */
export function applicantRow(tag: string, n: number, input: RowInput = {}): string[] {
  const id = `${tag}-${n}`;
  const minute = String(n % 60).padStart(2, '0');
  return row({
    email: `bench-${id}@example.org`,
    newProjectName: `bench-${id}`,
    timestamp: `11/02/2026 10:${minute}:00 ${id}`,
    ...input,
  });
}

/** Application records for sheet rows, as the intake stores them; one PIN hash for all (hashing is not what is measured). */
export async function storeApplications(
  store: ApplicationStore,
  rows: readonly string[][],
): Promise<string[]> {
  const names = headerNames();
  const mapped = mapColumns(HEADER, names);
  if (!mapped.ok) throw new Error('the fixture header does not map');
  const pinHash = new PinHasher(randomBytes(32)).hash('1234');
  return pooled(rows, 20, async (cells, index) => {
    const parsed = parseRow(cells, index + 2, mapped.columns, names, HEADER.length);
    if (parsed.kind !== 'applicant') throw new Error(`row ${index} is not an applicant`);
    await store.create({ applicant: parsed.applicant, pinHash, quota: { kind: 'preset', preset: 'small' } });
    return parsed.applicant.id;
  });
}

/** Keystone users who already have an account, and one project they ask to join. */
export interface ExistingMembers {
  project: { id: string; name: string };
  users: { id: string; name: string }[];
}

export async function makeExistingMembers(
  keystone: ProvidedKeystone,
  tag: string,
  count: number,
): Promise<ExistingMembers> {
  const admin = keystoneAdmin(keystone);
  const project = await admin.createProject({
    name: `bench-${tag}-shared`,
    description: 'benchmark',
    domainId: 'default',
  });
  const users = await pooled(Array.from({ length: count }), 4, async (_, n) => {
    const name = `bench-${tag}-member-${n}@example.org`;
    const user = await admin.createUser({
      name,
      email: name,
      description: 'Bench Member',
      password: `${randomBytes(12).toString('base64url')}aA1!`,
      defaultProjectId: project.id,
      domainId: 'default',
    });
    return { id: user.id, name: user.name };
  });
  return { project: { id: project.id, name: project.name }, users };
}

/** A row of `member` applying, with their account, to join the shared project. */
export function joinRow(tag: string, n: number, members: ExistingMembers, member: number): string[] {
  const user = members.users[member % members.users.length];
  if (user === undefined) throw new Error('no members');
  return applicantRow(tag, n, {
    email: user.name,
    hasAccount: 'Yes',
    projectKind: 'Existing project',
    newProjectName: '',
    newProjectDescription: '',
    existingProjectName: members.project.name,
  });
}

export function applicationsSheet(rows: readonly string[][]): string[][] {
  return [HEADER, ...rows];
}

/** The fakes and servers an approval talks to: Slack, Sheets, SMTP and the quota APIs in a Keystone region of the run's own. */
export interface ApprovalWorld {
  slack: SlackFake;
  sheets: SheetsFake;
  smtp: SmtpTestServer;
  recorder: QuotaRecorder;
  registration: KeystoneRegistration;
  region: string;
  /** Settings for a bot in this world, on its own Redis prefix. */
  env(prefix: string, overrides?: Env): Env;
  close(): Promise<void>;
}

export async function startApprovalWorld(context: BenchContext, label: string): Promise<ApprovalWorld> {
  const keystone = requireKeystone(context);
  const [slack, sheets, smtp, recorder] = await Promise.all([
    startSlackFake(),
    startSheetsFake(),
    startSmtpServer(),
    startQuotaRecorder(),
  ]);
  const region = `kaizen-bench-${label}-${randomBytes(3).toString('hex')}`;
  const registration = await recorder.registerInKeystone({
    authUrl: keystone.authUrl,
    username: keystone.username,
    password: keystone.password,
    projectName: keystone.projectName,
    userDomainName: keystone.userDomainName,
    projectDomainName: keystone.projectDomainName,
    region,
  });
  sheets.setTab(ADMITTED_TAB, []);
  const env = (prefix: string, overrides: Env = {}): Env =>
    approvalWorldEnv({ slack, sheets, smtp }, keystone, region, {
      REDIS_URL: context.redisUrl,
      REDIS_KEY_PREFIX: prefix,
      SLACK_ADMINS: ADMIN,
      SLACK_ADMIN_CHANNEL: TEST_ADMIN_CHANNEL,
      ...overrides,
    });
  return {
    slack,
    sheets,
    smtp,
    recorder,
    registration,
    region,
    env,
    async close() {
      await registration.unregister().catch(() => undefined);
      await Promise.allSettled([slack.close(), sheets.close(), smtp.close(), recorder.close()]);
    },
  };
}

/**
 * Where the click benchmarks run: an approval world, a Redis prefix and application store of the
 * run's own, and existing Keystone members whose applications ask to join their project.
 */
export interface JoinBench {
  world: ApprovalWorld;
  prefix: string;
  /** The run's tag, in the members' and applicants' names. */
  tag: string;
  store: ApplicationStore;
  members: ExistingMembers;
  /** Bot settings for this run, on its prefix. */
  env: Env;
  /** Stops of the processes started for the run; `close` calls them, the last started first. */
  stops: (() => Promise<void>)[];
  /** Stops the processes, then deletes the members from Keystone and the prefix from Redis. */
  close(): Promise<void>;
}

export async function startJoinBench(
  context: BenchContext,
  label: string,
  members: number,
): Promise<JoinBench> {
  const keystone = requireKeystone(context);
  const world = await startApprovalWorld(context, label);
  const prefix = benchPrefix(label);
  const tag = prefix.split(':')[2] ?? 'x';
  const redis = new Redis(context.redisUrl, { keyPrefix: prefix });
  const existing = await makeExistingMembers(keystone, tag, members);
  const stops: (() => Promise<void>)[] = [];
  return {
    world,
    prefix,
    tag,
    store: new ApplicationStore(redis),
    members: existing,
    env: world.env(prefix, { LOG_LEVEL: 'warn' }),
    stops,
    async close() {
      for (const stop of stops.reverse()) await stop().catch(() => undefined);
      redis.disconnect();
      await deleteFromKeystone(keystone, {
        projects: [existing.project.id],
        users: existing.users.map((user) => user.id),
      }).catch((error: unknown) =>
        process.stderr.write(`bench: Keystone clean-up failed: ${String(error)}\n`),
      );
      await deletePrefix(context.redisUrl, prefix);
      await world.close();
    },
  };
}

/** An applicant's card in the admin channel, as a click on it carries it. */
export interface Card {
  id: string;
  channel: string;
  ts: string;
  blocks: unknown[];
}

/** Posts each application's card as the intake posts it (same function, same channel) and answers the cards. */
export async function postCards(
  world: ApprovalWorld,
  store: ApplicationStore,
  env: Env,
  ids: readonly string[],
): Promise<Card[]> {
  const config = loadConfig(env);
  const deps = {
    client: new WebClient(config.slack.botToken, {
      slackApiUrl: config.slack.apiUrl,
      retryConfig: { retries: 0 },
    }),
    store,
    presets: presetsFromConfig(config.quotas),
    defaultPreset: config.quotas.defaultPreset,
    log: silentLogger,
  };
  return pooled(ids, 10, async (id) => {
    const record = await store.get(id);
    if (record) await postApplicantCard(deps, TEST_ADMIN_CHANNEL, record);
    const card = (await store.get(id))?.card;
    if (!card) throw new Error(`no card for ${id}`);
    const message = world.slack.messages(card.channel).find((m) => m.ts === card.ts);
    return { id, channel: card.channel, ts: card.ts, blocks: message?.blocks ?? [] };
  });
}

/** Why approvals failed, most common first, with how many. */
export async function failureReasons(store: ApplicationStore, ids: readonly string[]): Promise<string[]> {
  const counts = new Map<string, number>();
  for (const id of ids) {
    const failure = (await store.get(id))?.failure;
    if (failure) {
      const reason = `${failure.step}: ${failure.message}`;
      counts.set(reason, (counts.get(reason) ?? 0) + 1);
    }
  }
  return [...counts].sort((a, b) => b[1] - a[1]).map(([reason, count]) => `${count}× ${reason}`);
}

/** The Keystone ids an approval made, from its record's checkpoints. */
export function madeInKeystone(records: readonly (ApplicationRecord | undefined)[]): {
  projects: string[];
  users: string[];
} {
  const projects: string[] = [];
  const users: string[] = [];
  for (const record of records) {
    if (record === undefined) continue;
    if (record.origin?.project === 'created' && record.checkpoints.project)
      projects.push(record.checkpoints.project);
    if (record.origin?.user === 'created' && record.checkpoints.user) users.push(record.checkpoints.user);
  }
  return { projects, users };
}

/**
 * Deletes the projects and users a run made, so Keystone (shared with the test runs) does not grow
 * with every benchmark. The app has no delete calls, so this speaks Keystone's REST API directly.
 * A busy Keystone may drop a call: each is tried three times, and what is left is told on stderr.
 */
export async function deleteFromKeystone(
  keystone: ProvidedKeystone,
  made: { projects: string[]; users: string[] },
): Promise<void> {
  const token = await keystoneAdmin(keystone).getAdminToken();
  const base = keystone.authUrl.replace(/\/+$/, '').replace(/(\/v3)?$/, '/v3');
  const remove = async (path: string): Promise<boolean> => {
    for (let attempt = 1; attempt <= 3; attempt++) {
      try {
        const response = await fetch(`${base}${path}`, {
          method: 'DELETE',
          headers: { 'x-auth-token': token },
          signal: AbortSignal.timeout(30_000),
        });
        await response.text();
        if (response.status === 204 || response.status === 404) return true;
      } catch {
        // Tried again below.
      }
    }
    return false;
  };
  const left = [
    ...(await pooled(made.users, 4, async (id) => ((await remove(`/users/${id}`)) ? [] : [`user ${id}`]))),
    ...(await pooled(made.projects, 4, async (id) =>
      (await remove(`/projects/${id}`)) ? [] : [`project ${id}`],
    )),
  ].flat();
  if (left.length > 0) process.stderr.write(`bench: could not delete from Keystone: ${left.join(', ')}\n`);
}

/** Resident set size of a process, from /proc (Linux). */
export function rssOf(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(status.match(/^VmRSS:\s+(\d+) kB/m)?.[1] ?? Number.NaN) * 1024;
}

/** CPU time (user + system) a process has used so far, in ms, from /proc (Linux; 10 ms ticks). */
export function cpuMsOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name, which is in parentheses and may hold spaces.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  return ticks * 10;
}

export interface SpawnedProcess {
  child: ChildProcess;
  url: string;
  /** From spawn to the first answer that `ready` accepted. */
  startMs: number;
  stop(): Promise<void>;
}

/**
 * Starts `args` with node on a port of its own and waits until GET `readyPath` answers 200.
 * Output is kept and shown only when the process fails to come up.
 */
export async function spawnServer(
  args: string[],
  env: Env,
  readyPath: string,
  timeoutMs = 30_000,
): Promise<SpawnedProcess> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const started = performance.now();
  // A name set to undefined in `env` is taken out of the inherited environment.
  const merged = Object.entries({ ...process.env, ...env, PORT: String(port) });
  const child = spawn(process.execPath, args, {
    env: Object.fromEntries(merged.filter((entry): entry is [string, string] => entry[1] !== undefined)),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString('utf8')).slice(-4_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${args.join(' ')} exited (${child.exitCode}):\n${output}`);
    if (performance.now() - started > timeoutMs) {
      child.kill('SIGKILL');
      throw new Error(`${args.join(' ')} did not answer ${readyPath} in ${timeoutMs} ms:\n${output}`);
    }
    const status = await fetch(`${url}${readyPath}`, { signal: AbortSignal.timeout(1_000) }).then(
      async (response) => {
        await response.arrayBuffer();
        return response.status;
      },
      () => 0,
    );
    if (status === 200) break;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  const startMs = performance.now() - started;
  return {
    child,
    url,
    startMs,
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/**
 * The bot as `npm start` runs it: dist/src/app/main.js, built first when the sources are newer (as
 * `prestart` does). When the build fails, the sources through tsx, and `built` says so.
 */
export async function spawnBot(
  env: Env,
  readyPath = '/healthz',
): Promise<SpawnedProcess & { built: boolean }> {
  let built = true;
  try {
    await run(process.execPath, ['scripts/ensure-built.mjs'], { cwd: ROOT });
  } catch {
    built = existsSync(join(ROOT, 'dist/src/app/main.js'));
  }
  // BENCH_CPU_PROF=<dir> writes a .cpuprofile of the bot there when it stops.
  const profile = process.env.BENCH_CPU_PROF
    ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`]
    : [];
  // BENCH_BOT_NODE_FLAGS="--max-old-space-size=96" passes V8 flags to the bot alone.
  const flags = (process.env.BENCH_BOT_NODE_FLAGS ?? '').split(' ').filter(Boolean);
  const args = [
    ...profile,
    ...flags,
    ...(built ? [join(ROOT, 'dist/src/app/main.js')] : [...TSX, join(ROOT, 'src/app/main.ts')]),
  ];
  return { ...(await spawnServer(args, env, readyPath)), built };
}
