/**
 * Property-based fuzzing of the HTTP surface, over raw TCP so malformed bytes really reach the
 * server: random and mutated request lines, every target form (origin, absolute, authority,
 * asterisk), percent-escapes valid and broken, headers, query strings and bodies, against a bot in
 * each role (`all` as a real child process, `bot` and `setpass` in this process). Properties: no
 * answer is a 5xx or shows a stack trace or a source path; the processes stay up and healthy; and
 * nothing an unauthenticated request may not change has changed: Redis under each bot's prefix
 * (failure budgets aside) and the Keystone user the requests aim at.
 */
import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type RunningKaizen, startKaizen } from '../../src/app/start.js';
import { type Env, loadConfig } from '../../src/platform/config/config.js';
import { keys } from '../../src/platform/keys.js';
import { silentLogger } from '../../src/platform/log.js';
import { passwordWorks } from '../domain/setpass/helpers.js';
import { adminClient, newMember } from '../keystone/fixtures.js';
import { keystoneEnv, startTestBot, type TestBot, testEnv, uniquePrefix } from '../support/bot.js';
import { type BotProcess, BotProcesses } from '../support/bot-process.js';
import { dumpRedis } from '../support/redis-dump.js';
import { type SlackFake, startSlackFake } from '../support/slack-fake.js';
import { fuzzParameters, fuzzRuns, fuzzTimeout, reportCases } from './fuzz-settings.js';
import { LEAK, type RawAnswer, sendRaw } from './raw-http.js';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
/** Budgets of wrong links per address and user: counting failures is what they are for. */
const MAY_CHANGE = /^setpass:limit:/;
/** Requests per role in CI; each is one TCP connection to a local server. */
const RUNS = fuzzRuns(250);

const processes = new BotProcesses();
let slack: SlackFake;
let child: BotProcess;
let bot: TestBot;
let page: RunningKaizen;
let inspector: Redis;
let member: Awaited<ReturnType<typeof newMember>>;

interface Target {
  role: string;
  port: () => number;
  prefix: string;
  alive: () => boolean;
}
let targets: Target[] = [];

beforeAll(async () => {
  slack = await startSlackFake();
  const keystone = keystoneEnv(inject('keystone'));
  member = await newMember(adminClient());
  const base: Env = {
    ...keystone,
    PUBLIC_URL: 'https://register.kaizen.test',
    SLACK_API_URL: `${slack.url}/api/`,
  };
  const allEnv = testEnv({ ...base, LOG_LEVEL: 'info', REDIS_KEY_PREFIX: uniquePrefix('fuzz-all') });
  const botEnv = testEnv({ ...base, KAIZEN_ROLE: 'bot', REDIS_KEY_PREFIX: uniquePrefix('fuzz-bot') });
  const pageEnv: Env = {
    KAIZEN_ROLE: 'setpass',
    PORT: '0',
    HOST: '127.0.0.1',
    REDIS_URL,
    REDIS_KEY_PREFIX: uniquePrefix('fuzz-setpass'),
    SETPASS_SECRET: randomBytes(32).toString('base64'),
    PUBLIC_URL: 'https://register.kaizen.test',
    OS_AUTH_URL: keystone.OS_AUTH_URL,
  };
  [child, bot, page] = await Promise.all([
    processes.start(allEnv),
    startTestBot(botEnv),
    startKaizen(loadConfig(pageEnv), { log: silentLogger }),
  ]);
  inspector = new Redis(REDIS_URL);
  targets = [
    {
      role: 'all',
      port: () => Number(new URL(child.url).port),
      prefix: allEnv.REDIS_KEY_PREFIX!,
      alive: () => child.alive,
    },
    { role: 'bot', port: () => bot.bot.port, prefix: botEnv.REDIS_KEY_PREFIX!, alive: () => true },
    { role: 'setpass', port: () => page.port, prefix: pageEnv.REDIS_KEY_PREFIX!, alive: () => true },
  ];
}, 120_000);

