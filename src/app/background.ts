/**
 * The bot's background loops (the outbox worker, the approval resumer, the setpass event consumer,
 * the scheduler) as one list: started in order once the bot listens, stopped in reverse when it
 * shuts down. A loop stops taking new work before in-flight work is drained; the outbox alone
 * keeps going until after the drain, so mail that drained work queued still goes out.
 */
export interface BackgroundLoop {
  readonly name: string;
  start(): void;
  stop(): Promise<void> | void;
  /** Stopped after in-flight work drains rather than before. */
  readonly afterDrain?: boolean;
}

export function startLoops(loops: readonly BackgroundLoop[]): void {
  for (const loop of loops) loop.start();
}

/** Stops, in reverse order, the loops of one phase: before the drain, or after it. */
export async function stopLoops(
  loops: readonly BackgroundLoop[],
  phase: 'before_drain' | 'after_drain',
): Promise<void> {
  const afterDrain = phase === 'after_drain';
  for (const loop of [...loops].reverse()) {
    if (Boolean(loop.afterDrain) === afterDrain) await loop.stop();
  }
}
