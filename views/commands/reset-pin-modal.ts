/**
 * The modal a reset opens when the user has no PIN on file: the admin gives one (4 digits), which
 * is kept only as a hash and never shown back. `private_metadata` carries the reset's confirmation
 * and where to answer (the response URL of the message with the Reset button).
 */
import type { types as slack } from '@slack/bolt';
import { clipPlain } from '../mrkdwn.js';

export const RESET_PIN_CALLBACK = 'kaizen_reset_pin';
export const RESET_PIN_BLOCK = 'reset_pin';
const PIN_ACTION = 'pin';

export interface ResetPinMetadata {
  confirmation: string;
  responseUrl: string | undefined;
}

export function resetPinModal(username: string, metadata: ResetPinMetadata): slack.ModalView {
  return {
    type: 'modal',
    callback_id: RESET_PIN_CALLBACK,
    private_metadata: JSON.stringify(metadata),
    title: { type: 'plain_text', text: 'PIN for the reset' },
    submit: { type: 'plain_text', text: 'Reset' },
    close: { type: 'plain_text', text: 'Cancel' },
    blocks: [
      {
        type: 'section',
        text: {
          type: 'plain_text',
          text: clipPlain(
            `${username} has no PIN on file. Choose 4 digits and tell them to the user by another channel: the password page asks for them. The PIN is kept only as a hash and never shown again.`,
            2900,
          ),
        },
      },
      {
        type: 'input',
        block_id: RESET_PIN_BLOCK,
        label: { type: 'plain_text', text: 'PIN (4 digits)' },
        element: {
          type: 'plain_text_input',
          action_id: PIN_ACTION,
          min_length: 4,
          max_length: 4,
        },
      },
    ],
  };
}

type StateValues = Record<string, Record<string, { value?: string | null }>>;

export function readResetPinModal(values: StateValues): string {
  return (values[RESET_PIN_BLOCK]?.[PIN_ACTION]?.value ?? '').trim();
}

export function readResetPinMetadata(text: string): ResetPinMetadata | undefined {
  try {
    const value = JSON.parse(text) as Partial<ResetPinMetadata>;
    if (typeof value.confirmation !== 'string') return undefined;
    return {
      confirmation: value.confirmation,
      responseUrl: typeof value.responseUrl === 'string' ? value.responseUrl : undefined,
    };
  } catch {
    return undefined;
  }
}
