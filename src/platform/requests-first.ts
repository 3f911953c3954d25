import type { RequestListener } from 'node:http';

/**
 * Requests before background work, on the one thread: counts the requests being answered, and lets
 * background work wait until none is (at most `maxWaitMs`). A burst of Slack clicks is then
 * answered before the redraws and provisioning runs it starts compete with it for the CPU; a click
 * on its own starts its work as soon as it is answered.
 */
export class RequestsFirst {
  private answering = 0;
  private waiting: (() => void)[] = [];

  constructor(private readonly maxWaitMs = 1_000) {}

  get inFlight(): number {
    return this.answering;
  }

  /** Wraps a listener: each request counts from its arrival until its answer is finished or it is closed. */
  counted(listener: RequestListener): RequestListener {
    return (req, res) => {
      this.answering += 1;
      let left = false;
      const leave = () => {
        if (left) return;
        left = true;
        this.answering -= 1;
        if (this.answering === 0) this.wake();
      };
      res.once('finish', leave);
      res.once('close', leave);
      listener(req, res);
    };
  }

  /** Resolves once no request is being answered, or after `maxWaitMs` whatever the traffic. */
  async idle(): Promise<void> {
    if (this.answering === 0) return;
    await new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        this.waiting = this.waiting.filter((waiter) => waiter !== done);
        resolve();
      }, this.maxWaitMs);
      this.waiting.push(done);
    });
  }

  private wake(): void {
    const waiting = this.waiting;
    this.waiting = [];
    for (const done of waiting) done();
  }
}
