/**
 * `resend <email|username>`: emails the user's live password link again. When the link expired
 * (or was burned by wrong PINs), a new one is issued with the PIN on file, carrying the temporary
 * password Keystone already has: a resend never sets a password, that is what `reset` is for. A
 * user who already set a password, or has no PIN or temporary password on file, is not touched.
 */

import type { ResentLink } from '../src/domain/setpass/issue.js';
import { KaizenError } from '../src/platform/errors.js';
import type { UserQuery } from './args.js';
import type { CommandDeps } from './deps.js';
import { emailLink, requireOutbox } from './link-mail.js';
import { requireLinks } from './reset.js';
import type { CommandResult, MailOutcome } from './results.js';
import { actorOf, type Caller } from './types.js';
import {
  closeMatches,
  federatedRefusal,
  findKeystoneUser,
  mailAddressOf,
  nameOf,
  protectionRefusal,
  summarizeUser,
} from './users.js';

/** The same resend asked twice within this window (two clicks, a retried command) emails once. */
const RESEND_WINDOW_MS = 60_000;

export async function resend(deps: CommandDeps, caller: Caller, query: UserQuery): Promise<CommandResult> {
  const links = requireLinks(deps);
  requireOutbox(deps);
  const name = await nameOf(deps, query);
  const user = await findKeystoneUser(deps, name);
  if (user === undefined)
    return { kind: 'no_user', query: name, suggestions: await closeMatches(deps, name) };
  const refusal = (await protectionRefusal(deps, 'resend', user)) ?? federatedRefusal('resend', user);
  if (refusal !== undefined) return refusal;
  const to = mailAddressOf(user);
  const actor = actorOf(caller);

  let resent: ResentLink<MailOutcome>;
  try {
    resent = await links.resend({ userId: user.id, username: user.name }, {}, (link, fresh) => {
      const window = Math.floor(Date.now() / RESEND_WINDOW_MS);
      const purpose = `resend:${user.id}:${link.expiresAt.getTime()}:${window}`;
      return emailLink(deps, { reason: fresh ? 'renewed' : 'resent', user, to, link, purpose });
    });
  } catch (error) {
    await deps.audit.record({ actor, action: 'link_resent', subject: user.name, outcome: 'failed' });
    throw error;
  }
  if (resent.kind !== 'sent') throw notResent(user.name, resent);
  const { link, fresh: renewed, delivered: mail } = resent;

  await deps.audit.record({
    actor,
    action: 'link_resent',
    subject: user.name,
    outcome: 'ok',
    detail: `${renewed ? 'new link' : 'same link'} until ${link.expiresAt.toISOString()}; email to ${to} ${mail}`,
  });
  return {
    kind: 'resent',
    user: summarizeUser(user),
    emailedTo: to,
    mail,
    linkExpiresAt: link.expiresAt.toISOString(),
    renewed,
  };
}

function notResent(name: string, resent: Exclude<ResentLink<unknown>, { kind: 'sent' }>): KaizenError {
  switch (resent.kind) {
    case 'busy':
      return new KaizenError(
        'conflict',
        `${name} is setting their password, or a link is being issued to them, right now; nothing was sent: try again in a minute.`,
      );
    case 'no_pin':
      return new KaizenError(
        'conflict',
        `${name} has no PIN on file, so there is no link to send again; \`reset ${name}\` asks you for a PIN.`,
      );
    case 'no_temporary_password':
    case 'redeemed': {
      const at = resent.kind === 'redeemed' ? resent.at : resent.redeemedAt;
      if (at !== undefined) {
        return new KaizenError(
          'conflict',
          `${name} set a password on ${at.toISOString().slice(0, 10)} and has no live link; use \`reset ${name}\` if they need a new one.`,
        );
      }
      return new KaizenError(
        'conflict',
        `${name} has no live link, and the temporary password of the last one is no longer on file (it was changed, or has been gone too long); use \`reset ${name}\` to send a new one.`,
      );
    }
    case 'locked_out':
      return new KaizenError(
        'conflict',
        `${name} was locked out after ${resent.lockout.attempts} wrong PINs; use \`reset ${name}\` to send a new link.`,
      );
  }
}
