/**
 * Budgets for failures on the password page that outlive any one link: per Keystone user (so a
 * renewed link does not bring fresh guesses) and per client address (so one machine cannot walk
 * through many links). Kept in Redis with rate-limiter-flexible, so every replica shares them.
 */
import { RateLimiterRedis } from 'rate-limiter-flexible';
import { keys } from '../keys.js';
import type { Redis } from '../redis.js';

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

export type LimitVerdict =
  | { kind: 'allowed' }
  | { kind: 'blocked'; scope: 'user' | 'ip'; retryAfterMs: number };

export class FailureLimits {
  private readonly perUser: RateLimiterRedis;
  private readonly perIp: RateLimiterRedis;

  constructor(redis: Redis, budgets: FailureBudgets) {
    // The limiter joins its keyPrefix and the key with ':'; the client then adds REDIS_KEY_PREFIX
    // in front, so the keys land at <REDIS_KEY_PREFIX>setpass:limit:user:<id>.
    this.perUser = new RateLimiterRedis({
      storeClient: redis,
      keyPrefix: keys.setpassLimit('user'),
      points: budgets.perUser.points,
      duration: budgets.perUser.windowSeconds,
    });
    this.perIp = new RateLimiterRedis({
      storeClient: redis,
      keyPrefix: keys.setpassLimit('ip'),
      points: budgets.perIp.points,
      duration: budgets.perIp.windowSeconds,
    });
  }

  /** Whether this address may try again at all; checked before anything about the token is revealed. */
  async checkIp(clientIp: string): Promise<LimitVerdict> {
    return verdict(this.perIp, clientIp, 'ip');
  }

  async checkUser(userId: string): Promise<LimitVerdict> {
    return verdict(this.perUser, userId, 'user');
  }

  /** A wrong PIN: counts against both the user and the address. */
  async wrongPin(userId: string, clientIp: string): Promise<void> {
    await Promise.all([this.perUser.penalty(userId, 1), this.perIp.penalty(clientIp, 1)]);
  }

  /** A link that does not work: counts against the address only, since there is no user. */
  async deadLink(clientIp: string): Promise<void> {
    await this.perIp.penalty(clientIp, 1);
  }
}

async function verdict(limiter: RateLimiterRedis, key: string, scope: 'user' | 'ip'): Promise<LimitVerdict> {
  const spent = await limiter.get(key);
  if (spent === null || spent.consumedPoints < limiter.points) return { kind: 'allowed' };
  return { kind: 'blocked', scope, retryAfterMs: Math.max(spent.msBeforeNext, 1000) };
}
