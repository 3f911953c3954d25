/**
 * Whether the person asking for a project's quota is a member of it in Keystone: only a member's
 * request may be approved. The answer is a code; views/ says it in words.
 */
import type { KeystoneClient } from '../../keystone/index.js';

export type Membership =
  | { kind: 'member'; projectId: string; userId: string }
  | { kind: 'not_member'; projectId: string; userId: string }
  | { kind: 'no_user'; projectId: string }
  | { kind: 'no_project' };

/** Looks the project up by name (any case) and the requester by user name or email, in `domainId`. */
export async function checkMembership(
  keystone: KeystoneClient,
  domainId: string,
  projectName: string,
  email: string,
): Promise<Membership> {
  const project = await keystone.findProjectByName(projectName, domainId);
  if (project === undefined) return { kind: 'no_project' };
  const user = await keystone.findUser(email, domainId);
  if (user === undefined) return { kind: 'no_user', projectId: project.id };
  // Effective: a role held through a group makes a member as much as a direct one.
  const assignments = await keystone.listRoleAssignments({
    userId: user.id,
    projectId: project.id,
    effective: true,
  });
  return { kind: assignments.length > 0 ? 'member' : 'not_member', projectId: project.id, userId: user.id };
}
