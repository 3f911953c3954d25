/**
 * The applicant card in the admin channel: who applied, for what, with which quota, and what
 * happened since. Built from the application record alone, so every update (a click, a progress
 * step, a retry) redraws the whole card the same way. Everything that came from the sheet is
 * escaped, and every text is cut to Block Kit's limits.
 */

import type { types as slack } from '@slack/bolt';
import type { ApplicationRecord, ProjectClash, ProvisionStep } from '../src/domain/applications/store.js';
import { fullName } from '../src/domain/intake/applicant.js';
import type { QuotaValues } from '../src/domain/quotas/types.js';
import { clipPlain, escapeAndClip, escapeMrkdwn, mention, slackDate } from './mrkdwn.js';
import { noteText } from './notes.js';
import { projectProtectionReason } from './protection.js';

export const APPLICANT_ACTIONS = {
  approve: 'applicant_approve',
  quota: 'applicant_quota',
  reject: 'applicant_reject',
  retry: 'applicant_retry',
  join: 'applicant_join',
  rename: 'applicant_rename',
  convertAccount: 'applicant_convert_account',
  keepLocalAccount: 'applicant_keep_local_account',
} as const;
export type ApplicantAction = keyof typeof APPLICANT_ACTIONS;

export const CARD_ACTIONS_BLOCK = 'applicant_actions';

/** Told to an admin who clicks Make it federated / Keep it local on a card no longer waiting for it. */
export const localAccountNotWaitingText =
  'This application is not waiting for a choice about a local account any more.';

/** Block Kit's limits, from Slack's reference. */
const LIMITS = {
  header: 150,
  section: 3000,
  field: 2000,
  comment: 1500,
  text: 300,
  notes: 5,
  button: 75,
} as const;

export interface CardQuota {
  /** `small`, `medium`, `large`, or `custom`. */
  label: string;
  /** The values that will be set; `ram` in MiB. */
  values: QuotaValues;
}

export interface ApplicantCardInput {
  record: ApplicationRecord;
  /** The quota that will apply; undefined when it cannot be worked out (shown as such). */
  quota: CardQuota | undefined;
}

export interface SlackMessage {
  /** Plain fallback for notifications; Slack still reads mentions in it, so it is escaped too. */
  text: string;
  blocks: slack.KnownBlock[];
}

export function applicantCard({ record, quota }: ApplicantCardInput): SlackMessage {
  const { applicant } = record;
  const name = fullName(applicant) || applicant.email;
  const blocks: slack.KnownBlock[] = [
    { type: 'header', text: { type: 'plain_text', text: clipPlain(name, LIMITS.header), emoji: false } },
    { type: 'section', fields: detailFields(record) },
    section(projectText(record)),
  ];
  if (applicant.comment !== '') {
    blocks.push(section(`*Comment*\n${escapeAndClip(applicant.comment, LIMITS.comment)}`));
  }
  blocks.push(section(quotaText(quota)));
  const notes = record.notes.slice(0, LIMITS.notes);
  if (notes.length > 0) {
    const more = record.notes.length - notes.length;
    const lines = notes.map((note) => `:warning: ${escapeAndClip(noteText(note), 500)}`);
    if (more > 0) lines.push(`…and ${more} more`);
    blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: clipJoined(lines) }] });
  }
  blocks.push({ type: 'divider' }, ...stateBlocks(record));
  return { text: fallbackText(record, name), blocks };
}

function section(text: string): slack.SectionBlock {
  return { type: 'section', text: { type: 'mrkdwn', text } };
}

function detailFields(record: ApplicationRecord): slack.MrkdwnElement[] {
  const { applicant } = record;
  const entries: [string, string][] = [
    ['Email', applicant.email],
    ['Organization', applicant.organization],
    ['Role', applicant.role],
    ['Sponsor', applicant.sponsor],
    ['Phone', applicant.phone],
    ['Has an account', applicant.hasAccount ? 'Yes' : 'No'],
    ['Federated ID', applicant.federatedId ?? ''],
    ['Submitted', applicant.submittedAt],
  ];
  return entries
    .filter(([, value]) => value !== '')
    .map(([label, value]) => ({
      type: 'mrkdwn',
      text: `*${label}*\n${escapeAndClip(value, LIMITS.field - label.length - 3)}`,
    }));
}

