/**
 * Who runs a tick when several replicas share one Redis. Each tick of a job has its own key
 * (`jobs:<name>:<tick>`, SET NX PX for the tick's length): the replica that sets it runs the tick,
 * the others skip it. A second key (`jobs:<name>:running`, a short lease renewed while the run
 * lasts) keeps a run that outlasts its tick from overlapping the next tick's run on another
 * replica; a replica that dies mid-run lets the lease lapse within `RUNNING_LEASE_MS`.
 */
import { randomBytes } from 'node:crypto';
import { keys } from '../keys.js';
import type { Redis } from '../redis.js';

/** How long a running lease lasts without renewal; it is renewed every third of that. */
export const RUNNING_LEASE_MS = 60_000;

// KEYS[1] = lease; ARGV[1] = owner; ARGV[2] = ms. Extends the lease only while this owner holds it.
const RENEW = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1
`;

// KEYS[1] = lease; ARGV[1] = owner. Lets go only of a lease this owner still holds.
const RELEASE = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1])
return 1
`;

/** A random id per scheduler instance, so a lease names the replica holding it. */
export function newOwnerId(): string {
  return `${process.pid}-${randomBytes(6).toString('hex')}`;
}

/** The tick as it appears in its key: the scheduled time, ISO 8601 in UTC (the same on every replica). */
export function tickId(at: Date): string {
  return at.toISOString();
}

/**
 * Claims one tick of a job for this replica; false when another replica already has it. The key
 * lives for the tick's length, so a replica whose clock runs a little behind cannot run it again.
 */
export async function claimTick(
  redis: Redis,
  job: string,
  at: Date,
  tickMs: number,
  owner: string,
): Promise<boolean> {
  const ttl = Math.max(1_000, Math.round(tickMs));
  const set = await redis.set(keys.jobTick(job, tickId(at)), owner, 'PX', ttl, 'NX');
  return set === 'OK';
}

export interface RunningLease {
  /** Stops renewing and lets go of the lease. */
  release(): Promise<void>;
}

/**
 * Takes the job's running lease, renewed in the background until released; undefined when
 * another replica's run of this job is still going.
 */
export async function holdRunningLease(
  redis: Redis,
  job: string,
  owner: string,
  leaseMs = RUNNING_LEASE_MS,
): Promise<RunningLease | undefined> {
  const key = keys.jobRunning(job);
  const taken = await redis.set(key, owner, 'PX', leaseMs, 'NX');
  if (taken !== 'OK') return undefined;
  const timer = setInterval(
    () => {
      redis.eval(RENEW, 1, key, owner, String(leaseMs)).catch(() => {
        // A missed renewal only shortens the lease; the next one (or the release) tries again.
      });
    },
    Math.max(250, Math.floor(leaseMs / 3)),
  );
  timer.unref();
  return {
    async release() {
      clearInterval(timer);
      await redis.eval(RELEASE, 1, key, owner);
    },
  };
}
