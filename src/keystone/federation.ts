/**
 * Keystone's OS-FEDERATION objects the bot reads in federated mode: the identity provider, its
 * protocol and the mapping the protocol names. Read only; the operator registers them.
 */
import { z } from 'zod';

export const identityProviderBodySchema = z
  .object({
    identity_provider: z.object({ id: z.string(), enabled: z.boolean(), domain_id: z.string().nullish() }),
  })
  .transform((b) => ({
    id: b.identity_provider.id,
    enabled: b.identity_provider.enabled,
    domainId: b.identity_provider.domain_id ?? undefined,
  }));
export type IdentityProvider = z.output<typeof identityProviderBodySchema>;

export const federationProtocolBodySchema = z
  .object({ protocol: z.object({ id: z.string(), mapping_id: z.string() }) })
  .transform((b) => ({ id: b.protocol.id, mappingId: b.protocol.mapping_id }));
export type FederationProtocol = z.output<typeof federationProtocolBodySchema>;

/** A rule as Keystone stores it: what it maps to (`local`) when the assertion matches `remote`. */
const ruleSchema = z.object({
  local: z.array(z.record(z.string(), z.unknown())),
  remote: z.array(z.record(z.string(), z.unknown())),
});
export type MappingRule = z.output<typeof ruleSchema>;

export const mappingBodySchema = z
  .object({ mapping: z.object({ id: z.string(), rules: z.array(ruleSchema) }) })
  .transform((b) => ({ id: b.mapping.id, rules: b.mapping.rules }));
export type Mapping = z.output<typeof mappingBodySchema>;

/**
 * The unique id Keystone looks a federated user up by when they sign in: the mapped user's `id`
 * (or, without one, its `name`) URL-quoted as Python's `urllib.parse.quote` does (keystone.auth.
 * plugins.mapped): `ann@example.org` is `ann%40example.org`. A user made ahead of their first
 * sign-in must carry it in this form, or the sign-in makes a second, empty account.
 */
export function keystoneUniqueId(value: string): string {
  // quote() keeps letters, digits, `_.-~` and `/`; encodeURIComponent also keeps `!'()*`.
  return encodeURIComponent(value)
    .replace(/[!'()*]/g, (char) => `%${char.charCodeAt(0).toString(16).toUpperCase()}`)
    .replace(/%2F/g, '/');
}
