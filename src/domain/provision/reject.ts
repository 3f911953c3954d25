/** Reject: the transition, the email to the applicant, the sheet's status, and notes for what could not be done. */
import { describeError, KaizenError } from '../../platform/errors.js';
import type { Note } from '../applications/notes.js';
import type { ApplicationRecord } from '../applications/store.js';
import { fullName } from '../intake/applicant.js';
import type { DecisionDeps } from './deps.js';
import { addNotes } from './record-updates.js';
import { rejectionMailKey } from './steps.js';

const MAX_REASON = 2_000;

export type RejectOutcome =
  | { kind: 'rejected'; record: ApplicationRecord; mail: 'sent' | 'queued' | 'not_sent' }
  | { kind: 'already_rejected'; record: ApplicationRecord }
  /** Being approved right now, by `by`. */
  | { kind: 'busy'; by: string | undefined; record: ApplicationRecord }
  | { kind: 'approved'; record: ApplicationRecord }
  | { kind: 'not_found' };

export interface RejectOptions {
  reason: string;
  notifyApplicant: boolean;
}

/**
 * Reject: `pending` or `failed` → `rejected` with the reason; then, as asked, the rejection email
 * and the status in the sheet. Those two are told on the card as notes when they fail: the decision stands.
 */
export async function rejectApplicant(
  deps: DecisionDeps,
  applicantId: string,
  actor: string,
  options: RejectOptions,
): Promise<RejectOutcome> {
  const outcome = await decideRejection(deps, applicantId, actor, options);
  deps.metrics?.rejection(outcome.kind);
  return outcome;
}

async function decideRejection(
  deps: DecisionDeps,
  applicantId: string,
  actor: string,
  options: RejectOptions,
): Promise<RejectOutcome> {
  const reason = options.reason.trim();
  if (reason.length > MAX_REASON) {
    throw new KaizenError(
      'invalid',
      `The reason is ${reason.length} characters; keep it under ${MAX_REASON}`,
    );
  }
  const result = await deps.applications.transition(applicantId, ['pending', 'failed'], 'rejected', {
    decidedBy: actor,
    decidedAt: new Date().toISOString(),
    rejectReason: reason || undefined,
    failure: undefined,
  });
  if (!result.ok) {
    const { record } = result;
    if (record === undefined) return { kind: 'not_found' };
    if (record.state === 'rejected') return { kind: 'already_rejected', record };
    if (record.state === 'approving') return { kind: 'busy', by: record.decidedBy, record };
    return { kind: 'approved', record };
  }
  const { record } = result;
  await deps.audit.record({
    actor,
    action: 'reject',
    subject: applicantId,
    outcome: 'ok',
    detail: `${record.applicant.email}${reason ? `: ${reason}` : ''}`,
  });
  const notes = leftoversNote(record);
  const mail = options.notifyApplicant ? await sendRejection(deps, record, actor, notes) : 'not_sent';
  await writeRejectedStatus(deps, record, actor, notes);
  await addNotes(deps, applicantId, ['rejected'], notes);
  return { kind: 'rejected', record: (await deps.applications.get(applicantId)) ?? record, mail };
}

function leftoversNote(record: ApplicationRecord): Note[] {
  const { project, user } = record.checkpoints;
  const made = [
    record.origin?.project === 'created' && project ? `project ${project}` : undefined,
    record.origin?.user === 'created' && user ? `user ${user}` : undefined,
  ].filter((thing): thing is string => thing !== undefined);
  return made.length > 0 ? [{ code: 'keystone_leftovers', made }] : [];
}

async function sendRejection(
  deps: DecisionDeps,
  record: ApplicationRecord,
  actor: string,
  notes: Note[],
): Promise<'sent' | 'queued' | 'not_sent'> {
  if (deps.mail === undefined) {
    notes.push({ code: 'rejection_mail_off', email: record.applicant.email });
    return 'not_sent';
  }
  const content = deps.emails.rejection({
    name: fullName(record.applicant),
    reason: record.rejectReason ?? '',
    supportEmail: deps.config.mail.supportEmail,
  });
  const supportEmail = deps.config.mail.supportEmail;
  try {
    const sent = await deps.mail.enqueue(
      { to: record.applicant.email, ...content, ...(supportEmail ? { replyTo: supportEmail } : {}) },
      { idempotencyKey: rejectionMailKey(record.id) },
    );
    const delivered = sent.status === 'sent' || (sent.status === 'duplicate' && sent.delivered);
    await deps.audit.record({
      actor,
      action: 'mail.rejection',
      subject: record.id,
      outcome: 'ok',
      detail: delivered ? 'sent' : 'queued',
    });
    return delivered ? 'sent' : 'queued';
  } catch (error) {
    deps.log.error({ err: error, applicant: record.id }, 'rejection email could not be queued');
    notes.push({ code: 'rejection_not_queued', error: describeError(error) });
    await deps.audit.record({
      actor,
      action: 'mail.rejection',
      subject: record.id,
      outcome: 'failed',
      detail: describeError(error),
    });
    return 'not_sent';
  }
}

async function writeRejectedStatus(
  deps: DecisionDeps,
  record: ApplicationRecord,
  actor: string,
  notes: Note[],
): Promise<void> {
  if (deps.sheet === undefined) return;
  try {
    await deps.sheet.writeStatus(record.applicant, 'Rejected');
  } catch (error) {
    deps.log.error({ err: error, applicant: record.id }, 'could not write the rejection to the sheet');
    notes.push({ code: 'rejection_not_in_sheet', error: describeError(error) });
    await deps.audit.record({
      actor,
      action: 'sheet.status',
      subject: record.id,
      outcome: 'failed',
      detail: describeError(error),
    });
  }
}
