/**
 * `/kaizen` results as ephemeral Slack messages (Block Kit plus a plain `text` for notifications).
 * Everything that came from outside (names, emails, project names, error messages) is escaped.
 */

import type { types as slack } from '@slack/bolt';
import type {
  ApplicationSummary,
  AuditLine,
  CommandResult,
  KeystoneUserSummary,
  MailOutcome,
  ProjectMembership,
} from '../../commands/results.js';
import { helpText } from '../help.js';
import { escapeAndClip, escapeMrkdwn, mention, slackDate } from '../mrkdwn.js';
import { noteText } from '../notes.js';
import { projectProtectionReason, protectedAccountText } from '../protection.js';
import { quotaTableLines } from '../quota-table.js';
import {
  DISABLED_WARNING,
  federatedRefusalText,
  federatedStatusText,
  linkStatusText,
  pinNote,
  plural,
  quotaChangeText,
  RESET_WARNING,
  syncSentence,
} from './wording.js';

export const RESET_CONFIRM_ACTION = 'kaizen_reset_confirm';
export const RESET_CANCEL_ACTION = 'kaizen_reset_cancel';
export const QUOTA_APPLY_ACTION = 'kaizen_quota_apply';
export const QUOTA_CANCEL_ACTION = 'kaizen_quota_cancel';

export interface SlackReply {
  text: string;
  blocks?: slack.KnownBlock[];
}

const COMMAND = '/kaizen';
/** Block Kit allows 50 blocks per message; two go to the heading and the overflow line. */
const MAX_LISTED = 45;
const SECTION_MAX = 2900;

export function slackReply(result: CommandResult): SlackReply {
  switch (result.kind) {
    case 'help':
      return {
        text: `${result.unknown ? `I don't know \`${escapeAndClip(result.unknown, 40)}\`.\n\n` : ''}${helpText(COMMAND)}`,
      };
    case 'usage':
      return {
        text: `Usage: \`${COMMAND} ${result.usage}\` (${escapeMrkdwn(result.problem)}). \`${COMMAND} help\` lists every command.`,
      };
    case 'denied':
      return {
        text: `Sorry, \`${COMMAND} ${result.command}\` is not allowed for you: it is for the Kaizen admins. \`${COMMAND} help\` works for everyone.`,
      };
    case 'protected':
      return {
        text: `:no_entry: ${escapeAndClip(protectedAccountText(`\`${COMMAND} ${result.command}\``, result.user.name, result.reason), SECTION_MAX)}`,
      };
    case 'federated_user':
      return {
        text: `:no_entry: ${escapeAndClip(federatedRefusalText(`\`${COMMAND} ${result.command}\``, result.command, result.user.name, result.user.federated), SECTION_MAX)}`,
      };
    case 'no_user':
      return { text: noUserText(result.query, result.suggestions) };
    case 'failed':
      return {
        text: `:x: \`${COMMAND} ${result.command}\` did not work: ${escapeAndClip(result.message, SECTION_MAX)}`,
      };
    case 'pending':
      return pendingReply(result.applicants);
    case 'status':
      return statusReply(result);
    case 'reset_confirm':
      return resetConfirmReply(result);
    case 'reset_needs_pin':
      return {
        text: `${who(result.user)} has no PIN on file; run \`${COMMAND} reset ${escapeMrkdwn(result.user.name)}\` again and give one when asked.`,
      };
    case 'reset_done':
      return {
        text: `:white_check_mark: Password reset for ${who(result.user)}: the old password no longer works. ${mailSentence(result.mail, result.emailedTo)} with a new link, valid until ${slackDate(result.linkExpiresAt)}.`,
      };
    case 'resent':
      return {
        text: result.renewed
          ? `:white_check_mark: The link of ${who(result.user)} had expired: a new one (same PIN) ${mailVerb(result.mail)} ${escapeMrkdwn(result.emailedTo)}, valid until ${slackDate(result.linkExpiresAt)}.`
          : `:white_check_mark: The link of ${who(result.user)} ${mailVerb(result.mail)} ${escapeMrkdwn(result.emailedTo)} again; it is valid until ${slackDate(result.linkExpiresAt)}.`,
      };
    case 'synced':
      return { text: syncText(result.counts) };
    case 'audit':
      return {
        text: result.entries.length === 0 ? 'No audit lines.' : result.entries.map(auditText).join('\n'),
      };
    case 'no_project':
      return { text: `There is no project ${escapeAndClip(result.query, 100)} in Keystone.` };
    case 'quota':
      return {
        text: `Quota of ${escapeAndClip(result.project.name, 200)}`,
        blocks: [
          section(
            `Quota of *${escapeAndClip(result.project.name, 200)}* (\`${escapeMrkdwn(result.project.id)}\`)`,
          ),
          section(['```', ...quotaTableLines(result.rows, false), '```'].join('\n')),
          ...notesContext(result.notes),
        ],
      };
    case 'quota_confirm':
      return quotaConfirmReply(result);
    case 'project_protected':
      return {
        text: `:no_entry: The bot never changes the quota of ${escapeAndClip(result.project.name, 200)}: ${escapeMrkdwn(projectProtectionReason(result.reason))}.`,
      };
    case 'quota_applied':
      return {
        text: `:white_check_mark: Quota of ${escapeAndClip(result.project.name, 200)} set: ${escapeAndClip(quotaChangeText(result.values), 1500)}.${result.notes.length > 0 ? ` ${escapeAndClip(result.notes.map(noteText).join('; '), 500)}` : ''}`,
      };
  }
}

