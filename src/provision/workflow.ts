/**
 * The approval workflow behind the applicant card: Approve (start, then run the provisioning steps),
 * Quota (choose before approving) and Reject. Decisions are atomic transitions of the application
 * record, so of two admins clicking at once exactly one wins and the other learns who; the steps are
 * checkpointed, so a failure or a crash resumes where it stopped and creates nothing twice.
 */
import { describeError, isKaizenError, KaizenError } from '../errors.js';
import { fullName } from '../intake/applicant.js';
import { type ProjectProtection, protectedProject, protectionPolicy } from '../keystone/protection.js';
import { resolveQuota } from '../quotas/resolve.js';
import type { QuotaChoice, QuotaValues } from '../quotas/types.js';
import {
  type ApplicationRecord,
  PROVISION_STEPS,
  type ProjectClash,
  type ProvisionStep,
} from './applications.js';
import type { DecisionDeps, ProvisionDeps } from './deps.js';
import { LocalAccountExists } from './federated-user.js';
import { clashWith, findProjectClash, PROJECT_NAME_MAX } from './project-names.js';
import { RunLock } from './run-lock.js';
import {
  FEDERATED_ACCOUNT,
  ProjectNameTaken,
  rejectionMailKey,
  STEPS,
  type StepResult,
  UNDELIVERED,
  welcomeMailKey,
} from './steps.js';

/** Longer than the slowest step (three quota calls with their timeouts); renewed after every step. */
const RUN_LEASE_MS = 180_000;
/** An approval untouched this long with no run holding its lease was left by a run that died. */
const STALLED_AFTER_MS = 60_000;
const MAX_REASON = 2_000;

export type ApprovalStart =
  /** `retry` when the approval was `failed` before (the card's Retry). */
  | { kind: 'started'; record: ApplicationRecord; retry: boolean }
  /** Another admin's approval is running; `by` is their Slack user id. */
  | { kind: 'busy'; by: string | undefined; record: ApplicationRecord }
  | { kind: 'done'; record: ApplicationRecord }
  | { kind: 'rejected'; record: ApplicationRecord }
  | { kind: 'not_found' };

export interface ProgressEvent {
  /** The step just finished (or failed), or `finished` once the whole run is over. */
  step: ProvisionStep | 'finished';
  outcome: 'done' | 'skipped' | 'failed';
  /** For `failed`: the readable reason, as on the record. */
  detail?: string;
}

export interface RunOptions {
  /** The run follows a Retry on a failed approval (counted apart in the metrics). */
  retry?: boolean;
}

/** Called after each step with the record as it now is; the Slack side redraws the card with it. */
export type ProgressReporter = (record: ApplicationRecord, event: ProgressEvent) => Promise<void>;

/**
 * Approve: `pending` or `failed` → `approving`, naming who and when. Exactly one of any number of
 * concurrent callers gets `started`; the others learn the state and who decided.
 */
export async function startApproval(
  deps: Pick<ProvisionDeps, 'applications' | 'audit'>,
  applicantId: string,
  actor: string,
): Promise<ApprovalStart> {
  const decided = { decidedBy: actor, decidedAt: new Date().toISOString(), failure: undefined };
  let result = await deps.applications.transition(applicantId, ['pending'], 'approving', decided);
  const retry = !result.ok && result.record?.state === 'failed';
  if (retry) result = await deps.applications.transition(applicantId, ['failed'], 'approving', decided);
  if (result.ok) {
    await deps.audit.record({
      actor,
      action: 'approve',
      subject: applicantId,
      outcome: 'info',
      detail: 'started',
    });
    return { kind: 'started', record: result.record, retry };
  }
  const { record } = result;
  if (record === undefined) return { kind: 'not_found' };
  if (record.state === 'provisioned' || record.state === 'notified') return { kind: 'done', record };
  if (record.state === 'rejected') return { kind: 'rejected', record };
  return { kind: 'busy', by: record.decidedBy, record };
}

/**
 * Runs the provisioning steps of an application in `approving`, from the first without a
 * checkpoint. Never throws for a failed step: the record goes to `failed` with the step and a
 * readable reason, and is returned. A second call while a run is going returns at once.
 */
export async function runProvisioning(
  deps: ProvisionDeps,
  applicantId: string,
  progress?: ProgressReporter,
  options: RunOptions = {},
): Promise<ApplicationRecord> {
  const release = await deps.slots?.acquire();
  try {
    const lock = await RunLock.acquire(deps.redis, applicantId, RUN_LEASE_MS);
    if (lock === undefined) return requireRecord(deps, applicantId);
    try {
      return await runSteps(deps, applicantId, lock, progress, options.retry === true);
    } finally {
      await lock.release();
    }
  } finally {
    release?.();
  }
}

