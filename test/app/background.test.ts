import { describe, expect, it } from 'vitest';
import { type BackgroundLoop, startLoops, stopLoops } from '../../src/app/background.js';

function recorder() {
  const events: string[] = [];
  const loop = (name: string, afterDrain = false): BackgroundLoop => ({
    name,
    afterDrain,
    start: () => {
      events.push(`start ${name}`);
    },
    stop: async () => {
      events.push(`stop ${name}`);
    },
  });
  return { events, loop };
}

describe('background loops', () => {
  it('start in order and stop in reverse, the outbox only after the drain', async () => {
    const { events, loop } = recorder();
    const loops = [loop('outbox', true), loop('resumer'), loop('setpass events'), loop('scheduler')];
    startLoops(loops);
    await stopLoops(loops, 'before_drain');
    events.push('drain');
    await stopLoops(loops, 'after_drain');
    expect(events).toEqual([
      'start outbox',
      'start resumer',
      'start setpass events',
      'start scheduler',
      'stop scheduler',
      'stop setpass events',
      'stop resumer',
      'drain',
      'stop outbox',
    ]);
  });
});
