/**
 * The password-link feature as one object for the composition root: the token store, the PIN and
 * failure budgets, the password policy, and the story of a password change through a link.
 * It needs no admin credentials: the user's temporary password authorises the change, and the
 * change runs under the user's claim (claim.ts), so no link is issued while it is under way.
 */

import type { KeystoneClient } from '../../keystone/index.js';
import { isKaizenError } from '../../platform/errors.js';
import type { Logger } from '../../platform/log.js';
import type { Metrics } from '../../platform/metrics.js';
import type { Redis } from '../../platform/redis.js';
import { UserClaims } from './claim.js';
import {
  type CliCredentialOutcome,
  type CliCredentialSettings,
  makeCliCredential,
} from './cli-credential.js';
import { isWellFormedToken, SetpassCrypto } from './crypto.js';
import { publishSetpassEvent, type SetpassEvent } from './events.js';
import { type ForgotLimitsConfig, ForgotPassword } from './forgot.js';
import {
  issueSetpassLink,
  type LinkUser,
  type ResendOptions,
  type ResentLink,
  resendSetpassLink,
  type SetpassLink,
} from './issue.js';
import {
  blockedFor,
  DEFAULT_BUDGETS,
  type FailureBudgets,
  type FailureCharge,
  FailureLimits,
} from './limits.js';
import { isValidPin, PinHasher } from './pin.js';
import { PasswordPolicy } from './policy.js';
import type { PasswordLinkIssuer } from './ports.js';
import {
  type FoundToken,
  type IssuedToken,
  type LinkStatus,
  type NewToken,
  type TokenRecord,
  TokenStore,
  type WrongPinOutcome,
} from './store.js';

export interface SetpassOptions {
  redis: Redis;
  /** Changes users' own passwords and checks API callers; admin credentials are not needed. */
  keystone: KeystoneClient;
  log: Logger;
  secret: Buffer;
  publicUrl: string;
  tokenTtlMs: number;
  maxPinAttempts: number;
  passwordMinLength: number;
  passwordMinScore: number;
  budgets?: FailureBudgets;
  /** Request limits of `/forgot` (defaults in forgot.ts). */
  forgotLimits?: ForgotLimitsConfig;
  /** Counts links issued and redeemed, wrong PINs and lockouts. */
  metrics?: Pick<Metrics, 'link' | 'wrongPin' | 'lockout'>;
  /** Where the credentials for the command line point; without it the page cannot make them. */
  cliCredentials?: CliCredentialSettings;
}

/** What opening a link shows. */
export type LinkView =
  | { kind: 'live'; username: string; expiresAt: Date; attemptsLeft: number | undefined }
  | { kind: 'dead' }
  | { kind: 'rate_limited'; retryAfterMs: number };

export interface PasswordSubmission {
  token: string;
  pin: string;
  password: string;
  confirmPassword: string;
  clientIp: string;
  /** The box "Also create credentials for the command line" was ticked. */
  createAppCredential?: boolean;
}

/** Mistakes the user can fix on the same form; none of them counts as a PIN attempt. */
export interface FieldProblems {
  pin?: string;
  password?: string[];
  confirm?: string;
}

export type PasswordChangeOutcome =
  /** `cliCredential` only when the box was ticked; its secret is for the page and nothing else. */
  | { kind: 'done'; username: string; cliCredential?: CliCredentialOutcome }
  | { kind: 'dead' }
  | { kind: 'rate_limited'; retryAfterMs: number }
  | { kind: 'wrong_pin'; username: string; expiresAt: Date; attemptsLeft: number }
  | { kind: 'locked_out'; attempts: number }
  | {
      kind: 'fix';
      username: string;
      expiresAt: Date;
      attemptsLeft: number | undefined;
      problems: FieldProblems;
    }
  /** Keystone no longer takes the temporary password: the account changed since the link was sent. */
  | { kind: 'account_changed' }
  /** Keystone could not be asked; the link was put back and still works. */
  | { kind: 'unavailable' };