async function runSteps(
  deps: ProvisionDeps,
  applicantId: string,
  lock: RunLock,
  progress: ProgressReporter | undefined,
  retry: boolean,
): Promise<ApplicationRecord> {
  let record = await requireRecord(deps, applicantId);
  if (record.state !== 'approving') return record;
  const actor = record.decidedBy ?? 'system';
  for (const step of PROVISION_STEPS) {
    if (record.checkpoints[step] !== undefined) continue;
    let result: StepResult;
    try {
      result = await STEPS[step](deps, record);
      await deps.applications.checkpoint(applicantId, step, result.checkpoint);
      await addNotes(deps, applicantId, ['approving'], result.notes ?? []);
      await deps.audit.record({
        actor,
        action: `provision.${step}`,
        subject: applicantId,
        outcome: 'ok',
        detail: result.detail ?? (result.skipped ? 'skipped' : 'done'),
      });
      await deps.hooks?.afterStep?.(step);
    } catch (error) {
      return fail(deps, applicantId, actor, step, error, progress, retry);
    }
    record = await requireRecord(deps, applicantId);
    if (!(await lock.renew())) {
      deps.log.warn(
        { applicant: applicantId, step },
        'provisioning lease lost to another run; stopping this one',
      );
      return record;
    }
    await report(deps, progress, record, { step, outcome: result.skipped ? 'skipped' : 'done' });
  }
  return finish(deps, record, actor, progress, retry);
}

async function finish(
  deps: ProvisionDeps,
  record: ApplicationRecord,
  actor: string,
  progress: ProgressReporter | undefined,
  retry: boolean,
): Promise<ApplicationRecord> {
  const done = await deps.applications.transition(record.id, ['approving'], 'provisioned', {
    failure: undefined,
  });
  if (done.ok) deps.metrics?.approval('provisioned', retry);
  let current = done.record ?? record;
  if (
    done.ok &&
    deps.mail !== undefined &&
    (await deps.mail.status(welcomeMailKey(record.id))) === 'delivered'
  ) {
    const notified = await deps.applications.transition(record.id, ['provisioned'], 'notified');
    current = notified.record ?? current;
  }
  const { project, user } = current.checkpoints;
  await deps.audit.record({
    actor,
    action: 'approve',
    subject: record.id,
    outcome: 'ok',
    detail: `${current.applicant.email}: project ${project}, user ${user}`,
  });
  await report(deps, progress, current, { step: 'finished', outcome: 'done' });
  return current;
}

async function fail(
  deps: ProvisionDeps,
  applicantId: string,
  actor: string,
  step: ProvisionStep,
  error: unknown,
  progress: ProgressReporter | undefined,
  retry: boolean,
): Promise<ApplicationRecord> {
  const message = describeError(error);
  const code =
    error instanceof ProjectNameTaken
      ? ({ code: 'project_exists' } as const)
      : error instanceof LocalAccountExists
        ? ({ code: 'local_account_exists' } as const)
        : {};
  // A taken project name, or a local account in federated mode, waits for the admin's choice: no
  // failure to log or count.
  if (code.code === undefined) {
    deps.log.error({ err: error, applicant: applicantId, step }, 'provisioning step failed');
    deps.metrics?.stepFailed(step, isKaizenError(error) ? error.kind : 'internal');
  }
  const failed = await deps.applications.transition(applicantId, ['approving'], 'failed', {
    failure: { step, message, ...code },
  });
  if (failed.ok && code.code === undefined) deps.metrics?.approval('failed', retry);
  await deps.audit.record({
    actor,
    action: `provision.${step}`,
    subject: applicantId,
    outcome: 'failed',
    detail: message,
  });
  const record = failed.record ?? (await requireRecord(deps, applicantId));
  await report(deps, progress, record, { step, outcome: 'failed', detail: message });
  return record;
}

/**
 * Finds approvals whose run died (a crash, a replica stopped mid-run) and runs them again from their
 * checkpoints. Safe on every replica at once: the run lease lets one through.
 */
export async function resumeStalledApprovals(
  deps: ProvisionDeps,
  options: { progress?: ProgressReporter; stalledAfterMs?: number } = {},
): Promise<ApplicationRecord[]> {
  const stalledAfterMs = options.stalledAfterMs ?? STALLED_AFTER_MS;
  const resumed: ApplicationRecord[] = [];
  for (const record of await deps.applications.list(['approving'])) {
    if (Date.now() - Date.parse(record.updatedAt) < stalledAfterMs) continue;
    if (await RunLock.held(deps.redis, record.id)) continue;
    deps.log.warn({ applicant: record.id }, 'resuming an approval whose run stopped');
    resumed.push(await runProvisioning(deps, record.id, options.progress));
  }
  return resumed;
}

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

