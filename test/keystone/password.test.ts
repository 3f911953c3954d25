import { describe, expect, it } from 'vitest';
import {
  adminClient,
  afterRevocationTick,
  anonymousClient,
  DOMAIN_ID,
  newMember,
  unique,
} from './fixtures.js';

const admin = adminClient();

describe('passwords', () => {
  it('lets a user change their own password with the current one, and only the new one works after', async () => {
    const { user, password: temporary } = await newMember(admin);
    const setpass = anonymousClient();
    const chosen = unique('Chosen!pass');

    await setpass.changeOwnPassword(user.id, temporary, chosen);
    await afterRevocationTick();

    const login = await setpass.passwordLogin({ userId: user.id, password: chosen, scope: 'unscoped' });
    expect(login.token).toMatch(/\S{20,}/);
    expect(login.info.user.id).toBe(user.id);
    expect(login.info.project).toBeUndefined();

    const refused = await setpass
      .passwordLogin({ userId: user.id, password: temporary })
      .catch((e: unknown) => e);
    expect(refused).toMatchObject({ kind: 'unauthorized' });
    expect(String((refused as Error).message)).not.toContain(temporary);
  });

  it('refuses a wrong current password as unauthorized, without echoing either password', async () => {
    const { user } = await newMember(admin);
    const wrong = unique('Wrong!pass');
    const next = unique('Next!pass');
    const error = await anonymousClient()
      .changeOwnPassword(user.id, wrong, next)
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ kind: 'unauthorized' });
    expect((error as Error).message).toMatch(/current password/);
    expect((error as Error).message).not.toContain(wrong);
    expect((error as Error).message).not.toContain(next);
  });

  it('lets an admin set a password, and logs in by user name and domain with a project scope', async () => {
    const { user, project } = await newMember(admin);
    const reset = unique('Reset!pass');
    await admin.setUserPassword(user.id, reset);
    await afterRevocationTick();
    const login = await admin.passwordLogin({
      username: user.name,
      userDomainId: DOMAIN_ID,
      password: reset,
      scope: { projectId: project.id },
      withCatalog: true,
    });
    expect(login.info.project?.id).toBe(project.id);
    expect(login.info.roles.map((r) => r.name)).toContain('member');
    expect(login.info.catalog.map((s) => s.type)).toContain('identity');
  });
});
