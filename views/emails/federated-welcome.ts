import { type Email, escapeHtml, layout, link, oneLine, signpostLines } from './html.js';

export interface FederatedWelcomeEmailInput {
  /** The person's full name. */
  name: string;
  /** Their Keystone user name (their email address). */
  username: string;
  projectName: string;
  /** The dashboard's login page (LOGIN_URL), where they choose their institution. */
  loginUrl?: string | undefined;
  gettingStartedUrl?: string | undefined;
  supportEmail?: string | undefined;
  /** The account is new to them (made now, or a local one turned federated). */
  newAccount: boolean;
}

/**
 * Federated mode: the account signs in through the person's institution, so there is no password
 * to choose and nothing secret in this email, no link token and no forgotten-password page.
 */
export function federatedWelcomeEmail(input: FederatedWelcomeEmailInput): Email {
  const { gettingStartedUrl, supportEmail } = input;
  const signposts = signpostLines({ gettingStartedUrl, supportEmail });
  const subject = oneLine(
    input.newAccount
      ? `Your OpenStack account for ${input.projectName} is ready`
      : `You have been added to the OpenStack project ${input.projectName}`,
  );
  const opening = (project: string) =>
    input.newAccount
      ? `Your OpenStack account has been created with access to the project ${project}.`
      : `Your OpenStack account now has access to the project ${project}.`;
  const signIn =
    'Sign in through your institution: choose it on the login page and use the same login as for its other services. There is no separate password for this cloud.';
  const where = input.loginUrl
    ? { text: `Sign in at ${input.loginUrl}`, html: `Sign in at ${link(input.loginUrl)}` }
    : undefined;
  const text = [
    `Hello ${input.name},`,
    '',
    opening(`"${input.projectName}"`),
    `Your account: ${input.username}`,
    '',
    signIn,
    ...(where ? [where.text] : []),
    '',
    ...signposts.text,
  ].join('\n');
  const html = layout(subject, [
    `Hello ${escapeHtml(input.name)},`,
    `${opening(`“${escapeHtml(input.projectName)}”`)}<br>Your account: <strong>${escapeHtml(input.username)}</strong>`,
    escapeHtml(signIn),
    ...(where ? [where.html] : []),
    ...signposts.html,
  ]);
  return { subject, text, html };
}
