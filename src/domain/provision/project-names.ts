/**
 * A new project asked for under a name an existing project has (any case) is never joined
 * silently: the card says so at intake, Approve stops before any grant, and an admin chooses to
 * join that project (by its id) or to rename the new one. Protected projects are never joined.
 */
import type { KeystoneClient } from '../../keystone/index.js';
import { type ProtectionPolicy, protectedProject } from '../accounts/protection.js';
import type { ProjectClash } from '../applications/store.js';

/** Keystone's column for project names is 64 characters. */
export const PROJECT_NAME_MAX = 64;

/**
 * The tag that marks a project as made by this application: a run resumed after a crash between
 * creating the project and saving its checkpoint knows the project is its own by this tag, never
 * by its name alone (someone else may have made one with that name meanwhile).
 */
export const createdByTag = (applicationId: string): string => `kaizen-application-${applicationId}`;

export function clashWith(project: { id: string; name: string }, policy: ProtectionPolicy): ProjectClash {
  const verdict = protectedProject(project, policy);
  return { id: project.id, name: project.name, ...(verdict.protected ? { protection: verdict.reason } : {}) };
}

/** The existing project a new one named `name` would collide with, if any. */
export async function findProjectClash(
  keystone: Pick<KeystoneClient, 'findProjectByName'>,
  policy: ProtectionPolicy,
  name: string,
): Promise<ProjectClash | undefined> {
  const found = await keystone.findProjectByName(name, policy.domainId);
  return found === undefined ? undefined : clashWith(found, policy);
}
