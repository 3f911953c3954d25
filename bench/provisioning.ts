/**
 * Provisioning against the real Keystone: 100 approvals run one after another through the approval
 * workflow (startApproval, then runProvisioning, as the Approve button does), each making a project
 * and a user, the member role, quotas (to the quota recorder in a Keystone region of the run's
 * own), a password link, the welcome email (to the test SMTP server) and the sheet rows. The floor
 * is the Keystone calls made times the median latency of one Keystone call, measured in the same run.
 */

import { closeServices, createServices } from '../src/app/services.js';
import type { ApplicationRecord } from '../src/domain/applications/store.js';
import { runProvisioning, startApproval } from '../src/domain/provision/approve.js';
import { loadConfig } from '../src/platform/config/config.js';
import { silentLogger } from '../src/platform/log.js';
import { type BenchResult, check, coveredMs, median, percentile, round, since } from './stats.js';
import {
  ADMIN,
  APPLICATIONS_TAB,
  applicantRow,
  applicationsSheet,
  type BenchContext,
  benchPrefix,
  deleteFromKeystone,
  deletePrefix,
  madeInKeystone,
  requireKeystone,
  startApprovalWorld,
  storeApplications,
} from './world.js';

const APPROVALS = Number(process.env.BENCH_APPROVALS ?? 100);
const PROBES = 50;

/** Time spent in HTTP calls by where they went, recorded by wrapping the global fetch. */
class CallTimer {
  readonly byTarget = new Map<string, number[]>();
  /** Keystone calls by kind: method, path with ids as `:id`, and the query's parameter names. */
  readonly byKind = new Map<string, number[]>();
  /** Every call made while an approval was marked current, for the per-approval timeline and floor. */
  readonly entries: CallEntry[] = [];
  /** The approval the calls now belong to (its index), and when it started. */
  current: { index: number; started: number } | undefined;
  private original: typeof fetch | undefined;

  constructor(private readonly targets: Record<string, string>) {}

  install(): void {
    const original = globalThis.fetch;
    this.original = original;
    globalThis.fetch = async (input, init) => {
      const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
      const target = Object.entries(this.targets).find(([, base]) => url.startsWith(base))?.[0];
      const started = performance.now();
      try {
        return await original(input, init);
      } finally {
        if (target !== undefined) {
          const ms = since(started);
          push(this.byTarget, target, ms);
          const kind =
            target === 'keystone'
              ? callKind(init?.method ?? 'GET', url)
              : `${init?.method ?? 'GET'} ${target === 'quotas' ? 'quota' : sheetsKind(url)}`;
          if (target === 'keystone') push(this.byKind, kind, ms);
          if (this.current !== undefined) {
            this.entries.push({
              approval: this.current.index,
              target,
              kind,
              startMs: started - this.current.started,
              ms,
            });
          }
        }
      }
    };
  }

  uninstall(): void {
    if (this.original) globalThis.fetch = this.original;
  }

  reset(): void {
    this.byTarget.clear();
    this.byKind.clear();
    this.entries.length = 0;
  }

  total(target: string): number {
    return (this.byTarget.get(target) ?? []).reduce((sum, ms) => sum + ms, 0);
  }
}

interface CallEntry {
  approval: number;
  target: string;
  kind: string;
  /** From the start of its approval. */
  startMs: number;
  ms: number;
}

/**
 * The floor of one approval: its calls as they ran (in sequence, or at once where the code makes
 * them at once), each costing the median latency of its kind in this run. Calls that overlap in
 * time count once, at the longest of their kinds' medians.
 */
function floorOf(calls: readonly CallEntry[], medianOf: (kind: string) => number): number {
  const sorted = [...calls].sort((a, b) => a.startMs - b.startMs);
  let floor = 0;
  let groupEnd = Number.NEGATIVE_INFINITY;
  let groupCost = 0;
  for (const call of sorted) {
    if (call.startMs >= groupEnd) {
      floor += groupCost;
      groupCost = 0;
    }
    groupCost = Math.max(groupCost, medianOf(call.kind));
    groupEnd = Math.max(groupEnd, call.startMs + call.ms);
  }
  return floor + groupCost;
}

