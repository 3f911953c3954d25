/**
 * The quota request card in the admin channel: which project, who asked (and whether they are a
 * member of it in Keystone), a table of current quota, usage and requested value per key, and what
 * happened since. Built from the record and a reading of the services, so every redraw is whole.
 * Everything that came from the sheet is escaped and cut to Block Kit's limits.
 */
import type { types as slack } from '@slack/bolt';
import type { Membership } from '../src/domain/quotas/membership.js';
import type { QuotaReading } from '../src/domain/quotas/reader.js';
import type { QuotaRequestRecord, QuotaRequestStep } from '../src/domain/quotas/request-store.js';
import type { ApproveOutcome } from '../src/domain/quotas/request-workflow.js';
import type { QuotaKey, QuotaValues } from '../src/domain/quotas/types.js';
import type { SlackMessage } from './applicant-card.js';
import { clipPlain, escapeAndClip, escapeMrkdwn, mention, slackDate } from './mrkdwn.js';
import { projectProtectionReason } from './protection.js';
import { quotaTableLines } from './quota-table.js';

export const QUOTA_REQUEST_ACTIONS = {
  approve: 'quota_request_approve',
  adjust: 'quota_request_adjust',
  reject: 'quota_request_reject',
  retry: 'quota_request_retry',
  revert: 'quota_request_revert',
} as const;

export const QUOTA_REQUEST_ACTIONS_BLOCK = 'quota_request_actions';

/** The current quota as the card shows it: read now, or why it could not be. */
export type CurrentQuota = { kind: 'read'; reading: QuotaReading } | { kind: 'unreadable'; reason: string };

export interface QuotaRequestCardInput {
  record: QuotaRequestRecord;
  current: CurrentQuota;
}

const STEP_WORDS: Record<QuotaRequestStep, string> = {
  quotas: 'setting the quotas',
  email: 'emailing the requester',
  sheet_status: 'writing the status to the sheet',
};

function section(text: string): slack.SectionBlock {
  return { type: 'section', text: { type: 'mrkdwn', text } };
}

/** Why a request by this person cannot be approved; undefined for a member. */
export function membershipProblem(
  membership: Membership,
  email: string,
  project: string,
): string | undefined {
  switch (membership.kind) {
    case 'member':
      return undefined;
    case 'not_member':
      return `${email} is not a member of ${project} in Keystone: only a member's request can be approved.`;
    case 'no_user':
      return `${email} has no account in Keystone: only a member's request can be approved.`;
    case 'no_project':
      return `There is no project named ${project} in Keystone.`;
  }
}

/**
 * Quota, current limit, in use and requested, one line per requested key, as a monospaced table:
 * Block Kit has no table a bot can count on, and a code block keeps the columns lined up.
 */
export function quotaTable(requested: QuotaValues, current: CurrentQuota): string {
  const usage = current.kind === 'read' ? current.reading.usage : {};
  const rows = (Object.keys(requested) as QuotaKey[]).map((key) => ({
    key,
    limit: usage[key]?.limit,
    inUse: usage[key]?.inUse,
    requested: requested[key],
  }));
  return ['```', ...quotaTableLines(rows, true), '```'].join('\n');
}

export function quotaRequestCard({ record, current }: QuotaRequestCardInput): SlackMessage {
  const { request } = record;
  const problem = membershipProblem(record.membership, request.email, request.project);
  const fields: slack.MrkdwnElement[] = [
    { type: 'mrkdwn', text: `*Project*\n${escapeAndClip(request.project, 200)}` },
    {
      type: 'mrkdwn',
      text: `*Requested by*\n${escapeAndClip(request.email, 254)}${problem === undefined ? ' (member)' : ' :warning: not a member'}`,
    },
    { type: 'mrkdwn', text: `*Submitted*\n${escapeAndClip(request.submittedAt || record.createdAt, 80)}` },
  ];
  if (request.preset !== undefined) {
    fields.push({ type: 'mrkdwn', text: `*Preset*\n${escapeAndClip(request.preset, 80)}` });
  }
  const blocks: slack.KnownBlock[] = [
    {
      type: 'header',
      text: { type: 'plain_text', text: clipPlain(`Quota request: ${request.project}`, 150), emoji: false },
    },
    { type: 'section', fields },
  ];
  if (problem !== undefined) blocks.push(section(`:no_entry: ${escapeAndClip(problem, 600)}`));
  if (request.justification !== '') {
    blocks.push(section(`*Justification*\n${escapeAndClip(request.justification, 1500)}`));
  }
  blocks.push(section(quotaTable(record.toApply, current)));
  const context: string[] = [];
  if (current.kind === 'unreadable')
    context.push(`:warning: The current quota could not be read: ${escapeAndClip(current.reason, 400)}`);
  else for (const note of current.reading.notes) context.push(escapeAndClip(note, 300));
  if (record.adjustedBy !== undefined) context.push(`Adjusted by ${mention(record.adjustedBy)}`);
  if (context.length > 0)
    blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: context.join('\n') }] });
  blocks.push({ type: 'divider' }, ...stateBlocks(record));
  return {
    text: `Quota request for ${escapeMrkdwn(request.project)} by ${escapeMrkdwn(request.email)}`,
    blocks,
  };
}

