/**
 * The quota requests tab with its Slack side, run by the sheet intake's poll right after the
 * applications tab: new requests become cards (applied at once when QUOTA_AUTO_APPROVE allows),
 * bad rows a notice. Its trouble is logged and never fails the applications' poll (or its metric).
 */
import type { WebClient } from '@slack/web-api';
import type { PollCounts } from '../intake/poll.js';
import { pollQuotaRequests } from '../intake/quota-poll.js';
import type { ApplicationsSheet } from '../intake/sheets.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import { applyByPolicy } from '../quotas/apply-by-policy.js';
import type { QuotaRequestParts } from '../quotas/from-services.js';
import { checkMembership } from '../quotas/membership.js';
import type { QuotaPresets } from '../quotas/presets.js';
import type { Services } from '../services.js';
import { postIntakeNotice } from './applicant-cards.js';
import { postQuotaRequestCard } from './quota-request-cards.js';

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
