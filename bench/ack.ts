/**
 * Slack ack latency: signed Approve clicks, each on its own applicant's card, to the bot in HTTP
 * mode running as its own process (as `npm start` runs it). The baseline, in the same run and the
 * same way: a bare Bolt app whose listener only acks, compiled to JavaScript and run on node as the
 * bot is (dist/bench/baselines.js, not under tsx). Three loads, each on both:
 * - lone clicks: one at a time, each after the last one's provisioning ended (nothing else running);
 * - clicks at a fixed rate (BENCH_ACK_RATE per second), each sent on its tick whatever the answers;
 * - a burst: all 200 sent at once, where the p99 is the time to drain the queue.
 * Provisioning goes on after each ack against the real Keystone; the benchmark waits for it between
 * loads, and counts how it ended.
 *
 * The applicants are existing Keystone users asking to join an existing project, so that the
 * background provisionings end within the benchmark's time on a one-threaded test Keystone; the
 * new-user path is what the provisioning benchmark measures.
 */
import type { ApplicationStore } from '../src/domain/applications/store.js';
import { TEST_BOT_TOKEN, TEST_SIGNING_SECRET } from '../test/support/bot.js';
import { sendBlockAction } from '../test/support/slack-sign.js';
import { APPLICANT_ACTIONS } from '../views/applicant-card.js';
import { type BenchResult, check, percentile, pooled, round, since } from './stats.js';
import {
  ADMIN,
  APPLICATIONS_TAB,
  applicationsSheet,
  type BenchContext,
  type Card,
  compiledBaselines,
  cpuMsOf,
  failureReasons,
  joinRow,
  postCards,
  type SpawnedProcess,
  spawnBot,
  spawnServer,
  startJoinBench,
  storeApplications,
} from './world.js';

const CLICKS = 200;
const WARM_UP = 20;
/** Clicks sent one at a time, each after the last one's provisioning ended: what a lone click costs. */
const LONE = 20;
/** Clicks at a fixed rate: as many as the burst, at BENCH_ACK_RATE per second. */
const RATE_PER_S = Number(process.env.BENCH_ACK_RATE ?? 50);
/** How long the background provisioning may take before the benchmark stops waiting. */
const PROVISION_WAIT_MS = Number(process.env.BENCH_ACK_WAIT_S ?? 180) * 1000;
const OUTSIDER = 'U0BENCHOUTSIDER';

interface Clicks {
  ms: number[];
  statuses: number[];
  /** CPU time of the server process (all its threads) from the first click sent to the last answer. */
  cpuMs: number;
}

function click(url: string, card: Card, user: string): Promise<{ ms: number; status: number }> {
  const started = performance.now();
  return sendBlockAction(url, TEST_SIGNING_SECRET, {
    user,
    actionId: APPLICANT_ACTIONS.approve,
    value: card.id,
    message: { channel: card.channel, ts: card.ts, blocks: card.blocks },
  }).then((reply) => ({ ms: since(started), status: reply.status }));
}

async function measured(
  server: SpawnedProcess,
  send: () => Promise<{ ms: number; status: number }[]>,
): Promise<Clicks> {
  const cpuBefore = cpuOf(server);
  const results = await send();
  return {
    ms: results.map((r) => r.ms),
    statuses: results.map((r) => r.status),
    cpuMs: cpuOf(server) - cpuBefore,
  };
}

/** Every click at once; each one's time is from sending to its full HTTP response. */
function burst(server: SpawnedProcess, cards: readonly Card[], user: string): Promise<Clicks> {
  const url = `${server.url}/slack/events`;
  return measured(server, () => pooled(cards, cards.length, (card) => click(url, card, user)));
}

/** One click every 1/`perSecond` s, on schedule, whether or not the earlier ones were answered. */
function atRate(server: SpawnedProcess, cards: readonly Card[], perSecond: number): Promise<Clicks> {
  const url = `${server.url}/slack/events`;
  const interval = 1000 / perSecond;
  return measured(server, () => {
    const start = performance.now();
    return Promise.all(
      cards.map(async (card, n) => {
        const due = start + n * interval;
        const wait = due - performance.now();
        if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
        return click(url, card, ADMIN);
      }),
    );
  });
}

