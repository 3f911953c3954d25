import { describe, expect, inject, it } from 'vitest';
import { adminClient, anonymousClient, DOMAIN_ID, newMember } from './fixtures.js';

const admin = adminClient();
const setpass = anonymousClient();
const keystone = inject('keystone');

const adminLogin = (scoped: boolean) =>
  setpass.passwordLogin({
    username: keystone.username,
    userDomainName: keystone.userDomainName,
    password: keystone.password,
    ...(scoped
      ? { scope: { projectName: keystone.projectName, domainName: keystone.projectDomainName } }
      : {}),
  });

describe('checkAdminCaller, with no admin credentials of its own', () => {
  it('accepts a token scoped to the admin project with the admin role', async () => {
    const { token, info } = await adminLogin(true);
    expect(info.project?.name).toBe('admin');
    expect(await setpass.checkAdminCaller(token)).toBe('admin');
  });

  it('accepts an unscoped token of an admin, by scoping it to the admin project', async () => {
    const { token, info } = await adminLogin(false);
    expect(info.project).toBeUndefined();
    const before = setpass.stats.requests;
    expect(await setpass.checkAdminCaller(token)).toBe('admin');
    expect(setpass.stats.requests - before).toBe(2);
  });

  it("rejects a member's project token and a member's unscoped token", async () => {
    const { user, password, project } = await newMember(admin);
    const scoped = await setpass.passwordLogin({
      userId: user.id,
      password,
      scope: { projectId: project.id },
    });
    const unscoped = await setpass.passwordLogin({ userId: user.id, password, scope: 'unscoped' });
    expect(unscoped.info.project).toBeUndefined();
    expect(await setpass.checkAdminCaller(scoped.token)).toBe('not_admin');
    expect(await setpass.checkAdminCaller(unscoped.token)).toBe('not_admin');
  });

  it('rejects a member of the admin project who lacks the admin role', async () => {
    const { user, password, role } = await newMember(admin);
    const adminProject = await admin.findProjectByName('admin', DOMAIN_ID);
    await admin.assignProjectRole(adminProject!.id, user.id, role.id);
    const { token } = await setpass.passwordLogin({
      userId: user.id,
      password,
      scope: { projectId: adminProject!.id },
    });
    expect(await setpass.checkAdminCaller(token)).toBe('not_admin');
  });

  it('rejects garbage, empty and malformed tokens', async () => {
    expect(await setpass.checkAdminCaller('garbage')).toBe('not_admin');
    expect(await setpass.checkAdminCaller('')).toBe('not_admin');
    expect(await setpass.checkAdminCaller('gAAAAA\r\nX-Injected: 1')).toBe('not_admin');
  });

  it('refuses admin operations for want of credentials, saying what to configure', async () => {
    const error = await setpass.getProject('anything').catch((e: unknown) => e);
    expect(error).toMatchObject({ kind: 'config' });
    expect((error as Error).message).toMatch(/OS_USERNAME/);
  });
});