function button(
  action: keyof typeof QUOTA_REQUEST_ACTIONS,
  text: string,
  value: string,
  style?: 'primary' | 'danger',
): slack.Button {
  return {
    type: 'button',
    action_id: QUOTA_REQUEST_ACTIONS[action],
    text: { type: 'plain_text', text },
    value,
    ...(style ? { style } : {}),
  };
}

function when(iso: string | undefined): string {
  return iso === undefined ? '' : ` at ${slackDate(iso)}`;
}

function stateBlocks(record: QuotaRequestRecord): slack.KnownBlock[] {
  const by = record.decidedBy === undefined ? 'an admin' : mention(record.decidedBy);
  const actions = (elements: slack.Button[]): slack.ActionsBlock => ({
    type: 'actions',
    block_id: QUOTA_REQUEST_ACTIONS_BLOCK,
    elements,
  });
  switch (record.state) {
    case 'pending':
      return [
        actions([
          button('approve', 'Approve', record.id, 'primary'),
          button('adjust', 'Adjust', record.id),
          button('reject', 'Reject', record.id, 'danger'),
        ]),
      ];
    case 'applying':
      return [section(`:hourglass_flowing_sand: Applying, approved by ${by}…`)];
    case 'applied':
      return record.byPolicy
        ? [
            section(
              `:white_check_mark: Applied by policy (QUOTA_AUTO_APPROVE)${when(record.decidedAt)}: at most one preset size above the project's quota, unchanged for long enough. Revert sets the limits back.`,
            ),
            actions([button('revert', 'Revert', record.id, 'danger')]),
          ]
        : [section(`:white_check_mark: Applied by ${by}${when(record.decidedAt)}.`)];
    case 'reverting':
      return [section(`:hourglass_flowing_sand: Reverting, asked by ${mention(record.revertedBy ?? '')}…`)];
    case 'reverted':
      return [
        section(
          `:leftwards_arrow_with_hook: Applied by policy${when(record.decidedAt)}, then reverted by ${record.revertedBy === undefined ? 'an admin' : mention(record.revertedBy)}${when(record.revertedAt)}: the limits are back to what they were.`,
        ),
      ];
    case 'rejected':
      return [
        section(
          `:x: Rejected by ${by}${when(record.decidedAt)}: ${escapeAndClip(record.rejectReason ?? '', 1000)}`,
        ),
      ];
    case 'failed': {
      const failure = record.failure;
      const text = failure
        ? `:warning: Approval by ${by} stopped while ${STEP_WORDS[failure.step]}: ${escapeAndClip(failure.message, 1500)}\nRetry resumes from there; steps already done are not repeated.`
        : `:warning: Approval by ${by} stopped. Retry resumes it.`;
      const buttons = [button('retry', 'Retry', record.id, 'primary')];
      if (record.checkpoints.quotas === undefined) {
        buttons.push(button('adjust', 'Adjust', record.id), button('reject', 'Reject', record.id, 'danger'));
      }
      return [section(text), actions(buttons)];
    }
  }
}

/** The line only the clicking admin sees when Approve did not (or not yet) apply; undefined when the card says it all. */
export function quotaApproveReply(outcome: ApproveOutcome): string | undefined {
  switch (outcome.kind) {
    case 'applied':
    case 'failed':
      return undefined;
    case 'refused': {
      const { request, membership } = outcome.record;
      if (outcome.reason === 'protected_project') {
        const why =
          outcome.protection === undefined ? '' : `: ${projectProtectionReason(outcome.protection)}`;
        return `Not applied: the bot never changes the project ${escapeMrkdwn(request.project)}${escapeMrkdwn(why)}.`;
      }
      const problem = membershipProblem(membership, request.email, request.project);
      return `Not applied: ${escapeMrkdwn(problem ?? 'the requester is not a member of the project.')}`;
    }
    case 'busy':
      return `This request is already being applied by ${outcome.record.decidedBy ? mention(outcome.record.decidedBy) : 'another admin'}.`;
    case 'done':
      return outcome.record.state === 'applied'
        ? 'This request was already applied; the card now shows it.'
        : 'This request was applied and reverted already; the card now shows it.';
    case 'rejected':
      return 'This request was rejected already; the card now shows it.';
    case 'not_found':
      return 'This quota request is no longer on file.';
  }
}