/** Time inside at least one call, from the approval's start. */
function timeInCalls(calls: readonly CallEntry[]): number {
  return coveredMs(calls.map((call) => ({ start: call.startMs, ms: call.ms })));
}

function push(map: Map<string, number[]>, key: string, value: number): void {
  const list = map.get(key) ?? [];
  list.push(value);
  map.set(key, list);
}

/** `sheets values:append`: a Sheets call by what it does, without the range. */
function sheetsKind(url: string): string {
  const path = new URL(url).pathname;
  const action = /\/values(?::(\w+)|\/[^/]*?(?::(\w+))?)?$/.exec(path);
  if (action === null) return `sheets ${path.includes('/token') ? 'token' : 'spreadsheet'}`;
  return `sheets values${(action[1] ?? action[2]) ? `:${action[1] ?? action[2]}` : ''}`;
}

/** `GET /v3/users?domain_id&name__icontains`: the kind of a Keystone call, without ids or values. */
export function callKind(method: string, url: string): string {
  const parsed = new URL(url);
  const path = parsed.pathname.replace(/\/[0-9a-f]{32}(?=\/|$)/g, '/:id');
  const query = [...parsed.searchParams.keys()].sort().join('&');
  return `${method} ${path}${query ? `?${query}` : ''}`;
}

