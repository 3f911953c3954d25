/**
 * The page side of a forgotten password (`POST /forgot`). The page host has no admin credentials,
 * so it finds the user through a keyed index of user names (written whenever a link is issued),
 * checks the PIN on file itself, and puts a `forgot_requested` event on the stream; the bot side
 * does the reset. Nothing here tells the person what happened: the route answers the same page
 * whatever the outcome, and the outcome is for the log and the tests only.
 *
 * Wrong PINs count where the link's do: on the user's live link when there is one (so the link
 * burns after the same number of wrong PINs, whichever page they came from), otherwise on a
 * counter of their own that sets the same lockout marker. A lockout stands until an admin acts.
 */
import { createHmac } from 'node:crypto';
import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { addressBucket } from '../../platform/http/client-ip.js';
import { keys } from '../../platform/keys.js';
import type { Logger } from '../../platform/log.js';
import type { Redis } from '../../platform/redis.js';
import { deriveKey } from './crypto.js';
import type { SetpassEvent } from './events.js';
import type { FailureLimits } from './limits.js';
import { isValidPin, type PinHasher } from './pin.js';
import type { TokenStore } from './store.js';

export interface ForgotRequest {
  /** The email or user name as typed. */
  name: string;
  pin: string;
  clientIp: string;
}

/** What happened, for logs and tests; never shown to the person asking. */
export type ForgotOutcome =
  | 'requested'
  | 'malformed'
  | 'unknown'
  | 'no_pin'
  | 'wrong_pin'
  | 'locked_out'
  | 'already_sent'
  | 'rate_limited';

export interface ForgotLimitsConfig {
  /** Requests from one address (IPv4 address or IPv6 /64) per hour, whatever they name. */
  perIpPerHour: number;
  /** Requests naming one account per hour. */
  perAccountPerHour: number;
}

export const DEFAULT_FORGOT_LIMITS: ForgotLimitsConfig = { perIpPerHour: 10, perAccountPerHour: 5 };
/** At most one self-service link per user in this time. */
export const FORGOT_LINK_INTERVAL_SECONDS = 3600;
/** Wrong PINs counted without a link are forgotten after a day without another. */
const WRONG_WINDOW_MS = 24 * 3600 * 1000;

// KEYS: wrong-PIN counter, lockout marker. ARGV: max attempts, window ms, now ms. Answers the count;
// the max-th sets the lockout marker and clears the counter.
const COUNT_WRONG = `
local attempts = redis.call('INCR', KEYS[1])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
if attempts >= tonumber(ARGV[1]) then
  redis.call('DEL', KEYS[1])
  redis.call('HSET', KEYS[2], 'attempts', attempts, 'at', ARGV[3])
end
return attempts
`;

interface ForgotUser {
  userId: string;
  username: string;
}

export interface ForgotDeps {
  redis: Redis;
  secret: Buffer;
  tokens: TokenStore;
  pins: PinHasher;
  limits: FailureLimits;
  maxPinAttempts: number;
  log: Logger;
  publish: (event: SetpassEvent) => Promise<void>;
  requestLimits?: ForgotLimitsConfig;
}

export class ForgotPassword {
  private readonly nameKey: Buffer;
  private readonly perIp: RateLimiterRedis;
  private readonly perAccount: RateLimiterRedis;

  constructor(private readonly deps: ForgotDeps) {
    this.nameKey = deriveKey(deps.secret, 'kaizen setpass forgot name');
    const limits = deps.requestLimits ?? DEFAULT_FORGOT_LIMITS;
    this.perIp = new RateLimiterRedis({
      storeClient: deps.redis,
      keyPrefix: keys.setpassLimit('forgot-ip'),
      points: limits.perIpPerHour,
      duration: 3600,
    });
    this.perAccount = new RateLimiterRedis({
      storeClient: deps.redis,
      keyPrefix: keys.setpassLimit('forgot-user'),
      points: limits.perAccountPerHour,
      duration: 3600,
    });
  }

  /** Lets `/forgot` find this user by name for as long as the PIN on file is kept. */
  async remember(username: string, userId: string, keepMs: number): Promise<void> {
    const key = keys.setpassForgotName(this.nameHmac(username));
    await this.deps.redis.multi().hset(key, 'uid', userId, 'name', username).pexpire(key, keepMs).exec();
  }

