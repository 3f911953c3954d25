/**
 * Changes to application records that no click made: the outbox delivered or gave up a welcome
 * email. Whoever shows records (the Slack card) subscribes; the domain stays free of Slack, and
 * the composition root (src/app/start.ts) wires the card redraw in.
 */
import type { Logger } from '../../platform/log.js';
import type { ApplicationRecord } from './store.js';

export type RecordListener = (record: ApplicationRecord) => Promise<void>;

export class RecordChanges {
  private readonly listeners = new Set<RecordListener>();

  constructor(private readonly log: Logger) {}

  /** Calls `listener` with every changed record from now on; the answer unsubscribes it. */
  subscribe(listener: RecordListener): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  /** Tells every listener. One that fails is logged: the record is the truth, the next change redraws. */
  async publish(record: ApplicationRecord): Promise<void> {
    for (const listener of this.listeners) {
      try {
        await listener(record);
      } catch (error) {
        this.log.warn({ err: error, applicant: record.id }, 'a listener for record changes failed');
      }
    }
  }
}
