/**
 * `reset <email|username>`: a new random temporary password in Keystone (the old password stops
 * working at once; with `provisioning`, the only thing that sets a password in Keystone), a new password link (the old link dies), an email to the address Keystone
 * holds, an audit line and a note to the admins. Asked in two steps: `previewReset` shows whom it
 * is about and waits for a confirmation; `confirmReset` (the Reset button) or `resetPassword` (the
 * CLI's `--yes`) does it. The user's PIN on file is kept; without one, the confirming admin gives one.
 */

import type { SetpassLink } from '../src/domain/setpass/issue.js';
import { isValidPin } from '../src/domain/setpass/pin.js';
import type { PasswordLinkIssuer } from '../src/domain/setpass/ports.js';
import { KaizenError } from '../src/platform/errors.js';
import type { UserQuery } from './args.js';
import { createConfirmation, takeConfirmation } from './confirmations.js';
import type { CommandDeps } from './deps.js';
import { emailLink, requireOutbox } from './link-mail.js';
import type { CommandResult, MailOutcome } from './results.js';
import { actorOf, type Caller, callerLabel } from './types.js';
import {
  closeMatches,
  federatedRefusal,
  findKeystoneUser,
  mailAddressOf,
  membershipsOf,
  nameOf,
  protectionRefusal,
  requireKeystone,
  summarizeUser,
} from './users.js';

export async function previewReset(
  deps: CommandDeps,
  caller: Caller,
  query: UserQuery,
): Promise<CommandResult> {
  const links = requireLinks(deps);
  requireOutbox(deps);
  const name = await nameOf(deps, query);
  const user = await findKeystoneUser(deps, name);
  if (user === undefined)
    return { kind: 'no_user', query: name, suggestions: await closeMatches(deps, name) };
  const refusal = (await protectionRefusal(deps, 'reset', user)) ?? federatedRefusal('reset', user);
  if (refusal !== undefined) return refusal;
  const [projects, pin] = await Promise.all([membershipsOf(deps, user.id), links.pinOnFile(user.id)]);
  const { confirmation, expiresAt } = await createConfirmation(deps.redis, {
    userId: user.id,
    username: user.name,
    requestedBy: actorOf(caller),
  });
  return {
    kind: 'reset_confirm',
    user: summarizeUser(user),
    projects,
    pinOnFile: pin !== undefined,
    confirmation,
    expiresAt: expiresAt.toISOString(),
  };
}

/** The Reset button: uses the confirmation up, then resets. `pin` is the admin's when none is on file. */
export async function confirmReset(
  deps: CommandDeps,
  caller: Caller,
  confirmation: string,
  pin?: string,
): Promise<CommandResult> {
  if (pin !== undefined && !isValidPin(pin)) throw badPin();
  const pending = await takeConfirmation(deps.redis, confirmation);
  if (pending === undefined) {
    throw new KaizenError(
      'conflict',
      'This reset was already done or its confirmation expired (it lasts 15 minutes): run `/kaizen reset` again.',
    );
  }
  return resetPassword(deps, caller, pending.userId, { pin, purpose: `reset:${confirmation}` });
}

export interface ResetOptions {
  /** A 4-digit PIN to keep on file, used only when the user has none. */
  pin?: string | undefined;
  /** Names this reset for the mail outbox, so one reset never emails twice. */
  purpose: string;
}

export async function resetPassword(
  deps: CommandDeps,
  caller: Caller,
  userId: string,
  options: ResetOptions,
): Promise<CommandResult> {
  return performReset(deps, { actor: actorOf(caller), by: callerLabel(caller) }, userId, options);
}

/**
 * A reset the user asked for on `/forgot` with their name and PIN: the same as an admin's, to the
 * address Keystone holds. A protected account, or one locked out by wrong PINs, is refused without
 * a word to anyone but the audit: the page already answered as it answers everyone.
 */
export async function selfServiceReset(
  deps: CommandDeps,
  userId: string,
  options: { purpose: string },
): Promise<CommandResult | { kind: 'locked_out' }> {
  const links = requireLinks(deps);
  const lockout = (await links.status(userId)).lockedOut;
  if (lockout !== undefined) {
    const user = await requireKeystone(deps).getUser(userId);
    await deps.audit.record({
      actor: `user:${userId}`,
      action: 'password_reset',
      subject: user.name,
      outcome: 'denied',
      detail: 'self-service reset refused: locked out by wrong PINs until an admin acts',
    });
    return { kind: 'locked_out' };
  }
  return performReset(deps, { actor: `user:${userId}`, selfService: true }, userId, options);
}

type Requester = { actor: string; by: string } | { actor: string; selfService: true };

async function performReset(
  deps: CommandDeps,
  requester: Requester,
  userId: string,
  options: ResetOptions,
): Promise<CommandResult> {
  const links = requireLinks(deps);
  requireOutbox(deps);
  const user = await requireKeystone(deps).getUser(userId);
  // Checked again here: a confirmation outlives the check made when it was asked for, and the CLI's
  // --yes comes straight here.
  const refusal = (await protectionRefusal(deps, 'reset', user)) ?? federatedRefusal('reset', user);
  if (refusal !== undefined) {
    await deps.audit.record({
      actor: requester.actor,
      action: 'password_reset',
      subject: user.name,
      outcome: 'denied',
      detail:
        refusal.kind === 'protected'
          ? `protected account: ${refusal.reason}`
          : refusal.kind === 'federated_user'
            ? 'federated account: no password here'
            : undefined,
    });
    return refusal;
  }
  const to = mailAddressOf(user);
  let pinHash = await links.pinOnFile(user.id);
  if (pinHash === undefined) {
    if (options.pin === undefined) return { kind: 'reset_needs_pin', user: summarizeUser(user) };
    if (!isValidPin(options.pin)) throw badPin();
    pinHash = links.hashPin(options.pin);
    await links.storePinHash(user.id, pinHash);
  }
  const { actor } = requester;
  let link: SetpassLink;
  try {
    link = await links.issue({ userId: user.id, username: user.name }, pinHash);
  } catch (error) {
    await deps.audit.record({ actor, action: 'password_reset', subject: user.name, outcome: 'failed' });
    throw error;
  }
  let mail: MailOutcome;
  try {
    mail = await emailLink(deps, { reason: 'reset', user, to, link, purpose: options.purpose });
  } catch (error) {
    await deps.audit.record({
      actor,
      action: 'password_reset',
      subject: user.name,
      outcome: 'failed',
      detail: 'temporary password and link set; the email could not be queued',
    });
    throw error;
  }
  await deps.audit.record({
    actor,
    action: 'password_reset',
    subject: user.name,
    outcome: 'ok',
    detail: `link until ${link.expiresAt.toISOString()}; email to ${to} ${mail}`,
  });
  await deps.surface.tellAdmins(
    'selfService' in requester
      ? `self-service reset by ${user.name}`
      : `password reset for ${user.name} by ${requester.by}`,
  );
  return {
    kind: 'reset_done',
    user: summarizeUser(user),
    emailedTo: to,
    mail,
    linkExpiresAt: link.expiresAt.toISOString(),
  };
}

export function requireLinks(deps: CommandDeps): PasswordLinkIssuer {
  if (deps.links === undefined) {
    throw new KaizenError(
      'config',
      'Password links are off here: set SETPASS_SECRET, PUBLIC_URL and OS_AUTH_URL.',
      { service: 'setpass' },
    );
  }
  return deps.links;
}

function badPin(): KaizenError {
  return new KaizenError('invalid', 'The PIN must be exactly 4 digits.');
}
