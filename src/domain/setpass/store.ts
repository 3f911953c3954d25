/**
 * Password-link tokens in Redis.
 *
 * `setpass:tok:<hmac>` (a hash, expiring with the link) holds the user, the PIN hash, the sealed
 * temporary password, the creation and expiry times and the wrong-PIN count. The sealed password is
 * bound to every other field but the count, so a record edited or moved in Redis no longer opens.
 * `setpass:user:<user id>` names the user's one live token and holds that token sealed, so the same
 * link can be sent again. Every step that reads and changes both keys is one Lua script: a link is
 * issued, burned, claimed or finished exactly once however many requests race. A link burned by
 * wrong PINs leaves `setpass:locked:<user id>` behind until the next link is issued.
 *
 * `setpass:temp:<user id>` keeps the temporary password sealed beyond any one link, so a link sent
 * again carries the same password instead of setting a new one; redeeming it removes it. The PIN
 * hash on file and the temporary password last one link lifetime past the user's last link.
 *
 * However many requests race, no more PIN verdicts are given than the link has attempts. The
 * password page checks the PIN (a keyed hash, no I/O) and then counts it in one script with the
 * user's point (`takeUserAndCountPin`): the verdict is answered only once that script has counted a
 * wrong PIN, or found an attempt left for a right one. `/forgot`, which checks a PIN it must first
 * find, pays first: `reserveAttempt` takes one of the link's attempts (`reserved`), and the answer
 * either confirms it as a wrong PIN (`attempts`) or gives it back.
 */
import { KaizenError } from '../../platform/errors.js';
import { keys } from '../../platform/keys.js';
import type { Redis } from '../../platform/redis.js';
import { LuaScripts } from '../../platform/redis-scripts.js';
import { newToken, type SetpassCrypto } from './crypto.js';

export interface NewToken {
  userId: string;
  username: string;
  pinHash: string;
  temporaryPassword: string;
}

export interface TokenRecord {
  tokenHmac: string;
  userId: string;
  username: string;
  pinHash: string;
  /** Decrypted, in memory only. */
  temporaryPassword: string;
  createdAt: Date;
  expiresAt: Date;
  /** Wrong PINs so far. */
  attempts: number;
}

export type FoundToken =
  | { kind: 'found'; record: TokenRecord }
  | { kind: 'missing' }
  /** The record exists but does not open: it was altered in Redis, or SETPASS_SECRET changed. */
  | { kind: 'tampered'; tokenHmac: string };

export interface IssuedToken {
  token: string;
  createdAt: Date;
  expiresAt: Date;
}

/** A token taken out of Redis for the length of one password change; `restore` puts it back. */
export interface ClaimedToken {
  record: TokenRecord;
  fields: string[];
}

export interface LinkStatus {
  live: boolean;
  createdAt?: Date;
  expiresAt?: Date;
  /** Wrong PINs burned the last link, and no link was issued since: only an admin's reset helps. */
  lockedOut?: Lockout;
}

export interface Lockout {
  /** The wrong PINs that burned the link. */
  attempts: number;
  at: Date;
}

export type Reservation =
  | { kind: 'reserved' }
  /** Every attempt the link has left is being checked by other requests right now. */
  | { kind: 'exhausted' }
  /** The token went away meanwhile (used, replaced, expired). */
  | { kind: 'gone' };

export type WrongPinOutcome =
  | { kind: 'counted'; attempts: number; attemptsLeft: number }
  | { kind: 'burned'; attempts: number }
  /** The token went away meanwhile (used, replaced, expired). */
  | { kind: 'gone' };

