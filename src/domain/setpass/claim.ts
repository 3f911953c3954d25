/**
 * One owner at a time for a user's password state. Issuing a link (which may set a temporary
 * password in Keystone) and redeeming one (which changes it to the user's choice) each hold the
 * user's claim while they read the link and call Keystone, so neither can act on what the other
 * is halfway through changing. The claim is `SET NX PX` with a random owner token, renewed while
 * the work runs and released only by its owner (compare-and-delete), so a holder that died lets
 * go after one lease.
 */
import { randomBytes } from 'node:crypto';
import { keys } from '../../platform/keys.js';
import type { Redis } from '../../platform/redis.js';

/** Longer than any one Keystone call (their timeout is 10 s); renewed every third of it meanwhile. */
export const CLAIM_LEASE_MS = 30_000;
const WAIT_STEP_MS = 50;

// KEYS: claim. ARGV: owner token, lease ms.
const RENEW = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
return redis.call('PEXPIRE', KEYS[1], ARGV[2])
`;

// KEYS: claim. ARGV: owner token.
const RELEASE = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
return redis.call('DEL', KEYS[1])
`;

export type Claimed<T> = { kind: 'held'; value: T } | { kind: 'busy' };

export class UserClaims {
  constructor(
    private readonly redis: Redis,
    private readonly leaseMs = CLAIM_LEASE_MS,
  ) {}

  /**
   * Runs `work` while holding the user's claim; `busy`, without running it, when another holds it
   * and does not let go within `waitMs` (default: no waiting).
   */
  async run<T>(userId: string, work: () => Promise<T>, waitMs = 0): Promise<Claimed<T>> {
    const owner = randomBytes(16).toString('base64url');
    const key = keys.setpassClaim(userId);
    const deadline = Date.now() + waitMs;
    while ((await this.redis.set(key, owner, 'PX', this.leaseMs, 'NX')) !== 'OK') {
      if (Date.now() >= deadline) return { kind: 'busy' };
      await new Promise((resolve) => setTimeout(resolve, WAIT_STEP_MS));
    }
    const renewal = setInterval(() => {
      this.redis.eval(RENEW, 1, key, owner, String(this.leaseMs)).catch(() => undefined);
    }, this.leaseMs / 3);
    renewal.unref();
    try {
      return { kind: 'held', value: await work() };
    } finally {
      clearInterval(renewal);
      await this.redis.eval(RELEASE, 1, key, owner);
    }
  }

  /** Whether someone holds the user's claim right now. */
  async held(userId: string): Promise<boolean> {
    return (await this.redis.exists(keys.setpassClaim(userId))) === 1;
  }
}
