/**
 * One `requestId` per Slack payload or job tick, carried through the work it starts (an approval
 * run, an email sent, the Keystone calls) by AsyncLocalStorage; the logger adds it to every line
 * written meanwhile, so one grep follows a click to its Keystone calls. The HTTP routes (the
 * password page, health, metrics) carry theirs in the route's context instead (router.ts): their
 * work stays within the request, and in the setpass role nothing enables AsyncLocalStorage's
 * promise hooks, which every promise of the process pays for once they are on.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomBytes } from 'node:crypto';

interface RequestContext {
  requestId: string;
}

const storage = new AsyncLocalStorage<RequestContext>();

/**
 * 16 hex characters: short enough to read in a log, never repeated. A random prefix per process
 * (so replicas and restarts do not collide) and a counter: the id names a request, it guards
 * nothing, and one CSPRNG call per request was a visible share of the password page's CPU.
 */
const processPart = randomBytes(4).toString('hex');
let counter = 0;

export function newRequestId(): string {
  counter = (counter + 1) % 0x1_0000_0000;
  return `${processPart}${counter.toString(16).padStart(8, '0')}`;
}

/** The id of the request whose work is running now; undefined outside any. */
export function currentRequestId(): string | undefined {
  return storage.getStore()?.requestId;
}

/** Runs `work` (and everything it starts) under `requestId`. */
export function withRequestId<T>(requestId: string, work: () => T): T {
  return storage.run({ requestId }, work);
}

/** Runs `work` under the current request id, or a new one when there is none. */
export function inRequest<T>(work: () => T): T {
  const current = currentRequestId();
  return current === undefined ? withRequestId(newRequestId(), work) : work();
}
