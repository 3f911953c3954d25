import { EventEmitter } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { RequestsFirst } from '../../src/platform/requests-first.js';

/** A request and a response that only emit what the test makes them emit. */
function exchange(): { req: IncomingMessage; res: ServerResponse & EventEmitter } {
  return {
    req: new EventEmitter() as unknown as IncomingMessage,
    res: new EventEmitter() as unknown as ServerResponse & EventEmitter,
  };
}

/** Whether `promise` has settled once pending callbacks have run. */
async function settled(promise: Promise<unknown>): Promise<boolean> {
  let done = false;
  void promise.then(() => {
    done = true;
  });
  await new Promise((resolve) => setImmediate(resolve));
  return done;
}

afterEach(() => {
  vi.useRealTimers();
});

describe('RequestsFirst', () => {
  it('lets work start at once when no request is being answered', async () => {
    const gate = new RequestsFirst();
    expect(await settled(gate.idle())).toBe(true);
  });

  it('holds work until every request in flight is answered, and counts a closed one as gone', async () => {
    const gate = new RequestsFirst();
    const seen: IncomingMessage[] = [];
    const listener = gate.counted((req) => {
      seen.push(req);
    });
    const first = exchange();
    const second = exchange();
    listener(first.req, first.res);
    listener(second.req, second.res);
    expect(seen).toEqual([first.req, second.req]);
    expect(gate.inFlight).toBe(2);

    const idle = gate.idle();
    first.res.emit('finish');
    first.res.emit('close');
    expect(gate.inFlight).toBe(1);
    expect(await settled(idle)).toBe(false);
    second.res.emit('close');
    expect(gate.inFlight).toBe(0);
    expect(await settled(idle)).toBe(true);
  });

  it('lets work start after the longest wait even while requests keep coming', async () => {
    vi.useFakeTimers();
    const gate = new RequestsFirst(1_000);
    const busy = exchange();
    gate.counted(() => {})(busy.req, busy.res);
    let done = false;
    void gate.idle().then(() => {
      done = true;
    });
    await vi.advanceTimersByTimeAsync(999);
    expect(done).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(done).toBe(true);
  });
});
