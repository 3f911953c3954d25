/** The approval workflow's dependencies, built once from the shared clients. */
import type { ProvisionDeps } from '../../domain/provision/deps.js';
import { quotaSetter } from '../../domain/provision/deps.js';
import type { ApprovalEmails } from '../../domain/provision/ports.js';
import type { KeystoneClient } from '../../keystone/index.js';

/** The shared clients provisioning is built from (a part of `Services`, named here to keep the arrow one way). */
export type ProvisionSources = Pick<
  ProvisionDeps,
  'config' | 'log' | 'audit' | 'redis' | 'mail' | 'metrics'
> & {
  keystone: KeystoneClient | undefined;
  applications: ProvisionDeps['applications'];
  quotaPresets: ProvisionDeps['quotaPresets'];
  sheetWriter: ProvisionDeps['sheet'];
  setpassIssuer: ProvisionDeps['setpass'];
  provisionSlots: ProvisionDeps['slots'];
};

/**
 * The workflow's dependencies from the shared services, or undefined when this process cannot
 * provision (no admin Keystone credentials, or the setpass role).
 */
export function provisionDepsFrom(
  services: ProvisionSources,
  emails: ApprovalEmails,
): ProvisionDeps | undefined {
  const { config, keystone, applications, quotaPresets } = services;
  if (config.role === 'setpass' || config.keystone.auth === undefined) return undefined;
  if (keystone === undefined || applications === undefined || quotaPresets === undefined) return undefined;
  return {
    config,
    log: services.log,
    audit: services.audit,
    redis: services.redis,
    applications,
    keystone,
    quotas: quotaSetter(keystone),
    quotaPresets,
    mail: services.mail,
    emails,
    sheet: services.sheetWriter,
    setpass: services.setpassIssuer,
    slots: services.provisionSlots,
    metrics: services.metrics,
  };
}
