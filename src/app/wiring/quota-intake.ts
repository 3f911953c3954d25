/**
 * The quota requests tab with its Slack side, run by the sheet intake's poll right after the
 * applications tab: new requests become cards (applied at once when QUOTA_AUTO_APPROVE allows),
 * bad rows a notice. Its trouble is logged and never fails the applications' poll (or its metric).
 */
import type { WebClient } from '@slack/web-api';
import type { ApplicationsSheet } from '../../domain/intake/applications-sheet.js';
import type { PollCounts } from '../../domain/intake/poll.js';
import { pollQuotaRequests } from '../../domain/intake/quota-poll.js';
import { applyByPolicy } from '../../domain/quotas/apply-by-policy.js';
import { checkMembership } from '../../domain/quotas/membership.js';
import type { QuotaPresets } from '../../domain/quotas/presets.js';
import type { Logger } from '../../platform/log.js';
import type { Metrics } from '../../platform/metrics.js';
import { postIntakeNotice } from '../../slack/applicant-cards.js';
import { postQuotaRequestCard } from '../../slack/quota-request-cards.js';
import type { Services } from '../services.js';
import type { QuotaRequestParts } from './quota-requests.js';

export function slackQuotaIntake(
  services: Pick<Services, 'config' | 'redis'> & { metrics?: Metrics },
  parts: {
    client: WebClient;
    adminChannel: string;
    sheet: ApplicationsSheet;
    presets: QuotaPresets;
    quotaRequests?: QuotaRequestParts | undefined;
  },
  log: Logger,
): () => Promise<PollCounts['quotaRequests']> {
  const { config, redis, metrics } = services;
  return async () => {
    const quotaParts = parts.quotaRequests;
    if (quotaParts === undefined || quotaParts.sheet === undefined) return undefined;
    const { deps } = quotaParts;
    const counts = await pollQuotaRequests({
      sheet: quotaParts.sheet,
      store: deps.store,
      redis,
      log,
      names: parts.sheet.options.names,
      tab: config.google.quotaRequestsTab,
      presets: parts.presets,
      membership: (request) => checkMembership(deps.keystone, deps.domainId, request.project, request.email),
      ...(config.quotas.autoApprove
        ? {
            autoApprove: (record) =>
              applyByPolicy(deps, record, {
                redis,
                presets: parts.presets,
                afterMs: config.quotas.autoApproveAfterMs,
              }),
          }
        : {}),
      announce: (record) =>
        postQuotaRequestCard(
          { client: parts.client, store: deps.store, keystone: deps.keystone, log },
          parts.adminChannel,
          record,
        ),
      notify: async (notice) => {
        await postIntakeNotice(parts.client, parts.adminChannel, notice);
        if (notice.kind === 'rows') metrics?.invalidRowsNoticed(notice.rows.length);
      },
    }).catch((error: unknown) => {
      log.error({ err: error }, 'intake: could not read the quota requests tab');
      return undefined;
    });
    if (counts === undefined || !counts.tab) return undefined;
    return {
      new: counts.new,
      invalid: counts.invalid,
      ...(counts.problem ? { problem: counts.problem } : {}),
    };
  };
}
