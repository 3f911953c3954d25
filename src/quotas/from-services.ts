/**
 * The quota request workflow's parts from the shared services: undefined without Keystone (nothing
 * to read or set quotas with) or in the setpass role.
 */
import { QuotaRequestsSheet } from '../intake/quota-sheet.js';
import { protectionPolicy } from '../keystone/protection.js';
import type { Services } from '../services.js';
import { QuotaRequestStore } from './request-store.js';
import type { QuotaRequestDeps, QuotaRequestEmails } from './request-workflow.js';

export interface QuotaRequestParts {
  deps: QuotaRequestDeps;
  /** The SHEET_QUOTA_REQUESTS tab; undefined when Sheets is off. */
  sheet: QuotaRequestsSheet | undefined;
}

export function quotaRequestsFrom(
  services: Pick<Services, 'config' | 'log' | 'redis' | 'audit' | 'keystone' | 'mail' | 'sheets'>,
  emails: QuotaRequestEmails,
): QuotaRequestParts | undefined {
  const { config, keystone, sheets } = services;
  if (config.role === 'setpass' || keystone === undefined) return undefined;
  const sheet =
    sheets === undefined
      ? undefined
      : new QuotaRequestsSheet(sheets.client, config.google.quotaRequestsTab, sheets.options.names);
  return {
    sheet,
    deps: {
      store: new QuotaRequestStore(services.redis),
      keystone,
      domainId: config.keystone.domain,
      protection: protectionPolicy(config),
      audit: services.audit,
      redis: services.redis,
      mail: services.mail,
      sheet,
      emails,
      log: services.log.child({ component: 'quota-requests' }),
    },
  };
}
