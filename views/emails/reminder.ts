/**
 * The reminder to a user who has not chosen a password yet: the link (a fresh one when the old
 * one expired; the PIN stays the same), how many reminders are left, and whom to ask.
 */
import { type Email, escapeHtml, layout, link, type Signposts, signpostLines } from './html.js';

export interface ReminderEmailInput extends Signposts {
  /** The person's full name; the user name is used when it is empty. */
  name: string;
  /** Keystone user name, which is what the user logs in with. */
  username: string;
  /** The one-time password link: a secret, only ever put in this email. */
  link: string;
  expiresAt: Date;
  /** 1 for the first reminder. */
  reminder: number;
  /** REMINDER_MAX. */
  max: number;
  /** The earlier link expired and this one replaces it. */
  fresh: boolean;
}

export function reminderEmail(input: ReminderEmailInput): Email {
  const greeting = `Hello ${input.name.trim() || input.username},`;
  const subject =
    input.reminder >= input.max
      ? 'Last reminder: choose your OpenStack password'
      : 'Reminder: choose your OpenStack password';
  const opening = input.fresh
    ? 'Your OpenStack account is waiting for its password. Your earlier link expired, so here is a new one.'
    : 'Your OpenStack account is waiting for its password: the link we sent you has not been used yet.';
  const until = `${input.expiresAt.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
  const last = input.reminder >= input.max ? ['This is the last reminder.'] : [];
  const signposts = signpostLines(input);
  const text = [
    greeting,
    '',
    opening,
    `Your user name is: ${input.username}`,
    '',
    'Choose your password here:',
    input.link,
    '',
    'You will need the same 4-digit PIN you chose on the form.',
    `The link works once, until ${until}.`,
    ...last,
    '',
    ...signposts.text,
  ].join('\n');
  const html = layout(subject, [
    escapeHtml(greeting),
    `${escapeHtml(opening)}<br>Your user name is: <strong>${escapeHtml(input.username)}</strong>`,
    link(input.link, 'Choose your password'),
    `You will need the same 4-digit PIN you chose on the form. The link works once, until ${escapeHtml(until)}.${last.length > 0 ? ` ${escapeHtml(last[0]!)}` : ''}`,
    ...signposts.html,
  ]);
  return { subject, text, html };
}