function undeliveredNote(record: ApplicationRecord, reason: string): string {
  const { email } = record.applicant;
  // A federated account has no link to resend.
  return record.origin?.user === 'created' && record.checkpoints.setpass !== FEDERATED_ACCOUNT
    ? `welcome email could not be delivered: ${reason}; use /kaizen resend ${email}`
    : `the email telling ${email} about the project could not be delivered: ${reason}`;
}

export type ProjectChoiceOutcome =
  /** The approval goes on (state `approving`): run `runProvisioning` next. */
  | { kind: 'started'; record: ApplicationRecord }
  /** Nothing to choose: no name clash stopped this application (or it was decided meanwhile). */
  | { kind: 'not_waiting'; record: ApplicationRecord }
  /** The project may never be joined through an application; `reason` is the protection code. */
  | { kind: 'protected'; record: ApplicationRecord; reason: ProjectProtection }
  /** The new name is taken too (any case), or protected; nothing changed. */
  | { kind: 'name_taken'; record: ApplicationRecord; clash: ProjectClash }
  | { kind: 'invalid_name'; record: ApplicationRecord; max: number }
  | { kind: 'not_found' };

/** An approval that stopped because the new project's name is taken, waiting for an admin's choice. */
function waitingForChoice(record: ApplicationRecord): boolean {
  return (
    record.state === 'failed' &&
    record.failure?.code === 'project_exists' &&
    record.projectClash !== undefined
  );
}

/**
 * Join existing X: the admin chooses the existing project the clash named, by its id. Refused for
 * a protected project. The approval then goes on from where it stopped, audited with who chose.
 */
export async function joinExistingProject(
  deps: Pick<ProvisionDeps, 'applications' | 'audit' | 'keystone' | 'config'>,
  applicantId: string,
  actor: string,
): Promise<ProjectChoiceOutcome> {
  const record = await deps.applications.get(applicantId);
  if (record === undefined) return { kind: 'not_found' };
  if (!waitingForChoice(record)) return { kind: 'not_waiting', record };
  // Read again by id: the project may have been renamed, or made protected, since the clash was seen.
  const project = await deps.keystone.getProject(record.projectClash!.id);
  const clash = clashWith(project, protectionPolicy(deps.config));
  if (clash.protection !== undefined) {
    await deps.applications.update(applicantId, ['failed'], { projectClash: clash });
    return { kind: 'protected', record, reason: clash.protection };
  }
  const at = new Date().toISOString();
  const started = await deps.applications.transition(applicantId, ['failed'], 'approving', {
    joinProject: { id: project.id, name: project.name, by: actor, at },
    decidedBy: actor,
    decidedAt: at,
    failure: undefined,
  });
  if (!started.ok)
    return started.record ? { kind: 'not_waiting', record: started.record } : { kind: 'not_found' };
  await deps.audit.record({
    actor,
    action: 'project_join',
    subject: applicantId,
    outcome: 'ok',
    detail: `${record.applicant.email} joins the existing project ${project.name} (${project.id}) instead of a new "${record.applicant.project.name}"`,
  });
  return { kind: 'started', record: started.record };
}

/**
 * Rename: a new name for the new project, checked against Keystone again (any case) and against
 * the protected projects. The approval then goes on from where it stopped.
 */
export async function renameNewProject(
  deps: Pick<ProvisionDeps, 'applications' | 'audit' | 'keystone' | 'config'>,
  applicantId: string,
  newName: string,
  actor: string,
): Promise<ProjectChoiceOutcome> {
  const record = await deps.applications.get(applicantId);
  if (record === undefined) return { kind: 'not_found' };
  if (!waitingForChoice(record) || record.applicant.project.kind !== 'new')
    return { kind: 'not_waiting', record };
  const name = newName.trim();
  if (name.length === 0 || name.length > PROJECT_NAME_MAX) {
    return { kind: 'invalid_name', record, max: PROJECT_NAME_MAX };
  }
  const policy = protectionPolicy(deps.config);
  const named = protectedProject({ id: '', name }, policy);
  if (named.protected)
    return { kind: 'name_taken', record, clash: { id: '', name, protection: named.reason } };
  const clash = await findProjectClash(deps.keystone, policy, name);
  if (clash !== undefined) return { kind: 'name_taken', record, clash };
  const before = record.applicant.project.name;
  const at = new Date().toISOString();
  const started = await deps.applications.transition(applicantId, ['failed'], 'approving', {
    applicant: { ...record.applicant, project: { ...record.applicant.project, name } },
    projectClash: undefined,
    decidedBy: actor,
    decidedAt: at,
    failure: undefined,
    notes: [...record.notes, `The new project was renamed from "${before}" to "${name}" by an admin`],
  });
  if (!started.ok)
    return started.record ? { kind: 'not_waiting', record: started.record } : { kind: 'not_found' };
  await deps.audit.record({
    actor,
    action: 'project_rename',
    subject: applicantId,
    outcome: 'ok',
    detail: `"${before}" → "${name}"`,
  });
  return { kind: 'started', record: started.record };
}

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

