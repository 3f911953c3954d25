/**
 * What a federation mapping would do on its own, without an approval: read from its rules, as
 * Keystone's mapping engine applies them. Outcomes are codes; views/doctor-federation.ts words them.
 *
 * The decisions (README, "Federated mode"):
 * - `creates_projects`: a rule with `projects` in `local` makes those projects and grants their
 *   roles at sign-in: anyone it matches gets a project with no approval. A warning.
 * - `grants_groups`: a rule maps an ephemeral user into groups and nothing in its `remote` limits
 *   whom it matches (`any_one_of`, `not_any_of`, `whitelist`, `blacklist`): every person the
 *   identity provider vouches for gets the groups' roles with no approval. A warning.
 * - `shadow_users`: a rule maps an ephemeral user (the kind Keystone finds by unique id, which is
 *   how approved users are found) with no `remote` condition: someone never approved still gets a
 *   shadow user at their first sign-in, with no role and so no access. Worth knowing, not a warning.
 */
import type { MappingRule } from './federation.js';

export type MappingFinding =
  | { code: 'creates_projects'; rule: number; projects: string[] }
  | { code: 'grants_groups'; rule: number }
  | { code: 'shadow_users'; rule: number };

const CONDITIONS = ['any_one_of', 'not_any_of', 'whitelist', 'blacklist'];

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Whether anything in `remote` limits whom the rule matches, beyond requiring an attribute. */
function hasCondition(rule: MappingRule): boolean {
  return rule.remote.some((entry) => CONDITIONS.some((key) => key in entry));
}

function mappedUser(rule: MappingRule): Record<string, unknown> | undefined {
  for (const entry of rule.local) if (isObject(entry.user)) return entry.user;
  return undefined;
}

/** A user without `type` is ephemeral: Keystone's default. */
function isEphemeral(user: Record<string, unknown>): boolean {
  return user.type === undefined || user.type === 'ephemeral';
}

function givesGroups(rule: MappingRule): boolean {
  return rule.local.some((entry) => 'group' in entry || 'groups' in entry || 'group_ids' in entry);
}

function projectNames(rule: MappingRule): string[] {
  const names: string[] = [];
  for (const entry of rule.local) {
    if (!Array.isArray(entry.projects)) continue;
    for (const project of entry.projects) {
      names.push(isObject(project) && typeof project.name === 'string' ? project.name : '(unnamed)');
    }
  }
  return names;
}

export function mappingFindings(rules: readonly MappingRule[]): MappingFinding[] {
  const findings: MappingFinding[] = [];
  rules.forEach((rule, index) => {
    const number = index + 1;
    const projects = projectNames(rule);
    if (projects.length > 0) findings.push({ code: 'creates_projects', rule: number, projects });
    const user = mappedUser(rule);
    const ephemeral = user === undefined || isEphemeral(user);
    if (ephemeral && givesGroups(rule) && !hasCondition(rule))
      findings.push({ code: 'grants_groups', rule: number });
    if (user !== undefined && isEphemeral(user) && !hasCondition(rule)) {
      findings.push({ code: 'shadow_users', rule: number });
    }
  });
  return findings;
}

/** Findings that make `kaizen doctor` warn; the others are told as facts. */
export function isWarning(finding: MappingFinding): boolean {
  return finding.code !== 'shadow_users';
}
