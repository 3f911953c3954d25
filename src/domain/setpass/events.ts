/**
 * What happens on the password page that the admins should hear about (a lockout, a completed
 * password change, a link whose temporary password Keystone no longer takes) goes on a Redis stream, because the public `setpass` role has no Slack token.
 * The admin side reads the stream in a consumer group: across replicas each event is handled
 * once, and an event whose handler failed (or whose consumer died) is claimed again later.
 */
import { hostname } from 'node:os';
import { keys } from '../../platform/keys.js';
import type { Logger } from '../../platform/log.js';
import type { Redis } from '../../platform/redis.js';
import type { Audit } from '../audit/audit.js';

export type SetpassEvent =
  | {
      type: 'lockout';
      userId: string;
      username: string;
      at: Date;
      clientIp: string;
      /** Wrong PINs that burned the link. */
      attempts: number;
    }
  | { type: 'password_changed'; userId: string; username: string; at: Date; clientIp: string }
  /**
   * The user redeemed a link, but Keystone no longer takes its temporary password: the user or an
   * operator changed the password since. Nothing was changed; the link was withdrawn.
   */
  | { type: 'account_changed'; userId: string; username: string; at: Date; clientIp: string }
  /**
   * Someone gave the user's name and right PIN on `/forgot`: the bot side resets the password as
   * `/kaizen reset` does and emails the address Keystone holds.
   */
  | { type: 'forgot_requested'; userId: string; username: string; at: Date; clientIp: string };

export type SetpassEventHandler = (event: SetpassEvent) => Promise<void>;

/** Old events are trimmed; the stream is a mailbox, not the record (that is the audit). */
const STREAM_MAX_LENGTH = 10_000;

export async function publishSetpassEvent(redis: Redis, event: SetpassEvent): Promise<void> {
  const fields = [
    'type',
    event.type,
    'user_id',
    event.userId,
    'user_name',
    event.username,
    'at',
    event.at.toISOString(),
    'client_ip',
    event.clientIp,
  ];
  if (event.type === 'lockout') fields.push('attempts', String(event.attempts));
  await redis.xadd(keys.events(), 'MAXLEN', '~', String(STREAM_MAX_LENGTH), '*', ...fields);
}

/** A stream entry as an event; undefined for entries this version does not know. */
export function parseSetpassEvent(flat: string[]): SetpassEvent | undefined {
  const map = new Map<string, string>();
  for (let i = 0; i + 1 < flat.length; i += 2) map.set(flat[i]!, flat[i + 1]!);
  const userId = map.get('user_id');
  const username = map.get('user_name');
  const at = new Date(map.get('at') ?? '');
  const clientIp = map.get('client_ip') ?? '';
  if (!userId || !username || Number.isNaN(at.getTime())) return undefined;
  const type = map.get('type');
  if (type === 'password_changed' || type === 'account_changed' || type === 'forgot_requested')
    return { type, userId, username, at, clientIp };
  if (type === 'lockout') {
    const attempts = Number(map.get('attempts'));
    return { type, userId, username, at, clientIp, attempts: Number.isFinite(attempts) ? attempts : 0 };
  }
  return undefined;
}

/** The audit line for an event. */
export async function auditSetpassEvent(audit: Audit, event: SetpassEvent): Promise<void> {
  if (event.type === 'lockout') {
    await audit.record({
      actor: `user:${event.userId}`,
      action: 'setpass.lockout',
      subject: event.username,
      outcome: 'denied',
      detail: `password link disabled after ${event.attempts} wrong PINs (from ${event.clientIp})`,
    });
    return;
  }
  if (event.type === 'account_changed') {
    await audit.record({
      actor: `user:${event.userId}`,
      action: 'setpass.account_changed',
      subject: event.username,
      outcome: 'denied',
      detail: `the link's temporary password no longer works (the password was changed since the link was sent); nothing changed, link withdrawn (from ${event.clientIp})`,
    });
    return;
  }
  if (event.type === 'forgot_requested') {
    await audit.record({
      actor: `user:${event.userId}`,
      action: 'setpass.forgot_requested',
      subject: event.username,
      outcome: 'ok',
      detail: `self-service reset asked for with the right PIN (from ${event.clientIp})`,
    });
    return;
  }
  await audit.record({
    actor: `user:${event.userId}`,
    action: 'setpass.password_changed',
    subject: event.username,
    outcome: 'ok',
    detail: `password set through the link (from ${event.clientIp})`,
  });
}

