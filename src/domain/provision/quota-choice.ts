import type { ApplicationRecord } from '../applications/store.js';
import { resolveQuota } from '../quotas/resolve.js';
import type { QuotaChoice, QuotaValues } from '../quotas/types.js';
import type { DecisionDeps } from './deps.js';

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