/**
 * How long a submission waits for the user's claim (a reset or a link being sent may hold it while
 * Keystone answers) before the page says to try again; the link is untouched meanwhile.
 */
const REDEEM_WAIT_MS = 5_000;
/** Every attempt the link has left is being checked right now: come back when they are decided. */
const ATTEMPTS_BUSY_RETRY_MS = 1_000;
/** Outcomes that keep the points a submission took from the failure budgets. */
const FAILURES: ReadonlySet<PasswordChangeOutcome['kind']> = new Set(['dead', 'wrong_pin', 'locked_out']);

export class Setpass implements PasswordLinkIssuer {
  readonly tokens: TokenStore;
  readonly limits: FailureLimits;
  readonly policy: PasswordPolicy;
  readonly keystone: KeystoneClient;
  readonly maxPinAttempts: number;
  readonly pins: PinHasher;
  readonly claims: UserClaims;
  /** `POST /forgot`: a user's name and PIN ask the bot side for a reset. */
  readonly forgot: ForgotPassword;
  private readonly crypto: SetpassCrypto;
  private readonly redis: Redis;
  private readonly log: Logger;
  private readonly publicUrl: string;
  private readonly metrics: SetpassOptions['metrics'];
  private readonly cliCredentials: CliCredentialSettings | undefined;

  constructor(options: SetpassOptions) {
    this.metrics = options.metrics;
    this.cliCredentials = options.cliCredentials;
    this.crypto = new SetpassCrypto(options.secret);
    this.tokens = new TokenStore(options.redis, this.crypto, options.tokenTtlMs);
    this.limits = new FailureLimits(
      options.redis,
      options.budgets ?? DEFAULT_BUDGETS(options.maxPinAttempts),
    );
    this.policy = new PasswordPolicy({
      minLength: options.passwordMinLength,
      minScore: options.passwordMinScore,
    });
    this.keystone = options.keystone;
    this.maxPinAttempts = options.maxPinAttempts;
    this.redis = options.redis;
    this.log = options.log;
    this.publicUrl = options.publicUrl.replace(/\/+$/, '');
    this.pins = new PinHasher(options.secret);
    this.claims = new UserClaims(options.redis);
    this.forgot = new ForgotPassword({
      redis: options.redis,
      secret: options.secret,
      tokens: this.tokens,
      pins: this.pins,
      limits: this.limits,
      maxPinAttempts: options.maxPinAttempts,
      log: options.log,
      publish: (event) => this.publish(event),
      requestLimits: options.forgotLimits,
    });
  }

  /** The keyed hash of a PIN, as it is kept on file and in links. */
  hashPin(pin: string): string {
    return this.pins.hash(pin);
  }

  linkUrl(token: string): string {
    return `${this.publicUrl}/?token=${encodeURIComponent(token)}`;
  }

  /**
   * A fresh temporary password in Keystone and a link for it; the user's earlier link dies. Needs
   * the admin client, so only the bot side can do it. This is what provisioning, `/kaizen reset`
   * and the reminders call (their ports name it `issue`).
   */
  async issue(user: LinkUser, pinHash: string | undefined): Promise<SetpassLink> {
    return issueSetpassLink({ keystone: this.keystone, setpass: this }, user, pinHash);
  }

  /**
   * Sends a link again (reminders, `/kaizen resend`, renewal of an expired link) without setting
   * any password: the live link, or a new one with the temporary password Keystone already has.
   * `deliver` runs while the user's claim is held.
   */
  async resend<T>(
    user: LinkUser,
    options: ResendOptions,
    deliver: (link: SetpassLink, fresh: boolean) => Promise<T>,
  ): Promise<ResentLink<T>> {
    return resendSetpassLink(this, user, options, deliver);
  }