export interface ConsumerOptions {
  group?: string;
  /** Unique per process; default host name, pid and a random suffix. */
  consumer?: string;
  /** How long one XREADGROUP waits for news. */
  blockMs?: number;
  /** An entry pending this long (its consumer died, or its handler failed) is claimed again. */
  minIdleMs?: number;
  /** After this many deliveries an entry is given up on (logged), so one bad event cannot loop forever. */
  maxDeliveries?: number;
}

type StreamReply = [string, [string, string[]][]][] | null;

export class SetpassEventConsumer {
  readonly group: string;
  readonly consumer: string;
  private readonly blockMs: number;
  private readonly minIdleMs: number;
  private readonly maxDeliveries: number;
  private readonly reader: Redis;
  private running: Promise<void> | undefined;
  private stopping = false;
  /** Created on the first read, and again after an error (the stream may have been deleted). */
  private groupReady = false;
  private wake: (() => void) | undefined;

  constructor(
    private readonly redis: Redis,
    private readonly handler: SetpassEventHandler,
    private readonly log: Logger,
    options: ConsumerOptions = {},
  ) {
    this.group = options.group ?? 'kaizen-bot';
    this.consumer =
      options.consumer ?? `${hostname()}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
    this.blockMs = options.blockMs ?? 5_000;
    this.minIdleMs = options.minIdleMs ?? 60_000;
    this.maxDeliveries = options.maxDeliveries ?? 5;
    // XREADGROUP BLOCK holds its connection: the shared client must stay free for everyone else.
    this.reader = redis.duplicate();
    this.reader.on('error', (error: Error) =>
      this.log.warn({ err: error }, 'event reader connection problem'),
    );
  }

  start(): void {
    this.running ??= this.loop();
  }

  /** Stops reading; an event being handled is finished and acknowledged first. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.wake?.();
    this.reader.disconnect();
    await this.running;
  }

  private async loop(): Promise<void> {
    while (!this.stopping) {
      try {
        await this.ensureGroup();
        await this.claimStale();
        const reply = (await this.reader.xreadgroup(
          'GROUP',
          this.group,
          this.consumer,
          'COUNT',
          20,
          'BLOCK',
          this.blockMs,
          'STREAMS',
          keys.events(),
          '>',
        )) as StreamReply;
        for (const [, entries] of reply ?? []) {
          for (const [id, fields] of entries) await this.handle(id, fields);
        }
      } catch (error) {
        if (this.stopping) break;
        this.groupReady = false;
        this.log.warn({ err: error }, 'reading password-page events failed; retrying shortly');
        await this.pause(1_000);
      }
    }
  }

  private async ensureGroup(): Promise<void> {
    if (this.groupReady) return;
    // XGROUP names its key after the subcommand, where ioredis does not add REDIS_KEY_PREFIX.
    const stream = `${this.redis.options.keyPrefix ?? ''}${keys.events()}`;
    try {
      await this.redis.xgroup('CREATE', stream, this.group, '0', 'MKSTREAM');
    } catch (error) {
      if (!(error instanceof Error && error.message.startsWith('BUSYGROUP'))) throw error;
    }
    this.groupReady = true;
  }

  /** Entries another consumer took and never acknowledged, or whose handling failed here. */
  private async claimStale(): Promise<void> {
    const [, entries] = (await this.redis.xautoclaim(
      keys.events(),
      this.group,
      this.consumer,
      this.minIdleMs,
      '0-0',
      'COUNT',
      20,
    )) as [string, [string, string[] | null][]];
    for (const [id, fields] of entries) {
      if (fields === null) {
        await this.redis.xack(keys.events(), this.group, id);
        continue;
      }
      const pending = (await this.redis.xpending(keys.events(), this.group, id, id, 1)) as [
        string,
        string,
        number,
        number,
      ][];
      const deliveries = pending[0]?.[3] ?? 0;
      if (deliveries > this.maxDeliveries) {
        this.log.error({ entry: id, deliveries }, 'giving up on a password-page event that keeps failing');
        await this.redis.xack(keys.events(), this.group, id);
        continue;
      }
      await this.handle(id, fields);
    }
  }

  private async handle(id: string, fields: string[]): Promise<void> {
    const event = parseSetpassEvent(fields);
    if (event === undefined) {
      this.log.warn({ entry: id }, 'skipping a password-page event this version does not understand');
      await this.redis.xack(keys.events(), this.group, id);
      return;
    }
    try {
      await this.handler(event);
      await this.redis.xack(keys.events(), this.group, id);
    } catch (error) {
      // Left pending: claimStale hands it out again once it has been idle for minIdleMs.
      this.log.warn({ err: error, entry: id, type: event.type }, 'handling a password-page event failed');
    }
  }

  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
}
