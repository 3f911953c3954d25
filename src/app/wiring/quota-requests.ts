/**
 * The quota request workflow's parts from the shared services: undefined without Keystone (nothing
 * to read or set quotas with) or in the setpass role.
 */
import { protectionPolicy } from '../../domain/accounts/protection.js';
import type { Audit } from '../../domain/audit/audit.js';
import type { ApplicationsSheet } from '../../domain/intake/applications-sheet.js';
import { QuotaRequestsSheet } from '../../domain/intake/quota-sheet.js';
import { QuotaRequestStore } from '../../domain/quotas/request-store.js';
import type { QuotaRequestDeps, QuotaRequestEmails } from '../../domain/quotas/request-workflow.js';
import type { KeystoneClient } from '../../keystone/index.js';
import type { MailOutbox } from '../../mail/outbox.js';
import type { Config } from '../../platform/config/config.js';
import type { Logger } from '../../platform/log.js';
import type { Redis } from '../../platform/redis.js';

export interface QuotaRequestParts {
  deps: QuotaRequestDeps;
  /** The SHEET_QUOTA_REQUESTS tab; undefined when Sheets is off. */
  sheet: QuotaRequestsSheet | undefined;
}

export function quotaRequestsFrom(
  services: {
    config: Config;
    log: Logger;
    redis: Redis;
    audit: Audit;
    keystone: KeystoneClient | undefined;
    mail: MailOutbox | undefined;
    sheets: ApplicationsSheet | undefined;
  },
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
