/**
 * The Reject modal: a reason (required; it is shown on the card and, when the box is ticked,
 * emailed to the applicant). `private_metadata` carries the applicant id.
 */
import type { types as slack } from '@slack/bolt';
import { type Applicant, fullName } from '../src/domain/intake/applicant.js';
import { escapeAndClip } from './mrkdwn.js';

export const REJECT_MODAL_CALLBACK = 'applicant_reject_modal';
export const REJECT_REASON_BLOCK = 'reject_reason';
export const REJECT_NOTIFY_BLOCK = 'reject_notify';
export const REASON_ACTION = 'reason';
export const NOTIFY_ACTION = 'notify';
export const NOTIFY_VALUE = 'email';
export const REJECT_REASON_MAX = 1000;

export function rejectModal(
  applicant: Pick<Applicant, 'id' | 'firstName' | 'lastName' | 'email'>,
): slack.ModalView {
  const who = fullName(applicant) || applicant.email;
  return {
    type: 'modal',
    callback_id: REJECT_MODAL_CALLBACK,
    private_metadata: applicant.id,
    title: { type: 'plain_text', text: 'Reject applicant' },
    submit: { type: 'plain_text', text: 'Reject' },
    close: { type: 'plain_text', text: 'Cancel' },
    blocks: [
      {
        type: 'section',
        text: {
          type: 'mrkdwn',
          text: `Reject *${escapeAndClip(who, 200)}* (${escapeAndClip(applicant.email, 254)})? The reason is shown on the card.`,
        },
      },
      ...rejectInputs('applicant', 'e.g. Please apply through your sponsor.'),
    ],
  };
}

type StateValues = Record<
  string,
  Record<string, { value?: string | null; selected_options?: { value?: string }[] | null }>
>;

export interface RejectModalValues {
  reason: string;
  notifyApplicant: boolean;
}

export function readRejectModal(values: StateValues): RejectModalValues {
  const reason = (values[REJECT_REASON_BLOCK]?.[REASON_ACTION]?.value ?? '').trim();
  const selected = values[REJECT_NOTIFY_BLOCK]?.[NOTIFY_ACTION]?.selected_options ?? [];
  return { reason, notifyApplicant: selected.some((option) => option.value === NOTIFY_VALUE) };
}

/** The reason and the "email them" box, for whom the rejection tells (`applicant`, `requester`). */
export function rejectInputs(whom: string, placeholder?: string): slack.KnownBlock[] {
  return [
    {
      type: 'input',
      block_id: REJECT_REASON_BLOCK,
      label: { type: 'plain_text', text: 'Reason' },
      element: {
        type: 'plain_text_input',
        action_id: REASON_ACTION,
        multiline: true,
        max_length: REJECT_REASON_MAX,
        ...(placeholder ? { placeholder: { type: 'plain_text', text: placeholder } } : {}),
      },
    },
    {
      type: 'input',
      block_id: REJECT_NOTIFY_BLOCK,
      optional: true,
      label: { type: 'plain_text', text: `Tell the ${whom}` },
      element: {
        type: 'checkboxes',
        action_id: NOTIFY_ACTION,
        options: [
          {
            text: { type: 'plain_text', text: `Email the ${whom}` },
            description: { type: 'plain_text', text: 'They get the reason by email.' },
            value: NOTIFY_VALUE,
          },
        ],
      },
    },
  ];
}