  /** Stores a token; the caller has already put `temporaryPassword` into Keystone. */
  async issueToken(input: NewToken): Promise<IssuedToken> {
    const issued = await this.tokens.issue(input);
    // As long as the PIN on file lasts, `/forgot` can find the user by name.
    const keepMs = this.tokens.keepUntil(issued.expiresAt).getTime() - Date.now();
    await this.forgot.remember(input.username, input.userId, keepMs);
    this.metrics?.link('issued');
    return issued;
  }

  /** The user's live link, to send again (`/kaizen resend`); undefined when there is none. */
  async current(userId: string): Promise<SetpassLink | undefined> {
    const current = await this.tokens.currentToken(userId);
    return current && { url: this.linkUrl(current.token), expiresAt: current.expiresAt };
  }

  async status(userId: string): Promise<LinkStatus> {
    return this.tokens.status(userId);
  }

  async pinOnFile(userId: string): Promise<string | undefined> {
    return this.tokens.pinOnFile(userId);
  }

  async storePinHash(userId: string, pinHash: string): Promise<void> {
    await this.tokens.storePinHash(userId, pinHash);
  }

  /** When the user last set their password through a link; undefined if never. */
  async passwordSetAt(userId: string): Promise<Date | undefined> {
    return this.tokens.passwordSetAt(userId);
  }

  async revoke(userId: string): Promise<boolean> {
    return this.tokens.revoke(userId);
  }

  /** GET /?token=: whether the link works; it charges nothing (see limits.ts). */
  async openLink(token: string, clientIp: string): Promise<LinkView> {
    // The address's budget and the token record: one script, one round trip.
    const looked = await this.tokens.findWithinBudget(
      this.lookupHmac(token),
      this.limits.ipBudget(clientIp),
      false,
    );
    if (looked.kind === 'blocked') {
      return { kind: 'rate_limited', retryAfterMs: blockedFor('ip', looked.msBeforeNext).retryAfterMs };
    }
    const record = this.liveRecord(looked.found);
    if (record === undefined) return { kind: 'dead' };
    return {
      kind: 'live',
      username: record.username,
      expiresAt: record.expiresAt,
      attemptsLeft: record.attempts > 0 ? this.maxPinAttempts - record.attempts : undefined,
    };
  }

  /**
   * POST /: the checks run in the order that reveals least: the link, then the PIN (the only thing
   * that counts as an attempt), then the passwords, then Keystone. The token is claimed before
   * Keystone is called, so two submissions at once change the password once.
   */
  async changePassword(submission: PasswordSubmission): Promise<PasswordChangeOutcome> {
    // The address's point is taken before any work, in the script that reads the token record.
    const looked = await this.tokens.findWithinBudget(
      this.lookupHmac(submission.token),
      this.limits.ipBudget(submission.clientIp),
      true,
    );
    if (looked.kind === 'blocked') {
      return { kind: 'rate_limited', retryAfterMs: blockedFor('ip', looked.msBeforeNext).retryAfterMs };
    }
    const charge = this.limits.chargeTaken(submission.clientIp);
    let outcome: PasswordChangeOutcome | undefined;
    try {
      outcome = await this.tryChange(submission, charge, looked.found);
      return outcome;
    } finally {
      // The points taken up front stay spent only for a failure; anything else gives them back.
      // A refund that fails must not turn a password already changed into an error page.
      const failed = outcome !== undefined && FAILURES.has(outcome.kind);
      await charge.settle(failed).catch((error: unknown) => {
        this.log.warn({ err: error }, 'could not give back the failure-budget points of a submission');
      });
    }
  }

