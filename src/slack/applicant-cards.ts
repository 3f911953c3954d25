/**
 * The applicant card in Slack: posting it for a new application (the intake's `announce`), and
 * redrawing it in place from the record after every change. Notices about bad sheet rows go to
 * the same channel.
 */

import type { WebClient } from '@slack/web-api';
import { applicantCard, type CardQuota } from '../../views/applicant-card.js';
import { invalidRowNotice } from '../../views/invalid-row-notice.js';
import type { ApplicationRecord, ApplicationStore } from '../domain/applications/store.js';
import type { IntakeNotice } from '../domain/intake/poll.js';
import type { QuotaPresets } from '../domain/quotas/presets.js';
import { resolveQuota } from '../domain/quotas/resolve.js';
import type { Logger } from '../platform/log.js';
import { updateCard } from './card-update.js';

export interface CardDeps {
  client: WebClient;
  store: ApplicationStore;
  presets: QuotaPresets;
  /** DEFAULT_QUOTA_PRESET: what custom values are laid over. */
  defaultPreset: string;
  log: Logger;
  /** The one queue of background redraws per card in this process (card-redraws.ts). */
  redraws?: { redraw(record: ApplicationRecord): Promise<void> };
}

/** The quota the card shows: what provisioning would set now. */
export function cardQuota(
  record: ApplicationRecord,
  deps: Pick<CardDeps, 'presets' | 'defaultPreset'>,
): CardQuota | undefined {
  try {
    const values = resolveQuota(record.quota, deps.presets, deps.defaultPreset);
    return { label: record.quota.kind === 'preset' ? record.quota.preset : 'custom', values };
  } catch {
    return undefined;
  }
}

export function cardMessage(record: ApplicationRecord, deps: Pick<CardDeps, 'presets' | 'defaultPreset'>) {
  return applicantCard({ record, quota: cardQuota(record, deps) });
}

/** Posts the card of a new application and remembers where it is on the record. */
export async function postApplicantCard(
  deps: CardDeps,
  channel: string,
  record: ApplicationRecord,
): Promise<void> {
  const message = cardMessage(record, deps);
  const posted = await deps.client.chat.postMessage({
    channel,
    text: message.text,
    blocks: message.blocks,
    unfurl_links: false,
    unfurl_media: false,
  });
  if (!posted.channel || !posted.ts) return;
  const card = { channel: posted.channel, ts: posted.ts };
  const saved = await deps.store.update(
    record.id,
    ['pending', 'approving', 'failed', 'provisioned', 'notified', 'rejected'],
    {
      card,
    },
  );
  // An admin may have acted between the post and the save (a /kaizen command); draw what is true now.
  if (saved.ok && saved.record.state !== record.state) await refreshApplicantCard(deps, saved.record);
}

/**
 * Redraws the card from the record. A failed update is logged, never thrown: the record is the
 * truth, and the next change redraws the card anyway.
 */
export async function refreshApplicantCard(deps: CardDeps, record: ApplicationRecord): Promise<void> {
  if (!record.card) return;
  await updateCard(deps.client, deps.log, record.card, cardMessage(record, deps), { applicant: record.id });
}

/** Reads the record again and redraws its card. */
export async function refreshApplicantCardById(
  deps: CardDeps,
  id: string,
): Promise<ApplicationRecord | undefined> {
  const record = await deps.store.get(id);
  if (record) await refreshApplicantCard(deps, record);
  return record;
}

export async function postIntakeNotice(
  client: WebClient,
  channel: string,
  notice: IntakeNotice,
): Promise<void> {
  const message = invalidRowNotice(notice);
  await client.chat.postMessage({
    channel,
    text: message.text,
    blocks: message.blocks,
    unfurl_links: false,
    unfurl_media: false,
  });
}
