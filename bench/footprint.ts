/**
 * Footprint: start-up time of the built bot (`node dist/src/app/main.js`, as `npm start` runs it) to a
 * healthy `/healthz` (Redis and Keystone checked), its RSS at rest after start, and its RSS at rest
 * after approvals clicked through Slack and provisioned against the real Keystone.
 *
 * The approvals are existing Keystone users joining an existing project (four Keystone calls each,
 * no user created), clicked a few at a time so the one-threaded test Keystone keeps up.
 */
import { readFileSync } from 'node:fs';
import { Redis } from 'ioredis';
import type { ApplicationStore } from '../src/domain/applications/store.js';
import { keys } from '../src/platform/keys.js';
import { TEST_SIGNING_SECRET } from '../test/support/bot.js';
import { sendBlockAction } from '../test/support/slack-sign.js';
import { APPLICANT_ACTIONS } from '../views/applicant-card.js';
import { type BenchResult, check, mb, median, pooled, round, since } from './stats.js';
import {
  ADMIN,
  APPLICATIONS_TAB,
  applicationsSheet,
  type BenchContext,
  failureReasons,
  joinRow,
  postCards,
  rssOf,
  spawnBot,
  startJoinBench,
  storeApplications,
} from './world.js';

const TARGET_APPROVALS = 1_000;
/** Approvals run; fewer than 1,000 (for a quick look) leaves the target undecided. */
const APPROVALS = Number(process.env.BENCH_FOOTPRINT_APPROVALS ?? 1_000);
const STARTS = 3;
const CONCURRENT_CLICKS = 4;
/** Approvals between two RSS readings. */
const STEP = 100;
/** Quiet time before an RSS reading "at rest". */
const SETTLE_MS = 3_000;
/**
 * Time at rest after the approvals, the schedules running: `footprint` rests 120 s (enough for a
 * poll and for V8 to collect), `footprint-hour` the hour the issue asks of a long-running bot.
 */
const REST_S = 120;
/** "At rest": this long without a click. V8's memory reducer collects about 30 s into a quiet spell. */
const AT_REST_S = 60;
/** RSS readings over the rest: every 10-15 s up to `AT_REST_S`, then this many spread to its end. */
const LATER_READINGS = 12;
/**
 * The schedules as a deployed bot runs them, the reminders more often than their daily defaults so
 * that an idle period of an hour sees them run: the poll every 2 minutes (its default) over the
 * sheet of all the approved rows, the user and admin reminders every 10 minutes over the approved
 * users and the pending set, housekeeping hourly (its default).
 */
const SCHEDULES = {
  SHEET_POLL_CRON: '*/2 * * * *',
  REMINDER_CRON: '*/10 * * * *',
  ADMIN_REMINDER_CRON: '5-59/10 * * * *',
  HOUSEKEEPING_CRON: '7 * * * *',
};
/** How much the RSS may move over the idle period and still count as flat. */
const FLAT_MB = 10;

const settle = () => new Promise((resolve) => setTimeout(resolve, SETTLE_MS));

/**
 * The bot's resident memory in parts: anonymous (heap, malloc) and file-backed (code, ICU data)
 * from /proc, and the V8 heap and memory held outside it (Buffers, native) from the bot's own
 * /metrics (prom-client's default process metrics).
 */
