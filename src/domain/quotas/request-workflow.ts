/**
 * Deciding a quota change request: Approve (and Retry), Adjust, Reject. Approve re-checks that the
 * requester is a member of the project, moves the request to `applying` in one atomic step (a
 * double click or a second admin gets `busy`), then runs its steps, each checkpointed: the
 * quotas through the quota setter, the requester's email (once, by idempotency key), the status
 * in the sheet. A failure stops at its step; Retry resumes after the last step done, so the
 * quotas are set once. Outcomes are codes; views/ words them.
 */

import type { KeystoneClient } from '../../keystone/index.js';
import type { MailMessage } from '../../mail/message.js';
import type { MailOutbox } from '../../mail/outbox.js';
import { describeError } from '../../platform/errors.js';
import { keys } from '../../platform/keys.js';
import type { Logger } from '../../platform/log.js';
import type { Redis } from '../../platform/redis.js';
import { type ProjectProtection, type ProtectionPolicy, protectedProject } from '../accounts/protection.js';
import type { Audit } from '../audit/audit.js';
import { checkMembership, type Membership } from './membership.js';
import { readQuotas } from './reader.js';
import type { QuotaRequestRecord, QuotaRequestStep, QuotaRequestStore } from './request-store.js';
import { setQuotas } from './setter.js';
import type { QuotaKey, QuotaValues } from './types.js';

/** An `applying` request untouched this long was left by a process that died: Retry may take it over. */
export const STALE_APPLYING_MS = 5 * 60_000;

export interface QuotaRequestDeps {
  store: QuotaRequestStore;
  keystone: KeystoneClient;
  /** KAIZEN_DOMAIN: where projects and users are looked up. */
  domainId: string;
  audit: Pick<Audit, 'record'>;
  redis: Redis;
  mail: Pick<MailOutbox, 'enqueue'> | undefined;
  sheet:
    | { writeStatus(request: { submittedAt: string; email: string }, status: string): Promise<boolean> }
    | undefined;
  /** Projects the bot never touches (the admin and service projects, KAIZEN_PROTECTED_PROJECTS). */
  protection?: ProtectionPolicy | undefined;
  /** The emails' words (views/emails/quota-request.ts), given in so the domain holds none. */
  emails: QuotaRequestEmails;
  log: Logger;
  now?: () => Date;
}

type EmailContent = Omit<MailMessage, 'to'>;

export interface QuotaRequestEmails {
  applied(input: { project: string; values: QuotaValues }): EmailContent;
  rejected(input: { project: string; reason: string }): EmailContent;
}

export type NotMember = Exclude<Membership['kind'], 'member'>;
export type RefusalReason = NotMember | 'protected_project';

export type ApproveOutcome =
  | { kind: 'applied'; record: QuotaRequestRecord }
  | { kind: 'failed'; record: QuotaRequestRecord }
  | { kind: 'refused'; record: QuotaRequestRecord; reason: RefusalReason; protection?: ProjectProtection }
  | { kind: 'busy'; record: QuotaRequestRecord }
  | { kind: 'done'; record: QuotaRequestRecord }
  | { kind: 'rejected'; record: QuotaRequestRecord }
  | { kind: 'not_found' };

const nowOf = (deps: Pick<QuotaRequestDeps, 'now'>) => (deps.now ?? (() => new Date()))();

function isStale(record: QuotaRequestRecord, now: Date): boolean {
  return now.getTime() - Date.parse(record.updatedAt) > STALE_APPLYING_MS;
}

/** What a request that cannot start says instead, by its state. */
function settled(record: QuotaRequestRecord, now: Date): ApproveOutcome | undefined {
  if (record.state === 'applied' || record.state === 'reverting' || record.state === 'reverted') {
    return { kind: 'done', record };
  }
  if (record.state === 'rejected') return { kind: 'rejected', record };
  if (record.state === 'applying' && !isStale(record, now)) return { kind: 'busy', record };
  return undefined;
}