// KEYS: user pointer, new token, old token (the one the caller saw named by the pointer), lockout
// marker, PIN on file, sealed temporary password. ARGV: that old hmac ('' for none), new hmac,
// sealed link, created ms, expires ms, sealed temporary password, keep-until ms, then the new
// token's fields. Answers 0, changing nothing, when another issue moved the pointer since the
// caller looked. A new link ends a lockout and keeps the PIN and temporary password until
// keep-until.
const ISSUE = `
local current = redis.call('HGET', KEYS[1], 'hmac') or ''
if current ~= ARGV[1] then return 0 end
if current ~= '' then redis.call('DEL', KEYS[3]) end
redis.call('DEL', KEYS[2], KEYS[1], KEYS[4])
redis.call('HSET', KEYS[2], unpack(ARGV, 8))
redis.call('PEXPIREAT', KEYS[2], ARGV[5])
redis.call('HSET', KEYS[1], 'hmac', ARGV[2], 'link', ARGV[3], 'created', ARGV[4], 'expires', ARGV[5])
redis.call('PEXPIREAT', KEYS[1], ARGV[5])
redis.call('SET', KEYS[6], ARGV[6], 'PXAT', ARGV[7])
if redis.call('EXISTS', KEYS[5]) == 1 then redis.call('PEXPIREAT', KEYS[5], ARGV[7]) end
return 1
`;

// KEYS: token. ARGV: max attempts. Takes one attempt for a PIN about to be checked: 1, or 0 when
// wrong PINs and attempts being checked already use them all, -1 when the token is gone.
const RESERVE = `
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
local wrong = tonumber(redis.call('HGET', KEYS[1], 'attempts') or '0')
local reserved = tonumber(redis.call('HGET', KEYS[1], 'reserved') or '0')
if wrong + reserved >= tonumber(ARGV[1]) then return 0 end
redis.call('HINCRBY', KEYS[1], 'reserved', 1)
return 1
`;

// KEYS: token. A right PIN gives its attempt back.
const GIVE_BACK = `
if tonumber(redis.call('HGET', KEYS[1], 'reserved') or '0') > 0 then
  redis.call('HINCRBY', KEYS[1], 'reserved', -1)
end
return 1
`;

// Counts a wrong PIN against the token; the max-th burns the token and, when it is the user's
// current link, marks the user locked out. Answers the count.
const COUNT_WRONG_PIN_LUA = `
local function countWrongPin(token, pointer, lockout, max, hmac, now)
  local attempts = redis.call('HINCRBY', token, 'attempts', 1)
  if attempts >= tonumber(max) then
    redis.call('DEL', token)
    if redis.call('HGET', pointer, 'hmac') == hmac then
      redis.call('DEL', pointer)
      redis.call('HSET', lockout, 'attempts', attempts, 'at', now)
    end
  end
  return attempts
end
`;

// KEYS: token, user pointer, lockout marker. ARGV: max attempts, token hmac, now ms. Turns a
// reserved attempt into a wrong PIN; answers the new count, -1 when gone. Burning the user's
// current link marks the user locked out.
const WRONG_PIN = `${COUNT_WRONG_PIN_LUA}
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
if tonumber(redis.call('HGET', KEYS[1], 'reserved') or '0') > 0 then
  redis.call('HINCRBY', KEYS[1], 'reserved', -1)
end
return countWrongPin(KEYS[1], KEYS[2], KEYS[3], ARGV[1], ARGV[2], ARGV[3])
`;

// KEYS: token. Takes the whole record out, or answers nil when another request took it first.
const CLAIM = `
local fields = redis.call('HGETALL', KEYS[1])
if #fields == 0 then return false end
redis.call('DEL', KEYS[1])
return fields
`;

// KEYS: token, user pointer. ARGV: token hmac, expires ms, then the fields. Only while the token is
// still the user's current one: a link replaced meanwhile stays dead.
const RESTORE = `
if redis.call('HGET', KEYS[2], 'hmac') ~= ARGV[1] then return 0 end
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV, 3))
redis.call('PEXPIREAT', KEYS[1], ARGV[2])
return 1
`;

// KEYS: user pointer, done marker, temporary password. ARGV: token hmac, completion time. The
// temporary password is the user's no longer: no link may carry it again.
const FINISH = `
if redis.call('HGET', KEYS[1], 'hmac') == ARGV[1] then redis.call('DEL', KEYS[1]) end
redis.call('SET', KEYS[2], ARGV[2])
redis.call('DEL', KEYS[3])
return 1
`;

