/** Emails to the person who asked for a project's quota to change: applied, or not. */
import type { QuotaValues } from '../../src/domain/quotas/types.js';
import { quotaSummary } from '../applicant-card.js';
import { type Email, escapeHtml, layout, oneLine } from './html.js';

export interface QuotaAppliedEmailInput {
  project: string;
  values: QuotaValues;
  supportEmail?: string | undefined;
}

export function quotaAppliedEmail(input: QuotaAppliedEmailInput): Email {
  const subject = oneLine(`Quota of ${input.project} changed`);
  const summary = quotaSummary(input.values);
  const lines = [
    'Hello,',
    `Your request to change the quota of the OpenStack project ${input.project} was approved and is in effect now.`,
    ...(summary === '' ? [] : [`The project may now use ${summary}.`]),
    input.supportEmail ? `Questions: ${input.supportEmail}.` : 'Questions: reply to this email.',
  ];
  return { subject, text: lines.join('\n\n'), html: layout(subject, lines.map(escapeHtml)) };
}

export interface QuotaRejectedEmailInput {
  project: string;
  reason: string;
  supportEmail?: string | undefined;
}

export function quotaRejectedEmail(input: QuotaRejectedEmailInput): Email {
  const subject = oneLine(`Quota request for ${input.project}`);
  const lines = [
    'Hello,',
    `Your request to change the quota of the OpenStack project ${input.project} was not approved.`,
    ...(input.reason.trim() === '' ? [] : [`The reason given: ${input.reason.trim()}`]),
    input.supportEmail ? `Questions: ${input.supportEmail}.` : 'Questions: reply to this email.',
  ];
  return { subject, text: lines.join('\n\n'), html: layout(subject, lines.map(escapeHtml)) };
}

/** The quota request emails as the workflow takes them, with the support address filled in. */
export function quotaRequestEmails(supportEmail: string | undefined) {
  return {
    applied: (input: { project: string; values: QuotaValues }) =>
      quotaAppliedEmail({ ...input, supportEmail }),
    rejected: (input: { project: string; reason: string }) => quotaRejectedEmail({ ...input, supportEmail }),
  };
}
