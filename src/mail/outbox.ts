/**
 * The mail outbox: every email is stored in Redis before it is sent, sent at once when the relay
 * answers, and otherwise retried with exponential backoff by a small worker in every replica.
 *
 * - One email per purpose: an idempotency key (`welcome:<applicant id>`) maps to the message, so a
 *   retried approval never mails twice.
 * - One sender at a time: a replica sends a message only while it holds that message's lease.
 * - Nothing readable at rest: the body (which may carry a password link) is sealed with AES-GCM, and
 *   a delivered message leaves no body behind.
 * - A restart loses nothing: due times live in a sorted set that the next worker start reads.
 */

import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Sealer } from '../platform/crypto/sealer.js';
import { describeError } from '../platform/errors.js';
import { keys } from '../platform/keys.js';
import type { Logger } from '../platform/log.js';
import type { Redis } from '../platform/redis.js';
import type { MailMessage } from './message.js';
import { MailDeliveryError, type MailTransport } from './transport.js';

/**
 * Work to do once a message is delivered or given up, by name, so it survives a restart (a closure
 * would not).
 */
export interface DeliveryHook {
  kind: string;
  ref: string;
}

/** What a handler answers is not used. */
export type DeliveryHandler = (ref: string) => Promise<unknown>;
/** `reason` says why the message was given up, in words an admin can act on. */
export type GiveUpHandler = (ref: string, reason: string) => Promise<unknown>;

export interface EnqueueOptions {
  idempotencyKey: string;
  onDelivered?: DeliveryHook;
}

export type EnqueueResult =
  | { status: 'sent'; id: string }
  | { status: 'queued'; id: string; reason: string }
  /** The key was used before: nothing new was stored; `delivered` says whether that one went out. */
  | { status: 'duplicate'; id: string; delivered: boolean };

export type MailStatus = 'none' | 'queued' | 'delivered' | 'failed';

export interface OutboxOptions {
  /** First retry delay; each later one doubles, up to `retryMaxMs`. */
  retryBaseMs?: number;
  retryMaxMs?: number;
  /** Attempts before a message is given up (and its body deleted). */
  maxAttempts?: number;
  /** How often the worker looks for due messages. */
  pollMs?: number;
  /** How long one send may hold a message; longer than the transport's timeouts together. */
  leaseMs?: number;
  /** How long an idempotency key is remembered after its message was stored. */
  rememberMs?: number;
}

const DEFAULTS: Required<OutboxOptions> = {
  retryBaseMs: 30_000,
  retryMaxMs: 3_600_000,
  maxAttempts: 12,
  pollMs: 5_000,
  leaseMs: 120_000,
  rememberMs: 90 * 86_400_000,
};

const DELIVERED = 'delivered';
const FAILED = 'failed';

// KEYS: once, message, outbox, lease. ARGV: id, sealed, hook, now, leaseMs, owner, rememberMs, purpose.
// Stores the message and takes its lease for the immediate attempt, unless the purpose was used.
const ENQUEUE = `
local existing = redis.call('GET', KEYS[1])
if existing and existing ~= '${FAILED}' then return existing end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[7])
redis.call('HSET', KEYS[2], 'sealed', ARGV[2], 'hook', ARGV[3], 'purpose', ARGV[8], 'attempts', '0', 'created', ARGV[4])
redis.call('SET', KEYS[4], ARGV[6], 'PX', ARGV[5])
redis.call('ZADD', KEYS[3], ARGV[4], ARGV[1])
return false
`;

// KEYS: message, outbox, once, lease. ARGV: id, owner, outcome (delivered|failed), rememberMs.
// Removes the message body; the purpose remembers how it ended.
const FINISH = `
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[1])
if redis.call('GET', KEYS[3]) == ARGV[1] then redis.call('SET', KEYS[3], ARGV[3], 'PX', ARGV[4]) end
if redis.call('GET', KEYS[4]) == ARGV[2] then redis.call('DEL', KEYS[4]) end
return 1
`;

// KEYS: outbox, lease. ARGV: id, owner. For a message another replica already finished.
const FORGET = `
redis.call('ZREM', KEYS[1], ARGV[1])
if redis.call('GET', KEYS[2]) == ARGV[2] then redis.call('DEL', KEYS[2]) end
return 1
`;

