/**
 * An identity provider, a mapping and a protocol registered in the test Keystone, as an operator
 * would with `openstack identity provider create` and friends; removed again by `remove`.
 */
import { inject } from 'vitest';
import { adminClient, unique } from './fixtures.js';

/** Maps an OIDC email claim to an ephemeral user whose unique id is that email. */
export const EMAIL_RULES = [
  { local: [{ user: { id: '{0}', name: '{0}', email: '{0}' } }], remote: [{ type: 'OIDC-email' }] },
];

export interface RegisteredFederation {
  idpId: string;
  protocol: string;
  mappingId: string;
  /** Replaces the mapping's rules. */
  setRules(rules: unknown): Promise<void>;
  remove(): Promise<void>;
}

export async function registerFederation(
  rules: unknown = EMAIL_RULES,
  protocol = 'openid',
): Promise<RegisteredFederation> {
  const { authUrl, username, password, projectName } = inject('keystone');
  const client = adminClient();
  const token = (await client.passwordLogin({ username, password, scope: { projectName } })).token;
  const idpId = unique('kaizen-idp');
  const mappingId = unique('kaizen-mapping');
  const url = (path: string) => `${authUrl}/OS-FEDERATION/${path}`;
  const call = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(url(path), {
      method,
      headers: { 'x-auth-token': token, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${await response.text()}`);
  };
  await call('PUT', `identity_providers/${idpId}`, { identity_provider: { enabled: true } });
  await call('PUT', `mappings/${mappingId}`, { mapping: { rules } });
  await call('PUT', `identity_providers/${idpId}/protocols/${protocol}`, {
    protocol: { mapping_id: mappingId },
  });
  return {
    idpId,
    protocol,
    mappingId,
    setRules: (next) => call('PATCH', `mappings/${mappingId}`, { mapping: { rules: next } }),
    async remove() {
      await call('DELETE', `identity_providers/${idpId}`);
      await call('DELETE', `mappings/${mappingId}`);
    },
  };
}
