/**
 * Federated mode met a local account under the applicant's name (see federated-user.ts): an admin
 * chooses, by a button on the card, to turn it federated or to keep it local. The choice is kept on
 * the record and audited with who made it; the approval then goes on from where it stopped.
 */
import type { ApplicationRecord, LocalAccountChoice } from '../applications/store.js';
import type { ProvisionDeps } from './deps.js';

export type LocalAccountChoiceOutcome =
  /** The approval goes on (state `approving`): run `runProvisioning` next. */
  | { kind: 'started'; record: ApplicationRecord }
  /** No local account stopped this application (or it was decided meanwhile). */
  | { kind: 'not_waiting'; record: ApplicationRecord }
  | { kind: 'not_found' };

export function waitingForAccountChoice(record: ApplicationRecord): boolean {
  return (
    record.state === 'failed' &&
    record.failure?.code === 'local_account_exists' &&
    record.localAccount !== undefined
  );
}

export async function chooseLocalAccount(
  deps: Pick<ProvisionDeps, 'applications' | 'audit'>,
  applicantId: string,
  choice: LocalAccountChoice,
  actor: string,
): Promise<LocalAccountChoiceOutcome> {
  const record = await deps.applications.get(applicantId);
  if (record === undefined) return { kind: 'not_found' };
  if (!waitingForAccountChoice(record)) return { kind: 'not_waiting', record };
  const at = new Date().toISOString();
  const started = await deps.applications.transition(applicantId, ['failed'], 'approving', {
    localAccountChoice: { choice, by: actor, at },
    decidedBy: actor,
    decidedAt: at,
    failure: undefined,
  });
  if (!started.ok)
    return started.record ? { kind: 'not_waiting', record: started.record } : { kind: 'not_found' };
  const account = record.localAccount!;
  await deps.audit.record({
    actor,
    action: 'local_account',
    subject: applicantId,
    outcome: 'ok',
    detail: `${account.name} (${account.id}): ${choice === 'convert' ? 'to be made federated' : 'kept local'}`,
  });
  return { kind: 'started', record: started.record };
}
