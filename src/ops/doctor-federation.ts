/**
 * `kaizen doctor` in federated mode: the identity provider, its protocol and the protocol's mapping
 * exist in Keystone, and the mapping does not create projects or grant roles on its own (that
 * would bypass approval). A risky mapping is a warning, not a failure: the operator decides.
 */
import {
  FEDERATION_NEEDS_KEYSTONE,
  federationOkText,
  IDP_DISABLED,
  mappingFindingText,
} from '../../views/doctor-federation.js';
import { keystoneFromConfig } from '../keystone/from-config.js';
import { isWarning, mappingFindings } from '../keystone/mapping-risks.js';
import type { Config } from '../platform/config/config.js';
import { KaizenError } from '../platform/errors.js';

export interface FederationReport {
  status: 'ok' | 'warning' | 'off';
  detail: string;
}

/** Undefined outside federated mode; throws (a `failing` line) when something is missing. */
export async function checkFederation(
  config: Config,
  timeoutMs: number,
): Promise<FederationReport | undefined> {
  const { identity } = config;
  if (identity.mode !== 'federated') return undefined;
  const keystone = keystoneFromConfig(config, { timeoutMs });
  if (keystone === undefined || config.keystone.auth === undefined) {
    return { status: 'off', detail: FEDERATION_NEEDS_KEYSTONE };
  }
  const idp = await keystone.getIdentityProvider(identity.idpId);
  if (!idp.enabled) {
    throw new KaizenError('config', `The identity provider ${idp.id} ${IDP_DISABLED}`, {
      service: 'keystone',
    });
  }
  const protocol = await keystone.getFederationProtocol(identity.idpId, identity.protocol);
  const mapping = await keystone.getMapping(protocol.mappingId);
  const findings = mappingFindings(mapping.rules);
  const warnings = findings.filter(isWarning).map((f) => mappingFindingText(mapping.id, f));
  const facts = findings.filter((f) => !isWarning(f)).map((f) => mappingFindingText(mapping.id, f));
  const found = federationOkText(idp.id, protocol.id, mapping.id);
  return warnings.length > 0
    ? { status: 'warning', detail: [found, ...warnings].join('; ') }
    : { status: 'ok', detail: [found, ...facts].join('; ') };
}