function projectText(record: ApplicationRecord): string {
  const { project, extraUsers } = record.applicant;
  const lines: string[] = [];
  if (project.kind === 'new' && record.joinProject !== undefined) {
    lines.push(
      `*Joins existing project:* ${escapeAndClip(record.joinProject.name, 200)} (asked for as new: ${escapeAndClip(project.name, 200)}; ${mention(record.joinProject.by)} chose to join it)`,
    );
  } else if (project.kind === 'new') {
    lines.push(`*New project:* ${escapeAndClip(project.name, 200)}`);
    if (project.description !== '')
      lines.push(`> ${escapeAndClip(project.description, 1200).replace(/\n/g, '\n> ')}`);
    if (record.projectClash !== undefined) lines.push(`:warning: ${clashText(record.projectClash)}`);
  } else {
    lines.push(`*Existing project:* ${escapeAndClip(project.name, 200)}`);
    const contact = [project.contactName, project.contactEmail].filter(Boolean).join(', ');
    if (contact !== '') lines.push(`Project contact: ${escapeAndClip(contact, 400)}`);
  }
  if (extraUsers.length > 0) lines.push(`Also add: ${escapeAndClip(extraUsers.join(', '), 1000)}`);
  return clipJoined(lines);
}

/** "a project named X already exists", and why it can never be joined when it cannot. */
function clashText(clash: ProjectClash): string {
  const exists = `a project named *${escapeAndClip(clash.name, 200)}* already exists`;
  if (clash.protection === undefined) return exists;
  return `${exists}; it can never be joined through an application: ${projectProtectionReason(clash.protection)}`;
}

/** The card of an approval that stopped at a taken project name: the admin chooses, explicitly. */
function projectChoiceBlocks(record: ApplicationRecord, clash: ProjectClash): slack.KnownBlock[] {
  const name = escapeAndClip(clash.name, 200);
  const choices =
    clash.protection === undefined
      ? `Choose: *Join existing ${name}* (the applicant becomes a member of that project), or *Rename* the new project.`
      : `It cannot be joined (${projectProtectionReason(clash.protection)}): *Rename* the new project, or *Reject*.`;
  const elements: slack.Button[] = [];
  if (clash.protection === undefined) {
    elements.push(
      button('join', clipPlain(`Join existing ${clash.name}`, LIMITS.button), record.id, 'primary'),
    );
  }
  elements.push(button('rename', 'Rename', record.id), button('reject', 'Reject', record.id, 'danger'));
  return [
    section(
      clipJoined([
        `:raised_hand: Approval by ${who(record)} stopped before any change: a project named *${name}* already exists.`,
        choices,
      ]),
    ),
    { type: 'actions', block_id: CARD_ACTIONS_BLOCK, elements },
  ];
}

/**
 * Federated mode found a local (password) account with the applicant's name: it is never turned
 * federated silently; the admin chooses.
 */
function localAccountChoiceBlocks(
  record: ApplicationRecord,
  account: NonNullable<ApplicationRecord['localAccount']>,
): slack.KnownBlock[] {
  const name = escapeAndClip(account.name, 200);
  const others = account.otherIdps ?? [];
  const what =
    others.length > 0
      ? `an account that signs in through another identity provider (${escapeAndClip(others.join(', '), 200)})`
      : 'a local account that signs in with a password';
  return [
    section(
      clipJoined([
        `:raised_hand: Approval by ${who(record)} stopped before any change to the account: *${name}* already exists as ${what}.`,
        others.length > 0
          ? `Choose: *Make it federated* (it signs in through this institution too), or *Keep it local* (it keeps how it signs in and gets the role on the project).`
          : `Choose: *Make it federated* (it signs in through the institution from now on and its password stops working), or *Keep it local* (it keeps its password and gets the role on the project).`,
      ]),
    ),
    {
      type: 'actions',
      block_id: CARD_ACTIONS_BLOCK,
      elements: [
        button('convertAccount', 'Make it federated', record.id, 'primary'),
        button('keepLocalAccount', 'Keep it local', record.id),
        button('reject', 'Reject', record.id, 'danger'),
      ],
    },
  ];
}

