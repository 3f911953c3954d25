/** What the Slack listeners work with, built once by the composition root (src/app/wiring/slack.ts). */

import type { WebClient } from '@slack/web-api';
import type { CommandDeps } from '../../commands/deps.js';
import type { ApplicationStore } from '../domain/applications/store.js';
import type { Audit } from '../domain/audit/audit.js';
import type { ReminderLinks } from '../domain/reminders/ports.js';
import type { HealthCache } from '../ops/overview.js';
import type { InFlight } from '../platform/inflight.js';
import type { Logger } from '../platform/log.js';
import type { Metrics } from '../platform/metrics.js';
import type { Redis } from '../platform/redis.js';
import type { AdminDirectory } from './admins.js';
import type { ApplicantSlackDeps } from './applicant-deps.js';
import type { QuotaRequestSlackDeps } from './listeners/quota-request-actions.js';

/** What the Home tab reads: the queue, the audit trail, unused links and the health checks. */
export interface HomeDeps {
  redis: Redis;
  store: ApplicationStore;
  audit: Audit;
  health: HealthCache;
  /** The setpass side, for the users who have not used their link; undefined when it is off. */
  links: ReminderLinks | undefined;
}

export interface SlackDeps {
  admins: Pick<AdminDirectory, 'isAdmin'>;
  adminChannel: string | undefined;
  log: Logger;
  metrics: Pick<Metrics, 'refused'>;
  /** Background work (a slow command, a reset, the Home tab) that shutdown waits for. */
  inflight: InFlight;
  /** The reset confirmations live here. */
  redis: Redis;
  /** The command core's deps for a request answered through this Web API client. */
  commands(client: WebClient): CommandDeps;
  home: HomeDeps;
  /** The applicant card's buttons and modals; undefined without application records. */
  applicant: ApplicantSlackDeps | undefined;
  /** The quota request card's buttons and modals; undefined without Keystone. */
  quotaRequests: QuotaRequestSlackDeps | undefined;
}
