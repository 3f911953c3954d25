/**
 * Intake at scale: applications sheets of 1,000, 10,000 and 100,000 rows, 100 of them new at each
 * poll. The older rows are what a long-running bot has behind it: each row is already seen and has
 * its application record (decided, a few still pending with their cards), written straight into
 * Redis. The poll runs in a child process (bench/intake-poller.ts) built from the bot's own settings
 * against the fake Sheets and Slack servers here, so its CPU time and RSS are the intake's alone.
 */

import { type ChildProcess, fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import type { ApplicationRecord, ApplicationState } from '../src/domain/applications/store.js';
import { headerNames, mapColumns } from '../src/domain/intake/columns.js';
import { parseRow } from '../src/domain/intake/parse.js';
import { PinHasher } from '../src/domain/setpass/pin.js';
import { keys } from '../src/platform/keys.js';
import { HEADER } from '../test/domain/intake/fixtures.js';
import { TEST_ADMIN_CHANNEL, testEnv } from '../test/support/bot.js';
import { type SheetsFake, startSheetsFake } from '../test/support/sheets-fake.js';
import { type SlackFake, startSlackFake } from '../test/support/slack-fake.js';
import type { PollCost, PollerAnswer, PollerRequest } from './intake-poller.js';
import { type BenchResult, check, mb, median, round } from './stats.js';
import {
  APPLICATIONS_TAB,
  applicantRow,
  applicationsSheet,
  type BenchContext,
  benchPrefix,
  deletePrefix,
  NEVER,
  TSX,
} from './world.js';

/** BENCH_INTAKE_SIZES=100000 runs one size, e.g. for a profile. */
const SIZES = (process.env.BENCH_INTAKE_SIZES ?? '1000,10000,100000').split(',').map(Number);
const NEW_PER_POLL = 100;
const MEASURED_POLLS = 3;
/** Applications still waiting for a decision among the old rows, whatever the sheet's size. */
const PENDING = 20;

interface SizeFigures {
  rows: number;
  /** The poller's RSS at rest, before its first poll. */
  readyRssBytes: number;
  /** A poll with nothing new: reading and checking every row. */
  idle: PollCost;
  /** Polls with 100 new rows each. */
  polls: { cost: PollCost; sheetsCalls: number; sheetsReads: number; slackPosts: number }[];
  pinHashing: { cpuMs: number; wallMs: number };
  /** A poll with nothing new that reads the whole tab (no header known). */
  wholeTab: PollCost;
}

export async function intakeBench(context: BenchContext): Promise<BenchResult> {
  const [sheets, slack] = await Promise.all([startSheetsFake(), startSlackFake()]);
  const results: SizeFigures[] = [];
  try {
    for (const size of SIZES) results.push(await measureSize(context, sheets, slack, size));
  } finally {
    await Promise.allSettled([sheets.close(), slack.close()]);
  }
  return report(results);
}

async function measureSize(
  context: BenchContext,
  sheets: SheetsFake,
  slack: SlackFake,
  size: number,
): Promise<SizeFigures> {
  const prefix = benchPrefix(`intake-${size}`);
  const tag = prefix.split(':')[2] ?? 'x';
  // Rows taken in long ago have an empty PIN cell: the bot blanked it when it took them in
  // (SHEET_CLEAR_PIN, on by default).
  const oldRows = Array.from({ length: size - NEW_PER_POLL }, (_, n) =>
    applicantRow(`${tag}o`, n, { pin: '' }),
  );
  const batches = Array.from({ length: MEASURED_POLLS }, (_, poll) =>
    Array.from({ length: NEW_PER_POLL }, (_, n) => applicantRow(`${tag}n${poll}`, n)),
  );
  await seedDecided(context.redisUrl, prefix, oldRows);
  sheets.setTab(APPLICATIONS_TAB, applicationsSheet(oldRows));

  const poller = await startPoller(
    testEnv({
      REDIS_URL: context.redisUrl,
      REDIS_KEY_PREFIX: prefix,
      SLACK_API_URL: `${slack.url}/api/`,
      SLACK_ADMIN_CHANNEL: TEST_ADMIN_CHANNEL,
      GOOGLE_SHEETS_API_URL: `${sheets.url}/`,
      GOOGLE_APPLICATION_CREDENTIALS: sheets.keyFile,
      GOOGLE_SHEET_ID: sheets.spreadsheetId,
      SHEET_POLL_CRON: NEVER,
    }),
  );
  try {
    // The first poll warms up the process (lazy loads, JIT); the second is the one measured.
    await poller.poll();
    const idle = await poller.poll();
    const polls: SizeFigures['polls'] = [];
    for (const [index, batch] of batches.entries()) {
      // The sheet keeps its size: the oldest 100 rows go (deleted by hand), 100 new ones come.
      const kept = oldRows.slice(NEW_PER_POLL * index);
      sheets.setTab(
        APPLICATIONS_TAB,
        applicationsSheet([...kept, ...batches.slice(0, index).flat(), ...batch]),
      );
      sheets.calls.length = 0;
      const postsBefore = slack.calls('chat.postMessage').length;
      const cost = await poller.poll();
      polls.push({
        cost,
        sheetsCalls: sheets.calls.length,
        sheetsReads: sheets.calls.filter(
          (call) => call.operation === 'values.get' || call.operation === 'values.batchGet',
        ).length,
        slackPosts: slack.calls('chat.postMessage').length - postsBefore,
      });
    }
    const pinHashing = await poller.hashPins(NEW_PER_POLL);
    // Last, as it leaves memory behind: a poll that reads the whole tab, as the first poll of a new
    // deployment and the first after the header changed do (here: the stored header forgotten).
    const redis = new Redis(context.redisUrl, { keyPrefix: prefix });
    await redis.del(keys.sheetHeader()).finally(() => redis.disconnect());
    sheets.calls.length = 0;
    const wholeTab = await poller.poll();
    const wholeTabReads = sheets.calls.filter((call) => call.operation === 'values.get').length;
    if (wholeTabReads !== 1) throw new Error(`the whole-tab poll made ${wholeTabReads} values.get`);
    return { rows: size, readyRssBytes: poller.readyRssBytes, idle, polls, pinHashing, wholeTab };
  } finally {
    await poller.stop();
    await deletePrefix(context.redisUrl, prefix);
  }
}

/**
 * Writes what the bot keeps for rows it took in long ago: the seen mark and the application record,
 * mostly approved and notified, every tenth rejected, and a few still pending with their card.
 */
async function seedDecided(redisUrl: string, prefix: string, rows: readonly string[][]): Promise<void> {
  const names = headerNames();
  const mapped = mapColumns(HEADER, names);
  if (!mapped.ok) throw new Error('the fixture header does not map');
  const pinHash = new PinHasher(randomBytes(32)).hash('1234');
  const redis = new Redis(redisUrl, { keyPrefix: prefix });
  try {
    const now = Date.now();
    for (let start = 0; start < rows.length; start += 5_000) {
      const pipeline = redis.pipeline();
      rows.slice(start, start + 5_000).forEach((cells, offset) => {
        const n = start + offset;
        // The record was made from the row as it was, PIN included.
        const typed = cells.map((cell, column) => (column === mapped.columns.pin ? '1234' : cell));
        const parsed = parseRow(typed, n + 2, mapped.columns, names, HEADER.length);
        if (parsed.kind !== 'applicant') throw new Error(`seed row ${n} is not an applicant`);
        const state: ApplicationState = n < PENDING ? 'pending' : n % 10 === 0 ? 'rejected' : 'notified';
        const at = new Date(now - (rows.length - n) * 60_000).toISOString();
        const record: ApplicationRecord = {
          id: parsed.applicant.id,
          state,
          applicant: parsed.applicant,
          pinHash,
          quota: { kind: 'preset', preset: 'small' },
          card: { channel: TEST_ADMIN_CHANNEL, ts: `${Math.floor(now / 1000) - n}.000100` },
          notes: [],
          checkpoints: state === 'notified' ? { project: `p${n}`, user: `u${n}`, email: 'sent' } : {},
          decidedBy: state === 'pending' ? undefined : 'U0BENCHADMIN',
          decidedAt: state === 'pending' ? undefined : at,
          rejectReason: state === 'rejected' ? 'Not eligible' : undefined,
          failure: undefined,
          origin: state === 'notified' ? { project: 'created', user: 'created' } : undefined,
          createdAt: at,
          updatedAt: at,
        };
        pipeline.set(keys.application(record.id), JSON.stringify(record));
        pipeline.zadd(keys.applicationIndex(), Date.parse(at), record.id);
        pipeline.set(keys.sheetSeen(record.id), at);
        if (state === 'pending') pipeline.zadd(keys.applicationPending(), Date.parse(at), record.id);
      });
      await pipeline.exec();
    }
    // A bot that has polled this sheet before knows its header and keeps its pending set.
    await redis.set(keys.sheetHeader(), JSON.stringify(HEADER));
    await redis.set(keys.applicationPendingBuilt(), new Date(now).toISOString());
  } finally {
    redis.disconnect();
  }
}

interface Poller {
  readyRssBytes: number;
  poll(): Promise<PollCost>;
  hashPins(count: number): Promise<{ cpuMs: number; wallMs: number }>;
  stop(): Promise<void>;
}

async function startPoller(env: Record<string, string | undefined>): Promise<Poller> {
  const child: ChildProcess = fork(fileURLToPath(new URL('./intake-poller.ts', import.meta.url)), {
    // BENCH_CPU_PROF=<dir> writes a .cpuprofile of the poller there (open it in Chrome DevTools).
    execArgv: [
      ...TSX,
      '--expose-gc',
      ...(process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : []),
    ],
    env: { ...process.env, ...env },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const next = (): Promise<PollerAnswer> =>
    new Promise((resolve, reject) => {
      const onExit = (code: number | null) => reject(new Error(`the intake poller exited (${code})`));
      child.once('exit', onExit);
      child.once('message', (message: PollerAnswer) => {
        child.off('exit', onExit);
        if (message.kind === 'failed') reject(new Error(`intake poller: ${message.message}`));
        else resolve(message);
      });
    });
  const ask = async (request: PollerRequest): Promise<PollerAnswer> => {
    const answer = next();
    child.send(request);
    return answer;
  };
  const ready = await next();
  return {
    readyRssBytes: ready.kind === 'ready' ? ready.rssBytes : Number.NaN,
    async poll() {
      const answer = await ask({ kind: 'poll' });
      if (answer.kind !== 'polled') throw new Error(`intake poller answered ${answer.kind}`);
      return answer.cost;
    },
    async hashPins(count) {
      const answer = await ask({ kind: 'hash-pins', count });
      if (answer.kind !== 'hashed') throw new Error(`intake poller answered ${answer.kind}`);
      return { cpuMs: answer.cpuMs, wallMs: answer.wallMs };
    },
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.send({ kind: 'exit' } satisfies PollerRequest);
      await exited;
    },
  };
}

/** What a poll needs on top of the process at rest: its peak over the RSS before the first poll. */
const extraRss = (size: SizeFigures, cost: PollCost): number => cost.peakRssBytes - size.readyRssBytes;

function report(sizes: SizeFigures[]): BenchResult {
  const figures: BenchResult['figures'] = {};
  for (const size of sizes) {
    const cpu = size.polls.map((poll) => poll.cost.cpuMs);
    figures[`rows_${size.rows}`] = {
      cpu_ms_per_poll: round(median(cpu)),
      wall_ms_per_poll: round(median(size.polls.map((poll) => poll.cost.wallMs))),
      extra_rss_mb_per_poll: mb(Math.max(...size.polls.map((poll) => extraRss(size, poll.cost)))),
      sheets_calls_per_poll: Math.max(...size.polls.map((poll) => poll.sheetsCalls)),
      sheets_reads_per_poll: Math.max(...size.polls.map((poll) => poll.sheetsReads)),
      slack_posts_per_poll: Math.max(...size.polls.map((poll) => poll.slackPosts)),
      new_per_poll: Math.max(...size.polls.map((poll) => poll.cost.counts.new)),
      pin_hashing_cpu_ms_for_100: round(size.pinHashing.cpuMs),
      cpu_ms_without_pin_hashing: round(median(cpu) - size.pinHashing.cpuMs),
      idle_poll_cpu_ms: round(size.idle.cpuMs),
      idle_poll_extra_rss_mb: mb(extraRss(size, size.idle)),
      /** What earlier polls left resident: the RSS at rest (after a full GC) before each measured poll. */
      rest_rss_mb_before_polls: size.polls
        .map((poll) => mb(poll.cost.rssBeforeBytes - size.readyRssBytes))
        .join(' / '),
      extra_rss_mb_polls: size.polls.map((poll) => mb(extraRss(size, poll.cost))).join(' / '),
      whole_tab_poll_cpu_ms: round(size.wholeTab.cpuMs),
      whole_tab_poll_extra_rss_mb: mb(extraRss(size, size.wholeTab)),
    };
  }
  const largest = sizes.at(-1);
  if (largest === undefined) throw new Error('intake: no sizes measured');
  const middle = sizes.at(-2) ?? largest;
  const cpuLargest = median(largest.polls.map((poll) => poll.cost.cpuMs));
  const rssLargest = Math.max(...largest.polls.map((poll) => extraRss(largest, poll.cost)));
  const perRow = (size: SizeFigures) => size.idle.cpuMs / size.rows;
  const growth = perRow(largest) / perRow(middle);
  const allPolls = sizes.flatMap((size) => size.polls);
  const maxReads = Math.max(...allPolls.map((poll) => poll.sheetsReads));
  const atMostTwoReads = maxReads <= 2;
  const postsAreNew = allPolls.every(
    (poll) => poll.slackPosts === NEW_PER_POLL && poll.cost.counts.new === NEW_PER_POLL,
  );
  const pinCpu = largest.pinHashing.cpuMs;
  figures.idle_cpu_per_row_growth_10k_to_100k = round(growth, 2);

  return {
    name: 'intake',
    title: 'Intake at scale',
    figures,
    checks: [
      check(
        'at most 2 Sheets reads per poll',
        `${maxReads} read(s) per poll (${Math.max(...allPolls.map((poll) => poll.sheetsCalls))} Sheets call(s) with the PIN blanking)`,
        atMostTwoReads,
      ),
      check(
        `Slack posts = new rows only (${NEW_PER_POLL})`,
        `${Math.min(...allPolls.map((poll) => poll.slackPosts))}–${Math.max(...allPolls.map((poll) => poll.slackPosts))} posts per poll`,
        postsAreNew,
      ),
      check(
        '100,000 rows: CPU ≤ 1,000 ms per poll',
        `${round(cpuLargest, 0)} ms (of which ${round(pinCpu, 0)} ms hashing the 100 new PINs)`,
        cpuLargest <= 1_000,
        cpuLargest,
      ),
      check(
        '100,000 rows: extra RSS ≤ 150 MB per poll',
        `${mb(rssLargest)} MB`,
        rssLargest <= 150 * 1024 * 1024,
        mb(rssLargest),
      ),
      check(
        'cost linear in rows (CPU per row of a poll with nothing new, 100,000 vs 10,000: ≤ 1.5×)',
        `${round(growth, 2)}×`,
        growth <= 1.5,
        growth,
      ),
    ],
    notes: [
      `Each sheet has N rows at every poll: N − ${NEW_PER_POLL} seen before (seen mark + application record in Redis, ${PENDING} of them pending with a card) and ${NEW_PER_POLL} new; polls are measured ${MEASURED_POLLS} times per size (median CPU, highest RSS).`,
      "CPU is user + system time of the poller process, all threads. Extra RSS is the peak during a poll (Linux VmHWM, reset before each poll) over the poller's RSS at rest before its first poll, with every client already built.",
      `Hashing the 100 new PINs alone (HMAC-SHA256 keyed from SETPASS_SECRET, the same calls one after another) costs ${round(pinCpu, 0)} ms CPU on this machine: a fixed cost per new row, whatever the sheet's size. "cpu_ms_without_pin_hashing" is the rest: reading, parsing and checking the rows, storing and posting the 100 applications.`,
      'A poll with nothing new ("idle_poll_*") is the scan alone; its CPU per row is what the linearity check compares.',
      'A poll reads the header and the Timestamp, Email and PIN columns (one values.batchGet), then only the rows not seen before (a second one). The seeded state is that of a bot that has polled the sheet before: its header and pending set are in Redis.',
      '"whole_tab_poll_*": one more poll at the end with the stored header forgotten, so it reads the whole tab in one values.get, as the first poll of a new deployment and the first after the header changed do. Not a target; measured last because it leaves memory behind.',
    ],
  };
}