async function memoryParts(pid: number, url: string): Promise<Record<string, number>> {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (name: string) =>
    Number(status.match(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm'))?.[1] ?? Number.NaN);
  const parts: Record<string, number> = {
    rss_anon: round(kb('RssAnon') / 1024, 1),
    rss_file: round(kb('RssFile') / 1024, 1),
  };
  try {
    const text = await (await fetch(`${url}/metrics`)).text();
    const metric = (name: string) =>
      Number(text.match(new RegExp(`^${name}(?:\\{[^}]*\\})? ([0-9.e+]+)$`, 'm'))?.[1] ?? Number.NaN);
    parts.v8_heap_total = mb(metric('nodejs_heap_size_total_bytes'));
    parts.v8_heap_used = mb(metric('nodejs_heap_size_used_bytes'));
    parts.external = mb(metric('nodejs_external_memory_bytes'));
  } catch {
    // No /metrics on this role: the /proc parts still tell heap-and-malloc from files.
  }
  return parts;
}

/** The seconds into the rest at which RSS is read. */
function restReadings(restS: number): number[] {
  const early = [10, 20, 30, 45, AT_REST_S].filter((seconds) => seconds <= restS);
  const step = (restS - AT_REST_S) / LATER_READINGS;
  const later =
    step > 0 ? Array.from({ length: LATER_READINGS }, (_, n) => Math.round(AT_REST_S + step * (n + 1))) : [];
  return [...early, ...later];
}

export function footprintBench(context: BenchContext): Promise<BenchResult> {
  return measureFootprint(context, 'footprint', REST_S);
}

/** `footprint` with an hour at rest after the approvals (one run; `npm run bench -- footprint-hour`). */
export function footprintHourBench(context: BenchContext): Promise<BenchResult> {
  return measureFootprint(context, 'footprint-hour', 3_600);
}

async function measureFootprint(context: BenchContext, name: string, restS: number): Promise<BenchResult> {
  const bench = await startJoinBench(context, 'foot', 20);
  const { world, tag, store, members, stops } = bench;
  const env = { ...bench.env, ...SCHEDULES };
  // The sheet the poll reads: the header alone until the applications are stored and marked seen.
  world.sheets.setTab(APPLICATIONS_TAB, applicationsSheet([]));
  const marks = new Redis(context.redisUrl, { keyPrefix: bench.prefix });
  try {
    // Start-up: spawn to a 200 from /healthz, a few times; the last bot stays up.
    const startTimes: number[] = [];
    let bot: Awaited<ReturnType<typeof spawnBot>> | undefined;
    for (let i = 0; i < STARTS; i++) {
      if (bot) await bot.stop();
      bot = await spawnBot(env);
      startTimes.push(bot.startMs);
    }
    if (!bot?.child.pid) throw new Error('the bot did not start');
    const running = bot;
    stops.push(running.stop);
    const pid = running.child.pid ?? 0;
    const health = await (await fetch(`${running.url}/healthz`)).json();
    await settle();
    const idleRss = rssOf(pid);
    const idleParts = await memoryParts(pid, running.url);

    const rows = Array.from({ length: APPROVALS }, (_, n) => joinRow(tag, n, members, n));
    const ids = await storeApplications(store, rows);
    // As the poll leaves rows it took in: seen, so each poll reads the tab and finds nothing new.
    for (let at = 0; at < ids.length; at += 500) {
      const batch = marks.pipeline();
      for (const id of ids.slice(at, at + 500)) batch.set(keys.sheetSeen(id), '1');
      await batch.exec();
    }
    world.sheets.setTab(APPLICATIONS_TAB, applicationsSheet(rows));
    const cards = await postCards(world, store, env, ids);
    // In steps, reading the RSS at rest after each, so the trend (not one reading) is extrapolated.
    const series: { approvals: number; rssBytes: number }[] = [{ approvals: 0, rssBytes: idleRss }];
    const statuses: number[] = [];
    const started = performance.now();
    let lastStepEnded = started;
    for (let done = 0; done < cards.length; done += STEP) {
      const step = cards.slice(done, done + STEP);
      statuses.push(
        ...(await pooled(step, CONCURRENT_CLICKS, async (card) => {
          const reply = await sendBlockAction(`${running.url}/slack/events`, TEST_SIGNING_SECRET, {
            user: ADMIN,
            actionId: APPLICANT_ACTIONS.approve,
            value: card.id,
            message: { channel: card.channel, ts: card.ts, blocks: card.blocks },
          });
          // Each lane waits for its approval's provisioning: the test Keystone serves one request at a time.
          await waitUntilDecided(store, card.id);
          return reply.status;
        })),
      );
      lastStepEnded = performance.now();
      await settle();
      series.push({ approvals: done + step.length, rssBytes: rssOf(pid) });
    }
    const approvalsMs = since(started) - SETTLE_MS * series.length;
    const records = await Promise.all(ids.map((id) => store.get(id)));
    const provisioned = records.filter((r) => r?.state === 'provisioned' || r?.state === 'notified').length;
    const failures = await failureReasons(store, ids);
    const afterParts = await memoryParts(pid, running.url);
    // At rest with the schedules running: RSS readings over the rest, counted from the last click's end.
    const restStarted = lastStepEnded;
    const restSeries: { seconds: number; rssBytes: number }[] = [
      { seconds: SETTLE_MS / 1000, rssBytes: series.at(-1)?.rssBytes ?? idleRss },
    ];
    const sheetsCallsBefore = world.sheets.calls.length;
    const slackCallsBefore = world.slack.calls().length;
    for (const seconds of restReadings(restS)) {
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, seconds * 1000 - since(restStarted))));
      restSeries.push({ seconds, rssBytes: rssOf(pid) });
    }
    const restedParts = await memoryParts(pid, running.url);
    const restSheetsCalls = world.sheets.calls.length - sheetsCallsBefore;
    const restSlackCalls = world.slack.calls().length - slackCallsBefore;
    const afterRestRss = restSeries.at(-1)?.rssBytes ?? Number.NaN;
    // At rest: the reading `AT_REST_S` after the last click; flat: no later reading above it by more than FLAT_MB.
    const atRestRss = restSeries.find((point) => point.seconds === AT_REST_S)?.rssBytes ?? afterRestRss;
    const laterValues = restSeries
      .filter((point) => point.seconds >= AT_REST_S)
      .map((point) => point.rssBytes);
    const restGrowth = Math.max(...laterValues) - atRestRss;
    const afterRss = series.at(-1)?.rssBytes ?? idleRss;
    const ranAll = APPROVALS >= TARGET_APPROVALS;
    const startMs = median(startTimes);
    const mbOf = (bytes: number) => `${mb(bytes)} MB`;

    return {
      name,
      title: name === 'footprint' ? 'Footprint' : 'Footprint over an hour at rest',
      figures: {
        start_ms_median: round(startMs, 0),
        start_ms_each: startTimes.map((ms) => round(ms, 0)).join(', '),
        healthz: JSON.stringify(health),
        idle_rss_mb: mb(idleRss),
        approvals_run: APPROVALS,
        approvals_provisioned: provisioned,
        approvals_answered_200: statuses.filter((status) => status === 200).length,
        approvals_s: round(approvalsMs / 1000, 1),
        /** Read 3 s after each step's last click: the heap still holds that work's garbage. */
        rss_mb_by_approvals: Object.fromEntries(
          series.map((point) => [String(point.approvals), mb(point.rssBytes)]),
        ),
        rss_3s_after_approvals_mb: mb(afterRss),
        rss_at_rest_after_approvals_mb: mb(atRestRss),
        rest_s: restS,
        /** Seconds since the last click's answer → RSS (MB). */
        rss_mb_at_rest_by_seconds: Object.fromEntries(
          restSeries.map((point) => [String(point.seconds), mb(point.rssBytes)]),
        ),
        rss_after_rest_mb: mb(afterRestRss),
        rss_growth_at_rest_mb: mb(restGrowth),
        bot_entry: running.built ? 'dist/src/app/main.js' : 'src/app/main.ts (tsx; the build failed)',
        /** Where the resident memory is: at rest after start, 3 s after the approvals, after the rest (MB). */
        memory_after_start_mb: idleParts,
        memory_3s_after_approvals_mb: afterParts,
        memory_after_rest_mb: restedParts,
        /** What the schedules did while the bot was at rest: Sheets calls (polls) and Slack calls. */
        rest_sheets_calls: restSheetsCalls,
        rest_slack_calls: restSlackCalls,
        schedules: JSON.stringify(SCHEDULES),
        /** glibc's arena cap as the bot ran (inherited from the benchmark's environment). */
        malloc_arena_max: process.env.MALLOC_ARENA_MAX ?? 'unset',
        bot_node_flags: process.env.BENCH_BOT_NODE_FLAGS ?? '',
      },
      checks: [
        check(
          'start to a healthy /healthz ≤ 2 s',
          `${round(startMs, 0)} ms (median of ${STARTS})`,
          startMs <= 2_000,
          startMs,
        ),
        check('RSS at rest after start ≤ 150 MB', mbOf(idleRss), idleRss <= 150 * 1024 * 1024, mb(idleRss)),
        check(
          `RSS at rest after ${TARGET_APPROVALS} approvals (${AT_REST_S} s after the last) ≤ 150 MB`,
          `${mbOf(atRestRss)} after ${APPROVALS} approvals (3 s after the last: ${mbOf(afterRss)}, V8 not yet collected)`,
          ranAll && atRestRss <= 150 * 1024 * 1024,
          mb(atRestRss),
        ),
        check(
          `flat afterwards: ${restS} s at rest with the schedules running, no reading more than ${FLAT_MB} MB above it`,
          `${mbOf(afterRestRss)} after ${restS} s, at most ${mbOf(restGrowth)} above; ${restSheetsCalls} Sheets calls meanwhile`,
          restGrowth <= FLAT_MB * 1024 * 1024 && restSheetsCalls > 0,
          mb(restGrowth),
        ),
        check('every approval provisioned', `${provisioned}/${APPROVALS}`, provisioned === APPROVALS),
      ],
      notes: [
        `Start-up: from spawning \`node ${running.built ? 'dist/src/app/main.js' : '--import tsx src/app/main.ts'}\` to the first 200 from /healthz (polled every 10 ms), which checks Redis and Keystone; Slack (the fake) answers auth.test during start-up. Median of ${STARTS} starts.`,
        `RSS is VmRSS from /proc. ${APPROVALS} approvals were run (${CONCURRENT_CLICKS} at a time, each click waiting for its provisioning): Approve click through /slack/events, provisioning against the real Keystone, card redraws, the added-to-project email over SMTP and the sheet rows; RSS read ${SETTLE_MS / 1000} s after each ${STEP}. Then ${restS} s with no click, the schedules running (${Object.entries(
          SCHEDULES,
        )
          .map(([key, value]) => `${key}=${value}`)
          .join(', ')}), over a sheet holding every approved row (seen, as the poll leaves them).`,
        ...(ranAll
          ? []
          : [
              `Only ${APPROVALS} approvals were run (BENCH_FOOTPRINT_APPROVALS): the ${TARGET_APPROVALS}-approval target is not decided by this run.`,
            ]),
        ...(failures.length > 0 ? [`Failed approvals, by reason: ${failures.join(' | ')}`] : []),
      ],
    };
  } finally {
    marks.disconnect();
    await bench.close();
  }
}

async function waitUntilDecided(store: ApplicationStore, id: string): Promise<void> {
  const deadline = performance.now() + 60_000;
  while (performance.now() < deadline) {
    const state = (await store.get(id))?.state;
    if (state !== 'approving' && state !== 'pending') return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
