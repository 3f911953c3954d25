/** Small reads and writes of an application record shared by the decisions. */
import { KaizenError } from '../../platform/errors.js';
import { type Note, sameNote } from '../applications/notes.js';
import type { ApplicationRecord } from '../applications/store.js';
import type { ProvisionDeps } from './deps.js';

export async function requireRecord(
  deps: Pick<ProvisionDeps, 'applications'>,
  id: string,
): Promise<ApplicationRecord> {
  const record = await deps.applications.get(id);
  if (record === undefined) {
    throw new KaizenError('not_found', `There is no application ${id}; it may have been removed`);
  }
  return record;
}

/** Adds notes once each (a resumed step may report the same note again). */
export async function addNotes(
  deps: Pick<ProvisionDeps, 'applications'>,
  id: string,
  states: ApplicationRecord['state'][],
  notes: Note[],
): Promise<void> {
  if (notes.length === 0) return;
  const record = await deps.applications.get(id);
  if (record === undefined) return;
  const fresh = notes.filter((note) => !record.notes.some((known) => sameNote(known, note)));
  if (fresh.length > 0) await deps.applications.update(id, states, { notes: [...record.notes, ...fresh] });
}

/** Progress reports redraw a card; one that fails must not fail the approval. */