/** One click at a time, each after `settle` (the last one's background work) has ended. */
function oneByOne(
  server: SpawnedProcess,
  cards: readonly Card[],
  settle: (card: Card) => Promise<unknown>,
): Promise<{ ms: number[]; statuses: number[] }> {
  const url = `${server.url}/slack/events`;
  return pooled(cards, 1, async (card) => {
    const answer = await click(url, card, ADMIN);
    await settle(card);
    return answer;
  }).then((results) => ({ ms: results.map((r) => r.ms), statuses: results.map((r) => r.status) }));
}

const ms = (values: readonly number[], p: number) => round(percentile(values, p), 1);
const perClick = (clicks: Clicks) => clicks.cpuMs / Math.max(1, clicks.ms.length);

function latency(clicks: { ms: number[] }) {
  return { p50_ms: ms(clicks.ms, 50), p99_ms: ms(clicks.ms, 99), max_ms: round(Math.max(...clicks.ms), 1) };
}

export async function ackBench(context: BenchContext): Promise<BenchResult> {
  const bench = await startJoinBench(context, 'ack', 50);
  const { world, tag, store, members, env, stops } = bench;
  try {
    const rows = Array.from({ length: LONE + 2 * CLICKS }, (_, n) => joinRow(tag, n, members, n));
    world.sheets.setTab(APPLICATIONS_TAB, applicationsSheet(rows));
    const all = await postCards(world, store, env, await storeApplications(store, rows));
    const lone = all.slice(0, LONE);
    const steady = all.slice(LONE, LONE + CLICKS);
    const cards = all.slice(LONE + CLICKS);

    const baseline = await spawnServer(
      [compiledBaselines(), 'bolt'],
      {
        SLACK_SIGNING_SECRET: TEST_SIGNING_SECRET,
        SLACK_BOT_TOKEN: TEST_BOT_TOKEN,
        SLACK_API_URL: env.SLACK_API_URL,
      },
      '/ready',
    );
    stops.push(baseline.stop);
    const bot = await spawnBot(env);
    stops.push(bot.stop);

    // Warm both up (JIT, connection pools): the bot with clicks from a non-admin, which change nothing.
    await burst(baseline, cards.slice(0, WARM_UP), ADMIN);
    await burst(bot, cards.slice(0, WARM_UP), OUTSIDER);

    const bareLone = await oneByOne(baseline, lone, async () => undefined);
    const realLone = await oneByOne(bot, lone, (card) => waitForProvisioning(store, [card]));

    const bareRate = await atRate(baseline, steady, RATE_PER_S);
    const realRate = await atRate(bot, steady, RATE_PER_S);
    const rateEnded = await waitForProvisioning(store, steady);

    const bare = await burst(baseline, cards, ADMIN);
    const clicked = performance.now();
    const real = await burst(bot, cards, ADMIN);
    const ackedAt = since(clicked);
    const atAck = await states(store, cards);
    const ended = await waitForProvisioning(store, cards);
    const endedAt = since(clicked);
    const final = await states(store, cards);
    const failures = await failureReasons(
      store,
      all.map((card) => card.id),
    );
    const finalOfAll = await states(store, all);

    const p50 = percentile(real.ms, 50);
    const p99 = percentile(real.ms, 99);
    const baseP99 = percentile(bare.ms, 99);
    const ratio = p99 / baseP99;
    const ok = [...real.statuses, ...realRate.statuses, ...realLone.statuses].filter(
      (status) => status === 200,
    ).length;
    const sent = real.statuses.length + realRate.statuses.length + realLone.statuses.length;
    const finished = (final.provisioned ?? 0) + (final.notified ?? 0);
    const finishedOfAll = (finalOfAll.provisioned ?? 0) + (finalOfAll.notified ?? 0);
    const stillRunningAtAck = (atAck.approving ?? 0) > 0;
    const cpuRatio = perClick(real) / perClick(bare);

    return {
      name: 'ack',
      title: 'Slack ack latency',
      figures: {
        burst: {
          clicks: CLICKS,
          ...latency(real),
          baseline: latency(bare),
          p99_over_baseline: round(ratio, 2),
          bot_cpu_ms_per_click: round(perClick(real), 2),
          baseline_cpu_ms_per_click: round(perClick(bare), 2),
          cpu_per_click_over_baseline: round(cpuRatio, 2),
          all_acked_after_ms: round(ackedAt, 0),
          states_when_all_acked: atAck,
          provisioning_ended_after_ms: round(endedAt, 0),
          states_at_end: final,
        },
        fixed_rate: {
          clicks: CLICKS,
          clicks_per_s: RATE_PER_S,
          ...latency(realRate),
          baseline: latency(bareRate),
          p99_over_baseline: round(percentile(realRate.ms, 99) / percentile(bareRate.ms, 99), 2),
          bot_cpu_ms_per_click: round(perClick(realRate), 2),
          baseline_cpu_ms_per_click: round(perClick(bareRate), 2),
          cpu_per_click_over_baseline: round(perClick(realRate) / perClick(bareRate), 2),
        },
        lone: {
          clicks: LONE,
          ...latency(realLone),
          baseline: latency(bareLone),
          p50_over_baseline: round(percentile(realLone.ms, 50) / percentile(bareLone.ms, 50), 2),
        },
        http_200: ok,
        states_at_end_all_loads: finalOfAll,
        bot_entry: bot.built ? 'dist/src/app/main.js' : 'src/app/main.ts (tsx; the build failed)',
        baseline_entry: 'dist/bench/baselines.js bolt',
      },
      checks: [
        check(
          'burst of 200: p99 ≤ 1.5× the bare Bolt app’s p99 under the same burst',
          `${round(p99, 1)} vs ${round(baseP99, 1)} ms = ${round(ratio, 2)}×`,
          ratio <= 1.5,
          ratio,
        ),
        check(
          'burst of 200: p99 ≤ 100 ms',
          `p99 ${round(p99, 1)} ms (p50 ${round(p50, 1)} ms)`,
          p99 <= 100,
          p99,
        ),
        check('every click answered 200', `${ok}/${sent}`, ok === sent),
        check(
          'provisioning continues after the ack, and ends',
          `${atAck.approving ?? 0} of the burst approving when all were acked; ${finished}/${CLICKS} provisioned ${ended ? 'after' : 'within the wait of'} ${round(endedAt / 1000, 1)} s; ${finishedOfAll}/${all.length} over the three loads`,
          stillRunningAtAck && ended && rateEnded && finishedOfAll === all.length,
        ),
      ],
      notes: [
        `Approve clicks by an admin, each on its own applicant's card, signed and sent from this process to the bot process (${bot.built ? 'dist/src/app/main.js' : 'tsx src/app/main.ts'}) and to the baseline (dist/bench/baselines.js bolt, compiled the same way: node on JavaScript, no tsx); the time is from sending to the full HTTP response. Each load goes to the baseline first, then the bot.`,
        `Loads: ${LONE} lone clicks (the bot's each after the last one's provisioning ended); ${CLICKS} at ${RATE_PER_S} per second; ${CLICKS} at once (the burst; its p50 and p99 measure a queue draining). CPU per click is the server process's CPU time (user + system, /proc, 10 ms ticks) from the first click sent to the last answer, over the clicks: for the bot it includes the background work (card redraws, provisioning) that ran in that window.`,
        `Both are warmed up first with ${WARM_UP} clicks (the bot's by a non-admin, which changes nothing).`,
        'With processBeforeResponse, Bolt writes the answer when the listener settles: for the bot, after the replay check, the admin check and the atomic approving transition with its audit line (Redis round trips). The first card redraw ("approving by …") and the provisioning run start on the event loop’s next turn (setImmediate), so they follow the answer; every redraw of the approval (the first, four at a time, and the one after each step) first waits until no Slack request is being answered (at most 1 s).',
        'The applicants are existing Keystone users joining an existing project (no user created, no password link, no quotas), so that the background work ends within the benchmark on the test Keystone (one process, one thread).',
        ...(failures.length > 0 ? [`Failed approvals, by reason: ${failures.join(' | ')}`] : []),
      ],
    };
  } finally {
    await bench.close();
  }
}

function cpuOf(server: SpawnedProcess): number {
  return server.child.pid === undefined ? Number.NaN : cpuMsOf(server.child.pid);
}

async function states(store: ApplicationStore, cards: readonly Card[]): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const card of cards) {
    const state = (await store.get(card.id))?.state ?? 'missing';
    counts[state] = (counts[state] ?? 0) + 1;
  }
  return counts;
}

/** Waits until no application is still approving; answers false when the wait ran out first. */
async function waitForProvisioning(store: ApplicationStore, cards: readonly Card[]): Promise<boolean> {
  const deadline = performance.now() + PROVISION_WAIT_MS;
  while (performance.now() < deadline) {
    if (((await states(store, cards)).approving ?? 0) === 0) return true;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  return false;
}