// KEYS: PIN on file. ARGV: the hash the caller checked, its replacement. Only while unchanged.
const REPLACE_PIN = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'KEEPTTL')
return 1
`;

// KEYS: user pointer, token. ARGV: token hmac. The pointer goes only while it still names this token.
const REVOKE = `
redis.call('DEL', KEYS[2])
if redis.call('HGET', KEYS[1], 'hmac') ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1])
return 1
`;

// A failure budget's counter as rate-limiter-flexible keeps it (limits.ts), taken from or read in
// the same script as the token, so the page makes one round trip where it made two.
// KEYS[1] = budget counter. ARGV[1] = points, ARGV[2] = window in seconds. `take` answers the
// counter's milliseconds left when the point is refused (and given back at once), else nil.
const BUDGET_LUA = `
local function take()
  redis.call('SET', KEYS[1], 0, 'EX', ARGV[2], 'NX')
  local spent = redis.call('INCRBY', KEYS[1], 1)
  local ttl = redis.call('PTTL', KEYS[1])
  if ttl == -1 then
    redis.call('EXPIRE', KEYS[1], ARGV[2])
    ttl = 1000 * tonumber(ARGV[2])
  end
  if spent > tonumber(ARGV[1]) then
    redis.call('DECRBY', KEYS[1], 1)
    return ttl
  end
  return nil
end
`;

// KEYS: the client address's budget, token. ARGV: points, window, '1' to take a point (a
// submission) or '0' only to check it (opening a link). Answers {0, ms left} when the budget is
// spent, else {1, the token's fields}.
const FIND_WITHIN_BUDGET = `${BUDGET_LUA}
if ARGV[3] == '1' then
  local refused = take()
  if refused then return {0, refused} end
else
  local spent = tonumber(redis.call('GET', KEYS[1]) or '0')
  if spent >= tonumber(ARGV[1]) then return {0, redis.call('PTTL', KEYS[1])} end
