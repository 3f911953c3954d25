/**
 * Federated (shadow) users through the client, against the real Keystone: created with the
 * `federated` attribute and no password, and read back with it.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { KeystoneClient } from '../../src/keystone/index.js';
import { adminClient, DOMAIN_ID, unique } from './fixtures.js';

describe('federated users', () => {
  let keystone: KeystoneClient;
  let adminToken: string;
  const idp = unique('kaizen-idp');
  const mapping = unique('kaizen-mapping');
  const federation = (path: string) => `${inject('keystone').authUrl}/OS-FEDERATION/${path}`;
  const idpUrl = () => federation(`identity_providers/${idp}`);
  const put = (url: string, body: unknown) =>
    fetch(url, {
      method: 'PUT',
      headers: { 'x-auth-token': adminToken, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });

  beforeAll(async () => {
    keystone = adminClient();
    const { username, password, projectName } = inject('keystone');
    adminToken = (await keystone.passwordLogin({ username, password, scope: { projectName } })).token;
    expect((await put(idpUrl(), { identity_provider: { enabled: true } })).status).toBe(201);
    // Maps a REMOTE_USER to a user by name: Keystone needs a protocol, and a protocol a mapping.
    const rules = [{ local: [{ user: { name: '{0}' } }], remote: [{ type: 'REMOTE_USER' }] }];
    expect((await put(federation(`mappings/${mapping}`), { mapping: { rules } })).status).toBe(201);
    const protocol = await put(`${idpUrl()}/protocols/openid`, { protocol: { mapping_id: mapping } });
    expect(protocol.status).toBe(201);
  });
  afterAll(async () => {
    await fetch(idpUrl(), { method: 'DELETE', headers: { 'x-auth-token': adminToken } });
    await fetch(federation(`mappings/${mapping}`), {
      method: 'DELETE',
      headers: { 'x-auth-token': adminToken },
    });
  });

  it('creates a user with the federated attribute and no password, and reads it back', async () => {
    const name = `${unique('fed')}@example.org`;
    const project = await keystone.createProject({
      name: unique('Kaizen Fed'),
      description: 'test',
      domainId: DOMAIN_ID,
    });
    const federated = [{ idpId: idp, protocols: [{ protocolId: 'openid', uniqueId: name }] }];
    const created = await keystone.createUser({
      name,
      email: name,
      description: 'Federated Member',
      federated,
      defaultProjectId: project.id,
      domainId: DOMAIN_ID,
    });
    expect(created.federated).toEqual(federated);
    expect((await keystone.getUser(created.id)).federated).toEqual(federated);
    // No password was set: none logs in.
    await expect(
      keystone.passwordLogin({ userId: created.id, password: '', scope: 'unscoped' }),
    ).rejects.toThrow();
  });

  it('a local user has no federated identity', async () => {
    const name = `${unique('local')}@example.org`;
    const project = await keystone.createProject({
      name: unique('Kaizen Local'),
      description: 'test',
      domainId: DOMAIN_ID,
    });
    const created = await keystone.createUser({
      name,
      email: name,
      description: 'Local Member',
      password: unique('Pass!'),
      defaultProjectId: project.id,
      domainId: DOMAIN_ID,
    });
    expect((await keystone.getUser(created.id)).federated).toBeUndefined();
  });
});