function notesContext(notes: readonly string[]): slack.KnownBlock[] {
  return notes.length === 0 ? [] : [context(escapeAndClip(notes.join('\n'), 1000))];
}

function quotaConfirmReply(result: Extract<CommandResult, { kind: 'quota_confirm' }>): SlackReply {
  const name = escapeAndClip(result.project.name, 200);
  return {
    text: `Change the quota of ${name}?`,
    blocks: [
      section(`Change the quota of *${name}*?`),
      section(['```', ...quotaTableLines(result.rows, true), '```'].join('\n')),
      ...notesContext(result.notes),
      {
        type: 'actions',
        block_id: 'kaizen_quota',
        elements: [
          {
            type: 'button',
            action_id: QUOTA_APPLY_ACTION,
            text: { type: 'plain_text', text: 'Apply' },
            style: 'primary',
            value: result.confirmation,
          },
          {
            type: 'button',
            action_id: QUOTA_CANCEL_ACTION,
            text: { type: 'plain_text', text: 'Cancel' },
            value: result.confirmation,
          },
        ],
      },
    ],
  };
}

/** The ack body: ephemeral, as every `/kaizen` reply is. */
export function ephemeral(reply: SlackReply): SlackReply & { response_type: 'ephemeral' } {
  return { response_type: 'ephemeral', ...reply };
}

export const WORKING_ON_IT: SlackReply = { text: ':hourglass_flowing_sand: Working on it…' };

