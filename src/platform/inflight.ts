import type { Logger } from './log.js';

/**
 * Background work that outlives the request which started it (an approval acked to Slack in
 * 100 ms runs for seconds). Shutdown stops taking new work and waits for this set, bounded.
 */
export class InFlight {
  private readonly running = new Set<Promise<unknown>>();
  private closed = false;

  constructor(private readonly log: Logger) {}

  get accepting(): boolean {
    return !this.closed;
  }

  get size(): number {
    return this.running.size;
  }

  /** Runs `work` in the background; its failure is logged, never thrown at the caller. */
  run(name: string, work: () => Promise<unknown>): Promise<void> {
    const task = work()
      .catch((error: unknown) => {
        this.log.error({ err: error, task: name }, 'background task failed');
      })
      .finally(() => {
        this.running.delete(task);
      });
    this.running.add(task);
    return task.then(() => undefined);
  }

  /** Waits for running work to end, at most `timeoutMs`; answers whether everything finished. */
  async drain(timeoutMs: number): Promise<boolean> {
    this.closed = true;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs);
    });
    const done = (async () => {
      while (this.running.size > 0) await Promise.allSettled([...this.running]);
      return true as const;
    })();
    const finished = await Promise.race([done, timedOut]);
    clearTimeout(timer);
    return finished;
  }
}