/** The quota's main numbers: what an admin compares between presets. */
export function quotaSummary(values: QuotaValues): string {
  const amount = (value: number | undefined, unit: string) =>
    value === undefined ? undefined : value === -1 ? `unlimited ${unit}` : `${value} ${unit}`;
  const ram =
    values.ram === undefined ? undefined : values.ram === -1 ? 'unlimited RAM' : `${gib(values.ram)} GiB RAM`;
  return [
    amount(values.instances, 'instances'),
    amount(values.cores, 'vCPUs'),
    ram,
    amount(values.gigabytes, 'GB volumes'),
    amount(values.floatingip, 'floating IPs'),
  ]
    .filter((part): part is string => part !== undefined)
    .join(' · ');
}

/** MiB → GiB, one decimal at most. */
export function gib(mib: number): string {
  const value = mib / 1024;
  return Number.isInteger(value) ? String(value) : value.toFixed(1);
}

function quotaText(quota: CardQuota | undefined): string {
  if (quota === undefined) return '*Quota:* could not be worked out; use *Quota* to choose one';
  const summary = quotaSummary(quota.values);
  return `*Quota:* ${escapeMrkdwn(quota.label)}${summary === '' ? '' : ` — ${summary}`}`;
}

interface StepLine {
  step: ProvisionStep;
  label: string;
}

const STEP_LINES: StepLine[] = [
  { step: 'project', label: 'project' },
  { step: 'user', label: 'user' },
  { step: 'role', label: 'role' },
  { step: 'extra_users', label: 'extra users' },
  { step: 'quotas', label: 'quotas' },
  { step: 'setpass', label: 'password link' },
  { step: 'email', label: 'email' },
  { step: 'admitted_sheet', label: 'sheet' },
];

/** Steps not on the progress line still get a name when they fail. */
const OTHER_STEP_LABELS: StepLine[] = [{ step: 'sheet_status', label: 'sheet status' }];

/** "project ✓ · user ✓ · role …": done steps, the one running, and the failed one. */
export function progressLine(record: ApplicationRecord): string {
  const lines = STEP_LINES.filter(
    (line) => line.step !== 'extra_users' || record.applicant.extraUsers.length > 0,
  );
  const firstOpen = lines.find((line) => record.checkpoints[line.step] === undefined)?.step;
  return lines
    .map(({ step, label }) => {
      const done = record.checkpoints[step];
      if (done === 'queued') return `${label} queued`;
      if (done === 'undelivered') return `${label} ✗`;
      if (done === 'skipped') return `${label} skipped`;
      if (step === 'setpass' && done === 'federated') return `${label}: none, federated`;
      if (done !== undefined) return `${label} ✓`;
      if (record.state === 'failed' && record.failure?.step === step) return `${label} ✗`;
      if (record.state === 'approving' && step === firstOpen) return `${label} …`;
      return label;
    })
    .join(' · ');
}