/** Approve, or Retry after a failure: applies `toApply` once, with `by` as the deciding admin. */
export async function approveQuotaRequest(
  deps: QuotaRequestDeps,
  id: string,
  by: string,
  options: { byPolicy?: boolean; onStarted?: (record: QuotaRequestRecord) => Promise<void> } = {},
): Promise<ApproveOutcome> {
  const found = await deps.store.get(id);
  if (found === undefined) return { kind: 'not_found' };
  const early = settled(found, nowOf(deps));
  if (early !== undefined) return early;
  // Once the quotas are set, Retry only finishes the steps after them: nothing is checked again.
  const already = found.checkpoints.quotas !== undefined && found.membership.kind !== 'no_project';
  const membership: Membership = already ? found.membership : await admissible(deps, found, by);
  if (membership.kind !== 'member' && !already) {
    const saved = await deps.store.update(id, ['pending', 'failed'], { membership });
    return { kind: 'refused', record: saved.record ?? found, reason: membership.kind };
  }
  if (membership.kind === 'no_project') return { kind: 'refused', record: found, reason: 'no_project' };
  const refusal = already ? undefined : await protectedRefusal(deps, found, membership.projectId, by);
  if (refusal !== undefined) return refusal;
  const from: QuotaRequestRecord['state'][] = ['pending', 'failed'];
  if (found.state === 'applying') from.push('applying');
  const started = await deps.store.transition(id, from, 'applying', {
    membership,
    decidedBy: by,
    decidedAt: nowOf(deps).toISOString(),
    failure: undefined,
    ...(options.byPolicy ? { byPolicy: true } : {}),
  });
  if (!started.ok) {
    if (started.record === undefined) return { kind: 'not_found' };
    return settled(started.record, nowOf(deps)) ?? { kind: 'busy', record: started.record };
  }
  // The card says "applying" while the services are called; a failed redraw changes nothing.
  await options.onStarted?.(started.record).catch(() => undefined);
  return runApproval(deps, started.record, membership.projectId);
}

/** Keystone asked again (membership may have changed since the request came in); a refusal is audited. */
async function admissible(
  deps: QuotaRequestDeps,
  found: QuotaRequestRecord,
  by: string,
): Promise<Membership> {
  const membership = await checkMembership(
    deps.keystone,
    deps.domainId,
    found.request.project,
    found.request.email,
  );
  if (membership.kind !== 'member') {
    await deps.audit.record({
      actor: by,
      action: 'quota_approve',
      subject: found.request.email,
      outcome: 'denied',
      detail: `${found.request.project}: ${membership.kind}`,
    });
  }
  return membership;
}

/** A project the bot never touches (admin, service, KAIZEN_PROTECTED_PROJECTS): refused, audited. */
async function protectedRefusal(
  deps: QuotaRequestDeps,
  found: QuotaRequestRecord,
  projectId: string,
  by: string,
): Promise<ApproveOutcome | undefined> {
  if (deps.protection === undefined) return undefined;
  const verdict = protectedProject({ id: projectId, name: found.request.project }, deps.protection);
  if (!verdict.protected) return undefined;
  await deps.audit.record({
    actor: by,
    action: 'quota_approve',
    subject: found.request.email,
    outcome: 'denied',
    detail: `${found.request.project}: protected project (${verdict.reason})`,
  });
  return { kind: 'refused', record: found, reason: 'protected_project', protection: verdict.reason };
}

