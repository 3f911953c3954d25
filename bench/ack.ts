/**
 * Slack ack latency: 200 signed Approve clicks on 200 distinct applicants, all sent at once, to the
 * bot in HTTP mode running as its own process (as `npm start` runs it). The baseline, in the same
 * run and the same way: a bare Bolt app whose listener only acks. Provisioning goes on after each
 * ack against the real Keystone; the benchmark waits for it and counts how it ended.
 *
 * The applicants are existing Keystone users asking to join an existing project, so that the 200
 * background provisionings end within the benchmark's time on a one-threaded test Keystone; the
 * new-user path is what the provisioning benchmark measures.
 */
import { fileURLToPath } from 'node:url';
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
  cpuMsOf,
  failureReasons,
  joinRow,
  postCards,
  spawnBot,
  spawnServer,
  startJoinBench,
  storeApplications,
  TSX,
} from './world.js';

const CLICKS = 200;
const WARM_UP = 20;
/** Clicks sent one after another, before the burst: what a lone click costs. */
const LONE = 20;
/** How long the background provisioning may take before the benchmark stops waiting. */
const PROVISION_WAIT_MS = Number(process.env.BENCH_ACK_WAIT_S ?? 180) * 1000;
const OUTSIDER = 'U0BENCHOUTSIDER';

/**
 * Sends every click at once (with `oneByOne`, each after the last was answered); answers each
 * one's HTTP status and time to the full response.
 */
async function burst(
  url: string,
  cards: readonly Card[],
  user: string,
  oneByOne = false,
): Promise<{ ms: number[]; statuses: number[] }> {
  const results = await pooled(cards, oneByOne ? 1 : cards.length, async (card) => {
    const started = performance.now();
    const reply = await sendBlockAction(url, TEST_SIGNING_SECRET, {
      user,
      actionId: APPLICANT_ACTIONS.approve,
      value: card.id,
      message: { channel: card.channel, ts: card.ts, blocks: card.blocks },
    });
    return { ms: since(started), status: reply.status };
  });
  return { ms: results.map((r) => r.ms), statuses: results.map((r) => r.status) };
}

export async function ackBench(context: BenchContext): Promise<BenchResult> {
  const bench = await startJoinBench(context, 'ack', 50);
  const { world, tag, store, members, env, stops } = bench;
  try {
    const rows = Array.from({ length: LONE + CLICKS }, (_, n) => joinRow(tag, n, members, n));
    world.sheets.setTab(APPLICATIONS_TAB, applicationsSheet(rows));
    const all = await postCards(world, store, env, await storeApplications(store, rows));
    const lone = all.slice(0, LONE);
    const cards = all.slice(LONE);

    const baseline = await spawnServer(
      [...TSX, fileURLToPath(new URL('./baselines.ts', import.meta.url)), 'bolt'],
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
    await burst(`${baseline.url}/slack/events`, cards.slice(0, WARM_UP), ADMIN);
    await burst(`${bot.url}/slack/events`, cards.slice(0, WARM_UP), OUTSIDER);

    const bareLone = await burst(`${baseline.url}/slack/events`, lone, ADMIN, true);
    const realLone = await burst(`${bot.url}/slack/events`, lone, ADMIN, true);
    await waitForProvisioning(store, lone);

    const baseCpu = cpuOf(baseline);
    const bare = await burst(`${baseline.url}/slack/events`, cards, ADMIN);
    const baseCpuMs = cpuOf(baseline) - baseCpu;
    const botCpu = cpuOf(bot);
    const clicked = performance.now();
    const real = await burst(`${bot.url}/slack/events`, cards, ADMIN);
    const ackedAt = since(clicked);
    const botCpuMs = cpuOf(bot) - botCpu;
    const atAck = await states(store, cards);
    const ended = await waitForProvisioning(store, cards);
    const endedAt = since(clicked);
    const final = await states(store, cards);
    const failures = await failureReasons(
      store,
      cards.map((card) => card.id),
    );

    const p50 = percentile(real.ms, 50);
    const p99 = percentile(real.ms, 99);
    const baseP50 = percentile(bare.ms, 50);
    const baseP99 = percentile(bare.ms, 99);
    const ok = real.statuses.filter((status) => status === 200).length;
    const finished = (final.provisioned ?? 0) + (final.notified ?? 0);
    const stillRunningAtAck = (atAck.approving ?? 0) > 0;

    return {
      name: 'ack',
      title: 'Slack ack latency',
      figures: {
        clicks: CLICKS,
        http_200: ok,
        p50_ms: round(p50, 1),
        p99_ms: round(p99, 1),
        max_ms: round(Math.max(...real.ms), 1),
        baseline_p50_ms: round(baseP50, 1),
        baseline_p99_ms: round(baseP99, 1),
        p99_over_baseline: round(p99 / baseP99, 2),
        bot_cpu_ms_per_click: round(botCpuMs / CLICKS, 2),
        baseline_cpu_ms_per_click: round(baseCpuMs / CLICKS, 2),
        lone_click_p50_ms: round(percentile(realLone.ms, 50), 1),
        lone_click_baseline_p50_ms: round(percentile(bareLone.ms, 50), 1),
        states_when_all_acked: atAck,
        states_at_end: final,
        all_acked_after_ms: round(ackedAt, 0),
        provisioning_ended_after_ms: round(endedAt, 0),
        bot_entry: bot.built ? 'dist/src/app/main.js' : 'src/app/main.ts (tsx; the build failed)',
      },
      checks: [
        check('every click answered 200', `${ok}/${CLICKS}`, ok === CLICKS),
        check('p99 ≤ 100 ms', `p99 ${round(p99, 1)} ms (p50 ${round(p50, 1)} ms)`, p99 <= 100, p99),
        check(
          'p99 ≤ 2× the bare Bolt app’s p99',
          `${round(p99, 1)} vs ${round(baseP99, 1)} ms = ${round(p99 / baseP99, 2)}×`,
          p99 <= 2 * baseP99,
          p99 / baseP99,
        ),
        check(
          'provisioning continues after the ack',
          `${atAck.approving ?? 0} approving when all were acked; ${finished}/${CLICKS} provisioned ${ended ? 'after' : 'within the wait of'} ${round(endedAt / 1000, 1)} s`,
          stillRunningAtAck && finished === CLICKS,
        ),
      ],
      notes: [
        `${CLICKS} Approve clicks by an admin, each on its own applicant's card, signed and sent at once from this process to the bot process (${bot.built ? 'dist/src/app/main.js' : 'tsx src/app/main.ts'}); the time is from sending to the full HTTP response. The baseline gets the same ${CLICKS} clicks the same way, just before.`,
        `Both are warmed up first with ${WARM_UP} clicks (the bot's by a non-admin, which changes nothing).`,
        'With processBeforeResponse, the bot answers after its listener: the atomic approving transition, the audit line and the card redrawn through chat.update (to the Slack fake here); provisioning then runs in the background.',
        'The applicants are existing Keystone users joining an existing project (no user created, no password link, no quotas), so that the background work ends within the benchmark on the test Keystone (one process, one thread).',
        ...(failures.length > 0 ? [`Failed approvals, by reason: ${failures.join(' | ')}`] : []),
      ],
    };
  } finally {
    await bench.close();
  }
}

function cpuOf(server: { child: { pid?: number | undefined } }): number {
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