function stateBlocks(record: ApplicationRecord): slack.KnownBlock[] {
  switch (record.state) {
    case 'pending':
      return [
        {
          type: 'actions',
          block_id: CARD_ACTIONS_BLOCK,
          elements: [
            button('approve', 'Approve', record.id, 'primary'),
            button('quota', 'Quota', record.id),
            // No confirm dialog: the reject modal that follows asks for a reason and can be cancelled.
            button('reject', 'Reject', record.id, 'danger'),
          ],
        },
      ];
    case 'approving':
      return [
        section(`:hourglass_flowing_sand: Being approved by ${who(record)}`),
        { type: 'context', elements: [{ type: 'mrkdwn', text: progressLine(record) }] },
      ];
    case 'provisioned':
    case 'notified':
      return [
        section(`:white_check_mark: Approved by ${who(record)}${when(record)}`),
        {
          type: 'context',
          elements: [{ type: 'mrkdwn', text: clipJoined([progressLine(record), ...outcome(record)]) }],
        },
      ];
    case 'rejected':
      return [
        section(
          clipJoined([
            `:no_entry_sign: Rejected by ${who(record)}${when(record)}: ${escapeAndClip(record.rejectReason ?? 'no reason given', 2000)}`,
          ]),
        ),
      ];
    case 'failed': {
      if (record.failure?.code === 'project_exists' && record.projectClash !== undefined) {
        return projectChoiceBlocks(record, record.projectClash);
      }
      if (record.failure?.code === 'local_account_exists' && record.localAccount !== undefined) {
        return localAccountChoiceBlocks(record, record.localAccount);
      }
      const failed = record.failure?.step;
      const step =
        [...STEP_LINES, ...OTHER_STEP_LABELS].find((line) => line.step === failed)?.label ??
        failed?.replace(/_/g, ' ') ??
        'an unknown';
      const reason = record.failure?.message ?? 'no reason was recorded';
      return [
        section(
          clipJoined([
            `:warning: Approval by ${who(record)} stopped at the *${step}* step: ${escapeAndClip(reason, 2000)}`,
            'Fix the cause and press *Retry*: finished steps are not repeated.',
          ]),
        ),
        { type: 'context', elements: [{ type: 'mrkdwn', text: progressLine(record) }] },
        {
          type: 'actions',
          block_id: CARD_ACTIONS_BLOCK,
          elements: [button('retry', 'Retry', record.id, 'primary')],
        },
      ];
    }
  }
}

function button(
  action: ApplicantAction,
  label: string,
  applicantId: string,
  style?: 'primary' | 'danger',
): slack.Button {
  return {
    type: 'button',
    action_id: APPLICANT_ACTIONS[action],
    text: { type: 'plain_text', text: label },
    value: applicantId,
    ...(style ? { style } : {}),
  };
}

function who(record: ApplicationRecord): string {
  return record.decidedBy ? mention(record.decidedBy) : 'an admin';
}

function when(record: ApplicationRecord): string {
  return record.decidedAt ? ` at ${slackDate(record.decidedAt)}` : '';
}

function outcome(record: ApplicationRecord): string[] {
  const { project, user } = record.checkpoints;
  const parts: string[] = [];
  if (project) parts.push(`project id \`${escapeMrkdwn(project)}\``);
  if (user) parts.push(`user id \`${escapeMrkdwn(user)}\``);
  return parts.length > 0 ? [parts.join(' · ')] : [];
}

/** Joins lines and keeps the result inside one section's limit, never cutting an entity or a `<…>` in two. */
function clipJoined(lines: string[]): string {
  const text = lines.join('\n');
  if (text.length <= LIMITS.section) return text;
  return `${text.slice(0, LIMITS.section - 1).replace(/&[a-z]*$|<[^>]*$/, '')}…`;
}

function fallbackText(record: ApplicationRecord, name: string): string {
  const subject = `${escapeAndClip(name, 100)} (${escapeAndClip(record.applicant.email, 120)})`;
  switch (record.state) {
    case 'pending':
      return `New applicant: ${subject}`;
    case 'approving':
      return `Applicant ${subject} is being approved`;
    case 'provisioned':
    case 'notified':
      return `Applicant ${subject} was approved`;
    case 'rejected':
      return `Applicant ${subject} was rejected`;
    case 'failed':
      if (record.failure?.code === 'project_exists')
        return `Approval of ${subject} stopped: the project name is taken; choose to join it or rename`;
      if (record.failure?.code === 'local_account_exists')
        return `Approval of ${subject} stopped: a local account has that name; choose to make it federated or keep it local`;
      return `Approval of ${subject} stopped; it can be retried`;
  }
}
