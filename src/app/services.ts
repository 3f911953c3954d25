/**
 * The long-lived clients one process shares, built once by the composition root (src/app/start.ts)
 * and handed to every feature. A client is undefined when its capability is switched off.
 */

import { approvalEmails } from '../../views/emails/approval.js';
import { quotaRequestEmails } from '../../views/emails/quota-request.js';
import { RecordChanges } from '../domain/applications/record-changes.js';
import { ApplicationStore } from '../domain/applications/store.js';
import { Audit } from '../domain/audit/audit.js';
import type { ApplicationsSheet } from '../domain/intake/applications-sheet.js';
import { markWelcomeDelivered, markWelcomeUndelivered } from '../domain/provision/delivery.js';
import type { ProvisionDeps } from '../domain/provision/deps.js';
import type { SetpassIssuer, SheetWriter } from '../domain/provision/ports.js';
import { DELIVERY_HOOK } from '../domain/provision/steps.js';
import { presetsFromConfig, type QuotaPresets } from '../domain/quotas/presets.js';
import type { Setpass } from '../domain/setpass/service.js';
import { keystoneFromConfig } from '../keystone/from-config.js';
import type { KeystoneClient, KeystoneObserver } from '../keystone/index.js';
import { outboxFromConfig } from '../mail/from-config.js';
import type { MailOutbox } from '../mail/outbox.js';
import type { Config } from '../platform/config/config.js';
import { InFlight } from '../platform/inflight.js';
import type { Logger } from '../platform/log.js';
import { Metrics } from '../platform/metrics.js';
import { createRedis, logRedisEvents, type Redis } from '../platform/redis.js';
import { RequestsFirst } from '../platform/requests-first.js';
import { Slots } from '../platform/slots.js';
import { VERSION } from '../platform/version.js';
import { provisionDepsFrom } from './wiring/provision.js';
import { type QuotaRequestParts, quotaRequestsFrom } from './wiring/quota-requests.js';
import { setpassFromConfig } from './wiring/setpass.js';
import { sheetsFromConfig } from './wiring/sheets.js';

export interface Services {
  readonly config: Config;
  readonly log: Logger;
  readonly redis: Redis;
  readonly audit: Audit;
  readonly metrics: Metrics;
  /** Background work (provisioning, mail) that shutdown waits for. */
  readonly inflight: InFlight;
  /** At most PROVISION_CONCURRENCY approvals provision at once; the rest queue in order. */
  readonly provisionSlots: Slots;
  /** Slack requests being answered: the work clicks start waits until none is (see RequestsFirst). */
  readonly slackRequests: RequestsFirst;
  /** Records changed by no click (a welcome email delivered or given up); startKaizen redraws their cards. */
  readonly recordChanges: RecordChanges;
  /** Admin client on the bot side; a credential-less one in the setpass role; undefined without OS_AUTH_URL. */
  readonly keystone: KeystoneClient | undefined;
  /** Application records: the applicant cards' state and provisioning checkpoints. */
  readonly applications: ApplicationStore;
  /** The mail outbox; undefined when mail is off. Its worker runs in the bot (startKaizen). */
  readonly mail: MailOutbox | undefined;
  /** Quota presets in effect: built in, overridden by QUOTA_PRESETS_FILE. */
  readonly quotaPresets: QuotaPresets;
  /** Writes approval outcomes to the sheet; undefined when Sheets is off. */
  readonly sheetWriter: SheetWriter | undefined;
  /** Issues password links for new users; undefined when setpass is off. */
  readonly setpassIssuer: SetpassIssuer | undefined;
  /**
   * Password links: the token store, the page's checks, and issuing (bot side). Undefined when
   * SETPASS_SECRET, PUBLIC_URL or OS_AUTH_URL is missing.
   */
  readonly setpass: Setpass | undefined;
  /**
   * What the approval workflow (src/domain/provision/approve.ts) runs with; undefined where this process
   * cannot provision. Built last in `createServices`, from the fields above.
   */
  readonly provision: ProvisionDeps | undefined;
  /** The applications sheet (the intake reads it, the workflow writes to it); undefined when Sheets is off. */
  readonly sheets: ApplicationsSheet | undefined;
  /** Quota change requests (SHEET_QUOTA_REQUESTS, `/kaizen quota`); undefined without Keystone. */
  readonly quotaRequests: QuotaRequestParts | undefined;
}

/**
 * The shared clients for these settings, and no listener: `startKaizen` builds on them, and the
 * CLI uses them as they are (closing them with `closeServices` so the process can exit).
 */
export function createServices(config: Config, log: Logger): Services {
  const redis = createRedis(config.redis);
  logRedisEvents(redis, log);
  const metrics = new Metrics({ role: config.role, version: VERSION });
  const applications = new ApplicationStore(redis);
  const sheets = sheetsFromConfig(config, log);
  const audit = new Audit(redis, config.audit.maxLength);
  const keystone = keystoneFromConfig(config, { observe: keystoneObserver(metrics, log) });
  const mail = config.role === 'setpass' ? undefined : outboxFromConfig(config, redis, log, {}, metrics);
  const setpass = setpassFromConfig(config, { redis, keystone, log, metrics });
  const shared = {
    config,
    log,
    redis,
    audit,
    metrics,
    inflight: new InFlight(log),
    provisionSlots: new Slots(config.provision.concurrency),
    slackRequests: new RequestsFirst(),
    recordChanges: new RecordChanges(log),
    keystone,
    applications,
    mail,
    quotaPresets: presetsFromConfig(config.quotas),
    sheets,
    sheetWriter: sheets,
    setpass,
    setpassIssuer: setpass,
  };
  const services: Services = {
    ...shared,
    provision: provisionDepsFrom(shared, approvalEmails),
    quotaRequests: quotaRequestsFrom(shared, quotaRequestEmails(config.mail.supportEmail)),
  };
  const { recordChanges } = services;
  services.mail?.onDelivered(DELIVERY_HOOK, async (applicantId) => {
    const changed = await markWelcomeDelivered({ applications, audit }, applicantId);
    if (changed) await recordChanges.publish(changed);
  });
  services.mail?.onGivenUp(DELIVERY_HOOK, async (applicantId, reason) => {
    const changed = await markWelcomeUndelivered({ applications, audit }, applicantId, reason);
    if (changed) await recordChanges.publish(changed);
  });
  return services;
}

/** Each Keystone request in the metrics and, at debug level, in the log (with the request id). */
function keystoneObserver(metrics: Metrics, log: Logger): KeystoneObserver {
  const keystoneLog = log.child({ component: 'keystone' });
  return (call) => {
    metrics.keystoneCall(call.operation, call.outcome, call.seconds);
    keystoneLog.debug(
      { operation: call.operation, status: call.status, ms: Math.round(call.seconds * 1000) },
      'keystone call',
    );
  };
}

/** Waits for background work (bounded), then closes the connections. */
export async function closeServices(services: Services, drainMs = 20_000): Promise<void> {
  await services.inflight.drain(drainMs);
  await services.mail?.close();
  await services.redis.quit().catch(() => services.redis.disconnect());
}
