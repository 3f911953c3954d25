/**
 * One provisioning run per applicant at a time, across replicas: a lease on `lock:app:<id>` with an
 * owner token, renewed after every step. A run that dies leaves a lease that simply expires, and
 * the next Approve or Retry resumes from the checkpoints.
 */
import { randomBytes } from 'node:crypto';
import { keys } from '../../platform/keys.js';
import type { Redis } from '../../platform/redis.js';

// KEYS[1] = lock; ARGV[1] = owner; ARGV[2] = ms. Renews only a lease this owner still holds.
const RENEW = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1
`;

// KEYS[1] = lock; ARGV[1] = owner.
const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`;

export class RunLock {
  private constructor(
    private readonly redis: Redis,
    private readonly key: string,
    private readonly owner: string,
    private readonly ttlMs: number,
  ) {}

  /** The lease, or undefined when another run holds it. */
  static async acquire(redis: Redis, applicantId: string, ttlMs: number): Promise<RunLock | undefined> {
    const key = keys.applicationLock(applicantId);
    const owner = randomBytes(12).toString('base64url');
    const taken = await redis.set(key, owner, 'PX', ttlMs, 'NX');
    return taken === 'OK' ? new RunLock(redis, key, owner, ttlMs) : undefined;
  }

  /** Whether some run holds the lease for this applicant right now. */
  static async held(redis: Redis, applicantId: string): Promise<boolean> {
    return (await redis.exists(keys.applicationLock(applicantId))) === 1;
  }

  /** Extends the lease; false when it expired and another run took over (this one must stop). */
  async renew(): Promise<boolean> {
    return (await this.redis.eval(RENEW, 1, this.key, this.owner, String(this.ttlMs))) === 1;
  }

  async release(): Promise<void> {
    await this.redis.eval(RELEASE, 1, this.key, this.owner);
  }
}
