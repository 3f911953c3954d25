/**
 * The long-lived clients one process shares, built once by the composition root (src/app.ts)
 * and handed to every feature. A client is undefined when its capability is switched off.
 */

import { approvalEmails } from '../views/emails/approval.js';
import { quotaRequestEmails } from '../views/emails/quota-request.js';
import { Audit } from './audit.js';
import type { Config } from './config.js';
import { InFlight } from './inflight.js';
import { sheetsFromConfig } from './intake/from-config.js';
import type { SheetIntake } from './intake/poll.js';
import type { ApplicationsSheet } from './intake/sheets.js';
import { keystoneFromConfig } from './keystone/from-config.js';
import type { KeystoneClient, KeystoneObserver } from './keystone/index.js';
import type { Logger } from './log.js';
import { outboxFromConfig } from './mail/from-config.js';
import type { MailOutbox } from './mail/outbox.js';
import { Metrics } from './metrics.js';
import { ApplicationStore } from './provision/applications.js';
import { type ProvisionDeps, provisionDepsFrom } from './provision/deps.js';
import type { SetpassIssuer, SheetWriter } from './provision/ports.js';
import { RecordChanges } from './provision/record-changes.js';
import { DELIVERY_HOOK } from './provision/steps.js';
import { markWelcomeDelivered, markWelcomeUndelivered } from './provision/workflow.js';
import { type QuotaRequestParts, quotaRequestsFrom } from './quotas/from-services.js';
import { presetsFromConfig, type QuotaPresets } from './quotas/presets.js';
import { createRedis, logRedisEvents, type Redis } from './redis.js';
import { setpassFromConfig } from './setpass/from-config.js';
import type { Setpass } from './setpass/service.js';
import { Slots } from './slots.js';
import { VERSION } from './version.js';

export interface Services {
  config: Config;
  log: Logger;
  redis: Redis;
  audit: Audit;
  metrics: Metrics;
  /** Background work (provisioning, mail) that shutdown waits for. */
  inflight: InFlight;
  /** At most PROVISION_CONCURRENCY approvals provision at once; the rest queue in order. */
  provisionSlots: Slots;
  /** Records changed by no click (a welcome email delivered or given up); startKaizen redraws their cards. */
  recordChanges: RecordChanges;
  /** Admin client on the bot side; a credential-less one in the setpass role; undefined without OS_AUTH_URL. */
  keystone: KeystoneClient | undefined;
  /** Application records: the applicant cards' state and provisioning checkpoints. */
  applications?: ApplicationStore;
  /** The mail outbox; undefined when mail is off. Its worker runs in the bot (startKaizen). */
  mail?: MailOutbox;
  /** Quota presets in effect: built in, overridden by QUOTA_PRESETS_FILE. */
  quotaPresets?: QuotaPresets;
  /** Writes approval outcomes to the sheet; undefined when Sheets is off. */
  sheetWriter?: SheetWriter;
  /** Issues password links for new users; undefined when setpass is off. */
  setpassIssuer?: SetpassIssuer;
  /**
   * Password links: the token store, the page's checks, and issuing (bot side). Undefined when
   * SETPASS_SECRET, PUBLIC_URL or OS_AUTH_URL is missing.
   */
  setpass?: Setpass;
  /**
   * What the approval workflow (src/provision/workflow.ts) runs with; undefined where this process
   * cannot provision. Built last in `createServices`, from the fields above.
   */
  provision?: ProvisionDeps;
  /** The applications sheet (the intake reads it, the workflow writes to it); undefined when Sheets is off. */
  sheets?: ApplicationsSheet;
  /** Quota change requests (SHEET_QUOTA_REQUESTS, `/kaizen quota`); undefined without Keystone. */
  quotaRequests?: QuotaRequestParts;
  /** One look at the sheet, cards and notices posted to Slack; set by startKaizen when Slack and Sheets are on. */
  intake?: SheetIntake;
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
  const services: Services = {
    config,
    log,
    redis,
    audit: new Audit(redis, config.audit.maxLength),
    metrics,
    inflight: new InFlight(log),
    provisionSlots: new Slots(config.provision.concurrency),
    recordChanges: new RecordChanges(log),
    keystone: keystoneFromConfig(config, { observe: keystoneObserver(metrics, log) }),
    applications,
    mail: config.role === 'setpass' ? undefined : outboxFromConfig(config, redis, log, {}, metrics),
    quotaPresets: presetsFromConfig(config.quotas),
    sheets,
    sheetWriter: sheets,
  };
  services.quotaRequests = quotaRequestsFrom(services, quotaRequestEmails(config.mail.supportEmail));
  services.setpass = setpassFromConfig(config, services);
  services.setpassIssuer = services.setpass;
  services.provision = provisionDepsFrom(services, approvalEmails);
  const { audit, recordChanges } = services;
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
  await services.mail?.stop();
  await services.redis.quit().catch(() => services.redis.disconnect());
}