// KEYS: message, outbox, lease. ARGV: id, owner, dueAt, attempts, lastError.
const RESCHEDULE = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], 'attempts', ARGV[4], 'lastError', ARGV[5])
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
if redis.call('GET', KEYS[3]) == ARGV[2] then redis.call('DEL', KEYS[3]) end
return 1
`;

export class MailOutbox {
  private readonly options: Required<OutboxOptions>;
  private readonly owner = `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
  private readonly handlers = new Map<string, DeliveryHandler>();
  private readonly giveUpHandlers = new Map<string, GiveUpHandler>();
  private timer: NodeJS.Timeout | undefined;
  private tick: Promise<void> | undefined;
  private running = false;

  constructor(
    private readonly redis: Redis,
    private readonly transport: MailTransport,
    private readonly sealer: Sealer,
    private readonly log: Logger,
    options: OutboxOptions = {},
  ) {
    this.options = { ...DEFAULTS, ...options };
  }

  /** Registers what to do when a message with an `onDelivered` hook of this kind goes out. */
  onDelivered(kind: string, handler: DeliveryHandler): void {
    this.handlers.set(kind, handler);
  }

  /**
   * Registers what to do when a message with a hook of this kind is given up for good (refused
   * with a 5xx, or out of attempts), so whoever waits for it can say so instead of "queued".
   */
  onGivenUp(kind: string, handler: GiveUpHandler): void {
    this.giveUpHandlers.set(kind, handler);
  }

  /** Stores the message and tries to send it now; a failed send stays queued for the worker. */
  async enqueue(message: MailMessage, options: EnqueueOptions): Promise<EnqueueResult> {
    const id = randomBytes(12).toString('base64url');
    const existing = (await this.redis.eval(
      ENQUEUE,
      4,
      keys.mailIdempotency(options.idempotencyKey),
      keys.mailMessage(id),
      keys.mailOutbox(),
      keys.mailLease(id),
      id,
      this.sealer.seal(JSON.stringify(message), id),
      options.onDelivered === undefined ? '' : JSON.stringify(options.onDelivered),
      String(Date.now()),
      String(this.options.leaseMs),
      this.owner,
      String(this.options.rememberMs),
      options.idempotencyKey,
    )) as string | null;
    if (existing !== null) {
      return { status: 'duplicate', id: existing, delivered: existing === DELIVERED };
    }
    const failure = await this.attempt(id);
    return failure === undefined ? { status: 'sent', id } : { status: 'queued', id, reason: failure };
  }

  /** How the email for this purpose stands. */
  async status(idempotencyKey: string): Promise<MailStatus> {
    const value = await this.redis.get(keys.mailIdempotency(idempotencyKey));
    if (value === null) return 'none';
    if (value === DELIVERED) return 'delivered';
    if (value === FAILED) return 'failed';
    return 'queued';
  }

  /** Messages waiting to be sent. */
  async pending(): Promise<number> {
    return this.redis.zcard(keys.mailOutbox());
  }

  /** Starts looking for due messages every `pollMs`, beginning now (pending mail from before a restart included). */
  start(): void {
    if (this.running) return;
    this.running = true;
    const loop = () => {
      this.tick = this.runOnce()
        .then(() => undefined)
        .catch((error: unknown) => this.log.warn({ err: error }, 'mail outbox: a worker pass failed'))
        .finally(() => {
          if (this.running) this.timer = setTimeout(loop, this.options.pollMs);
        });
    };
    loop();
  }

  /** Stops the worker and waits for the pass in progress. */
  async stop(): Promise<void> {
    this.running = false;
    clearTimeout(this.timer);
    await this.tick;
  }

  /**
   * Stops the worker and closes the relay's pooled connections: an idle pooled connection would
   * keep the process (a CLI command, a bot shutting down) from exiting.
   */
  async close(): Promise<void> {
    await this.stop();
    this.transport.close();
  }

  /** One worker pass: sends every due message this replica can lease. Answers how many it sent. */
  async runOnce(): Promise<number> {
    const due = await this.redis.zrangebyscore(keys.mailOutbox(), '-inf', Date.now(), 'LIMIT', 0, 50);
    let sent = 0;
    for (const id of due) {
      const leased = await this.redis.set(keys.mailLease(id), this.owner, 'PX', this.options.leaseMs, 'NX');
      if (leased !== 'OK') continue;
      if ((await this.attempt(id)) === undefined) sent += 1;
    }
    return sent;
  }

  /** Sends a message whose lease this replica holds. Answers undefined when sent, else why not. */
  private async attempt(id: string): Promise<string | undefined> {
    const stored = await this.redis.hgetall(keys.mailMessage(id));
    if (stored.sealed === undefined) {
      // Delivered or given up by another replica after this one read the due list.
      await this.redis.eval(FORGET, 2, keys.mailOutbox(), keys.mailLease(id), id, this.owner);
      return undefined;
    }
    const opened = this.sealer.open(stored.sealed, id);
    if (opened === undefined) {
      await this.giveUp(id, stored, 'its body cannot be decrypted (was SETPASS_SECRET changed?)');
      return 'undecryptable';
    }
    const message = JSON.parse(opened) as MailMessage;
    try {
      await this.transport.send(message);
    } catch (error) {
      const reason = describeError(error);
      const attempts = Number(stored.attempts ?? '0') + 1;
      const permanent = error instanceof MailDeliveryError && error.permanent;
      if (permanent || attempts >= this.options.maxAttempts) {
        await this.giveUp(id, stored, `${reason} (after ${attempts} attempt${attempts === 1 ? '' : 's'})`);
      } else {
        const delay = this.backoff(attempts);
        await this.redis.eval(
          RESCHEDULE,
          3,
          keys.mailMessage(id),
          keys.mailOutbox(),
          keys.mailLease(id),
          id,
          this.owner,
          String(Date.now() + delay),
          String(attempts),
          reason,
        );
        this.log.warn(
          { mail: id, purpose: stored.purpose, attempts, retryInMs: delay, reason },
          'mail not sent yet; will retry',
        );
      }
      return reason;
    }
    await this.finish(id, stored, DELIVERED);
    this.log.info({ mail: id, purpose: stored.purpose }, 'mail delivered');
    await this.runHook(stored.hook, 'delivered', (kind) => {
      const handler = this.handlers.get(kind);
      return handler && ((ref) => handler(ref));
    });
    return undefined;
  }

  private async giveUp(id: string, stored: Record<string, string>, reason: string): Promise<void> {
    await this.finish(id, stored, FAILED);
    this.log.error({ mail: id, purpose: stored.purpose, reason }, 'mail given up');
    await this.runHook(stored.hook, 'given up', (kind) => {
      const handler = this.giveUpHandlers.get(kind);
      return handler && ((ref) => handler(ref, reason));
    });
  }

  private async finish(
    id: string,
    stored: Record<string, string>,
    outcome: typeof DELIVERED | typeof FAILED,
  ): Promise<void> {
    await this.redis.eval(
      FINISH,
      4,
      keys.mailMessage(id),
      keys.mailOutbox(),
      keys.mailIdempotency(stored.purpose ?? ''),
      keys.mailLease(id),
      id,
      this.owner,
      outcome,
      String(this.options.rememberMs),
    );
  }

  /** A failed hook is logged, never thrown: the message's outcome is already recorded. */
  private async runHook(
    raw: string | undefined,
    outcome: 'delivered' | 'given up',
    handlerFor: (kind: string) => ((ref: string) => Promise<unknown>) | undefined,
  ): Promise<void> {
    if (!raw) return;
    const hook = JSON.parse(raw) as DeliveryHook;
    const handler = handlerFor(hook.kind);
    if (handler === undefined) {
      this.log.warn({ hook: hook.kind }, `mail ${outcome}, but nothing is registered for its hook`);
      return;
    }
    try {
      await handler(hook.ref);
    } catch (error) {
      this.log.error({ err: error, hook: hook.kind, ref: hook.ref }, `mail ${outcome} hook failed`);
    }
  }

  /** Exponential, with ±20% jitter so replicas that failed together do not retry together. */
  private backoff(attempts: number): number {
    const exact = Math.min(this.options.retryMaxMs, this.options.retryBaseMs * 2 ** (attempts - 1));
    return Math.round(exact * (0.8 + Math.random() * 0.4));
  }
}
