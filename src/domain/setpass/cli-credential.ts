/**
 * Credentials for the command line, made right after a password is set through a link: the page
 * logs in as the user with the new password, scoped to a project of theirs, and creates an
 * application credential with the user's own token (no admin rights, so the `setpass` role can do
 * it). The secret goes back to the page once and nowhere else: not Redis, the log, the audit, or
 * the events stream. Anything Keystone refuses is an outcome, never an error: the password is set.
 */

import type { KeystoneClient } from '../../keystone/index.js';
import { isKaizenError } from '../../platform/errors.js';
import type { Logger } from '../../platform/log.js';

export interface CliCredentialSettings {
  /** OS_AUTH_URL, as the user's client will reach it. */
  authUrl: string;
  region: string | undefined;
  interface: 'public' | 'internal' | 'admin';
  /** KAIZEN_MEMBER_ROLE: the one role the credential carries. */
  memberRole: string;
  /** APP_CREDENTIAL_TTL; undefined: the credential does not expire. */
  ttlMs: number | undefined;
}

/** What clouds.yaml needs; `secret` exists only in this value, on its way to the page. */
export interface CliCredential {
  authUrl: string;
  region: string | undefined;
  interface: string;
  id: string;
  secret: string;
  projectName: string;
  expiresAt: Date | undefined;
}

export type CliCredentialOutcome =
  | { kind: 'created'; credential: CliCredential }
  /** The user has no project to scope to (a role removed since the link was sent). */
  | { kind: 'no_project' }
  /** Keystone refused (policy, limits, roles) or could not be asked. */
  | { kind: 'refused' };

/** A token issued in the same second as the password change may be refused (revocation is by the second). */
const REVOCATION_TICK_MS = 1_100;

/** `kaizen-cli-2026-12-06`: the day it was made, so users can tell their credentials apart. */
export function cliCredentialName(at: Date): string {
  return `kaizen-cli-${at.toISOString().slice(0, 10)}`;
}

export async function makeCliCredential(
  keystone: KeystoneClient,
  settings: CliCredentialSettings,
  user: { userId: string; password: string },
  log: Logger,
  now: Date = new Date(),
): Promise<CliCredentialOutcome> {
  try {
    return await createOnce(keystone, settings, user, now);
  } catch (error) {
    if (!isKaizenError(error, 'unauthorized')) return refused(log, user.userId, error);
  }
  await new Promise((resolve) => setTimeout(resolve, REVOCATION_TICK_MS));
  try {
    return await createOnce(keystone, settings, user, now);
  } catch (error) {
    return refused(log, user.userId, error);
  }
}

async function createOnce(
  keystone: KeystoneClient,
  settings: CliCredentialSettings,
  user: { userId: string; password: string },
  now: Date,
): Promise<CliCredentialOutcome> {
  const unscoped = await keystone.passwordLogin({
    userId: user.userId,
    password: user.password,
    scope: 'unscoped',
  });
  const projects = (await keystone.authProjects(unscoped.token)).filter((p) => p.enabled !== false);
  const project = projects[0];
  if (project === undefined) return { kind: 'no_project' };
  const scoped = await keystone.passwordLogin({
    userId: user.userId,
    password: user.password,
    scope: { projectId: project.id },
  });
  const expiresAt = settings.ttlMs === undefined ? undefined : new Date(now.getTime() + settings.ttlMs);
  const input = {
    description: 'Made on the password page for the command line',
    roles: [settings.memberRole],
    expiresAt,
  };
  const name = cliCredentialName(now);
  const created = await keystone
    .createApplicationCredential(scoped.token, user.userId, { ...input, name })
    .catch((error: unknown) => {
      // A second link redeemed the same day: the name is taken, so the new one gets a suffix.
      if (!isKaizenError(error, 'conflict')) throw error;
      const suffix = now.toISOString().slice(11, 19).replaceAll(':', '');
      return keystone.createApplicationCredential(scoped.token, user.userId, {
        ...input,
        name: `${name}-${suffix}`,
      });
    });
  return {
    kind: 'created',
    credential: {
      authUrl: settings.authUrl,
      region: settings.region,
      interface: settings.interface,
      id: created.id,
      secret: created.secret,
      projectName: project.name,
      expiresAt,
    },
  };
}

function refused(log: Logger, userId: string, error: unknown): CliCredentialOutcome {
  log.warn({ err: error, userId }, 'could not make an application credential for the command line');
  return { kind: 'refused' };
}
