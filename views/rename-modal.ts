/**
 * The Rename modal, offered when a new project's name is taken: a new name, checked again when
 * submitted. `private_metadata` carries the applicant id.
 */
import type { types as slack } from '@slack/bolt';
import type { ProjectClash } from '../src/domain/applications/store.js';
import type { Applicant } from '../src/domain/intake/applicant.js';
import { clipPlain, escapeAndClip } from './mrkdwn.js';
import { projectProtectionReason } from './protection.js';

export const RENAME_MODAL_CALLBACK = 'applicant_rename_modal';
export const RENAME_NAME_BLOCK = 'project_name';
const NAME_ACTION = 'name';
/** Keystone's project names are 64 characters at most. */
const NAME_MAX = 64;

export function renameModal(applicant: Pick<Applicant, 'id' | 'project'>): slack.ModalView {
  return {
    type: 'modal',
    callback_id: RENAME_MODAL_CALLBACK,
    private_metadata: applicant.id,
    title: { type: 'plain_text', text: 'Rename the project' },
    submit: { type: 'plain_text', text: 'Rename and approve' },
    close: { type: 'plain_text', text: 'Cancel' },
    blocks: [
      {
        type: 'section',
        text: {
          type: 'mrkdwn',
          text: `A project named *${escapeAndClip(applicant.project.name, 200)}* already exists. Give the new project another name; the approval then goes on.`,
        },
      },
      {
        type: 'input',
        block_id: RENAME_NAME_BLOCK,
        label: { type: 'plain_text', text: 'New project name' },
        element: {
          type: 'plain_text_input',
          action_id: NAME_ACTION,
          max_length: NAME_MAX,
          initial_value: clipPlain(applicant.project.name, NAME_MAX),
        },
      },
    ],
  };
}

type StateValues = Record<string, Record<string, { value?: string | null }>>;

export function readRenameModal(values: StateValues): string {
  return (values[RENAME_NAME_BLOCK]?.[NAME_ACTION]?.value ?? '').trim();
}

/** Modal errors are plain text. */
export function renameRefusal(clash: ProjectClash): string {
  return clash.protection === undefined
    ? `A project named ${clash.name} already exists too; choose another name.`
    : `${clash.name} can never be used: ${projectProtectionReason(clash.protection)}; choose another name.`;
}

export function badNameText(max: number): string {
  return `Give a name of 1 to ${max} characters.`;
}
