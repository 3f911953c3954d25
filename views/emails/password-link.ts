/**
 * The emails `/kaizen reset` and `/kaizen resend` send: a password link, why it came, and what the
 * user needs to use it (the PIN from their application).
 */
import { type Email, escapeHtml, layout, link, type Signposts, signpostLines } from './html.js';

export interface PasswordLinkEmailInput extends Signposts {
  /** Keystone user name, which is what the user logs in with. */
  username: string;
  /** The user's full name when Keystone has one (its description). */
  name: string | undefined;
  /** The one-time password link: a secret, only ever put in this email. */
  link: string;
  expiresAt: Date;
}

/** `reset`: an admin reset the password; `resent`: the same live link again; `renewed`: the old link expired. */
export type LinkReason = 'reset' | 'resent' | 'renewed';

const SUBJECTS: Record<LinkReason, string> = {
  reset: 'Your OpenStack password was reset: choose a new one',
  resent: 'Your link to choose your OpenStack password',
  renewed: 'A new link to choose your OpenStack password',
};

const OPENINGS: Record<LinkReason, string> = {
  reset: 'An administrator reset the password of your OpenStack account. Your old password no longer works.',
  resent: 'Here is your link to choose the password of your OpenStack account, once more.',
  renewed: 'Your earlier link to choose your password expired, so here is a new one.',
};

export function passwordLinkEmail(reason: LinkReason, input: PasswordLinkEmailInput): Email {
  const greeting = `Hello ${input.name?.trim() || input.username},`;
  const until = formatExpiry(input.expiresAt);
  const signposts = signpostLines(input);
  const subject = SUBJECTS[reason];
  const text = [
    greeting,
    '',
    OPENINGS[reason],
    `Your user name is: ${input.username}`,
    '',
    'Choose your password here:',
    input.link,
    '',
    'You will need the 4-digit PIN you chose on the form.',
    `The link works once, until ${until}.`,
    '',
    ...signposts.text,
  ].join('\n');
  const html = layout(subject, [
    escapeHtml(greeting),
    `${escapeHtml(OPENINGS[reason])}<br>Your user name is: <strong>${escapeHtml(input.username)}</strong>`,
    link(input.link, 'Choose your password'),
    `You will need the 4-digit PIN you chose on the form. The link works once, until ${escapeHtml(until)}.`,
    ...signposts.html,
  ]);
  return { subject, text, html };
}

function formatExpiry(at: Date): string {
  return `${at.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}
