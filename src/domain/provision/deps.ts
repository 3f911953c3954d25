/** What the approval workflow works with, handed in as one object by the composition root (or a test). */

import type { KeystoneClient } from '../../keystone/index.js';
import type { MailOutbox } from '../../mail/outbox.js';
import type { Config } from '../../platform/config/config.js';
import type { Logger } from '../../platform/log.js';
import type { Metrics } from '../../platform/metrics.js';
import type { Redis } from '../../platform/redis.js';
import type { Slots } from '../../platform/slots.js';
import type { ApplicationStore, ProvisionStep } from '../applications/store.js';
import type { Audit } from '../audit/audit.js';
import type { QuotaPresets } from '../quotas/presets.js';
import { type QuotaOutcome, setQuotas } from '../quotas/setter.js';
import type { QuotaValues } from '../quotas/types.js';
import type { ApprovalEmails, SetpassIssuer, SheetWriter } from './ports.js';

/** Sets a project's quotas in nova, cinder and neutron. */
export type QuotaSetter = (projectId: string, values: QuotaValues) => Promise<QuotaOutcome>;

export interface ProvisionHooks {
  /** Called once a step's checkpoint is saved; a test throws here to play a crash after that step. */
  afterStep?: (step: ProvisionStep) => void | Promise<void>;
}

export interface ProvisionDeps {
  config: Config;
  log: Logger;
  audit: Audit;
  /** For the per-applicant run lease. */
  redis: Redis;
  applications: ApplicationStore;
  /** The admin client. */
  keystone: KeystoneClient;
  quotas: QuotaSetter;
  quotaPresets: QuotaPresets;
  /** Undefined when mail is off: the email step is skipped with a note. */
  mail: Pick<MailOutbox, 'enqueue' | 'status'> | undefined;
  emails: ApprovalEmails;
  /** Undefined when Sheets is off: the sheet steps are skipped with a note. */
  sheet: SheetWriter | undefined;
  /** Undefined when setpass is off: a new user cannot be given a password link, so that step fails. */
  setpass: SetpassIssuer | undefined;
  hooks?: ProvisionHooks;
  /** Bounds how many approvals provision at once in this process. */
  slots?: Slots;
  /** Counts approvals, rejections and failed steps; absent in tests that do not look. */
  metrics?: Pick<Metrics, 'approval' | 'rejection' | 'stepFailed'>;
}

/** What deciding without provisioning needs: rejecting, choosing a quota. */
export type DecisionDeps = Pick<
  ProvisionDeps,
  'config' | 'log' | 'audit' | 'applications' | 'quotaPresets' | 'mail' | 'emails' | 'sheet' | 'metrics'
>;

/** The quota setter that goes through `keystone`'s catalog and admin token. */
export function quotaSetter(keystone: KeystoneClient): QuotaSetter {
  return (projectId, values) => setQuotas(keystone, projectId, values);
}