  async request(input: ForgotRequest): Promise<ForgotOutcome> {
    const name = input.name.trim();
    const pin = input.pin.trim();
    if (name === '' || name.length > 255 || !isValidPin(pin)) return 'malformed';
    if (!(await spend(this.perIp, addressBucket(input.clientIp)))) return 'rate_limited';
    const entry = await this.deps.redis.hgetall(keys.setpassForgotName(this.nameHmac(name)));
    const userId = entry.uid;
    const username = entry.name ?? '';
    if (userId === undefined) return this.decoy(pin, 'unknown');
    if (!(await spend(this.perAccount, userId))) return this.decoy(pin, 'rate_limited');
    const pinHash = await this.deps.tokens.pinOnFile(userId);
    if (pinHash === undefined) return this.decoy(pin, 'no_pin');
    if ((await this.deps.tokens.lockout(userId)) !== undefined) return this.decoy(pin, 'locked_out');

    // The same failure budgets as the link's: this address's and this user's.
    const reservation = await this.deps.limits.reserve(input.clientIp);
    if (reservation.kind === 'blocked') return this.decoy(pin, 'rate_limited');
    let outcome: ForgotOutcome | undefined;
    try {
      const user = await reservation.charge.reserveUser(userId);
      if (user.kind === 'blocked') return this.decoy(pin, 'rate_limited');
      outcome = await this.check({ userId, username }, pinHash, pin, input.clientIp);
      return outcome;
    } finally {
      await reservation.charge.settle(outcome === 'wrong_pin' || outcome === 'locked_out');
    }
  }

  private async check(
    user: ForgotUser,
    pinHash: string,
    pin: string,
    clientIp: string,
  ): Promise<ForgotOutcome> {
    const { userId, username } = user;
    const live = await this.deps.tokens.current(userId);
    if (live !== undefined) {
      // Paid for before the PIN is checked, as on the link, so parallel guesses get no more.
      const reserved = await this.deps.tokens.reserveAttempt(live, this.deps.maxPinAttempts);
      if (reserved.kind !== 'reserved') return 'rate_limited';
      const check = await this.deps.pins.verify(pin, pinHash);
      if (!check.matches) return this.wrongOnLink(user, live, clientIp);
      await this.deps.tokens.giveBackAttempt(live);
    } else if (!(await this.deps.pins.verify(pin, pinHash)).matches) {
      return this.wrongWithoutLink(user, clientIp);
    }
    await this.deps.redis.del(keys.setpassForgotWrong(userId));
    const first = await this.deps.redis.set(
      keys.setpassForgotSent(userId),
      String(Date.now()),
      'EX',
      FORGOT_LINK_INTERVAL_SECONDS,
      'NX',
    );
    if (first !== 'OK') return 'already_sent';
    await this.deps.publish({ type: 'forgot_requested', userId, username, at: new Date(), clientIp });
    this.deps.log.info({ userId }, 'self-service password reset asked for');
    return 'requested';
  }

  private async wrongOnLink(
    user: ForgotUser,
    live: NonNullable<Awaited<ReturnType<TokenStore['current']>>>,
    clientIp: string,
  ): Promise<ForgotOutcome> {
    const counted = await this.deps.tokens.recordWrongPin(live, this.deps.maxPinAttempts);
    if (counted.kind === 'burned') {
      await this.lockedOut(user, counted.attempts, clientIp);
      return 'locked_out';
    }
    return 'wrong_pin';
  }

  private async wrongWithoutLink(user: ForgotUser, clientIp: string): Promise<ForgotOutcome> {
    const { userId } = user;
    const attempts = Number(
      await this.deps.redis.eval(
        COUNT_WRONG,
        2,
        keys.setpassForgotWrong(userId),
        keys.setpassLockedOut(userId),
        String(this.deps.maxPinAttempts),
        String(WRONG_WINDOW_MS),
        String(Date.now()),
      ),
    );
    if (attempts < this.deps.maxPinAttempts) return 'wrong_pin';
    await this.lockedOut(user, attempts, clientIp);
    return 'locked_out';
  }

  private async lockedOut(user: ForgotUser, attempts: number, clientIp: string): Promise<void> {
    this.deps.log.warn(
      { userId: user.userId, attempts },
      'self-service reset locked after too many wrong PINs',
    );
    await this.deps.publish({ type: 'lockout', ...user, at: new Date(), clientIp, attempts });
  }

  /** The PIN work a real check costs, so an unknown name is not told apart by its speed either. */
  private decoy(pin: string, outcome: ForgotOutcome): ForgotOutcome {
    this.deps.pins.decoy(pin);
    return outcome;
  }

  private nameHmac(name: string): string {
    return createHmac('sha256', this.nameKey).update(name.trim().toLowerCase(), 'utf8').digest('hex');
  }
}

/** One point from `limiter`; false when the budget is spent. */
async function spend(limiter: RateLimiterRedis, key: string): Promise<boolean> {
  try {
    await limiter.consume(key, 1);
    return true;
  } catch (error) {
    if (error instanceof RateLimiterRes) return false;
    throw error;
  }
}
