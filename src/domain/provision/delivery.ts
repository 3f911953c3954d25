import type { Note } from '../applications/notes.js';
import type { ApplicationRecord } from '../applications/store.js';
import type { ProvisionDeps } from './deps.js';
import { addNotes } from './record-updates.js';
import { FEDERATED_ACCOUNT, UNDELIVERED } from './steps.js';

/**
 * The outbox calls this when the welcome (or added-to-project) email went out: the card can stop
 * saying "email queued". An email sent while the run is still going is picked up by `finish`.
 * Answers the record when it changed (its card has something new to show), else undefined.
 */
export async function markWelcomeDelivered(
  deps: Pick<ProvisionDeps, 'applications' | 'audit'>,
  applicantId: string,
): Promise<ApplicationRecord | undefined> {
  const record = await deps.applications.get(applicantId);
  const wasQueued = record?.checkpoints.email === 'queued';
  if (wasQueued) await deps.applications.checkpoint(applicantId, 'email', 'sent');
  const notified = await deps.applications.transition(applicantId, ['provisioned'], 'notified');
  if (notified.ok) {
    await deps.audit.record({
      actor: 'system',
      action: 'mail.welcome',
      subject: applicantId,
      outcome: 'ok',
      detail: 'delivered',
    });
  }
  if (!wasQueued && !notified.ok) return undefined;
  return deps.applications.get(applicantId);
}

/**
 * The outbox calls this when it gave up on the welcome (or added-to-project) email for good: the
 * card says so, with what an admin can do, instead of "email queued" forever. An email given up
 * while the run is still going is told by the email step itself; the note is added either way.
 * Answers the record when it changed, else undefined.
 */
export async function markWelcomeUndelivered(
  deps: Pick<ProvisionDeps, 'applications' | 'audit'>,
  applicantId: string,
  reason: string,
): Promise<ApplicationRecord | undefined> {
  const record = await deps.applications.get(applicantId);
  if (record === undefined) return undefined;
  if (record.checkpoints.email === 'queued')
    await deps.applications.checkpoint(applicantId, 'email', UNDELIVERED);
  await addNotes(
    deps,
    applicantId,
    ['approving', 'provisioned', 'notified'],
    [undeliveredNote(record, reason)],
  );
  await deps.audit.record({
    actor: 'system',
    action: 'mail.welcome',
    subject: applicantId,
    outcome: 'failed',
    detail: reason,
  });
  return deps.applications.get(applicantId);
}

function undeliveredNote(record: ApplicationRecord, reason: string): Note {
  // A federated account has no link to resend.
  const newUser = record.origin?.user === 'created' && record.checkpoints.setpass !== FEDERATED_ACCOUNT;
  return { code: 'welcome_undelivered', email: record.applicant.email, reason, newUser };
}
