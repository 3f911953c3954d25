import { randomBytes } from 'node:crypto';
import { inject } from 'vitest';
import { KeystoneClient, type KeystoneClientOptions } from '../../src/keystone/index.js';
import { keystoneAdmin } from '../support/provided.js';

export const DOMAIN_ID = 'default';

/** Names unique to this run, so reruns against a long-lived Keystone never collide. */
export const unique = (prefix: string): string => `${prefix}-${randomBytes(4).toString('hex')}`;

export function adminClient(overrides: Partial<KeystoneClientOptions> = {}): KeystoneClient {
  return keystoneAdmin(inject('keystone'), overrides);
}

/** A client holding no admin credentials, as the setpass role runs. */
export const anonymousClient = (): KeystoneClient =>
  new KeystoneClient({ authUrl: inject('keystone').authUrl });

/** Keystone revokes by the second: a token issued in the same second as a password change may be refused. */
export const afterRevocationTick = (): Promise<void> => new Promise((done) => setTimeout(done, 1100));

export async function newMember(client: KeystoneClient, password = unique('Temp!pass')) {
  const name = `${unique('member')}@example.org`;
  const project = await client.createProject({
    name: unique('Kaizen Test'),
    description: 'test',
    domainId: DOMAIN_ID,
  });
  const user = await client.createUser({
    name,
    email: name,
    description: 'Test Member',
    password,
    defaultProjectId: project.id,
    domainId: DOMAIN_ID,
  });
  const role = await client.findRole('member');
  if (role === undefined) throw new Error('Keystone has no member role: was it bootstrapped?');
  await client.assignProjectRole(project.id, user.id, role.id);
  return { project, user, password, role };
}
