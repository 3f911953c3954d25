/**
 * Footprint: start-up time of the built bot (`node dist/src/app/main.js`, as `npm start` runs it) to a
 * healthy `/healthz` (Redis and Keystone checked), its RSS at rest after start, and its RSS at rest
 * after approvals clicked through Slack and provisioned against the real Keystone.
 *
 * The approvals are existing Keystone users joining an existing project (four Keystone calls each,
 * no user created), clicked a few at a time so the one-threaded test Keystone keeps up.
 */
import { readFileSync } from 'node:fs';
import type { ApplicationStore } from '../src/domain/applications/store.js';
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
/** Approvals actually run; the RSS after 1,000 is extrapolated from these when fewer. */
const APPROVALS = Number(process.env.BENCH_FOOTPRINT_APPROVALS ?? 1_000);
const STARTS = 3;
const CONCURRENT_CLICKS = 4;
/** Approvals between two RSS readings. */
const STEP = 100;
/** Quiet time before an RSS reading "at rest". */
const SETTLE_MS = 3_000;

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

export async function footprintBench(context: BenchContext): Promise<BenchResult> {
  const bench = await startJoinBench(context, 'foot', 20);
  const { world, tag, store, members, env, stops } = bench;
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
    world.sheets.setTab(APPLICATIONS_TAB, applicationsSheet(rows));
    const ids = await storeApplications(store, rows);
    const cards = await postCards(world, store, env, ids);
    // In steps, reading the RSS at rest after each, so the trend (not one reading) is extrapolated.
    const series: { approvals: number; rssBytes: number }[] = [{ approvals: 0, rssBytes: idleRss }];
    const statuses: number[] = [];
    const started = performance.now();
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
      await settle();
      series.push({ approvals: done + step.length, rssBytes: rssOf(pid) });
    }
    const approvalsMs = since(started) - SETTLE_MS * series.length;
    const records = await Promise.all(ids.map((id) => store.get(id)));
    const provisioned = records.filter((r) => r?.state === 'provisioned' || r?.state === 'notified').length;
    const failures = await failureReasons(store, ids);
    const afterParts = await memoryParts(pid, running.url);
    const last = series.at(-1) ?? { approvals: 0, rssBytes: idleRss };
    const before = series.at(-2) ?? last;
    const afterRss = last.rssBytes;
    // The growth per approval over the last step: the first steps include the heap's one-off growth.
    const slope =
      last.approvals > before.approvals
        ? Math.max(0, (last.rssBytes - before.rssBytes) / (last.approvals - before.approvals))
        : 0;
    const extrapolated = APPROVALS < TARGET_APPROVALS;
    const after1000 = extrapolated ? afterRss + slope * (TARGET_APPROVALS - APPROVALS) : afterRss;
    const startMs = median(startTimes);

    return {
      name: 'footprint',
      title: 'Footprint',
      figures: {
        start_ms_median: round(startMs, 0),
        start_ms_each: startTimes.map((ms) => round(ms, 0)).join(', '),
        healthz: JSON.stringify(health),
        idle_rss_mb: mb(idleRss),
        approvals_run: APPROVALS,
        approvals_provisioned: provisioned,
        approvals_answered_200: statuses.filter((status) => status === 200).length,
        approvals_s: round(approvalsMs / 1000, 1),
        rss_after_approvals_mb: mb(afterRss),
        rss_mb_by_approvals: Object.fromEntries(
          series.map((point) => [String(point.approvals), mb(point.rssBytes)]),
        ),
        rss_growth_kb_per_approval_last_step: round(slope / 1024, 1),
        rss_after_1000_approvals_mb: mb(after1000),
        rss_after_1000_extrapolated: extrapolated,
        bot_entry: running.built ? 'dist/src/app/main.js' : 'src/app/main.ts (tsx; the build failed)',
        /** Where the resident memory is, at rest after start and after the approvals (MB). */
        memory_after_start_mb: idleParts,
        memory_after_approvals_mb: afterParts,
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
        check(
          'idle RSS after start ≤ 150 MB',
          `${mb(idleRss)} MB`,
          idleRss <= 150 * 1024 * 1024,
          mb(idleRss),
        ),
        check(
          `idle RSS after ${TARGET_APPROVALS} approvals ≤ 150 MB`,
          extrapolated
            ? `${mb(after1000)} MB (extrapolated: ${mb(afterRss)} MB after ${APPROVALS})`
            : `${mb(afterRss)} MB`,
          after1000 <= 150 * 1024 * 1024,
          mb(after1000),
        ),
        check('every approval provisioned', `${provisioned}/${APPROVALS}`, provisioned === APPROVALS),
      ],
      notes: [
        `Start-up: from spawning \`node ${running.built ? 'dist/src/app/main.js' : '--import tsx src/app/main.ts'}\` to the first 200 from /healthz (polled every 10 ms), which checks Redis and Keystone; Slack (the fake) answers auth.test during start-up. Median of ${STARTS} starts.`,
        `RSS is VmRSS from /proc, read after ${SETTLE_MS / 1000} s without requests. ${APPROVALS} approvals were run (${CONCURRENT_CLICKS} at a time, each click waiting for its provisioning): Approve click through /slack/events, provisioning against the real Keystone, card redraws, the added-to-project email over SMTP and the sheet rows.`,
        extrapolated
          ? `1,000 real approvals take too long against the test Keystone here (${round(approvalsMs / APPROVALS, 0)} ms each, Keystone-bound), so ${APPROVALS} were run and the RSS after 1,000 is extrapolated: the RSS after ${APPROVALS} plus the growth per approval over the last ${STEP} (${round(slope / 1024, 1)} KB) times the approvals still missing. The early steps grow faster (the heap's one-off growth), so the last step is the fairer slope.`
          : `All ${TARGET_APPROVALS} approvals were run.`,
        ...(failures.length > 0 ? [`Failed approvals, by reason: ${failures.join(' | ')}`] : []),
      ],
    };
  } finally {
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
