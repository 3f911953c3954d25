import { type Email, escapeHtml, layout, link } from './html.js';

export interface RejectionEmailInput {
  name: string;
  /** The admin's reason, as typed; may be empty. */
  reason: string;
  supportEmail?: string | undefined;
}

/** To an applicant whose request was declined, with the admin's reason when one was given. */
export function rejectionEmail(input: RejectionEmailInput): Email {
  const subject = 'Your OpenStack access request';
  const reason = input.reason.trim();
  const contact = input.supportEmail
    ? `If you have questions, or your situation changes, write to ${input.supportEmail}.`
    : 'If you have questions, or your situation changes, reply to this email.';
  const text = [
    `Hello ${input.name},`,
    '',
    'Your request for access to OpenStack was not approved.',
    ...(reason ? ['', 'The reason given:', reason] : []),
    '',
    contact,
  ].join('\n');
  const html = layout(subject, [
    `Hello ${escapeHtml(input.name)},`,
    'Your request for access to OpenStack was not approved.',
    ...(reason ? [`The reason given:<br>${escapeHtml(reason).replace(/\r?\n/g, '<br>')}`] : []),
    input.supportEmail
      ? `If you have questions, or your situation changes, write to ${link(`mailto:${input.supportEmail}`, input.supportEmail)}.`
      : escapeHtml(contact),
  ]);
  return { subject, text, html };
}