async function runApproval(
  deps: QuotaRequestDeps,
  record: QuotaRequestRecord,
  projectId: string,
): Promise<ApproveOutcome> {
  const by = record.decidedBy ?? 'system';
  const { request } = record;
  let step: QuotaRequestStep = 'quotas';
  try {
    if (record.checkpoints.quotas === undefined) {
      // What the limits were, for Revert: read before they change, kept on the record first.
      const before = await readQuotas(deps.keystone, projectId);
      const previous: QuotaValues = {};
      for (const key of Object.keys(record.toApply) as QuotaKey[]) {
        const limit = before.usage[key]?.limit;
        if (limit !== undefined) previous[key] = limit;
      }
      await deps.store.update(record.id, ['applying'], { previous });
      await setQuotas(deps.keystone, projectId, record.toApply);
      await deps.store.checkpoint(record.id, 'quotas', 'done');
      await deps.redis.set(keys.quotaChangedAt(projectId), String(nowOf(deps).getTime()));
    }
    step = 'email';
    if (record.checkpoints.email === undefined) {
      const email = deps.emails.applied({ project: request.project, values: record.toApply });
      await deps.store.checkpoint(
        record.id,
        'email',
        await sendOnce(deps, `quota-applied:${record.id}`, request.email, email),
      );
    }
    step = 'sheet_status';
    if (record.checkpoints.sheet_status === undefined) {
      const status = `Applied ${nowOf(deps).toISOString().slice(0, 10)}${record.byPolicy ? ' by policy' : ''}`;
      const written = deps.sheet === undefined ? false : await deps.sheet.writeStatus(request, status);
      await deps.store.checkpoint(record.id, 'sheet_status', written ? 'done' : 'skipped');
    }
  } catch (error) {
    const message = describeError(error);
    deps.log.warn({ err: error, request: record.id, step }, 'quota request: a step failed; Retry resumes it');
    const failed = await deps.store.transition(record.id, ['applying'], 'failed', {
      failure: { step, message },
    });
    await deps.audit.record({
      actor: by,
      action: 'quota_approve',
      subject: request.email,
      outcome: 'failed',
      detail: `${request.project} at ${step}: ${message}`,
    });
    const current = failed.record ?? (await deps.store.get(record.id)) ?? record;
    return { kind: 'failed', record: current };
  }
  const done = await deps.store.transition(record.id, ['applying'], 'applied');
  await deps.audit.record({
    actor: by,
    action: record.byPolicy ? 'quota_auto_approve' : 'quota_approve',
    subject: request.email,
    outcome: 'ok',
    detail: `${request.project}: ${describeValues(record.toApply)}`,
  });
  return { kind: 'applied', record: done.record ?? record };
}

async function sendOnce(
  deps: QuotaRequestDeps,
  purpose: string,
  to: string,
  email: EmailContent,
): Promise<string> {
  if (deps.mail === undefined) return 'skipped';
  const result = await deps.mail.enqueue({ to, ...email }, { idempotencyKey: purpose });
  return result.status;
}

export function describeValues(values: QuotaValues): string {
  return Object.entries(values)
    .map(([key, value]) => `${key}=${value}`)
    .join(' ');
}

export type AdjustOutcome =
  | { kind: 'adjusted'; record: QuotaRequestRecord }
  | { kind: 'locked'; record: QuotaRequestRecord }
  | { kind: 'not_found' };

/** Adjust: what Approve will apply, while the request is still open and nothing was set yet. */
export async function adjustQuotaRequest(
  deps: Pick<QuotaRequestDeps, 'store' | 'audit'>,
  id: string,
  by: string,
  values: QuotaValues,
): Promise<AdjustOutcome> {
  const record = await deps.store.get(id);
  if (record === undefined) return { kind: 'not_found' };
  if (record.checkpoints.quotas !== undefined) return { kind: 'locked', record };
  const saved = await deps.store.update(id, ['pending', 'failed'], { toApply: values, adjustedBy: by });
  if (!saved.ok)
    return saved.record === undefined ? { kind: 'not_found' } : { kind: 'locked', record: saved.record };
  await deps.audit.record({
    actor: by,
    action: 'quota_adjust',
    subject: record.request.email,
    outcome: 'ok',
    detail: `${record.request.project}: ${describeValues(values)}`,
  });
  return { kind: 'adjusted', record: saved.record };
}