afterAll(async () => {
  inspector?.disconnect();
  await processes.killAll();
  await Promise.allSettled([bot?.stop(), page?.stop()]);
  await slack?.close();
});

// ── Generators ────────────────────────────────────────────────────────────────────────────────

const percentEscape = fc.oneof(
  fc.constantFrom(
    '%FF',
    '%ZZ',
    '%',
    '%F',
    '%E0%A4%A',
    '%C0%AF',
    '%00',
    '%2F',
    '%25',
    '%0D%0A',
    '%uD800',
    '%ED%A0%80',
  ),
  fc.integer({ min: 0, max: 255 }).map((byte) => `%${byte.toString(16).padStart(2, '0').toUpperCase()}`),
);
const word = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      '',
      'token',
      'slack',
      'events',
      'healthz',
      'metrics',
      'assets',
      'setpass.css',
      'setpass.js',
      '.',
      '..',
    ),
  },
  { weight: 1, arbitrary: fc.string({ maxLength: 12 }) },
  { weight: 3, arbitrary: fc.stringMatching(/^[A-Za-z0-9._@-]{1,20}$/) },
);
const segment = fc.oneof(
  word,
  word,
  percentEscape,
  fc.tuple(word, percentEscape, word).map((parts) => parts.join('')),
  fc.constant('MEMBER'),
);
const knownPath = fc.constantFrom(
  '/',
  '/healthz',
  '/metrics',
  '/slack/events',
  '/assets/setpass.css',
  '/assets/setpass.js',
  '/token/MEMBER',
  '/forgot',
);
const path = fc.oneof(
  knownPath,
  fc.array(segment, { maxLength: 5 }).map((parts) => `/${parts.join('/')}`),
  fc.tuple(knownPath, segment).map(([known, extra]) => `${known}${extra}`),
);
const queryPart = fc.tuple(
  fc.oneof(
    fc.constantFrom(
      'token',
      'pin',
      'csrf',
      'password',
      'confirm_password',
      'name',
      'create_app_credential',
      '',
    ),
    word,
    percentEscape,
  ),
  fc.oneof(word, percentEscape, fc.string({ maxLength: 60 })),
);
const query = fc.oneof(
  fc.constant(''),
  fc.array(queryPart, { maxLength: 4 }).map((parts) => `?${parts.map(([k, v]) => `${k}=${v}`).join('&')}`),
  fc.string({ maxLength: 30 }).map((text) => `?${text}`),
);
const host = fc.constantFrom(
  'kaizen.test',
  'localhost',
  '127.0.0.1:80',
  '[::1]',
  '[',
  'a:b',
  '',
  'x:99999',
  'user:pw@x',
);
const target = fc.oneof(
  { weight: 6, arbitrary: fc.tuple(path, query).map(([p, q]) => `${p}${q}`) },
  {
    weight: 2,
    arbitrary: fc
      .tuple(fc.constantFrom('http', 'https', 'HTTP', 'ftp', 'file', 'x'), host, path, query)
      .map(([scheme, h, p, q]) => `${scheme}://${h}${p}${q}`),
  },
  {
    weight: 1,
    arbitrary: fc.tuple(host, fc.integer({ min: 0, max: 70_000 })).map(([h, port]) => `${h}:${port}`),
  },
  { weight: 1, arbitrary: fc.constantFrom('*', '**', '*/healthz') },
  {
    weight: 1,
    arbitrary: fc.tuple(fc.constantFrom('//', '///', '/\\'), path).map(([lead, p]) => `${lead}${p}`),
  },
  { weight: 1, arbitrary: fc.string({ maxLength: 40, unit: 'binary' }) },
);
const method = fc.oneof(
  { weight: 8, arbitrary: fc.constantFrom('GET', 'POST', 'PUT', 'HEAD', 'DELETE', 'OPTIONS') },
  { weight: 1, arbitrary: fc.constantFrom('PATCH', 'TRACE', 'CONNECT', 'PROPFIND', 'get', 'PURGE') },
  { weight: 1, arbitrary: fc.string({ maxLength: 10 }) },
);
const version = fc.oneof(
  { weight: 8, arbitrary: fc.constant('HTTP/1.1') },
  { weight: 2, arbitrary: fc.constantFrom('HTTP/1.0', 'HTTP/2', 'HTTP/1.1x', 'HTTP/9.9', '', 'http/1.1') },
);
const body = fc.oneof(
  fc.constant(''),
  fc.json({ maxDepth: 3 }),
  fc
    .record(
      { password: fc.string({ maxLength: 40 }), pin: fc.string({ maxLength: 6 }) },
      { requiredKeys: [] },
    )
    .map((value) => JSON.stringify(value)),
  fc.array(queryPart, { maxLength: 6 }).map((parts) => parts.map(([k, v]) => `${k}=${v}`).join('&')),
  fc.string({ maxLength: 200, unit: 'binary' }),
  fc.integer({ min: 8_000, max: 20_000 }).map((size) => 'x'.repeat(size)),
);
const headerValue = fc.oneof(
  { weight: 6, arbitrary: word },
  { weight: 2, arbitrary: percentEscape },
  { weight: 2, arbitrary: fc.string({ maxLength: 40 }) },
  { weight: 1, arbitrary: fc.string({ maxLength: 20, unit: 'binary' }) },
);
const header = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.tuple(
      fc.constantFrom(
        'content-type',
        'x-auth-token',
        'x-slack-signature',
        'x-slack-request-timestamp',
        'x-forwarded-for',
        'x-forwarded-proto',
        'cookie',
        'accept',
        'expect',
        'upgrade',
        'range',
        'if-none-match',
      ),
      headerValue,
    ),
  },
  {
    weight: 4,
    arbitrary: fc.tuple(
      fc.constant('content-type'),
      fc.constantFrom(
        'application/json',
        'application/x-www-form-urlencoded',
        'text/plain',
        'multipart/form-data; boundary=x',
        '',
      ),
    ),
  },
  { weight: 1, arbitrary: fc.tuple(fc.string({ maxLength: 12 }), headerValue) },
);
/** One byte-level edit of the whole request: what a broken client or a hostile one sends. */
const mutation = fc.record({
  at: fc.nat(),
  drop: fc.integer({ min: 0, max: 3 }),
  insert: fc.oneof(
    fc.constantFrom('\r', '\n', '\r\n', '\0', ' ', '%', '\x7f', ':', '\t'),
    fc.uint8Array({ minLength: 1, maxLength: 3 }).map((bytes) => Buffer.from(bytes).toString('latin1')),
  ),
});

