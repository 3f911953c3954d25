/**
 * Each signed Slack request is acted on once. A captured request (a `/kaizen resend`, an Approve
 * click) stays correctly signed for as long as Slack's timestamp window accepts it; sent again in
 * that window it would run again. Its signature is remembered in Redis until the window closes, and
 * a repeat is acknowledged with an empty 200 and nothing else.
 */
import { createHash } from 'node:crypto';
import type { AnyMiddlewareArgs, Middleware } from '@slack/bolt';
import { keys } from '../platform/keys.js';
import type { Logger } from '../platform/log.js';
import type { Redis } from '../platform/redis.js';

/** How far a request's timestamp may be from our clock, either way, before it is refused. */
export const SIGNATURE_WINDOW_S = 5 * 60;

/** What the HTTP receiver hands on from a request whose signature it verified. */
export interface SignedRequest {
  slackSignature: string;
  slackTimestamp: number;
}

/** Bolt's `customPropertiesExtractor`: called only once the signature has been verified. */
export function signedRequestOf(req: {
  headers: Record<string, string | string[] | undefined>;
}): SignedRequest {
  const header = (name: string) => {
    const value = req.headers[name];
    return Array.isArray(value) ? (value[0] ?? '') : (value ?? '');
  };
  return {
    slackSignature: header('x-slack-signature'),
    slackTimestamp: Number(header('x-slack-request-timestamp')),
  };
}

export class SeenRequests {
  constructor(
    private readonly redis: Redis,
    private readonly log: Logger,
    /** Told of each repeat, for the refused-requests metric. */
    private readonly onRepeat: () => void = () => {},
  ) {}

  /**
   * True the first time a signature is seen, false for a repeat. The mark lasts until the
   * request's timestamp leaves the window, when Bolt refuses the request by itself. While Redis is
   * not connected the request is let through at once, without waiting for ioredis's retries:
   * whatever it asks for needs Redis too, and says so within Slack's three seconds.
   */
  async firstTime(request: SignedRequest): Promise<boolean> {
    if (this.redis.status !== 'ready') return true;
    const hash = createHash('sha256').update(request.slackSignature).digest('base64url');
    const now = Math.floor(Date.now() / 1000);
    const sentAt = Number.isFinite(request.slackTimestamp) ? request.slackTimestamp : now;
    const ttl = Math.min(Math.max(sentAt + SIGNATURE_WINDOW_S - now, 0) + 1, 2 * SIGNATURE_WINDOW_S + 1);
    try {
      const first = (await this.redis.set(keys.slackRequestSeen(hash), '1', 'EX', ttl, 'NX')) === 'OK';
      if (!first) this.onRepeat();
      return first;
    } catch (error) {
      this.log.warn({ err: error }, 'could not check a Slack request for a replay; handling it');
      return true;
    }
  }
}

/** A global Bolt middleware, first in the chain: a repeated signed request goes no further. */
export function refuseReplays(seen: SeenRequests, log: Logger): Middleware<AnyMiddlewareArgs> {
  return async (args) => {
    const { slackSignature, slackTimestamp } = args.context as Partial<SignedRequest>;
    // Socket Mode requests carry no signature: the websocket itself is authenticated.
    if (typeof slackSignature !== 'string' || slackSignature === '') return args.next();
    if (await seen.firstTime({ slackSignature, slackTimestamp: Number(slackTimestamp) })) return args.next();
    log.warn({ type: args.body.type }, 'ignored a Slack request already handled (same signature)');
    if ('ack' in args && typeof args.ack === 'function') await args.ack();
  };
}
