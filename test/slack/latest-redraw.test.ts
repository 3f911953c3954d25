/**
 * The steps' redraws of a card: one in flight at a time, the newest state next, never an older
 * state after a newer one, and the last state shown always drawn.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LatestRedraw } from '../../src/slack/latest-redraw.js';

/** A draw that ends only when the test lets it. */
function controlledDraws() {
  const drawn: number[] = [];
  const inFlight: (() => void)[] = [];
  let concurrent = 0;
  let maxConcurrent = 0;
  const draw = (value: number) =>
    new Promise<void>((resolve) => {
      concurrent++;
      maxConcurrent = Math.max(maxConcurrent, concurrent);
      inFlight.push(() => {
        concurrent--;
        drawn.push(value);
        resolve();
      });
    });
  return { drawn, inFlight, draw, maxConcurrent: () => maxConcurrent };
}

const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('redraws of a card while its approval runs', () => {
  it('draws the first state at once, then only the newest of those shown meanwhile', async () => {
    const draws = controlledDraws();
    const redraw = new LatestRedraw(draws.draw, () => undefined);
    redraw.show(1);
    redraw.show(2);
    redraw.show(3);
    await turn();
    expect(draws.inFlight).toHaveLength(1);
    draws.inFlight.shift()?.();
    await turn();
    draws.inFlight.shift()?.();
    await redraw.drained();
    expect(draws.drawn).toEqual([1, 3]);
  });

  it('goes on after a redraw that fails, and reports the failure', async () => {
    const failures: unknown[] = [];
    const drawn: number[] = [];
    const redraw = new LatestRedraw(
      async (value: number) => {
        if (value === 1) throw new Error('chat.update failed');
        drawn.push(value);
      },
      (error) => failures.push(error),
    );
    redraw.show(1);
    redraw.show(2);
    await redraw.drained();
    expect(drawn).toEqual([2]);
    expect(failures).toHaveLength(1);
  });

  it('whatever the timing: one at a time, in order, ending with the last state shown', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.boolean(), { minLength: 1, maxLength: 40 }), async (script) => {
        const draws = controlledDraws();
        const redraw = new LatestRedraw(draws.draw, () => undefined);
        // true: the run reports its next state; false: the redraw in flight (if any) ends.
        let shown = 0;
        for (const step of script) {
          if (step) redraw.show(++shown);
          else draws.inFlight.shift()?.();
          await turn();
        }
        if (shown === 0) return;
        const drained = redraw.drained();
        while (draws.inFlight.length > 0) {
          draws.inFlight.shift()?.();
          await turn();
        }
        await drained;
        expect(draws.maxConcurrent()).toBe(1);
        expect(draws.drawn).toEqual([...draws.drawn].sort((a, b) => a - b));
        expect(new Set(draws.drawn).size).toBe(draws.drawn.length);
        expect(draws.drawn.at(-1)).toBe(shown);
      }),
      { numRuns: 300 },
    );
  });
});
