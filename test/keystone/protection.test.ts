/**
 * The protected-account and protected-project rule as a pure function: each reason, by name or id,
 * ignoring case. The end-to-end refusals (reset, resend, reminders, PUT /token) are tested with
 * their surfaces against the real Keystone.
 */
import { describe, expect, it } from 'vitest';
import {
  type ProtectionPolicy,
  protectedAccount,
  protectedProject,
} from '../../src/domain/accounts/protection.js';
import type { RoleAssignment } from '../../src/keystone/index.js';

const policy: ProtectionPolicy = {
  domainId: 'default',
  adminRole: 'admin',
  adminProject: 'admin',
  serviceProject: 'service',
  botUsername: 'kaizen-bot',
  users: ['ops@example.org', 'f00d'],
  projects: ['Infra', 'beef'],
};

const user = (name: string, overrides: { id?: string; domainId?: string } = {}) => ({
  id: overrides.id ?? `id-${name}`,
  name,
  domainId: overrides.domainId ?? 'default',
});

const assignment = (roleName: string, projectName?: string): RoleAssignment => ({
  roleId: `r-${roleName}`,
  roleName,
  userId: 'u',
  userName: undefined,
  groupId: undefined,
  projectId: projectName && `p-${projectName}`,
  projectName,
  domainId: projectName ? undefined : 'default',
  system: false,
  inherited: false,
});

const reasonOf = (
  name: string,
  assignments: RoleAssignment[] = [],
  extra: { id?: string; domainId?: string; bot?: string } = {},
) => {
  const verdict = protectedAccount({ user: user(name, extra), assignments, botUserId: extra.bot }, policy);
  return verdict.protected ? verdict.reason : 'open';
};

describe('protectedAccount', () => {
  it('names why an account is protected, the bot’s own first', () => {
    expect(reasonOf('Kaizen-Bot', [assignment('admin', 'admin')])).toBe('bot_account');
    expect(reasonOf('someone', [], { id: 'bot-id', bot: 'bot-id' })).toBe('bot_account');
    expect(reasonOf('OPS@example.org')).toBe('listed_user');
    expect(reasonOf('anyone', [], { id: 'f00d' })).toBe('listed_user');
    expect(reasonOf('ann@example.org', [], { domainId: 'ldap' })).toBe('other_domain');
    expect(reasonOf('ann@example.org', [assignment('Admin', 'some-project')])).toBe('admin_role');
    expect(reasonOf('ann@example.org', [assignment('admin')])).toBe('admin_role');
    expect(reasonOf('ann@example.org', [assignment('reader', 'ADMIN')])).toBe('admin_project');
    expect(reasonOf('ann@example.org', [assignment('member', 'Service')])).toBe('service_project');
  });

  it('leaves an ordinary member of an ordinary project open', () => {
    expect(reasonOf('ann@example.org', [assignment('member', 'lab'), assignment('reader', 'lab')])).toBe(
      'open',
    );
  });
});

describe('protectedProject', () => {
  it('protects the admin and service projects and the listed ones, by name in any case or by id', () => {
    const reason = (name: string, id = `id-${name}`) => {
      const verdict = protectedProject({ id, name }, policy);
      return verdict.protected ? verdict.reason : 'open';
    };
    expect(reason('ADMIN')).toBe('admin_project');
    expect(reason(' service ')).toBe('service_project');
    expect(reason('infra')).toBe('listed_project');
    expect(reason('anything', 'beef')).toBe('listed_project');
    expect(reason('lab')).toBe('open');
  });
});
