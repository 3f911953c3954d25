import { type Email, escapeHtml, layout, oneLine, type Signposts, signpostLines } from './html.js';

export interface AddedToProjectEmailInput extends Signposts {
  name: string;
  username: string;
  projectName: string;
}

/** To someone who already had an account: they can now use the project, with the password they have. */
export function addedToProjectEmail(input: AddedToProjectEmailInput): Email {
  const signposts = signpostLines(input);
  const subject = oneLine(`You have been added to the OpenStack project ${input.projectName}`);
  const text = [
    `Hello ${input.name},`,
    '',
    `Your existing OpenStack account (${input.username}) now has access to the project "${input.projectName}".`,
    'Log in with the password you already use; nothing else changes.',
    '',
    ...signposts.text,
  ].join('\n');
  const html = layout(subject, [
    `Hello ${escapeHtml(input.name)},`,
    `Your existing OpenStack account (<strong>${escapeHtml(input.username)}</strong>) now has access to the project “${escapeHtml(input.projectName)}”.`,
    'Log in with the password you already use; nothing else changes.',
    ...signposts.html,
  ]);
  return { subject, text, html };
}
