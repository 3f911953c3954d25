/**
 * The one rule for what the bot must never touch on behalf of a Slack admin, a reminder or an API
 * caller: the cloud's operators and service accounts, and the projects they run the cloud from.
 * A refusal carries a reason code; views/protection.ts says it in words.
 *
 * Protected accounts: the bot's own account, holders of KAIZEN_ADMIN_ROLE (in any scope, also
 * through a group or an implied role), anyone with a role on the admin project or the service
 * project, users outside KAIZEN_DOMAIN, and the names or ids in KAIZEN_PROTECTED_USERS.
 * Protected projects: the admin project, the service project, and KAIZEN_PROTECTED_PROJECTS.
 */

import { sameName } from '../../keystone/names.js';
import type { RoleAssignment, User } from '../../keystone/schemas.js';
import type { Config } from '../../platform/config/config.js';

export type AccountProtection =
  | 'bot_account'
  | 'listed_user'
  | 'other_domain'
  | 'admin_role'
  | 'admin_project'
  | 'service_project';

export type ProjectProtection = 'admin_project' | 'service_project' | 'listed_project';

export type Verdict<Reason> = { protected: false } | { protected: true; reason: Reason };

export interface ProtectionPolicy {
  /** KAIZEN_DOMAIN: the only domain whose users the bot manages. */
  domainId: string;
  /** KAIZEN_ADMIN_ROLE. */
  adminRole: string;
  /** OS_PROJECT_NAME. */
  adminProject: string;
  /** KAIZEN_SERVICE_PROJECT. */
  serviceProject: string;
  /** OS_USERNAME, when the bot logs in with a password (an application credential names no user). */
  botUsername: string | undefined;
  /** KAIZEN_PROTECTED_USERS: names or ids. */
  users: readonly string[];
  /** KAIZEN_PROTECTED_PROJECTS: names or ids. */
  projects: readonly string[];
}

export function protectionPolicy(config: Config): ProtectionPolicy {
  const { keystone } = config;
  return {
    domainId: keystone.domain,
    adminRole: keystone.adminRole,
    adminProject: keystone.adminProjectName,
    serviceProject: keystone.serviceProject,
    botUsername: keystone.auth?.kind === 'password' ? keystone.auth.username : undefined,
    users: keystone.protectedUsers,
    projects: keystone.protectedProjects,
  };
}

/** What the account rule looks at: the user, their effective role assignments, and who the bot is. */
export interface AccountFacts {
  user: Pick<User, 'id' | 'name' | 'domainId'>;
  assignments: readonly RoleAssignment[];
  /** The user id of the bot's own token, when known. */
  botUserId: string | undefined;
}

const listed = (list: readonly string[], item: { id: string; name: string }): boolean =>
  list.some((entry) => entry === item.id || sameName(entry, item.name));

export function protectedAccount(facts: AccountFacts, policy: ProtectionPolicy): Verdict<AccountProtection> {
  const { user, assignments } = facts;
  const refuse = (reason: AccountProtection) => ({ protected: true, reason }) as const;
  if (user.id === facts.botUserId || (policy.botUsername && sameName(user.name, policy.botUsername))) {
    return refuse('bot_account');
  }
  if (listed(policy.users, user)) return refuse('listed_user');
  if (user.domainId !== policy.domainId) return refuse('other_domain');
  if (assignments.some((a) => a.roleName !== undefined && sameName(a.roleName, policy.adminRole))) {
    return refuse('admin_role');
  }
  const onProject = (name: string) =>
    assignments.some((a) => a.projectName !== undefined && sameName(a.projectName, name));
  if (onProject(policy.adminProject)) return refuse('admin_project');
  if (onProject(policy.serviceProject)) return refuse('service_project');
  return { protected: false };
}

export function protectedProject(
  project: { id: string; name: string },
  policy: ProtectionPolicy,
): Verdict<ProjectProtection> {
  const refuse = (reason: ProjectProtection) => ({ protected: true, reason }) as const;
  if (sameName(project.name, policy.adminProject)) return refuse('admin_project');
  if (sameName(project.name, policy.serviceProject)) return refuse('service_project');
  if (listed(policy.projects, project)) return refuse('listed_project');
  return { protected: false };
}

/** What reading an account's facts needs: the admin client, or a reader holding an admin caller's token. */
export interface AccountReader {
  getUser(userId: string): Promise<User>;
  /** Effective assignments (through groups and implied roles), with names. */
  listRoleAssignments(filter: { userId: string; effective: true }): Promise<RoleAssignment[]>;
  /** The user id behind the reader's own token; undefined when it has none of its own. */
  ownUserId(): Promise<string | undefined>;
}

/** Reads what the rule needs from Keystone and applies it. */
export class AccountGuard {
  constructor(
    private readonly reader: AccountReader,
    readonly policy: ProtectionPolicy,
  ) {}

  async check(user: string | Pick<User, 'id' | 'name' | 'domainId'>): Promise<Verdict<AccountProtection>> {
    const found = typeof user === 'string' ? await this.reader.getUser(user) : user;
    const [assignments, botUserId] = await Promise.all([
      this.reader.listRoleAssignments({ userId: found.id, effective: true }),
      this.reader.ownUserId(),
    ]);
    return protectedAccount({ user: found, assignments, botUserId }, this.policy);
  }
}
