/**
 * QUOTA_AUTO_APPROVE at work: a new request the policy allows (see auto-approve.ts) is approved
 * at once as `system`, through the same checkpointed Approve an admin's click runs, marked as by
 * policy so the card says so and offers Revert. Anything else is left pending for the admins.
 */
import { type PolicyVerdict, policyVerdict } from './auto-approve.js';
import type { QuotaPresets } from './presets.js';
import { readQuotas } from './reader.js';
import type { QuotaRequestRecord } from './request-store.js';
import { approveQuotaRequest, type QuotaRequestDeps } from './request-workflow.js';

export const POLICY_ACTOR = 'system';

export async function applyByPolicy(
  deps: QuotaRequestDeps,
  record: QuotaRequestRecord,
  policy: { redis: QuotaRequestDeps['redis']; presets: QuotaPresets; afterMs: number },
): Promise<QuotaRequestRecord> {
  if (record.membership.kind !== 'member') return record;
  const reading = await readQuotas(deps.keystone, record.membership.projectId);
  const verdict: PolicyVerdict = await policyVerdict(policy, record, reading);
  deps.log.info({ request: record.id, verdict }, 'quota request: policy decided');
  if (!verdict.apply) return record;
  const outcome = await approveQuotaRequest(deps, record.id, POLICY_ACTOR, { byPolicy: true });
  return outcome.kind === 'not_found' ? record : outcome.record;
}
