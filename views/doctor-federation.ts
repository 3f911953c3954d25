/** Words for what `kaizen doctor` found in federated mode (see src/keystone/mapping-risks.ts). */
import type { MappingFinding } from '../src/keystone/mapping-risks.js';

export function mappingFindingText(mappingId: string, finding: MappingFinding): string {
  const rule = `mapping ${mappingId}, rule ${finding.rule}`;
  switch (finding.code) {
    case 'creates_projects':
      return `${rule} creates projects on its own (${finding.projects.join(', ')}) and grants their roles at sign-in: anyone it matches gets a project without an approval. Remove "projects" from its local part`;
    case 'grants_groups':
      return `${rule} puts every user the identity provider vouches for into groups, with no remote condition (any_one_of, not_any_of, whitelist, blacklist): their roles come without an approval. Add a condition, or drop the groups`;
    case 'shadow_users':
      return `${rule} lets anyone the identity provider vouches for sign in: someone never approved gets an empty account with no role, so no access`;
  }
}

export function federationOkText(idpId: string, protocol: string, mappingId: string): string {
  return `identity provider ${idpId} (enabled), protocol ${protocol}, mapping ${mappingId}: found`;
}

export const IDP_DISABLED = 'is disabled in Keystone: nobody can sign in through it until it is enabled';

export const FEDERATION_NEEDS_KEYSTONE =
  'federated mode needs Keystone: set OS_AUTH_URL and the admin credentials';