function noUserText(query: string, suggestions: string[]): string {
  const base = `No user *${escapeAndClip(query, 200)}* in Keystone.`;
  if (suggestions.length === 0) return base;
  return `${base} Did you mean ${suggestions.map((s) => `\`${escapeAndClip(s, 200)}\``).join(', ')}?`;
}

function who(user: KeystoneUserSummary): string {
  const email = user.email && user.email !== user.name ? ` (${escapeAndClip(user.email, 200)})` : '';
  return `*${escapeAndClip(user.name, 200)}*${email}`;
}

function mailVerb(mail: MailOutcome): string {
  return mail === 'queued' ? 'is queued for' : 'was emailed to';
}

function mailSentence(mail: MailOutcome, to: string): string {
  return mail === 'queued'
    ? `An email to ${escapeMrkdwn(to)} is queued (the mail relay did not take it yet; it is retried)`
    : `An email went to ${escapeMrkdwn(to)}`;
}

function section(text: string): slack.KnownBlock {
  return { type: 'section', text: { type: 'mrkdwn', text: text.slice(0, SECTION_MAX) } };
}

function context(text: string): slack.KnownBlock {
  return { type: 'context', elements: [{ type: 'mrkdwn', text: text.slice(0, SECTION_MAX) }] };
}

function pendingReply(applicants: Extract<CommandResult, { kind: 'pending' }>['applicants']): SlackReply {
  if (applicants.length === 0) return { text: 'Nobody is waiting for a decision.' };
  const heading =
    applicants.length === 1
      ? '1 applicant is waiting for a decision, oldest first:'
      : `${applicants.length} applicants are waiting for a decision, oldest first:`;
  const listed = applicants.slice(0, MAX_LISTED);
  const blocks: slack.KnownBlock[] = [
    section(heading),
    ...listed.map((a) => {
      const card = a.cardLink ? ` · <${a.cardLink}|card>` : ' · no card yet';
      return section(
        `*${escapeAndClip(a.name || a.email, 150)}* (${escapeAndClip(a.email, 200)}) — ${escapeAndClip(a.project, 200)} — since ${slackDate(a.waitingSince)}${card}`,
      );
    }),
  ];
  if (applicants.length > listed.length)
    blocks.push(context(`…and ${applicants.length - listed.length} more.`));
  return { text: heading, blocks };
}

function statusReply(result: Extract<CommandResult, { kind: 'status' }>): SlackReply {
  const title = result.user ? who(result.user) : `*${escapeAndClip(result.query, 200)}*`;
  const blocks: slack.KnownBlock[] = [section(`Status of ${title}`)];
  const lines: string[] = [];
  if (result.applications.length === 0) lines.push('*Application:* none on record');
  for (const application of result.applications) lines.push(applicationLine(application));
  if (result.user) {
    lines.push(
      `*Keystone:* user ${escapeMrkdwn(result.user.id)}${result.user.enabled ? '' : ' (disabled)'}; ${projectsText(result.projects)}`,
    );
  } else {
    lines.push('*Keystone:* no user yet');
  }
  if (result.user?.federated) {
    lines.push(`*Federated:* ${escapeAndClip(federatedStatusText(result.user.federated), 1000)}`);
  }
  if (result.link) {
    const link = linkStatusText(result.link, slackDate);
    lines.push(`*Password link:* ${link}`);
  }
  const reminder = result.lastReminder;
  lines.push(
    `*Last reminder:* ${reminder ? `${slackDate(reminder.at)} (${plural(reminder.count, 'reminder', 'reminders')} sent)` : 'none'}`,
  );
  blocks.push(section(lines.join('\n')));
  if (result.audit.length > 0) {
    blocks.push(context(['*Recent audit*', ...result.audit.map(auditText)].join('\n')));
  }
  return { text: `Status of ${result.user?.name ?? result.query}`, blocks };
}

function applicationLine(a: ApplicationSummary): string {
  const decided = a.decidedBy
    ? `, by ${mention(a.decidedBy)}${a.decidedAt ? ` ${slackDate(a.decidedAt)}` : ''}`
    : '';
  const why = a.rejectReason ? ` — “${escapeAndClip(a.rejectReason, 300)}”` : '';
  const failure = a.failure ? ` — ${escapeAndClip(a.failure, 300)}` : '';
  const card = a.cardLink ? ` · <${a.cardLink}|card>` : '';
  return `*Application:* ${escapeMrkdwn(a.state)}${decided} — ${escapeAndClip(a.project, 200)}, applied ${slackDate(a.submittedAt)}${why}${failure}${card}`;
}

function projectsText(projects: ProjectMembership[]): string {
  if (projects.length === 0) return 'no projects';
  return projects
    .map((p) => `${escapeAndClip(p.projectName, 200)} (${p.roles.map(escapeMrkdwn).join(', ')})`)
    .join(', ');
}

function auditText(line: AuditLine): string {
  const detail = line.detail ? ` — ${escapeAndClip(line.detail, 300)}` : '';
  return `${slackDate(line.at)} ${mention(line.actor)} ${escapeMrkdwn(line.action)} ${escapeAndClip(line.subject, 200)}: ${escapeMrkdwn(line.outcome)}${detail}`;
}

function resetConfirmReply(result: Extract<CommandResult, { kind: 'reset_confirm' }>): SlackReply {
  return {
    text: `Reset the password of ${result.user.name}?`,
    blocks: [
      section(`Reset the password of ${who(result.user)}?`),
      section(`*Projects:* ${projectsText(result.projects)}`),
      context(
        `:warning: ${RESET_WARNING} ${pinNote(result.pinOnFile)}${result.user.enabled ? '' : ` ${DISABLED_WARNING}`}`,
      ),
      {
        type: 'actions',
        block_id: 'kaizen_reset',
        elements: [
          {
            type: 'button',
            action_id: RESET_CONFIRM_ACTION,
            text: { type: 'plain_text', text: 'Reset' },
            style: 'danger',
            value: result.confirmation,
          },
          {
            type: 'button',
            action_id: RESET_CANCEL_ACTION,
            text: { type: 'plain_text', text: 'Cancel' },
            value: result.confirmation,
          },
        ],
      },
    ],
  };
}

function syncText(counts: Extract<CommandResult, { kind: 'synced' }>['counts']): string {
  const problem = counts.problem ? `\n:warning: ${escapeAndClip(counts.problem, 1000)}` : '';
  return `${syncSentence(counts)}${problem}`;
}