  private async tryChange(
    submission: PasswordSubmission,
    charge: FailureCharge,
    found: FoundToken,
  ): Promise<PasswordChangeOutcome> {
    const { clientIp } = submission;
    const record = this.liveRecord(found);
    if (record === undefined) {
      this.pins.decoy(submission.pin || '0000');
      return { kind: 'dead' };
    }
    const pin = submission.pin.trim();
    const pinProblem =
      pin === ''
        ? 'Enter the 4-digit PIN you chose when you applied.'
        : isValidPin(pin)
          ? undefined
          : 'The PIN is exactly 4 digits (0–9).';
    // The PIN is checked here (a keyed hash, no I/O); the user's point and the counting of the PIN
    // against the link are one script after it. A PIN's verdict is told to the client only when
    // the script counted it, so parallel guesses learn no more than the link allows.
    const check = pinProblem === undefined ? await this.pins.verify(pin, record.pinHash) : undefined;
    const user = await this.tokens.takeUserAndCountPin(
      record,
      this.limits.userBudget(record.userId),
      this.maxPinAttempts,
      check === undefined ? 'none' : check.matches ? 'right' : 'wrong',
    );
    if (user.kind === 'blocked') {
      return { kind: 'rate_limited', retryAfterMs: blockedFor('user', user.msBeforeNext).retryAfterMs };
    }
    charge.userTaken(record.userId);

    const attemptsLeft = record.attempts > 0 ? this.maxPinAttempts - record.attempts : undefined;
    const fix = (problems: FieldProblems): PasswordChangeOutcome => ({
      kind: 'fix',
      username: record.username,
      expiresAt: record.expiresAt,
      attemptsLeft,
      problems,
    });

    if (pinProblem !== undefined) return fix({ pin: pinProblem });
    switch (user.pin.kind) {
      case 'gone':
      case 'none':
        return { kind: 'dead' };
      case 'exhausted':
        return { kind: 'rate_limited', retryAfterMs: ATTEMPTS_BUSY_RETRY_MS };
      case 'counted':
      case 'burned':
        return this.wrongPin(record, user.pin, clientIp);
      case 'right':
        break;
    }
    if (check?.rehashed !== undefined) {
      await this.tokens.replacePinHash(record.userId, record.pinHash, check.rehashed);
    }

    if (submission.password === '') return fix({ password: ['Enter a new password.'] });
    if (submission.password !== submission.confirmPassword) {
      return fix({ confirm: 'The two passwords do not match. Type the same password in both fields.' });
    }
    const verdict = await this.policy.check(submission.password, { username: record.username });
    if (!verdict.ok) return fix({ password: verdict.problems });

    const outcome = await this.changeInKeystone(record, submission.password, clientIp, fix);
    if (outcome.kind !== 'done' || submission.createAppCredential !== true) return outcome;
    // After the claim is let go: the password is set whatever happens here.
    return { ...outcome, cliCredential: await this.cliCredential(record.userId, submission.password) };
  }

  private async cliCredential(userId: string, password: string): Promise<CliCredentialOutcome> {
    if (this.cliCredentials === undefined) return { kind: 'refused' };
    const outcome = await makeCliCredential(
      this.keystone,
      this.cliCredentials,
      { userId, password },
      this.log,
    );
    if (outcome.kind === 'created') {
      this.log.info(
        { userId, credentialId: outcome.credential.id },
        'application credential made for the command line',
      );
    } else {
      this.log.warn({ userId, outcome: outcome.kind }, 'no application credential for the command line');
    }
    return outcome;
  }

  private async changeInKeystone(
    record: TokenRecord,
    password: string,
    clientIp: string,
    fix: (problems: FieldProblems) => PasswordChangeOutcome,
  ): Promise<PasswordChangeOutcome> {
    const redeemed = await this.claims.run(
      record.userId,
      () => this.redeem(record, password, clientIp, fix),
      REDEEM_WAIT_MS,
    );
    if (redeemed.kind === 'held') return redeemed.value;
    this.log.warn(
      { userId: record.userId },
      "the user's link was being issued or used elsewhere; the submission was not taken",
    );
    return { kind: 'unavailable' };
  }