export async function provisioningBench(context: BenchContext): Promise<BenchResult> {
  const keystone = requireKeystone(context);
  const world = await startApprovalWorld(context, 'prov');
  const prefix = benchPrefix('prov');
  const tag = prefix.split(':')[2] ?? 'x';
  const timer = new CallTimer({
    keystone: keystone.authUrl.replace(/\/v3\/?$/, ''),
    quotas: world.recorder.url,
    sheets: world.sheets.url,
  });
  // Installed before the services are built: the Keystone client keeps the fetch it was given.
  timer.install();
  const config = loadConfig(world.env(prefix));
  const services = createServices(config, silentLogger);
  const records: (ApplicationRecord | undefined)[] = [];
  try {
    const { provision, applications, keystone: client } = services;
    if (!provision || !applications || !client) throw new Error('provisioning is off: check the settings');

    const rows = Array.from({ length: APPROVALS + 1 }, (_, n) => applicantRow(tag, n));
    world.sheets.setTab(APPLICATIONS_TAB, applicationsSheet(rows));
    const ids = await storeApplications(applications, rows);

    // One approval first: the admin token, the role and the catalog are fetched once per process.
    const [warmUp, ...measured] = ids;
    if (warmUp === undefined) throw new Error('no applications');
    records.push(await approve(warmUp));

    const probe = async () => {
      const latencies: number[] = [];
      for (let i = 0; i < PROBES; i++) {
        const started = performance.now();
        await client.findProjectByName(`bench-probe-${tag}-${i}`, config.keystone.domain);
        latencies.push(since(started));
      }
      return latencies;
    };
    const probeBefore = await probe();

    timer.reset();
    const requestsBefore = client.stats.requests;
    const tokensBefore = client.stats.tokenRequests;
    const mailsBefore = world.smtp.messages.length;
    const durations: number[] = [];
    const approved: (ApplicationRecord | undefined)[] = [];
    // Per step, when it ended from the approval's start (steps run in order, so the gaps are the steps).
    const stepEnds = new Map<string, number[]>();
    const provisionDeps = provision;
    const previousHooks = provisionDeps.hooks;
    provisionDeps.hooks = {
      ...previousHooks,
      afterStep: async (step) => {
        await previousHooks?.afterStep?.(step);
        if (timer.current !== undefined) push(stepEnds, step, performance.now() - timer.current.started);
      },
    };
    const cpuBefore = process.cpuUsage();
    const started = performance.now();
    for (const [index, id] of measured.entries()) {
      const one = performance.now();
      timer.current = { index, started: one };
      approved.push(await approve(id));
      timer.current = undefined;
      durations.push(since(one));
    }
    const cpu = process.cpuUsage(cpuBefore);
    provisionDeps.hooks = previousHooks;
    // Median time each step took: from the previous step's end to its own.
    const stepMs: Record<string, number> = {};
    let previousEnd: number[] = measured.map(() => 0);
    for (const [step, ends] of stepEnds) {
      if (ends.length !== measured.length) continue;
      stepMs[step] = round(median(ends.map((end, index) => end - (previousEnd[index] ?? 0))), 1);
      previousEnd = ends;
    }
    stepMs.after_last_step = round(median(durations.map((ms, index) => ms - (previousEnd[index] ?? 0))), 1);
    records.push(...approved);
    const wallMs = since(started);
    const calls = client.stats.requests - requestsBefore;
    const tokenCalls = client.stats.tokenRequests - tokensBefore;
    const keystoneMs = timer.total('keystone');
    const quotaMs = timer.total('quotas');
    // Copies: the probe below goes through the same timer.
    const keystoneLatencies = [...(timer.byTarget.get('keystone') ?? [])];
    const kinds = [...timer.byKind].map(([kind, list]) => [kind, [...list]] as const);
    const probeAfter = await probe();

    // The floor from this run's own calls: per kind, the median latency of that kind.
    const entries = [...timer.entries];
    const byKind = new Map<string, number[]>();
    for (const entry of entries) push(byKind, entry.kind, entry.ms);
    const kindMedian = new Map([...byKind].map(([kind, list]) => [kind, median(list)] as const));
    const medianOf = (kind: string) => kindMedian.get(kind) ?? 0;
    const perApprovalCalls = measured.map((_, index) => entries.filter((entry) => entry.approval === index));
    const floors = perApprovalCalls.map((calls) => floorOf(calls, medianOf));
    const kindFloorMs = floors.reduce((sum, ms) => sum + ms, 0);
    const kindRatio = wallMs / kindFloorMs;
    const inCalls = perApprovalCalls.map(timeInCalls);
    const outsideCalls = durations.map((ms, index) => ms - (inCalls[index] ?? 0));
    // The timeline of the approval whose duration is the median one.
    const order = durations.map((ms, index) => ({ ms, index })).sort((a, b) => a.ms - b.ms);
    const typical = order[Math.floor(order.length / 2)];
    const timeline = (typical === undefined ? [] : (perApprovalCalls[typical.index] ?? []))
      .sort((a, b) => a.startMs - b.startMs)
      .map((call) => `+${round(call.startMs, 0)} ms ${call.kind} ${round(call.ms, 1)} ms`);
    const cpuMsPerApproval = (cpu.user + cpu.system) / 1000 / measured.length;

    const done = approved.filter((record) => record?.state === 'provisioned' || record?.state === 'notified');
    const mails = world.smtp.messages.length - mailsBefore;
    const latency = median([...probeBefore, ...probeAfter]);
    const perApproval = calls / measured.length;
    const floorMs = calls * latency;
    const ratio = wallMs / floorMs;
    const failures = approved
      .filter((record) => record?.state === 'failed')
      .map((record) => `${record?.failure?.step}: ${record?.failure?.message}`);

    return {
      name: 'provisioning',
      title: 'Provisioning against the real Keystone',
      figures: {
        approvals: measured.length,
        provisioned: done.length,
        welcome_emails: mails,
        keystone_calls_per_approval: round(perApproval, 2),
        keystone_token_requests: tokenCalls,
        wall_ms: round(wallMs, 0),
        wall_ms_per_approval_p50: round(median(durations), 1),
        wall_ms_per_approval_p99: round(percentile(durations, 99), 1),
        keystone_median_latency_ms: round(latency, 2),
        floor_ms: round(floorMs, 0),
        wall_over_floor: round(ratio, 2),
        floor_by_kind_ms: round(kindFloorMs, 0),
        wall_over_floor_by_kind: round(kindRatio, 2),
        floor_by_kind_per_approval_ms: round(median(floors), 1),
        in_calls_ms_per_approval_p50: round(median(inCalls), 1),
        outside_calls_ms_per_approval_p50: round(median(outsideCalls), 1),
        process_cpu_ms_per_approval: round(cpuMsPerApproval, 1),
        timeline_of_median_approval: `${round(typical?.ms ?? 0, 0)} ms: ${timeline.join(' | ')}`,
        median_ms_by_step: stepMs,
        median_ms_by_kind: Object.fromEntries([...kindMedian].map(([kind, ms]) => [kind, round(ms, 1)])),
        time_in_keystone_calls_ms: round(keystoneMs, 0),
        keystone_call_latency_in_approvals_p50_ms: round(median(keystoneLatencies), 2),
        time_in_quota_calls_ms: round(quotaMs, 0),
        time_in_sheets_calls_ms: round(timer.total('sheets'), 0),
        /** Wall time of the approvals outside every timed call (calls made at once counted once). */
        time_elsewhere_ms: round(
          outsideCalls.reduce((sum, ms) => sum + ms, 0),
          0,
        ),
        keystone_calls_by_kind: Object.fromEntries(
          kinds.map(([kind, list]) => [
            kind,
            { per_approval: round(list.length / measured.length, 2), median_ms: round(median(list), 1) },
          ]),
        ),
      },
      checks: [
        check(
          'every approval provisioned, one welcome email each',
          `${done.length}/${measured.length} provisioned, ${mails} emails`,
          done.length === measured.length && mails === measured.length,
        ),
        check('≤ 10 Keystone calls per approval', `${round(perApproval, 2)} calls`, perApproval <= 10),
        check(
          'no token per call',
          `${tokenCalls} token requests in ${measured.length} approvals`,
          tokenCalls <= 1,
        ),
        check(
          'wall time ≤ 2× the floor (each call at its kind’s median latency in this run; calls made at once count once)',
          `${round(wallMs / 1000, 1)} s vs floor ${round(kindFloorMs / 1000, 1)} s = ${round(kindRatio, 2)}×`,
          kindRatio <= 2,
          kindRatio,
        ),
      ],
      notes: [
        `${measured.length} approvals one after another, after one warm-up approval (the admin token, the member role and the catalog are fetched once per process). Each makes a new project and user.`,
        `The floor: every call of every approval (Keystone and the quota services) costs the median latency of its kind (method, path, query names) among this run's calls; calls that overlap in time (the three quota updates) count once, at the longest median. "floor_ms" is the older, cruder floor: calls × the median of a project look-up. Out of the bot's hands: the test Keystone serves one call at a time (one uwsgi process, one thread, SQLite), so calls to Keystone cannot overlap usefully and the floor is serial; the bot can only make fewer calls, overlap calls to other services (quotas), and spend less time between calls.`,
        `Process CPU per approval (${round(cpuMsPerApproval, 1)} ms) is this benchmark's process: the workflow and the in-process fakes (Sheets, Slack, SMTP, quota recorder) together. Time outside calls per approval (median ${round(median(outsideCalls), 0)} ms) is Redis, the outbox's queueing and CPU.`,
        `Median Keystone latency: ${PROBES} project look-ups by name before and ${PROBES} after the approvals, through the same client (${round(latency, 1)} ms). The Keystone here is one uwsgi process with one thread and SQLite.`,
        `Of the wall time, ${round(keystoneMs / 1000, 1)} s were spent waiting for Keystone (median call ${round(median(keystoneLatencies), 1)} ms: creating users and setting passwords cost more than look-ups), ${round(quotaMs / 1000, 1)} s in the quota calls (three at once per approval, summed), ${round(timer.total('sheets') / 1000, 1)} s in the Sheets calls (to the in-process fake), and ${round(outsideCalls.reduce((sum, ms) => sum + ms, 0) / 1000, 1)} s outside every call (Redis, the outbox, CPU).`,
        ...(failures.length > 0 ? [`Failed: ${failures.slice(0, 3).join(' | ')}`] : []),
      ],
    };
  } finally {
    timer.uninstall();
    await closeServices(services, 10_000);
    await deleteFromKeystone(keystone, madeInKeystone(records)).catch((error: unknown) =>
      process.stderr.write(`bench: Keystone clean-up failed: ${String(error)}\n`),
    );
    await deletePrefix(context.redisUrl, prefix);
    await world.close();
  }

  async function approve(id: string): Promise<ApplicationRecord | undefined> {
    const deps = services.provision;
    if (!deps) throw new Error('provisioning is off');
    const started = await startApproval(deps, id, ADMIN);
    if (started.kind !== 'started') throw new Error(`approval of ${id} did not start: ${started.kind}`);
    return runProvisioning(deps, id);
  }
}
