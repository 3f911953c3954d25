/**
 * The cron schedules (node-cron 4). Every replica schedules every job; each tick runs on exactly
 * one of them (see leader.ts). A run that is still going when its next tick comes is not doubled:
 * node-cron's `noOverlap` covers this replica, the running lease covers the others. Runs are
 * tracked as in-flight work, so shutdown stops the schedules first and then waits for them.
 */
import cron, { type Logger as CronLogger, type ScheduledTask } from 'node-cron';
import { KaizenError } from '../errors.js';
import type { InFlight } from '../inflight.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import type { Redis } from '../redis.js';
import { newRequestId, withRequestId } from '../request-context.js';
import { claimTick, holdRunningLease, newOwnerId, RUNNING_LEASE_MS } from './leader.js';

export interface Job {
  /** Short and stable: it is part of the Redis keys, e.g. `user-reminders`. */
  name: string;
  /** node-cron expression: five fields, or six with seconds first. */
  schedule: string;
  /** `at` is the tick's scheduled time. */
  run(at: Date): Promise<unknown>;
}

export interface SchedulerDeps {
  redis: Redis;
  log: Logger;
  inflight: InFlight;
  /** IANA zone the expressions are read in (TZ). */
  timezone: string;
  metrics?: Metrics;
  runningLeaseMs?: number;
}

/** What became of one tick on this replica. */
export type TickOutcome = 'ran' | 'failed' | 'taken' | 'busy' | 'stopped';

/** Used when the next tick cannot be computed (a stopped task). */
const FALLBACK_TICK_MS = 60_000;

export class JobScheduler {
  readonly owner = newOwnerId();
  private readonly tasks: ScheduledTask[] = [];
  private readonly log: Logger;

  constructor(private readonly deps: SchedulerDeps) {
    this.log = deps.log.child({ component: 'jobs' });
  }

  /** Checks every expression first, so a bad one stops start-up with its name rather than half the jobs running. */
  start(jobs: readonly Job[]): void {
    assertTimezone(this.deps.timezone);
    for (const job of jobs) assertSchedule(job);
    const logger = cronLogger(this.log);
    for (const job of jobs) {
      const task = cron.schedule(job.schedule, (context) => this.onTick(job, task, context.date), {
        name: `kaizen:${job.name}`,
        timezone: this.deps.timezone,
        noOverlap: true,
        logger,
        // A slow tick is skipped, not caught up: the next one does the same work.
        suppressMissedWarning: true,
      });
      this.tasks.push(task);
      this.log.info({ job: job.name, schedule: job.schedule, timezone: this.deps.timezone }, 'job scheduled');
    }
  }

  /** Stops every schedule; a run already going finishes as in-flight work. */
  async stop(): Promise<void> {
    const tasks = this.tasks.splice(0);
    await Promise.all(tasks.map((task) => task.destroy()));
  }

  /**
   * Runs one tick of `job` if this replica wins it and no other run of the job is still going.
   * A failure is logged and answered, never thrown: the next tick tries again.
   */
  async runTick(job: Job, at: Date, tickMs: number): Promise<TickOutcome> {
    const { redis, metrics } = this.deps;
    if (!this.deps.inflight.accepting) return 'stopped';
    if (!(await claimTick(redis, job.name, at, tickMs, this.owner))) return 'taken';
    const lease = await holdRunningLease(
      redis,
      job.name,
      this.owner,
      this.deps.runningLeaseMs ?? RUNNING_LEASE_MS,
    );
    if (!lease) {
      this.log.warn(
        { job: job.name, tick: at.toISOString() },
        'job skipped a tick: its previous run is still going',
      );
      metrics?.jobRun(job.name, 'busy');
      return 'busy';
    }
    const started = Date.now();
    metrics?.jobLeader(job.name, true);
    try {
      await job.run(at);
      this.log.debug({ job: job.name, ms: Date.now() - started }, 'job ran');
      metrics?.jobRun(job.name, 'ok');
      return 'ran';
    } catch (error) {
      this.log.error({ err: error, job: job.name }, 'job failed; the next tick tries again');
      metrics?.jobRun(job.name, 'failed');
      return 'failed';
    } finally {
      metrics?.jobLeader(job.name, false);
      await lease.release().catch((error: unknown) => {
        this.log.warn(
          { err: error, job: job.name },
          'could not release the running lease; it lapses by itself',
        );
      });
    }
  }

  private async onTick(job: Job, task: ScheduledTask, at: Date): Promise<void> {
    if (!this.deps.inflight.accepting) return;
    const next = task.getNextRun();
    const tickMs = next ? next.getTime() - at.getTime() : FALLBACK_TICK_MS;
    this.deps.metrics?.jobTick(job.name, tickMs / 1000);
    // Each tick is a request of its own in the log: its lines (and the work it starts) share one id.
    await withRequestId(newRequestId(), () =>
      this.deps.inflight.run(`job ${job.name}`, () => this.runTick(job, at, tickMs)),
    );
  }
}

function assertTimezone(timezone: string): void {
  try {
    new Intl.DateTimeFormat('en', { timeZone: timezone });
  } catch {
    throw new KaizenError(
      'config',
      `TZ is "${timezone}", which is not a time zone this system knows: use an IANA name such as Europe/Berlin or UTC.`,
    );
  }
}

function assertSchedule(job: Job): void {
  const checked = cron.validateDetailed(job.schedule);
  if (checked.valid) return;
  const reasons = checked.errors.map((e) => e.message).join('; ');
  throw new KaizenError(
    'config',
    `The schedule of the ${job.name} job, "${job.schedule}", is not a cron expression node-cron accepts (${reasons}). Use five fields, or six with seconds first.`,
  );
}

/** node-cron's own warnings through pino, so they carry the same format. */
function cronLogger(log: Logger): CronLogger {
  const text = (message: string | Error) => (message instanceof Error ? message.message : message);
  return {
    info: (message) => log.info(message),
    warn: (message) => log.warn(message),
    error: (message, err) => log.error({ err: err ?? message }, text(message)),
    debug: (message) => log.debug(text(message)),
  };
}
