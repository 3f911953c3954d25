/**
 * What the metrics see of Slack: every Web API request (through the fetch the clients use, so
 * retries and 429s are each counted) and every request to /slack/events that was refused.
 */
import type { RequestListener, ServerResponse } from 'node:http';
import type { CallOutcome, RefusalReason } from '../platform/metrics.js';

export type SlackCallObserver = (method: string, outcome: CallOutcome, seconds: number) => void;

/** Web API method names (`chat.postMessage`); anything else is counted as `other`. */
const METHOD = /^[a-z]+(?:\.[A-Za-z]+)+$/;

function methodOf(input: string | URL | Request): string {
  const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
  const last = new URL(url).pathname.split('/').pop() ?? '';
  return METHOD.test(last) ? last : 'other';
}

/** A fetch for the WebClient that tells `observe` the method, outcome and time of each request. */
export function observedFetch(observe: SlackCallObserver, inner: typeof fetch = fetch): typeof fetch {
  return async (input, init) => {
    const started = performance.now();
    const method = methodOf(input);
    const seconds = () => (performance.now() - started) / 1000;
    let response: Response;
    try {
      response = await inner(input, init);
    } catch (error) {
      observe(method, 'unreachable', seconds());
      throw error;
    }
    observe(method, await outcomeOf(response), seconds());
    return response;
  };
}

/** Slack answers 200 with `ok: false` for its own errors; only a 429 is told by status. */
async function outcomeOf(response: Response): Promise<CallOutcome> {
  if (response.status === 429) return 'rate_limited';
  if (response.status !== 200) return response.status < 500 ? 'client_error' : 'server_error';
  try {
    const body = (await response.clone().json()) as { ok?: unknown };
    return body.ok === false ? 'error' : 'ok';
  } catch {
    return 'ok';
  }
}

/** Slack's limit on how far a request's timestamp may be from our clock, either way. */
const MAX_REQUEST_AGE_S = 5 * 60;

const REFUSAL = Symbol('kaizen.refusal');

/** Names why a request to /slack/events is being refused, for a refusal the status alone cannot tell. */
export function markRefusal(res: ServerResponse, reason: RefusalReason): void {
  (res as ServerResponse & { [REFUSAL]?: RefusalReason })[REFUSAL] = reason;
}

/**
 * Counts refused requests to /slack/events by reason: a 401 is a replay when the request's
 * timestamp is outside Slack's five minutes (either way), else a bad signature; a 400 or 413 is
 * malformed. A refusal named with `markRefusal` is counted under that name.
 */
export function countRefusals(
  listener: RequestListener,
  refused: (reason: RefusalReason) => void,
): RequestListener {
  return (req, res) => {
    res.once('finish', () => {
      const marked = (res as ServerResponse & { [REFUSAL]?: RefusalReason })[REFUSAL];
      if (marked) return refused(marked);
      if (res.statusCode === 400 || res.statusCode === 413) return refused('malformed');
      if (res.statusCode !== 401) return;
      const sentAt = Number(req.headers['x-slack-request-timestamp']);
      const stale = Number.isFinite(sentAt) && Math.abs(Date.now() / 1000 - sentAt) > MAX_REQUEST_AGE_S;
      refused(stale ? 'replay' : 'bad_signature');
    });
    listener(req, res);
  };
}
