/**
 * Approve: the transition to `approving` (of two admins clicking at once exactly one wins), then the
 * provisioning steps, checkpointed so a failure or a crash resumes where it stopped and creates
 * nothing twice; approvals whose run died are resumed.
 */

import { describeError, isKaizenError } from '../../platform/errors.js';
import { type ApplicationRecord, PROVISION_STEPS, type ProvisionStep } from '../applications/store.js';
import type { ProvisionDeps } from './deps.js';
import { LocalAccountExists } from './federated-user.js';
import { addNotes, requireRecord } from './record-updates.js';
import { RunLock } from './run-lock.js';
import { ProjectNameTaken, STEPS, type StepResult, welcomeMailKey } from './steps.js';

/** Longer than the slowest step (three quota calls with their timeouts); renewed after every step. */
const RUN_LEASE_MS = 180_000;
/** An approval untouched this long with no run holding its lease was left by a run that died. */
const STALLED_AFTER_MS = 60_000;

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