const request = fc.record({
  method,
  target,
  version,
  headers: fc.array(header, { maxLength: 5 }),
  body,
  host: fc.oneof({ weight: 9, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
  length: fc.constantFrom('exact', 'exact', 'exact', 'none', 'less', 'chunked'),
  mutations: fc.oneof(
    { weight: 3, arbitrary: fc.constant([]) },
    { weight: 1, arbitrary: fc.array(mutation, { minLength: 1, maxLength: 3 }) },
  ),
});
type FuzzRequest = typeof request extends fc.Arbitrary<infer T> ? T : never;

/** The request as bytes on the wire; MEMBER becomes the id of the Keystone user the fuzz aims at. */
function wire(input: FuzzRequest): Buffer {
  const aim = (text: string) => text.replaceAll('MEMBER', member.user.id);
  const bodyBytes = Buffer.from(input.body, 'utf8');
  const lines = [`${aim(input.method)} ${aim(input.target)} ${input.version}`.trimEnd()];
  if (input.host) lines.push('Host: kaizen.test');
  for (const [name, value] of input.headers) lines.push(`${name}: ${value}`);
  let payload = bodyBytes;
  if (input.length === 'exact') lines.push(`Content-Length: ${bodyBytes.length}`);
  if (input.length === 'less') lines.push(`Content-Length: ${Math.floor(bodyBytes.length / 2)}`);
  if (input.length === 'chunked') {
    lines.push('Transfer-Encoding: chunked');
    payload = Buffer.concat([
      Buffer.from(bodyBytes.length > 0 ? `${bodyBytes.length.toString(16)}\r\n` : ''),
      bodyBytes,
      Buffer.from(bodyBytes.length > 0 ? '\r\n0\r\n\r\n' : '0\r\n\r\n'),
    ]);
  }
  lines.push('Connection: close');
  let bytes = Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'utf8'), payload]);
  for (const edit of input.mutations) {
    const at = edit.at % (bytes.length + 1);
    bytes = Buffer.concat([
      bytes.subarray(0, at),
      Buffer.from(edit.insert, 'latin1'),
      bytes.subarray(at + edit.drop),
    ]);
  }
  return bytes;
}