export type RejectOutcome =
  | { kind: 'rejected'; record: QuotaRequestRecord }
  | { kind: 'decided'; record: QuotaRequestRecord }
  | { kind: 'not_found' };

/** Reject with a reason; the requester is emailed when asked. Nothing is rejected once quotas were set. */
export async function rejectQuotaRequest(
  deps: QuotaRequestDeps,
  id: string,
  by: string,
  input: { reason: string; notifyRequester: boolean },
): Promise<RejectOutcome> {
  const record = await deps.store.get(id);
  if (record === undefined) return { kind: 'not_found' };
  if (record.checkpoints.quotas !== undefined) return { kind: 'decided', record };
  const moved = await deps.store.transition(id, ['pending', 'failed'], 'rejected', {
    decidedBy: by,
    decidedAt: nowOf(deps).toISOString(),
    rejectReason: input.reason,
    failure: undefined,
  });
  if (!moved.ok)
    return moved.record === undefined ? { kind: 'not_found' } : { kind: 'decided', record: moved.record };
  const { request } = record;
  // The decision stands whatever happens to the email or the sheet; each is logged when it fails.
  if (input.notifyRequester) {
    const email = deps.emails.rejected({ project: request.project, reason: input.reason });
    await sendOnce(deps, `quota-rejected:${id}`, request.email, email).catch((error: unknown) =>
      deps.log.warn({ err: error, request: id }, 'quota request: could not queue the rejection email'),
    );
  }
  await deps.sheet
    ?.writeStatus(request, `Rejected ${nowOf(deps).toISOString().slice(0, 10)}: ${input.reason}`)
    .catch((error: unknown) =>
      deps.log.warn({ err: error, request: id }, 'quota request: could not write the status'),
    );
  await deps.audit.record({
    actor: by,
    action: 'quota_reject',
    subject: request.email,
    outcome: 'ok',
    detail: `${request.project}: ${input.reason}`,
  });
  return { kind: 'rejected', record: moved.record };
}

export type RevertOutcome =
  | { kind: 'reverted'; record: QuotaRequestRecord }
  | { kind: 'not_revertible'; record: QuotaRequestRecord }
  | { kind: 'not_found' };

/**
 * Revert: sets the limits a change applied by policy replaced back to what they were, once (the
 * move to `reverting` is atomic). A failure leaves it applied, so Revert can be pressed again.
 */
export async function revertQuotaRequest(
  deps: QuotaRequestDeps,
  id: string,
  by: string,
): Promise<RevertOutcome> {
  const record = await deps.store.get(id);
  if (record === undefined) return { kind: 'not_found' };
  const previous = record.previous ?? {};
  if (!record.byPolicy || record.membership.kind === 'no_project' || Object.keys(previous).length === 0) {
    return { kind: 'not_revertible', record };
  }
  const projectId = record.membership.projectId;
  const started = await deps.store.transition(id, ['applied'], 'reverting', { revertedBy: by });
  if (!started.ok)
    return started.record === undefined
      ? { kind: 'not_found' }
      : { kind: 'not_revertible', record: started.record };
  try {
    await setQuotas(deps.keystone, projectId, previous);
  } catch (error) {
    await deps.store.transition(id, ['reverting'], 'applied', { revertedBy: undefined });
    await deps.audit.record({
      actor: by,
      action: 'quota_revert',
      subject: record.request.email,
      outcome: 'failed',
      detail: `${record.request.project}: ${describeError(error)}`,
    });
    throw error;
  }
  await deps.redis.set(keys.quotaChangedAt(projectId), String(nowOf(deps).getTime()));
  const done = await deps.store.transition(id, ['reverting'], 'reverted', {
    revertedAt: nowOf(deps).toISOString(),
  });
  await deps.audit.record({
    actor: by,
    action: 'quota_revert',
    subject: record.request.email,
    outcome: 'ok',
    detail: `${record.request.project}: back to ${describeValues(previous)}`,
  });
  return { kind: 'reverted', record: done.record ?? record };
}
