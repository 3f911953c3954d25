import { describe, expect, it } from 'vitest';
import { Slots } from '../../src/platform/slots.js';

describe('Slots', () => {
  it('lets at most `size` run at once and the rest follow in order', async () => {
    const slots = new Slots(2);
    let running = 0;
    let most = 0;
    const order: number[] = [];
    const gates = Array.from({ length: 5 }, () => {
      let resolve = () => {};
      const promise = new Promise<void>((r) => {
        resolve = r;
      });
      return { promise, resolve };
    });
    const runs = gates.map((gate, index) =>
      slots.run(async () => {
        running += 1;
        most = Math.max(most, running);
        order.push(index);
        await gate.promise;
        running -= 1;
      }),
    );
    await new Promise((resolve) => setImmediate(resolve));
    expect(order).toEqual([0, 1]);
    for (const gate of gates) gate.resolve();
    await Promise.all(runs);
    expect(most).toBe(2);
    expect(order).toEqual([0, 1, 2, 3, 4]);
  });

  it('frees the slot when the work fails, and a double release counts once', async () => {
    const slots = new Slots(1);
    const nextTurn = () => new Promise<'waiting'>((resolve) => setImmediate(() => resolve('waiting')));
    await expect(slots.run(() => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    const release = await Promise.race([slots.acquire(), nextTurn()]);
    expect(release).toBeTypeOf('function');
    if (typeof release !== 'function') return;
    release();
    release();
    const first = await slots.acquire();
    const second = slots.acquire();
    expect(await Promise.race([second, nextTurn()])).toBe('waiting');
    first();
    expect(await Promise.race([second, nextTurn()])).toBeTypeOf('function');
  });
});
