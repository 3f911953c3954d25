import { describe, expect, inject, it } from 'vitest';
import { v3Base } from '../../src/keystone/http.js';
import { adminClient, DOMAIN_ID } from './fixtures.js';

describe('the admin token', () => {
  it('is requested once and reused: one more HTTP request per call', async () => {
    const client = adminClient();
    const adminProject = await client.findProjectByName('admin', DOMAIN_ID);
    expect(client.stats).toEqual({ requests: 2, tokenRequests: 1 });

    for (let i = 0; i < 10; i += 1) await client.getProject(adminProject!.id);
    expect(client.stats).toEqual({ requests: 12, tokenRequests: 1 });
  });

  it('is shared by concurrent callers through one token request', async () => {
    const client = adminClient();
    await Promise.all(Array.from({ length: 5 }, () => client.findRole('member')));
    expect(client.stats.tokenRequests).toBe(1);
    expect(client.stats.requests).toBe(6);
  });

  it('comes with the catalog, where the identity endpoint is found by interface and region', async () => {
    const client = adminClient();
    const identity = await client.endpointFor(['identity']);
    expect(identity).toMatchObject({ type: 'identity', interface: 'public', region: 'RegionOne' });
    expect(await client.endpointFor(['identity'], { interface: 'admin' })).toMatchObject({
      interface: 'admin',
    });
    await expect(client.endpointFor(['compute', 'placement'])).rejects.toMatchObject({
      kind: 'not_found',
      message: expect.stringMatching(/no public endpoint for compute or placement.*offers: identity/),
    });
    expect(client.stats.tokenRequests).toBe(1);
  });

  it('is renewed once when Keystone refuses it (revoked), and the call succeeds', async () => {
    const client = adminClient();
    const token = await client.getAdminToken();
    const revoke = await fetch(`${v3Base(inject('keystone').authUrl)}/auth/tokens`, {
      method: 'DELETE',
      headers: { 'x-auth-token': token, 'x-subject-token': token },
    });
    expect(revoke.status).toBe(204);

    const before = client.stats.requests;
    expect((await client.findRole('admin'))?.name).toBe('admin');
    // The refused call, a new token, the call again.
    expect(client.stats.requests - before).toBe(3);
    expect(client.stats.tokenRequests).toBe(2);
    expect(await client.getAdminToken()).not.toBe(token);
  });

  it('reports wrong admin credentials as unauthorized, naming the user but not the password', async () => {
    const password = 'not-the-admin-password-4711';
    const client = adminClient({
      auth: {
        kind: 'password',
        username: 'admin',
        password,
        userDomainName: 'Default',
        projectName: 'admin',
        projectDomainName: 'Default',
      },
    });
    const error = await client.findRole('member').catch((e: unknown) => e);
    expect(error).toMatchObject({ kind: 'unauthorized' });
    expect((error as Error).message).toMatch(/refused the admin credentials \(user "admin"/);
    expect((error as Error).message).not.toContain(password);
  });
});
