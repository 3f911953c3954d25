/**
 * Resumes approvals whose run died with its process. A dead run's lease expires on its own; this
 * looks every minute for approvals left in `approving` with no lease and runs them from their
 * checkpoints. Every replica may run it: the lease lets one run through per applicant.
 */

import { type ProgressReporter, resumeStalledApprovals } from './approve.js';
import type { ProvisionDeps } from './deps.js';

export interface ResumerOptions {
  intervalMs?: number;
  /** How a resumed run reports its steps (the Slack side redraws the card). */
  progress?: ProgressReporter;
  /** Wraps each pass, so shutdown can wait for it (InFlight.run). */
  track?: (name: string, work: () => Promise<unknown>) => Promise<void>;
}

export class ApprovalResumer {
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly deps: ProvisionDeps,
    private readonly options: ResumerOptions = {},
  ) {}

  start(): void {
    if (this.timer !== undefined) return;
    const pass = () => {
      const work = () => resumeStalledApprovals(this.deps, { progress: this.options.progress });
      const tracked = this.options.track ? this.options.track('resume approvals', work) : work();
      tracked.catch((error: unknown) =>
        this.deps.log.warn({ err: error }, 'could not look for approvals to resume'),
      );
    };
    this.timer = setInterval(pass, this.options.intervalMs ?? 60_000);
    this.timer.unref();
    pass();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }
}
