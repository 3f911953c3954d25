/**
 * Budgets for failures on the password page that outlive any one link: per Keystone user (so a
 * renewed link does not bring fresh guesses) and per client address (so one machine cannot walk
 * through many links). Kept in Redis with rate-limiter-flexible, so every replica shares them.
 *
 * A submission takes its point before any work (an atomic INCR in Redis), and gives it back when
 * it did not fail: a burst of parallel requests cannot all pass a check made before any of them
 * is counted. Opening a link costs nothing: tokens are 256 random bits, so a GET cannot guess
 * one, and people at one address (a campus behind NAT) must not lock each other out by clicking
 * old links. Addresses are counted per IPv4 address and per IPv6 /64.
 */
import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { addressBucket } from '../../platform/http/client-ip.js';
import { keys } from '../../platform/keys.js';
import type { Redis } from '../../platform/redis.js';
import { Slots } from '../../platform/slots.js';
import type { BudgetCounter } from './store.js';

export interface Budget {
  /** Failures allowed within the window. */
  points: number;
  windowSeconds: number;
}

export interface FailureBudgets {
  perUser: Budget;
  perIp: Budget;
}

export const DEFAULT_BUDGETS = (maxPinAttempts: number): FailureBudgets => ({
  // Three links' worth of wrong PINs a day: enough for a lockout and two resets, not for guessing.
  perUser: { points: maxPinAttempts * 3, windowSeconds: 24 * 3600 },
  perIp: { points: 30, windowSeconds: 3600 },
});

/**
 * PIN hashing runs on libuv's thread pool (four threads by default), which DNS lookups and file
 * reads share. Two at a time leaves the rest of the pool free however many requests arrive;
 * the others wait their turn here, in order.
 */
export const KDF_CONCURRENCY = 2;
export const kdfSlots = new Slots(KDF_CONCURRENCY);

export type LimitVerdict =
  | { kind: 'allowed' }
  | { kind: 'blocked'; scope: 'user' | 'ip'; retryAfterMs: number };

export type Reservation =
  | { kind: 'reserved'; charge: FailureCharge }
  | Extract<LimitVerdict, { kind: 'blocked' }>;

export class FailureLimits {
  private readonly perUser: RateLimiterRedis;
  private readonly perIp: RateLimiterRedis;

  constructor(redis: Redis, budgets: FailureBudgets) {
    // The limiter joins its keyPrefix and the key with ':'; the client then adds REDIS_KEY_PREFIX
    // in front, so the keys land at <REDIS_KEY_PREFIX>setpass:limit:{setpass}:user:<id>, which is
    // keys.setpassBudget: the page's scripts (store.ts) take points from the same counters.
    this.perUser = new RateLimiterRedis({
      storeClient: redis,
      keyPrefix: budgetPrefix('user'),
      points: budgets.perUser.points,
      duration: budgets.perUser.windowSeconds,
    });
    this.perIp = new RateLimiterRedis({
      storeClient: redis,
      keyPrefix: budgetPrefix('ip'),
      points: budgets.perIp.points,
      duration: budgets.perIp.windowSeconds,
    });
    this.budgets = budgets;
  }

  private readonly budgets: FailureBudgets;

  /** The address's budget as a script takes from it together with other keys (store.ts). */
  ipBudget(clientIp: string): BudgetCounter {
    const { points, windowSeconds } = this.budgets.perIp;
    return { scope: 'ip', id: addressBucket(clientIp), points, windowSeconds };
  }

  userBudget(userId: string): BudgetCounter {
    const { points, windowSeconds } = this.budgets.perUser;
    return { scope: 'user', id: userId, points, windowSeconds };
  }

  /**
   * The charge of a submission whose address point a script already took (see `ipBudget`):
   * `settle` gives it back as `reserve`'s would.
   */
  chargeTaken(clientIp: string): FailureCharge {
    return new FailureCharge(this.perIp, addressBucket(clientIp), this.perUser);
  }

  /** Whether this address is still within its budget; charges nothing (opening a link). */
  async checkIp(clientIp: string): Promise<LimitVerdict> {
    const key = addressBucket(clientIp);
    const spent = await this.perIp.get(key);
    if (spent === null || spent.consumedPoints < this.perIp.points) return { kind: 'allowed' };
    return blocked('ip', spent);
  }

  /** Takes one point from the address's budget before a submission does any work. */
  async reserve(clientIp: string): Promise<Reservation> {
    const key = addressBucket(clientIp);
    const taken = await take(this.perIp, key, 'ip');
    if (taken.kind === 'blocked') return taken;
    return { kind: 'reserved', charge: new FailureCharge(this.perIp, key, this.perUser) };
  }
}

/**
 * One submission's points, held while it runs. `settle(failed)` keeps them when the submission
 * was a failure (a wrong PIN, a dead link) and gives them back otherwise.
 */
export class FailureCharge {
  private userId: string | undefined;
  private settled = false;

  constructor(
    private readonly perIp: RateLimiterRedis,
    private readonly ipKey: string,
    private readonly perUser: RateLimiterRedis,
  ) {}

  /** Takes one point from the user's budget too, once the link names the user. */
  async reserveUser(userId: string): Promise<LimitVerdict> {
    const taken = await take(this.perUser, userId, 'user');
    if (taken.kind === 'allowed') this.userId = userId;
    return taken;
  }

  /** The user's point was taken by a script (see `FailureLimits.userBudget`); settle owns it now. */
  userTaken(userId: string): void {
    this.userId = userId;
  }

  async settle(failed: boolean): Promise<void> {
    if (this.settled) return;
    this.settled = true;
    if (failed) return;
    await Promise.all([
      this.perIp.reward(this.ipKey, 1),
      this.userId === undefined ? undefined : this.perUser.reward(this.userId, 1),
    ]);
  }
}

/** consume() increments and compares in one step; a refused point is given back at once. */
async function take(limiter: RateLimiterRedis, key: string, scope: 'user' | 'ip'): Promise<LimitVerdict> {
  try {
    await limiter.consume(key, 1);
    return { kind: 'allowed' };
  } catch (error) {
    if (!(error instanceof RateLimiterRes)) throw error;
    await limiter.reward(key, 1);
    return blocked(scope, error);
  }
}

function blocked(scope: 'user' | 'ip', spent: RateLimiterRes): LimitVerdict & { kind: 'blocked' } {
  return blockedFor(scope, spent.msBeforeNext);
}

/** A refusal telling when to come back: when the window ends, and never sooner than a second. */
export function blockedFor(scope: 'user' | 'ip', msBeforeNext: number): LimitVerdict & { kind: 'blocked' } {
  return { kind: 'blocked', scope, retryAfterMs: Math.max(msBeforeNext, 1000) };
}

const budgetPrefix = (scope: 'user' | 'ip'): string => {
  const sample = keys.setpassBudget(scope, '');
  return sample.slice(0, -1);
};
