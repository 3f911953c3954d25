/**
 * The quota request card in Slack: posted for a new request (the intake's `announce`) and redrawn
 * in place after every change. Each drawing reads the project's current quota and usage, so the
 * table shows what is true when the admin looks.
 */

import type { WebClient } from '@slack/web-api';
import { type CurrentQuota, quotaRequestCard } from '../../views/quota-request-card.js';
import { readQuotas } from '../domain/quotas/reader.js';
import type { QuotaRequestRecord, QuotaRequestStore } from '../domain/quotas/request-store.js';
import type { KeystoneClient } from '../keystone/index.js';
import { describeError } from '../platform/errors.js';
import type { Logger } from '../platform/log.js';
import { updateCard } from './card-update.js';

export interface QuotaCardDeps {
  client: WebClient;
  store: QuotaRequestStore;
  keystone: KeystoneClient;
  log: Logger;
}

/** The project's quota now; a failure to read it is shown on the card, never a reason not to post it. */
export async function currentQuota(
  keystone: KeystoneClient,
  projectId: string | undefined,
): Promise<CurrentQuota> {
  if (projectId === undefined) return { kind: 'unreadable', reason: 'the project is not in Keystone' };
  try {
    return { kind: 'read', reading: await readQuotas(keystone, projectId) };
  } catch (error) {
    return { kind: 'unreadable', reason: describeError(error) };
  }
}

const projectIdOf = (record: QuotaRequestRecord) =>
  record.membership.kind === 'no_project' ? undefined : record.membership.projectId;

export async function quotaCardMessage(deps: Pick<QuotaCardDeps, 'keystone'>, record: QuotaRequestRecord) {
  return quotaRequestCard({ record, current: await currentQuota(deps.keystone, projectIdOf(record)) });
}

export async function postQuotaRequestCard(
  deps: QuotaCardDeps,
  channel: string,
  record: QuotaRequestRecord,
): Promise<void> {
  const message = await quotaCardMessage(deps, record);
  const posted = await deps.client.chat.postMessage({
    channel,
    text: message.text,
    blocks: message.blocks,
    unfurl_links: false,
    unfurl_media: false,
  });
  if (!posted.channel || !posted.ts) return;
  const saved = await deps.store.update(record.id, ['pending', 'applying', 'applied', 'rejected', 'failed'], {
    card: { channel: posted.channel, ts: posted.ts },
  });
  // Decided between the post and the save (policy, a command): draw what is true now.
  if (saved.ok && saved.record.state !== record.state) await refreshQuotaRequestCard(deps, saved.record);
}

/** Redraws the card from the record; a failed update is logged, never thrown (the record is the truth). */
export async function refreshQuotaRequestCard(
  deps: QuotaCardDeps,
  record: QuotaRequestRecord,
): Promise<void> {
  if (!record.card) return;
  const message = await quotaCardMessage(deps, record);
  await updateCard(deps.client, deps.log, record.card, message, { request: record.id });
}
