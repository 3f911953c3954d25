import {
  describeLifetime,
  type Email,
  escapeHtml,
  layout,
  link,
  oneLine,
  type Signposts,
  signpostLines,
} from './html.js';

export interface WelcomeEmailInput extends Signposts {
  /** The person's full name. */
  name: string;
  /** Their Keystone user name (their email address). */
  username: string;
  projectName: string;
  /** The one-time password link: a secret, only ever put in this email. */
  link: string;
  /** How long the link works, e.g. SETPASS_TOKEN_TTL in milliseconds. */
  lifetimeMs: number;
}

/** To a new user: their account exists, and the link sets its password with the PIN from the form. */
export function welcomeEmail(input: WelcomeEmailInput): Email {
  const lifetime = describeLifetime(input.lifetimeMs);
  const signposts = signpostLines(input);
  const subject = oneLine(`Your OpenStack account for ${input.projectName} is ready`);
  const text = [
    `Hello ${input.name},`,
    '',
    `Your OpenStack account has been created with access to the project "${input.projectName}".`,
    `Your user name is: ${input.username}`,
    '',
    'Choose your password here:',
    input.link,
    '',
    'You will need the 4-digit PIN you chose on the form.',
    `The link works once and expires in ${lifetime}.`,
    '',
    ...signposts.text,
  ].join('\n');
  const html = layout(subject, [
    `Hello ${escapeHtml(input.name)},`,
    `Your OpenStack account has been created with access to the project “${escapeHtml(input.projectName)}”.<br>Your user name is: <strong>${escapeHtml(input.username)}</strong>`,
    `${link(input.link, 'Choose your password')}`,
    `You will need the 4-digit PIN you chose on the form. The link works once and expires in ${escapeHtml(lifetime)}.`,
    ...signposts.html,
  ]);
  return { subject, text, html };
}
