import { Redis } from 'ioredis';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { isKaizenError } from '../../../src/platform/errors.js';
import { InFlight } from '../../../src/platform/inflight.js';
import { claimTick, holdRunningLease } from '../../../src/platform/jobs/leader.js';
import { type Job, JobScheduler } from '../../../src/platform/jobs/scheduler.js';
import { keys } from '../../../src/platform/keys.js';
import { silentLogger } from '../../../src/platform/log.js';
import { Metrics } from '../../../src/platform/metrics.js';
import { waitUntil } from '../../domain/reminders/fixtures.js';
import { uniquePrefix } from '../../support/bot.js';
import { metricValue } from '../../support/metrics.js';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const clients: Redis[] = [];
const running: { scheduler: JobScheduler; inflight: InFlight }[] = [];

function redisWith(prefix: string): Redis {
  const redis = new Redis(REDIS_URL, { keyPrefix: prefix });
  clients.push(redis);
  return redis;
}

/** A replica: its own Redis connection, in-flight set and metrics, on the shared prefix. */
function replica(prefix: string) {
  const inflight = new InFlight(silentLogger);
  const metrics = new Metrics();
  const scheduler = new JobScheduler({
    redis: redisWith(prefix),
    log: silentLogger,
    inflight,
    timezone: 'UTC',
    metrics,
  });
  running.push({ scheduler, inflight });
  return { scheduler, inflight, metrics };
}

/** Counts of one job's outcomes in a replica's metrics. */
async function outcomes(metrics: Metrics, job: string): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const outcome of ['ok', 'failed', 'busy']) {
    counts[outcome] = await metricValue(metrics, 'kaizen_job_runs_total', { job, outcome });
  }
  return counts;
}

/** One job outcome summed over replicas. */
async function summed(replicas: { metrics: Metrics }[], job: string, outcome: string): Promise<number> {
  const counts = await Promise.all(replicas.map(async (r) => (await outcomes(r.metrics, job))[outcome] ?? 0));
  return counts.reduce((sum, count) => sum + count, 0);
}

afterEach(async () => {
  for (const { scheduler, inflight } of running.splice(0)) {
    await scheduler.stop();
    await inflight.drain(5_000);
  }
});
afterAll(async () => {
  await Promise.all(clients.map((client) => client.quit()));
});

describe('the tick lock', () => {
  it('lets one replica have a tick, with the tick length as expiry', async () => {
    const redis = redisWith(uniquePrefix('jobs'));
    const at = new Date('2026-11-02T09:00:00Z');
    expect(await claimTick(redis, 'poll', at, 120_000, 'a')).toBe(true);
    expect(await claimTick(redis, 'poll', at, 120_000, 'b')).toBe(false);
    expect(await claimTick(redis, 'poll', new Date('2026-11-02T09:02:00Z'), 120_000, 'b')).toBe(true);
    const ttl = await redis.pttl(keys.jobTick('poll', '2026-11-02T09:00:00.000Z'));
    expect(ttl).toBeGreaterThan(100_000);
    expect(ttl).toBeLessThanOrEqual(120_000);
  });

  it('holds the running lease for one owner until released', async () => {
    const redis = redisWith(uniquePrefix('jobs'));
    const first = await holdRunningLease(redis, 'poll', 'a');
    expect(first).toBeDefined();
    expect(await holdRunningLease(redis, 'poll', 'b')).toBeUndefined();
    await first!.release();
    const second = await holdRunningLease(redis, 'poll', 'b');
    expect(second).toBeDefined();
    await second!.release();
  });
});