  /** Under the user's claim: the token is taken out of Redis, then Keystone is asked. */
  private async redeem(
    record: TokenRecord,
    password: string,
    clientIp: string,
    fix: (problems: FieldProblems) => PasswordChangeOutcome,
  ): Promise<PasswordChangeOutcome> {
    const claimed = await this.tokens.claim(record.tokenHmac);
    if (claimed === undefined) return { kind: 'dead' };
    try {
      await this.keystone.changeOwnPassword(
        claimed.record.userId,
        claimed.record.temporaryPassword,
        password,
      );
    } catch (error) {
      if (isKaizenError(error, 'unauthorized')) {
        // The user or an operator changed the password since the link went out: theirs stands.
        this.log.warn(
          { userId: record.userId },
          'Keystone refused the temporary password of a live link; the link is withdrawn',
        );
        await this.tokens.discard(claimed.record);
        await this.tokens.forgetTemporaryPassword(record.userId);
        await this.publish({
          type: 'account_changed',
          userId: record.userId,
          username: record.username,
          at: new Date(),
          clientIp,
        });
        return { kind: 'account_changed' };
      }
      await this.tokens.restore(claimed);
      if (isKaizenError(error, 'invalid')) {
        return fix({ password: [`The identity service did not accept this password: ${error.message}`] });
      }
      this.log.error({ err: error, userId: record.userId }, 'changing a password through a link failed');
      return { kind: 'unavailable' };
    }
    const at = new Date();
    await this.tokens.finish(claimed.record, at);
    this.metrics?.link('redeemed');
    this.log.info({ userId: record.userId, username: record.username }, 'password set through a link');
    await this.publish({
      type: 'password_changed',
      userId: record.userId,
      username: record.username,
      at,
      clientIp,
    });
    return { kind: 'done', username: record.username };
  }

  /** A wrong PIN the store has counted: the attempts left, or the lockout it caused. */
  private async wrongPin(
    record: TokenRecord,
    outcome: Exclude<WrongPinOutcome, { kind: 'gone' }>,
    clientIp: string,
  ): Promise<PasswordChangeOutcome> {
    this.metrics?.wrongPin();
    if (outcome.kind === 'counted') {
      return {
        kind: 'wrong_pin',
        username: record.username,
        expiresAt: record.expiresAt,
        attemptsLeft: outcome.attemptsLeft,
      };
    }
    this.metrics?.lockout();
    this.log.warn(
      { userId: record.userId, username: record.username, attempts: outcome.attempts },
      'password link disabled after too many wrong PINs',
    );
    await this.publish({
      type: 'lockout',
      userId: record.userId,
      username: record.username,
      at: new Date(),
      clientIp,
      attempts: outcome.attempts,
    });
    return { kind: 'locked_out', attempts: outcome.attempts };
  }

  /**
   * The hmac a token is looked up by; undefined for a malformed token, which looks up nothing but
   * costs the same HMAC and round trip, so it is not told apart by its speed.
   */
  private lookupHmac(token: string): string | undefined {
    const tokenHmac = this.crypto.tokenHmac(token);
    return isWellFormedToken(token) ? tokenHmac : undefined;
  }

  /** The record behind a token that still works; a record that does not decrypt counts as dead. */
  private liveRecord(found: FoundToken): TokenRecord | undefined {
    if (found.kind === 'tampered') {
      this.log.warn(
        { tokenHmac: found.tokenHmac.slice(0, 12) },
        'a password-link record in Redis does not decrypt: altered, or SETPASS_SECRET changed',
      );
      return undefined;
    }
    if (found.kind === 'missing' || found.record.expiresAt.getTime() <= Date.now()) return undefined;
    if (found.record.attempts >= this.maxPinAttempts) return undefined;
    return found.record;
  }

  /** Reporting must not undo a password change or a lockout that already happened. */
  private async publish(event: SetpassEvent): Promise<void> {
    try {
      await publishSetpassEvent(this.redis, event);
    } catch (error) {
      this.log.error(
        { err: error, type: event.type, userId: event.userId },
        'could not publish a setpass event',
      );
    }
  }
}
