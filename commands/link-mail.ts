/** Emailing a password link, shared by `reset` and `resend`. */

import type { SetpassLink } from '../src/domain/setpass/issue.js';
import type { User } from '../src/keystone/index.js';
import type { MailMessage } from '../src/mail/message.js';
import { KaizenError } from '../src/platform/errors.js';
import { type LinkReason, passwordLinkEmail } from '../views/emails/password-link.js';
import type { CommandDeps, Outbox } from './deps.js';
import type { MailOutcome } from './results.js';

export interface LinkMail {
  reason: LinkReason;
  user: User;
  to: string;
  link: SetpassLink;
  /** Names this email for the outbox: the same purpose twice sends once. */
  purpose: string;
}

export function requireOutbox(deps: CommandDeps): Outbox {
  if (deps.outbox === undefined) {
    throw new KaizenError('config', 'Mail is off here: set SMTP_URL and MAIL_FROM.', { service: 'smtp' });
  }
  return deps.outbox;
}

/**
 * Queues the email (the outbox sends it at once when the relay answers). When even queueing fails
 * the link exists but nobody knows it, so the error says how to get a new email out.
 */
export async function emailLink(deps: CommandDeps, mail: LinkMail): Promise<MailOutcome> {
  const outbox = requireOutbox(deps);
  const message: MailMessage = {
    to: mail.to,
    ...passwordLinkEmail(mail.reason, {
      username: mail.user.name,
      name: mail.user.description,
      link: mail.link.url,
      expiresAt: mail.link.expiresAt,
      supportEmail: deps.mail.supportEmail,
      loginUrl: deps.mail.loginUrl,
      gettingStartedUrl: deps.mail.gettingStartedUrl,
      forgotUrl: deps.mail.forgotUrl,
    }),
    ...(deps.mail.supportEmail ? { replyTo: deps.mail.supportEmail } : {}),
  };
  try {
    return (await outbox.enqueue(message, { idempotencyKey: mail.purpose })).status;
  } catch (error) {
    throw new KaizenError(
      'upstream',
      `A new link for ${mail.user.name} was issued, but its email could not be queued; try \`resend ${mail.user.name}\` in a moment.`,
      { cause: error },
    );
  }
}
