/**
 * The redraws of one card while its approval runs: the run reports after every step and goes on at
 * once; one redraw is in flight at a time, and when it ends the newest state not yet drawn is drawn.
 * States reported meanwhile are skipped (the card shows where the approval is now, never an older
 * state after a newer one), so a run is not held up by Slack's round trips and a fast run does not
 * spend Slack's `chat.update` rate limit on states nobody would see.
 */
export class LatestRedraw<T> {
  private waiting: { value: T } | undefined;
  private running: Promise<void> | undefined;

  constructor(
    private readonly draw: (value: T) => Promise<void>,
    private readonly failed: (error: unknown) => void,
  ) {}

  /** Draws `value` now, or after the redraw in flight, unless a newer one comes first. */
  show(value: T): void {
    this.waiting = { value };
    this.running ??= this.drawAll();
  }

  /** Whether no redraw is in flight or waiting. */
  get idle(): boolean {
    return this.running === undefined;
  }

  /** Ends when the newest state shown has been drawn (or its redraw failed). */
  drained(): Promise<void> {
    return this.running ?? Promise.resolve();
  }

  private async drawAll(): Promise<void> {
    while (this.waiting !== undefined) {
      const { value } = this.waiting;
      this.waiting = undefined;
      try {
        await this.draw(value);
      } catch (error) {
        this.failed(error);
      }
    }
    this.running = undefined;
  }
}
