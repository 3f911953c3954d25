/**
 * The quota request card's modals. Adjust: the values Approve will apply, pre-filled with what was
 * asked (RAM in GiB), read back by `readQuotaModal`. Reject: a reason, and whether to email the
 * requester, read back by `readRejectModal`. `private_metadata` carries the request id.
 */
import type { types as slack } from '@slack/bolt';
import type { QuotaRequestRecord } from '../src/domain/quotas/request-store.js';
import { escapeAndClip } from './mrkdwn.js';
import { QUOTA_GROUPS, quotaBlockId, quotaValueInputs } from './quota-modal.js';
import { rejectInputs } from './reject-modal.js';

export const QUOTA_ADJUST_CALLBACK = 'quota_request_adjust_modal';
export const QUOTA_REJECT_CALLBACK = 'quota_request_reject_modal';
/** The block that carries errors about the form as a whole (the first input). */
export const QUOTA_ADJUST_FIRST_BLOCK = quotaBlockId(QUOTA_GROUPS[0]?.keys[0] ?? 'instances');

function who(record: QuotaRequestRecord): string {
  return `*${escapeAndClip(record.request.project, 200)}* (asked by ${escapeAndClip(record.request.email, 254)})`;
}

export function quotaAdjustModal(record: QuotaRequestRecord): slack.ModalView {
  const blocks: slack.KnownBlock[] = [
    {
      type: 'section',
      text: {
        type: 'mrkdwn',
        text: `Quota to apply to ${who(record)} on Approve. A blank field leaves that quota as it is; -1 means unlimited.`,
      },
    },
  ];
  blocks.push(...quotaValueInputs(record.toApply));
  return {
    type: 'modal',
    callback_id: QUOTA_ADJUST_CALLBACK,
    private_metadata: record.id,
    title: { type: 'plain_text', text: 'Adjust quota request' },
    submit: { type: 'plain_text', text: 'Save' },
    close: { type: 'plain_text', text: 'Cancel' },
    blocks,
  };
}

export function quotaRejectModal(record: QuotaRequestRecord): slack.ModalView {
  return {
    type: 'modal',
    callback_id: QUOTA_REJECT_CALLBACK,
    private_metadata: record.id,
    title: { type: 'plain_text', text: 'Reject quota request' },
    submit: { type: 'plain_text', text: 'Reject' },
    close: { type: 'plain_text', text: 'Cancel' },
    blocks: [
      {
        type: 'section',
        text: {
          type: 'mrkdwn',
          text: `Reject the quota request for ${who(record)}? The reason is shown on the card.`,
        },
      },
      ...rejectInputs('requester'),
    ],
  };
}