function leftoversNote(record: ApplicationRecord): string[] {
  const { project, user } = record.checkpoints;
  const made = [
    record.origin?.project === 'created' && project ? `project ${project}` : undefined,
    record.origin?.user === 'created' && user ? `user ${user}` : undefined,
  ].filter(Boolean);
  return made.length > 0
    ? [`Made in Keystone before the failed approval and left in place: ${made.join(', ')}`]
    : [];
}

async function sendRejection(
  deps: DecisionDeps,
  record: ApplicationRecord,
  actor: string,
  notes: string[],
): Promise<'sent' | 'queued' | 'not_sent'> {
  if (deps.mail === undefined) {
    notes.push(`Mail is off (SMTP_URL, MAIL_FROM): ${record.applicant.email} was not told`);
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
    notes.push(`The rejection email could not be queued: ${describeError(error)}`);
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
  notes: string[],
): Promise<void> {
  if (deps.sheet === undefined) return;
  try {
    await deps.sheet.writeStatus(record.applicant, 'Rejected');
  } catch (error) {
    deps.log.error({ err: error, applicant: record.id }, 'could not write the rejection to the sheet');
    notes.push(`The sheet row could not be marked Rejected: ${describeError(error)}`);
    await deps.audit.record({
      actor,
      action: 'sheet.status',
      subject: record.id,
      outcome: 'failed',
      detail: describeError(error),
    });
  }
}

export type QuotaChoiceOutcome =
  | { kind: 'updated'; record: ApplicationRecord; values: QuotaValues }
  /** Decided already (or being approved): the quota can no longer change. */
  | { kind: 'locked'; record: ApplicationRecord }
  | { kind: 'not_found' };

/**
 * The Quota modal's choice, kept on the record while it is `pending` or `failed`. An unknown preset
 * or a bad custom value is an `invalid` error naming what is wrong.
 */
export async function setQuotaChoice(
  deps: Pick<DecisionDeps, 'applications' | 'audit' | 'quotaPresets' | 'config'>,
  applicantId: string,
  choice: QuotaChoice,
  actor = 'system',
): Promise<QuotaChoiceOutcome> {
  const values = resolveQuota(choice, deps.quotaPresets, deps.config.quotas.defaultPreset);
  const stored: QuotaChoice =
    choice.kind === 'preset' ? choice : { kind: 'custom', values: { ...choice.values } };
  const result = await deps.applications.update(applicantId, ['pending', 'failed'], { quota: stored });
  if (!result.ok) {
    return result.record === undefined ? { kind: 'not_found' } : { kind: 'locked', record: result.record };
  }
  await deps.audit.record({
    actor,
    action: 'quota',
    subject: applicantId,
    outcome: 'ok',
    detail: JSON.stringify(stored),
  });
  return { kind: 'updated', record: result.record, values };
}

async function requireRecord(
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
async function addNotes(
  deps: Pick<ProvisionDeps, 'applications'>,
  id: string,
  states: ApplicationRecord['state'][],
  notes: string[],
): Promise<void> {
  if (notes.length === 0) return;
  const record = await deps.applications.get(id);
  if (record === undefined) return;
  const fresh = notes.filter((note) => !record.notes.includes(note));
  if (fresh.length > 0) await deps.applications.update(id, states, { notes: [...record.notes, ...fresh] });
}

/** Progress reports redraw a card; one that fails must not fail the approval. */
async function report(
  deps: Pick<ProvisionDeps, 'log'>,
  progress: ProgressReporter | undefined,
  record: ApplicationRecord,
  event: ProgressEvent,
): Promise<void> {
  if (progress === undefined) return;
  try {
    await progress(record, event);
  } catch (error) {
    deps.log.warn({ err: error, applicant: record.id, step: event.step }, 'progress report failed');
  }
}