end
return {1, redis.call('HGETALL', KEYS[2])}
`;

// KEYS: the user's budget, token, user pointer, lockout marker. ARGV: points, window, max attempts,
// the PIN's verdict ('none' when no PIN was checked, 'right' or 'wrong'), token hmac, now ms.
// Takes the user's point; then, for a checked PIN, counts it against the link as WRONG_PIN does
// (the max-th wrong PIN burns the token and marks the user locked out) unless the link's attempts
// are already used up by wrong PINs and checks in flight. Answers {0, ms left} when the user's
// budget is spent, else {1, 'none' | 'gone' | 'exhausted' | 'right' | wrong PINs so far}.
const TAKE_USER_AND_COUNT_PIN = `${BUDGET_LUA}${COUNT_WRONG_PIN_LUA}
local refused = take()
if refused then return {0, refused} end
if ARGV[4] == 'none' then return {1, 'none'} end
if redis.call('EXISTS', KEYS[2]) == 0 then return {1, 'gone'} end
local wrong = tonumber(redis.call('HGET', KEYS[2], 'attempts') or '0')
local reserved = tonumber(redis.call('HGET', KEYS[2], 'reserved') or '0')
if wrong + reserved >= tonumber(ARGV[3]) then return {1, 'exhausted'} end
if ARGV[4] == 'right' then return {1, 'right'} end
return {1, countWrongPin(KEYS[2], KEYS[3], KEYS[4], ARGV[3], ARGV[5], ARGV[6])}
`;

/** A failure budget's counter (`keys.setpassBudget(scope, id)`): see limits.ts. */
export interface BudgetCounter {
  scope: 'user' | 'ip';
  id: string;
  points: number;
  windowSeconds: number;
}

export type BudgetedLookup =
  | { kind: 'blocked'; msBeforeNext: number }
  | { kind: 'looked'; found: FoundToken };

/** What the PIN of a submission was, as the page checked it before asking the store to count it. */
export type PinVerdict = 'none' | 'right' | 'wrong';

export type UserAndPin =
  | { kind: 'blocked'; msBeforeNext: number }
  /** The user's point is taken; `pin` says what became of the PIN (`none` when none was checked). */
  | {
      kind: 'taken';
      pin:
        | { kind: 'none' }
        | { kind: 'right' }
        /** The wrong PIN is counted (`burned`: it was the last the link allowed). */
        | WrongPinOutcome
        /** Wrong PINs and checks in flight already use every attempt the link has. */
        | { kind: 'exhausted' };
    };

const ISSUE_ROUNDS = 100;

export class TokenStore {
  /** The page's per-request scripts go by SHA-1: see redis-scripts.ts. */
  private readonly scripts: LuaScripts;

  constructor(
    private readonly redis: Redis,
    private readonly crypto: SetpassCrypto,
    private readonly ttlMs: number,
  ) {
    this.scripts = new LuaScripts(redis);
  }

  /** Stores a new token for the user; the user's previous token, if any, stops working at once. */
  async issue(input: NewToken): Promise<IssuedToken> {
    const token = newToken();
    const tokenHmac = this.crypto.tokenHmac(token);
    const createdAt = new Date();
    const expiresAt = new Date(createdAt.getTime() + this.ttlMs);
    const fields = this.sealRecord({ ...input, tokenHmac, createdAt, expiresAt, attempts: 0 });
    const link = this.crypto.seal(token, linkContext(input.userId, tokenHmac));
    const temporary = this.crypto.seal(input.temporaryPassword, temporaryContext(input.userId));
    const keepUntil = this.keepUntil(expiresAt).getTime();
    const userKey = keys.setpassUser(input.userId);
    // Every round of a race has one winner, so this ends; real contention is an admin double-click.
    for (let round = 0; round < ISSUE_ROUNDS; round++) {
      const previous = (await this.redis.hget(userKey, 'hmac')) ?? '';
      const written = await this.redis.eval(
        ISSUE,
        6,
        userKey,
        keys.setpassToken(tokenHmac),
        keys.setpassToken(previous || tokenHmac),
        keys.setpassLockedOut(input.userId),
        keys.setpassPin(input.userId),
        keys.setpassTemporary(input.userId),
        previous,
        tokenHmac,
        link,
        String(createdAt.getTime()),
        String(expiresAt.getTime()),
        temporary,
        String(keepUntil),
        ...fields,
      );
      if (written === 1) return { token, createdAt, expiresAt };
    }
    throw new KaizenError(
      'conflict',
      `The password link of user ${input.userId} kept changing while a new one was issued; try again`,
    );
  }

  /**
   * The token's record and the client address's failure budget in one script: with `take`, a
   * point is taken from the budget first (a submission), else the budget is only checked (opening
   * a link). A token hmac of undefined (a malformed token) looks up nothing, at the same cost.
   */
  async findWithinBudget(
    tokenHmac: string | undefined,
    budget: BudgetCounter,
    take: boolean,
  ): Promise<BudgetedLookup> {
    const [allowed, answer] = (await this.scripts.evalsha(
      FIND_WITHIN_BUDGET,
      2,
      keys.setpassBudget(budget.scope, budget.id),
      keys.setpassToken(tokenHmac ?? '-'),
      String(budget.points),
      String(budget.windowSeconds),
      take ? '1' : '0',
    )) as [number, number | string[]];
    if (allowed !== 1) return { kind: 'blocked', msBeforeNext: Number(answer) };
    const fields = Array.isArray(answer) ? answer : [];
    if (tokenHmac === undefined || fields.length === 0) return { kind: 'looked', found: { kind: 'missing' } };
    const record = this.openRecord(tokenHmac, toMap(fields));
    return {
      kind: 'looked',
      found: record === undefined ? { kind: 'tampered', tokenHmac } : { kind: 'found', record },
    };
  }

  /**
   * Takes a point from the user's failure budget and counts a PIN already checked: a wrong one
   * against the link (as `recordWrongPin`), a right one only if the link still has an attempt.
   * One script, so a wrong PIN costs one round trip after the look-up, and however many requests
   * race, no more PINs are answered than the link has attempts.
   */
  async takeUserAndCountPin(
    record: TokenRecord,
    budget: BudgetCounter,
    maxAttempts: number,
    verdict: PinVerdict,
  ): Promise<UserAndPin> {
    const [allowed, answer] = (await this.scripts.evalsha(
      TAKE_USER_AND_COUNT_PIN,
      4,
      keys.setpassBudget(budget.scope, budget.id),
      keys.setpassToken(record.tokenHmac),
      keys.setpassUser(record.userId),
      keys.setpassLockedOut(record.userId),
      String(budget.points),
      String(budget.windowSeconds),
      String(maxAttempts),
      verdict,
      record.tokenHmac,
      String(Date.now()),
    )) as [number, number | string];
    if (allowed !== 1) return { kind: 'blocked', msBeforeNext: Number(answer) };
    if (typeof answer === 'string') {
      const named = { none: 'none', right: 'right', gone: 'gone', exhausted: 'exhausted' } as const;
      return { kind: 'taken', pin: { kind: named[answer as keyof typeof named] ?? 'gone' } };
    }
    const attempts = Number(answer);
    return {
      kind: 'taken',
      pin:
        attempts >= maxAttempts
          ? { kind: 'burned', attempts }
          : { kind: 'counted', attempts, attemptsLeft: maxAttempts - attempts },
    };
  }

  async find(token: string): Promise<FoundToken> {
    const tokenHmac = this.crypto.tokenHmac(token);
    return this.findByHmac(tokenHmac);
  }

  /** The user's live token record, for renewals that keep the temporary password and PIN. */
  async current(userId: string): Promise<TokenRecord | undefined> {
    const tokenHmac = await this.redis.hget(keys.setpassUser(userId), 'hmac');
    if (!tokenHmac) return undefined;
    const found = await this.findByHmac(tokenHmac);
    return found.kind === 'found' && found.record.userId === userId ? found.record : undefined;
  }

  /** The user's live link token and its expiry, decrypted; undefined when none or it does not open. */
  async currentToken(userId: string): Promise<{ token: string; expiresAt: Date } | undefined> {
    const pointer = await this.redis.hgetall(keys.setpassUser(userId));
    if (!pointer.hmac || !pointer.link) return undefined;
    const live = await this.redis.exists(keys.setpassToken(pointer.hmac));
    if (live !== 1) return undefined;
    const token = this.crypto.open(pointer.link, linkContext(userId, pointer.hmac));
    if (token === undefined || this.crypto.tokenHmac(token) !== pointer.hmac) return undefined;
    return { token, expiresAt: new Date(Number(pointer.expires)) };
  }

  async status(userId: string): Promise<LinkStatus> {
    const pointer = await this.redis.hgetall(keys.setpassUser(userId));
    const live = pointer.hmac ? (await this.redis.exists(keys.setpassToken(pointer.hmac))) === 1 : false;
    if (!live) {
      const lockedOut = await this.lockout(userId);
      return lockedOut === undefined ? { live: false } : { live: false, lockedOut };
    }
    return {
      live,
      createdAt: new Date(Number(pointer.created)),
      expiresAt: new Date(Number(pointer.expires)),
    };
  }

  /** Whether wrong PINs burned the user's link with no new link since. */
  async lockout(userId: string): Promise<Lockout | undefined> {
    const marker = await this.redis.hgetall(keys.setpassLockedOut(userId));
    if (marker.attempts === undefined) return undefined;
    return { attempts: Number(marker.attempts), at: new Date(Number(marker.at ?? 0)) };
  }

  /** Takes one of the link's attempts before its PIN is checked. */
  async reserveAttempt(record: TokenRecord, maxAttempts: number): Promise<Reservation> {
    const answer = Number(
      await this.scripts.evalsha(RESERVE, 1, keys.setpassToken(record.tokenHmac), String(maxAttempts)),
    );
    if (answer < 0) return { kind: 'gone' };
    return answer === 0 ? { kind: 'exhausted' } : { kind: 'reserved' };
  }

  /** A right PIN: the attempt reserved for it is given back. */
  async giveBackAttempt(record: TokenRecord): Promise<void> {
    await this.scripts.evalsha(GIVE_BACK, 1, keys.setpassToken(record.tokenHmac));
  }

  /** Counts the reserved attempt as a wrong PIN; the `maxAttempts`-th burns the token. */
  async recordWrongPin(record: TokenRecord, maxAttempts: number): Promise<WrongPinOutcome> {
    const attempts = Number(
      await this.scripts.evalsha(
        WRONG_PIN,
        3,
        keys.setpassToken(record.tokenHmac),
        keys.setpassUser(record.userId),
        keys.setpassLockedOut(record.userId),
        String(maxAttempts),
        record.tokenHmac,
        String(Date.now()),
      ),
    );
    if (attempts < 0) return { kind: 'gone' };
    if (attempts >= maxAttempts) return { kind: 'burned', attempts };
    return { kind: 'counted', attempts, attemptsLeft: maxAttempts - attempts };
  }

  /** Takes the token out of Redis so that only this request can use it; undefined when another did. */
  async claim(tokenHmac: string): Promise<ClaimedToken | undefined> {
    const fields = (await this.redis.eval(CLAIM, 1, keys.setpassToken(tokenHmac))) as string[] | null;
    if (!fields) return undefined;
    const record = this.openRecord(tokenHmac, toMap(fields));
    return record === undefined ? undefined : { record, fields };
  }

  /** Puts a claimed token back (the change failed on our side), unless it was replaced meanwhile. */
  async restore(claimed: ClaimedToken): Promise<boolean> {
    const { record } = claimed;
    // Attempts that were being checked when the token was taken are not coming back to it.
    const fields = withoutField(claimed.fields, 'reserved');
    const restored = await this.redis.eval(
      RESTORE,
      2,
      keys.setpassToken(record.tokenHmac),
      keys.setpassUser(record.userId),
      record.tokenHmac,
      String(record.expiresAt.getTime()),
      ...fields,
    );
    return restored === 1;
  }

  /** After a successful change: the link is gone for good and the user is marked done. */
  async finish(record: TokenRecord, at: Date): Promise<void> {
    await this.redis.eval(
      FINISH,
      3,
      keys.setpassUser(record.userId),
      keys.setpassDone(record.userId),
      keys.setpassTemporary(record.userId),
      record.tokenHmac,
      at.toISOString(),
    );
  }

  /** Kills the user's live link, if any. */
  async revoke(userId: string): Promise<boolean> {
    const tokenHmac = await this.redis.hget(keys.setpassUser(userId), 'hmac');
    return tokenHmac ? this.revokeToken(userId, tokenHmac) : false;
  }

  /** Kills this one token, and the user's pointer only while it still names this token. */
  async discard(record: TokenRecord): Promise<void> {
    await this.revokeToken(record.userId, record.tokenHmac);
  }

  private async revokeToken(userId: string, tokenHmac: string): Promise<boolean> {
    const revoked = await this.redis.eval(
      REVOKE,
      2,
      keys.setpassUser(userId),
      keys.setpassToken(tokenHmac),
      tokenHmac,
    );
    return revoked === 1;
  }

  async pinOnFile(userId: string): Promise<string | undefined> {
    return (await this.redis.get(keys.setpassPin(userId))) ?? undefined;
  }

  /** Kept for two link lifetimes; every link issued for the user renews it. */
  async storePinHash(userId: string, pinHash: string): Promise<void> {
    await this.redis.set(keys.setpassPin(userId), pinHash, 'PX', 2 * this.ttlMs);
  }

  /** Puts `replacement` on file in place of `checked`, unless the PIN on file changed meanwhile. */
  async replacePinHash(userId: string, checked: string, replacement: string): Promise<boolean> {
    const replaced = await this.redis.eval(REPLACE_PIN, 1, keys.setpassPin(userId), checked, replacement);
    return replaced === 1;
  }

  /** The temporary password the user's links carry, decrypted; undefined when none is kept. */
  async temporaryPassword(userId: string): Promise<string | undefined> {
    const sealed = await this.redis.get(keys.setpassTemporary(userId));
    return sealed === null ? undefined : this.crypto.open(sealed, temporaryContext(userId));
  }

  /** Keeps the temporary password of a link issued before it was kept on its own, until `until`. */
  async keepTemporaryPassword(userId: string, temporaryPassword: string, until: Date): Promise<void> {
    const sealed = this.crypto.seal(temporaryPassword, temporaryContext(userId));
    await this.redis.set(keys.setpassTemporary(userId), sealed, 'PXAT', until.getTime(), 'NX');
  }

  /** How long the PIN and temporary password outlive a link that expires at `expiresAt`. */
  keepUntil(expiresAt: Date): Date {
    return new Date(expiresAt.getTime() + this.ttlMs);
  }

  /** Forgets the temporary password: Keystone no longer takes it, so no link may carry it. */
  async forgetTemporaryPassword(userId: string): Promise<void> {
    await this.redis.del(keys.setpassTemporary(userId));
  }

  /** When the user last set their password through a link. */
  async passwordSetAt(userId: string): Promise<Date | undefined> {
    const at = await this.redis.get(keys.setpassDone(userId));
    return at ? new Date(at) : undefined;
  }

  private async findByHmac(tokenHmac: string): Promise<FoundToken> {
    const map = await this.redis.hgetall(keys.setpassToken(tokenHmac));
    if (Object.keys(map).length === 0) return { kind: 'missing' };
    const record = this.openRecord(tokenHmac, new Map(Object.entries(map)));
    return record === undefined ? { kind: 'tampered', tokenHmac } : { kind: 'found', record };
  }

  private sealRecord(record: TokenRecord): string[] {
    const plain = {
      uid: record.userId,
      name: record.username,
      pin: record.pinHash,
      created: String(record.createdAt.getTime()),
      expires: String(record.expiresAt.getTime()),
    };
    const pw = this.crypto.seal(record.temporaryPassword, recordContext(record.tokenHmac, plain));
    return Object.entries({ ...plain, pw, attempts: String(record.attempts) }).flat();
  }

  private openRecord(tokenHmac: string, map: Map<string, string>): TokenRecord | undefined {
    const plain = {
      uid: map.get('uid'),
      name: map.get('name'),
      pin: map.get('pin'),
      created: map.get('created'),
      expires: map.get('expires'),
    };
    const sealed = map.get('pw');
    if (Object.values(plain).some((value) => value === undefined) || sealed === undefined) return undefined;
    const complete = plain as Record<keyof typeof plain, string>;
    const temporaryPassword = this.crypto.open(sealed, recordContext(tokenHmac, complete));
    if (temporaryPassword === undefined) return undefined;
    return {
      tokenHmac,
      userId: complete.uid,
      username: complete.name,
      pinHash: complete.pin,
      temporaryPassword,
      createdAt: new Date(Number(complete.created)),
      expiresAt: new Date(Number(complete.expires)),
      attempts: Number(map.get('attempts') ?? 0),
    };
  }
}

/** Binds the sealed password to its token and to every field an attacker could want to swap. */
function recordContext(tokenHmac: string, plain: Record<string, string | undefined>): string {
  return JSON.stringify([
    'setpass-record',
    tokenHmac,
    plain.uid,
    plain.name,
    plain.pin,
    plain.created,
    plain.expires,
  ]);
}

function temporaryContext(userId: string): string {
  return JSON.stringify(['setpass-temporary', userId]);
}

function withoutField(flat: string[], name: string): string[] {
  const out: string[] = [];
  for (let i = 0; i + 1 < flat.length; i += 2) {
    if (flat[i] !== name) out.push(flat[i]!, flat[i + 1]!);
  }
  return out;
}

function linkContext(userId: string, tokenHmac: string): string {
  return JSON.stringify(['setpass-link', userId, tokenHmac]);
}

function toMap(flat: string[]): Map<string, string> {
  const map = new Map<string, string>();
  for (let i = 0; i + 1 < flat.length; i += 2) map.set(flat[i]!, flat[i + 1]!);
  return map;
}
