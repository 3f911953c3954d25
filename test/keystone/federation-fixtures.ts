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

/**
 * The same, read from a request header: uwsgi hands `OIDC-Email: …` to Keystone as HTTP_OIDC_EMAIL,
 * so a test can sign in through the identity provider with no OIDC module in front (`signIn`).
 */
export const HEADER_RULES = [
  { local: [{ user: { id: '{0}', name: '{0}', email: '{0}' } }], remote: [{ type: 'HTTP_OIDC_EMAIL' }] },
];

/**
 * A federated sign-in as Keystone takes it after the identity provider vouched for `email`: the
 * protocol must be `mapped` (an auth method Keystone loads by default) with HEADER_RULES.
 * Answers the unscoped token and the id of the user Keystone signed in.
 */
export async function signIn(
  federation: Pick<RegisteredFederation, 'idpId' | 'protocol'>,
  email: string,
): Promise<{ token: string; userId: string }> {
  const { authUrl } = inject('keystone');
  const response = await fetch(
    `${authUrl}/OS-FEDERATION/identity_providers/${federation.idpId}/protocols/${federation.protocol}/auth`,
    { method: 'POST', headers: { 'OIDC-Email': email } },
  );
  if (response.status !== 201)
    throw new Error(`federated sign-in: ${response.status} ${await response.text()}`);
  const body = (await response.json()) as { token: { user: { id: string } } };
  return { token: response.headers.get('x-subject-token') ?? '', userId: body.token.user.id };
}

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
