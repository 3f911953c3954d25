/**
 * `kaizen` results as plain text for a terminal. `--json` prints the result itself instead, so
 * scripts never parse these lines.
 */

import type {
  ApplicationSummary,
  AuditLine,
  CommandResult,
  KeystoneUserSummary,
  MailOutcome,
  ProjectMembership,
} from '../../commands/results.js';
import { helpText } from '../help.js';
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

const COMMAND = 'kaizen';

export function textReply(result: CommandResult): string {
  switch (result.kind) {
    case 'help':
      return helpText(COMMAND).replace(/[*`]/g, '');
    case 'usage':
      return `usage: ${COMMAND} ${result.usage} (${result.problem})`;
    case 'denied':
      return `${COMMAND} ${result.command}: not allowed`;
    case 'protected':
      return protectedAccountText(`${COMMAND} ${result.command}`, result.user.name, result.reason);
    case 'federated_user':
      return federatedRefusalText(
        `${COMMAND} ${result.command}`,
        result.command,
        result.user.name,
        result.user.federated,
      );
    case 'no_user':
      return result.suggestions.length === 0
        ? `No user ${result.query} in Keystone.`
        : `No user ${result.query} in Keystone. Did you mean: ${result.suggestions.join(', ')}?`;
    case 'failed':
      return `${COMMAND} ${result.command}: ${result.message.replace(/`/g, '')}`;
    case 'pending':
      return pendingText(result.applicants);
    case 'status':
      return statusText(result);
    case 'reset_confirm':
      return [
        `Reset the password of ${who(result.user)}?`,
        `Projects: ${projectsText(result.projects)}`,
        RESET_WARNING,
        pinNote(result.pinOnFile),
        ...(result.user.enabled ? [] : [DISABLED_WARNING]),
      ].join('\n');
    case 'reset_needs_pin':
      return `${who(result.user)} has no PIN on file: give one (4 digits) on standard input, e.g. with --pin-stdin.`;
    case 'reset_done':
      return `Password reset for ${who(result.user)}: the old password no longer works. ${mailSentence(result.mail, result.emailedTo)} with a new link, valid until ${time(result.linkExpiresAt)}.`;
    case 'resent':
      return result.renewed
        ? `The link of ${who(result.user)} had expired: a new one (same PIN) ${mailVerb(result.mail)} ${result.emailedTo}, valid until ${time(result.linkExpiresAt)}.`
        : `The link of ${who(result.user)} ${mailVerb(result.mail)} ${result.emailedTo} again; it is valid until ${time(result.linkExpiresAt)}.`;
    case 'synced':
      return result.counts.problem
        ? `${syncSentence(result.counts)}\nProblem: ${result.counts.problem}`
        : syncSentence(result.counts);
    case 'audit':
      return result.entries.length === 0 ? 'No audit lines.' : result.entries.map(auditText).join('\n');
    case 'no_project':
      return `There is no project ${result.query} in Keystone.`;
    case 'quota':
      return [
        `Quota of ${result.project.name} (${result.project.id})`,
        ...quotaTableLines(result.rows, false),
        ...result.notes,
      ].join('\n');
    case 'quota_confirm':
      return [
        `Change the quota of ${result.project.name} (${result.project.id})?`,
        ...quotaTableLines(result.rows, true),
        ...result.notes,
      ].join('\n');
    case 'project_protected':
      return `The bot never changes the quota of ${result.project.name}: ${projectProtectionReason(result.reason)}.`;
    case 'quota_applied':
      return `Quota of ${result.project.name} set: ${quotaChangeText(result.values)}.${result.notes.length > 0 ? ` ${result.notes.map(noteText).join('; ')}` : ''}`;
  }
}

/** `2026-11-28 23:18 UTC`: short, sortable, and the same on every operator's machine. */
export function time(iso: string): string {
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) return iso;
  return `${new Date(ms).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

function who(user: KeystoneUserSummary): string {
  return user.email && user.email !== user.name ? `${user.name} (${user.email})` : user.name;
}

function mailVerb(mail: MailOutcome): string {
  return mail === 'queued' ? 'is queued for' : 'was emailed to';
}

function mailSentence(mail: MailOutcome, to: string): string {
  return mail === 'queued'
    ? `An email to ${to} is queued (the mail relay did not take it yet; it is retried)`
    : `An email went to ${to}`;
}

function pendingText(applicants: Extract<CommandResult, { kind: 'pending' }>['applicants']): string {
  if (applicants.length === 0) return 'Nobody is waiting for a decision.';
  return applicants
    .map((a) =>
      [
        time(a.waitingSince),
        a.name || a.email,
        `<${a.email}>`,
        `project: ${a.project}`,
        a.cardLink ?? 'no card yet',
      ].join('  '),
    )
    .join('\n');
}

function statusText(result: Extract<CommandResult, { kind: 'status' }>): string {
  const lines = [`Status of ${result.user ? who(result.user) : result.query}`];
  if (result.applications.length === 0) lines.push('  application:    none on record');
  for (const application of result.applications)
    lines.push(`  application:    ${applicationText(application)}`);
  lines.push(
    result.user
      ? `  keystone:       user ${result.user.id}${result.user.enabled ? '' : ' (disabled)'}; ${projectsText(result.projects)}`
      : '  keystone:       no user yet',
  );
  if (result.user?.federated) lines.push(`  federated:      ${federatedStatusText(result.user.federated)}`);
  if (result.link) {
    const link = linkStatusText(result.link, time);
    lines.push(`  password link:  ${link}`);
  }
  const reminder = result.lastReminder;
  lines.push(
    `  last reminder:  ${reminder ? `${time(reminder.at)} (${plural(reminder.count, 'reminder', 'reminders')} sent)` : 'none'}`,
  );
  if (result.audit.length > 0) {
    lines.push('  recent audit:');
    for (const line of result.audit) lines.push(`    ${auditText(line)}`);
  }
  return lines.join('\n');
}

function applicationText(a: ApplicationSummary): string {
  const parts = [a.state, `project ${a.project}`, `applied ${time(a.submittedAt)}`];
  if (a.decidedBy) parts.push(`by ${a.decidedBy}${a.decidedAt ? ` ${time(a.decidedAt)}` : ''}`);
  if (a.rejectReason) parts.push(`reason: ${a.rejectReason}`);
  if (a.failure) parts.push(a.failure);
  if (a.cardLink) parts.push(a.cardLink);
  return parts.join('; ');
}

function projectsText(projects: ProjectMembership[]): string {
  if (projects.length === 0) return 'no projects';
  return projects.map((p) => `${p.projectName} (${p.roles.join(', ')})`).join(', ');
}

function auditText(line: AuditLine): string {
  const detail = line.detail ? ` — ${line.detail}` : '';
  return `${time(line.at)}  ${line.actor}  ${line.action}  ${line.subject}  ${line.outcome}${detail}`;
}
