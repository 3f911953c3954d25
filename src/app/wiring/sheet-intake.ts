/**
 * The sheet intake with its Slack side: new applications become cards in the admin channel, bad
 * rows a notice there. `poll()` is what the schedule and `/kaizen sync` run.
 */

import type { WebClient } from '@slack/web-api';
import { protectionPolicy } from '../../domain/accounts/protection.js';
import type { ApplicationStore } from '../../domain/applications/store.js';
import type { ApplicationsSheet } from '../../domain/intake/applications-sheet.js';
import { recordSheetRead } from '../../domain/intake/last-read.js';
import { pollApplications, type SheetIntake } from '../../domain/intake/poll.js';
import { findProjectClash } from '../../domain/provision/project-names.js';
import type { QuotaPresets } from '../../domain/quotas/presets.js';
import { PinHasher } from '../../domain/setpass/pin.js';
import type { Metrics } from '../../platform/metrics.js';
import { postApplicantCard, postIntakeNotice } from '../../slack/applicant-cards.js';
import type { Services } from '../services.js';
import { slackQuotaIntake } from './quota-intake.js';
import type { QuotaRequestParts } from './quota-requests.js';

export interface SheetIntakeParts {
  client: WebClient;
  adminChannel: string;
  sheet: ApplicationsSheet;
  store: ApplicationStore;
  presets: QuotaPresets;
  /** Quota change requests, read in the same poll; undefined without Keystone. */
  quotaRequests?: QuotaRequestParts | undefined;
}

export function slackSheetIntake(
  services: Pick<Services, 'config' | 'redis' | 'log'> &
    Partial<Pick<Services, 'keystone'>> & { metrics?: Metrics },
  parts: SheetIntakeParts,
): SheetIntake {
  const { config, redis, metrics, keystone } = services;
  const log = services.log.child({ component: 'intake' });
  const cards = {
    client: parts.client,
    store: parts.store,
    presets: parts.presets,
    defaultPreset: config.quotas.defaultPreset,
    log,
  };
  const pins = config.setpass.secret === undefined ? undefined : new PinHasher(config.setpass.secret);
  if (pins === undefined) {
    log.warn('intake: SETPASS_SECRET is not set, so PINs are not kept (the sheet keeps its PIN cells)');
  }
  const pollOnce = () =>
    pollApplications({
      sheet: parts.sheet,
      store: parts.store,
      redis,
      log,
      names: parts.sheet.options.names,
      applicationsTab: config.google.applicationsTab,
      clearPin: config.google.clearPin,
      pins,
      defaultQuota: { kind: 'preset', preset: config.quotas.defaultPreset },
      announce: (record) => postApplicantCard(cards, parts.adminChannel, record),
      notify: async (notice) => {
        await postIntakeNotice(parts.client, parts.adminChannel, notice);
        if (notice.kind === 'rows') metrics?.invalidRowsNoticed(notice.rows.length);
      },
      projectClash: keystone && ((name) => findProjectClash(keystone, protectionPolicy(config), name)),
    });
  const pollQuotas = slackQuotaIntake(services, parts, log);
  return {
    async poll() {
      const started = performance.now();
      const seconds = () => (performance.now() - started) / 1000;
      try {
        const counts = await pollOnce();
        const quotaRequests = await pollQuotas();
        if (quotaRequests !== undefined) counts.quotaRequests = quotaRequests;
        metrics?.sheetPoll('ok', seconds());
        await recordSheetRead(redis).catch((error: unknown) =>
          log.warn({ err: error }, 'intake: could not record the time of the sheet read'),
        );
        return counts;
      } catch (error) {
        metrics?.sheetPoll('failed', seconds());
        throw error;
      }
    },
  };
}

/**
 * The intake that posts through this Slack client, for the bot and for `kaizen sync` alike;
 * undefined without Slack, Sheets or an admin channel.
 */
export function sheetIntakeFor(services: Services, client: WebClient | undefined): SheetIntake | undefined {
  const { sheets, applications, quotaPresets, config } = services;
  const adminChannel = config.slack.adminChannel;
  if (!client || !sheets || !adminChannel) return undefined;
  return slackSheetIntake(services, {
    client,
    adminChannel,
    sheet: sheets,
    store: applications,
    presets: quotaPresets,
    quotaRequests: services.quotaRequests,
  });
}
