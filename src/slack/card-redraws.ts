/**
 * Every background redraw of an applicant card in this process goes through one queue per card:
 * the provisioning run's after each step, and the outbox's when a welcome email is delivered or
 * given up. One `chat.update` per card at a time, and each draws the record as it is when its turn
 * comes (read again), so two redraws cannot land out of order and leave the card showing an older
 * state than the record's.
 */
import type { ApplicationRecord } from '../domain/applications/store.js';
import { type CardDeps, refreshApplicantCard } from './applicant-cards.js';
import { LatestRedraw } from './latest-redraw.js';

export class CardRedraws {
  private readonly queues = new Map<string, LatestRedraw<ApplicationRecord>>();

  constructor(
    private readonly deps: CardDeps,
    /** Waited for before each redraw: answering Slack's requests comes first (RequestsFirst). */
    private readonly beforeDraw: () => Promise<void> = async () => undefined,
  ) {}

  /** Redraws the card of `record` soon; the answer ends when the card shows the record as it is. */
  redraw(record: ApplicationRecord): Promise<void> {
    let queue = this.queues.get(record.id);
    if (queue === undefined) {
      const created = new LatestRedraw<ApplicationRecord>(
        (shown) => this.draw(shown),
        (error) => this.deps.log.warn({ err: error, applicant: record.id }, 'could not redraw the card'),
      );
      this.queues.set(record.id, created);
      queue = created;
    }
    queue.show(record);
    const drained = queue.drained();
    const done = queue;
    return drained.then(() => {
      if (done.idle && this.queues.get(record.id) === done) this.queues.delete(record.id);
    });
  }

  private async draw(shown: ApplicationRecord): Promise<void> {
    await this.beforeDraw();
    const stored = await this.deps.store.get(shown.id);
    // A record whose card location came with a click may not have it saved yet.
    const current = stored === undefined ? shown : stored.card ? stored : { ...stored, card: shown.card };
    await refreshApplicantCard(this.deps, current);
  }
}