/** A 503 is allowed from one place only: /healthz telling that a dependency was slow to answer. */
function degradedHealth(answer: RawAnswer): boolean {
  if (answer.status !== 503) return false;
  try {
    return (JSON.parse(answer.body) as { status?: string }).status === 'degraded';
  } catch {
    return false;
  }
}

async function snapshot(prefix: string): Promise<Map<string, string>> {
  const stored = await dumpRedis(inspector, prefix);
  return new Map([...stored].filter(([key]) => !MAY_CHANGE.test(key.slice(prefix.length))));
}

describe('HTTP fuzzing, raw TCP', () => {
  it(
    `answers ${RUNS} random and mutated requests per role without a 5xx, a stack trace or a change`,
    async () => {
      // The bot side makes its events stream just after it starts listening: wait for it, so the
      // snapshot before the fuzz is the settled state.
      for (const t of targets.filter((each) => each.role !== 'setpass')) {
        await expect.poll(() => inspector.exists(`${t.prefix}${keys.events()}`), { timeout: 10_000 }).toBe(1);
      }
      const before = new Map(
        await Promise.all(targets.map(async (t) => [t.role, await snapshot(t.prefix)] as const)),
      );
      const statuses = new Map<string, number>();
      let cases = 0;
      for (const t of targets) {
        await fc.assert(
          fc.asyncProperty(request, async (input) => {
            cases += 1;
            const answer = await sendRaw(t.port(), wire(input), 2_000);
            const key = String(answer.status ?? 'none');
            statuses.set(key, (statuses.get(key) ?? 0) + 1);
            expect(
              answer.status === undefined || answer.status < 500 || degradedHealth(answer),
              answer.text,
            ).toBe(true);
            expect(answer.text).not.toMatch(LEAK);
            expect(t.alive()).toBe(true);
          }),
          fuzzParameters(RUNS),
        );
      }
      reportCases(
        'HTTP requests over raw TCP (all, bot, setpass roles)',
        cases,
        `answers ${[...statuses]
          .sort()
          .map(([status, count]) => `${status}×${count}`)
          .join(' ')}`,
      );

      // Still up, still healthy, and nothing changed that an unauthenticated request may not change.
      expect(child.alive, child.output().slice(-2_000)).toBe(true);
      for (const t of targets) {
        const health = await fetch(`http://127.0.0.1:${t.port()}/healthz`);
        expect(health.status, t.role).toBe(200);
        expect(await snapshot(t.prefix), t.role).toEqual(before.get(t.role));
        expect(await inspector.exists(`${t.prefix}setpass:user:{setpass}:${member.user.id}`), t.role).toBe(0);
      }
      expect(await passwordWorks(adminClient(), member.user.id, member.password)).toBe(true);
      expect(child.output()).not.toMatch(/\n\s+at /);
    },
    fuzzTimeout(RUNS * 3, 30),
  );
});
