/**
 * One `requestId` per HTTP request, Slack payload or job tick, carried through the work it starts
 * (an approval run, an email sent, the Keystone calls) by AsyncLocalStorage; the logger adds it to
 * every line written meanwhile, so one grep follows a click to its Keystone calls.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomBytes } from 'node:crypto';

interface RequestContext {
  requestId: string;
}

const storage = new AsyncLocalStorage<RequestContext>();

/** 16 hex characters: short enough to read in a log, random enough never to repeat in practice. */
export function newRequestId(): string {
  return randomBytes(8).toString('hex');
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
