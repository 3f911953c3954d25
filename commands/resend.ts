/**
 * `resend <email|username>`: emails the user's live password link again. When the link expired
 * (or was burned by wrong PINs), a new one is issued with the PIN on file. A user who already set a
 * password, or who never had a PIN on file, is not touched: issuing a link sets a new temporary
 * password, and that is what `reset` is for.
 */
import { KaizenError } from '../src/errors.js';
import type { UserQuery } from './args.js';
import type { CommandDeps, IssuedLink } from './deps.js';
import { emailLink, requireOutbox } from './link-mail.js';
import { requireLinks } from './reset.js';
import type { CommandResult, MailOutcome } from './results.js';
import { actorOf, type Caller } from './types.js';
import {
  closeMatches,
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
  const refusal = await protectionRefusal(deps, 'resend', user);
  if (refusal !== undefined) return refusal;
  const to = mailAddressOf(user);
  const actor = actorOf(caller);

  let link: IssuedLink | undefined = await links.current(user.id);
  const renewed = link === undefined;
  if (link === undefined) {
    const setAt = await links.passwordSetAt(user.id);
    if (setAt !== undefined) {
      throw new KaizenError(
        'conflict',
        `${user.name} set a password on ${setAt.toISOString().slice(0, 10)} and has no live link; use \`reset ${user.name}\` if they need a new one.`,
      );
    }
    const pinHash = await links.pinOnFile(user.id);
    if (pinHash === undefined) {
      throw new KaizenError(
        'conflict',
        `${user.name} has no PIN on file, so there is no link to send again; \`reset ${user.name}\` asks you for a PIN.`,
      );
    }
    link = await links.issue({ userId: user.id, username: user.name }, pinHash);
  }

  const window = Math.floor(Date.now() / RESEND_WINDOW_MS);
  const purpose = `resend:${user.id}:${link.expiresAt.getTime()}:${window}`;
  let mail: MailOutcome;
  try {
    mail = await emailLink(deps, { reason: renewed ? 'renewed' : 'resent', user, to, link, purpose });
  } catch (error) {
    await deps.audit.record({ actor, action: 'link_resent', subject: user.name, outcome: 'failed' });
    throw error;
  }
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