describe('runTick', () => {
  it('runs a tick once, skips it when taken, and skips while the previous run still goes', async () => {
    const prefix = uniquePrefix('jobs');
    const a = replica(prefix);
    const b = replica(prefix);
    let release: () => void = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    let runs = 0;
    const job: Job = {
      name: 'slow',
      schedule: '* * * * *',
      run: async () => {
        runs += 1;
        await held;
      },
    };
    const first = a.scheduler.runTick(job, new Date('2026-11-02T09:00:00Z'), 60_000);
    await waitUntil(() => runs === 1, 'the first run to start');
    expect(await b.scheduler.runTick(job, new Date('2026-11-02T09:00:00Z'), 60_000)).toBe('taken');
    expect(await b.scheduler.runTick(job, new Date('2026-11-02T09:01:00Z'), 60_000)).toBe('busy');
    release();
    expect(await first).toBe('ran');
    expect(await b.scheduler.runTick(job, new Date('2026-11-02T09:02:00Z'), 60_000)).toBe('ran');
    expect(runs).toBe(2);
  });

  it('answers failed when the job throws, and lets the next tick run', async () => {
    const { scheduler } = replica(uniquePrefix('jobs'));
    let calls = 0;
    const job: Job = {
      name: 'flaky',
      schedule: '* * * * *',
      run: async () => {
        calls += 1;
        if (calls === 1) throw new Error('the sheet did not answer');
      },
    };
    expect(await scheduler.runTick(job, new Date('2026-11-02T09:00:00Z'), 60_000)).toBe('failed');
    expect(await scheduler.runTick(job, new Date('2026-11-02T09:01:00Z'), 60_000)).toBe('ran');
  });

  it('runs nothing once shutdown has begun', async () => {
    const { scheduler, inflight } = replica(uniquePrefix('jobs'));
    await inflight.drain(1_000);
    let ran = false;
    const job: Job = {
      name: 'late',
      schedule: '* * * * *',
      run: async () => {
        ran = true;
      },
    };
    expect(await scheduler.runTick(job, new Date('2026-11-02T09:00:00Z'), 60_000)).toBe('stopped');
    expect(ran).toBe(false);
  });
});

describe('three replicas on a seconds schedule', () => {
  it('run every tick exactly once between them', async () => {
    const prefix = uniquePrefix('jobs');
    const replicas = [replica(prefix), replica(prefix), replica(prefix)];
    const runsByTick = new Map<string, number>();
    const job: Job = {
      name: 'every-second',
      schedule: '* * * * * *',
      run: async (at) => {
        runsByTick.set(at.toISOString(), (runsByTick.get(at.toISOString()) ?? 0) + 1);
      },
    };
    for (const { scheduler } of replicas) scheduler.start([job]);
    await waitUntil(() => runsByTick.size >= 4, 'four ticks');
    for (const { scheduler, inflight } of replicas) {
      await scheduler.stop();
      await inflight.drain(5_000);
    }
    expect([...runsByTick.values()].every((count) => count === 1)).toBe(true);
    const taken = await summed(replicas, 'every-second', 'ok');
    expect(taken).toBe(runsByTick.size);
  });

  it('never overlap a run that outlasts its tick, on this replica or another', async () => {
    const prefix = uniquePrefix('jobs');
    const replicas = [replica(prefix), replica(prefix), replica(prefix)];
    let active = 0;
    let mostAtOnce = 0;
    let started = 0;
    let release: () => void = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const job: Job = {
      name: 'long',
      schedule: '* * * * * *',
      run: async () => {
        started += 1;
        active += 1;
        mostAtOnce = Math.max(mostAtOnce, active);
        if (started === 1) await held;
        active -= 1;
      },
    };
    for (const { scheduler } of replicas) scheduler.start([job]);
    const busy = () => summed(replicas, 'long', 'busy');
    // While the first run is held, later ticks find the running lease taken (on another replica)
    // or are blocked by noOverlap (on the same one).
    await waitUntil(async () => (await busy()) >= 2, 'two ticks skipped as busy');
    expect(started).toBe(1);
    release();
    await waitUntil(() => started >= 3, 'runs to resume after the long one');
    expect(mostAtOnce).toBe(1);
  });
});

describe('start', () => {
  it('refuses a bad expression, naming the job, before scheduling anything', () => {
    const { scheduler } = replica(uniquePrefix('jobs'));
    const good: Job = { name: 'good', schedule: '*/2 * * * *', run: async () => {} };
    const bad: Job = { name: 'user-reminders', schedule: '61 * * * *', run: async () => {} };
    let error: unknown;
    try {
      scheduler.start([good, bad]);
    } catch (caught) {
      error = caught;
    }
    expect(isKaizenError(error, 'config')).toBe(true);
    expect((error as Error).message).toContain('user-reminders');
    expect((error as Error).message).toContain('61 * * * *');
  });

  it('refuses a time zone the system does not know', () => {
    const inflight = new InFlight(silentLogger);
    const scheduler = new JobScheduler({
      redis: redisWith(uniquePrefix('jobs')),
      log: silentLogger,
      inflight,
      timezone: 'Mars/Olympus_Mons',
    });
    expect(() => scheduler.start([{ name: 'x', schedule: '* * * * *', run: async () => {} }])).toThrow(/TZ/);
  });
});
