/**
 * Finding the person a command names: an email, a Keystone user name, or a Slack @mention (whose
 * email Slack knows). Keystone is the source of truth for users; close matches help an admin who
 * mistyped.
 */

import type { KeystoneClient, User } from '../src/keystone/index.js';
import { KaizenError } from '../src/platform/errors.js';
import type { UserQuery } from './args.js';
import type { CommandDeps } from './deps.js';
import type { CommandResult, FederatedSignIn, KeystoneUserSummary, ProjectMembership } from './results.js';
import type { CommandName } from './types.js';

const MAX_SUGGESTIONS = 5;
const MIN_PREFIX = 3;

/** The email or user name a query stands for; a mention is asked of Slack. */
export async function nameOf(deps: CommandDeps, query: UserQuery): Promise<string> {
  if (query.kind === 'name') return query.text;
  const email = await deps.surface.emailOfSlackUser(query.userId);
  if (email === undefined) {
    throw new KaizenError(
      'not_found',
      `Slack gives no email address for the user ${query.userId} (the bot needs the users:read.email scope); name the user by email instead.`,
      { service: 'slack' },
    );
  }
  return email.toLowerCase();
}

export function requireKeystone(deps: CommandDeps): KeystoneClient {
  if (deps.keystone === undefined) {
    throw new KaizenError(
      'config',
      'Keystone is not configured here: set OS_AUTH_URL and OS_USERNAME/OS_PASSWORD (or an application credential), or OS_CLOUD with clouds.yaml.',
      { service: 'keystone' },
    );
  }
  return deps.keystone;
}

export async function findKeystoneUser(deps: CommandDeps, name: string): Promise<User | undefined> {
  const keystone = requireKeystone(deps);
  const listed = await keystone.findUser(name, deps.domainId);
  // Keystone's user lists leave out the `federated` list, which decides what reset and resend may
  // do and what status shows; reading the user by id gives it.
  return listed === undefined ? undefined : keystone.getUser(listed.id);
}

/**
 * Users whose name or email shares the local part of `name`, or starts like it: one list request,
 * ranked so the closest come first.
 */
export async function closeMatches(deps: CommandDeps, name: string): Promise<string[]> {
  const users = await requireKeystone(deps).listUsers(deps.domainId);
  const wanted = name.trim().toLowerCase();
  const local = localPart(wanted);
  const prefix = local.slice(0, MIN_PREFIX);
  const ranked: { name: string; rank: number }[] = [];
  for (const user of users) {
    const candidates = [user.name, user.email]
      .filter((v): v is string => Boolean(v))
      .map((v) => v.toLowerCase());
    let rank = Number.POSITIVE_INFINITY;
    for (const candidate of candidates) {
      const theirs = localPart(candidate);
      if (theirs === local) rank = Math.min(rank, 0);
      else if (local.length >= MIN_PREFIX && (theirs.startsWith(local) || local.startsWith(theirs))) {
        rank = Math.min(rank, 1);
      } else if (prefix.length >= MIN_PREFIX && theirs.startsWith(prefix)) rank = Math.min(rank, 2);
    }
    if (rank !== Number.POSITIVE_INFINITY) ranked.push({ name: user.name, rank });
  }
  return ranked
    .sort((a, b) => a.rank - b.rank || a.name.localeCompare(b.name))
    .slice(0, MAX_SUGGESTIONS)
    .map((entry) => entry.name);
}

/** The projects a user has roles on, with the role names, sorted by project name. */
export async function membershipsOf(deps: CommandDeps, userId: string): Promise<ProjectMembership[]> {
  const assignments = await requireKeystone(deps).listRoleAssignments({ userId, effective: true });
  const byProject = new Map<string, ProjectMembership>();
  for (const assignment of assignments) {
    if (assignment.projectId === undefined) continue;
    const entry = byProject.get(assignment.projectId) ?? {
      projectId: assignment.projectId,
      projectName: assignment.projectName ?? assignment.projectId,
      roles: [],
    };
    const role = assignment.roleName ?? assignment.roleId;
    if (!entry.roles.includes(role)) entry.roles.push(role);
    byProject.set(assignment.projectId, entry);
  }
  return [...byProject.values()]
    .map((entry) => ({ ...entry, roles: entry.roles.sort() }))
    .sort((a, b) => a.projectName.localeCompare(b.projectName));
}

/**
 * The refusal for a protected account (see src/domain/accounts/protection.ts), or undefined when the
 * command may go on. Without Keystone nothing can be looked up, and the caller fails on that anyway.
 */
export async function protectionRefusal(
  deps: CommandDeps,
  command: CommandName,
  user: User,
): Promise<CommandResult | undefined> {
  if (deps.accounts === undefined) return undefined;
  const verdict = await deps.accounts.check(user);
  if (!verdict.protected) return undefined;
  deps.log.warn({ user: user.id, command, reason: verdict.reason }, 'refused to touch a protected account');
  return { kind: 'protected', command, user: summarizeUser(user), reason: verdict.reason };
}

export function summarizeUser(user: User): KeystoneUserSummary {
  const federated = federatedSignIns(user);
  return {
    id: user.id,
    name: user.name,
    email: user.email,
    enabled: user.enabled,
    ...(federated.length > 0 ? { federated } : {}),
  };
}

function federatedSignIns(user: User): FederatedSignIn[] {
  return (user.federated ?? []).flatMap((f) =>
    f.protocols.map((p) => ({ idpId: f.idpId, protocolId: p.protocolId, uniqueId: p.uniqueId })),
  );
}

/**
 * A federated user signs in through their institution and has no password here: a reset or a
 * resend would only make a password nobody should have. Undefined when the command may go on.
 */
export function federatedRefusal(command: CommandName, user: User): CommandResult | undefined {
  const federated = federatedSignIns(user);
  if (federated.length === 0) return undefined;
  return { kind: 'federated_user', command, user: { ...summarizeUser(user), federated } };
}

/** Where mail for this user goes: the email Keystone holds, or the user name when that is an address. */
export function mailAddressOf(user: User): string {
  const address = user.email ?? (user.name.includes('@') ? user.name : undefined);
  if (address === undefined) {
    throw new KaizenError(
      'invalid',
      `Keystone holds no email address for ${user.name}: set one (openstack user set --email … ${user.name}) and try again.`,
      { service: 'keystone' },
    );
  }
  return address;
}

function localPart(text: string): string {
  const at = text.indexOf('@');
  return at === -1 ? text : text.slice(0, at);
}
