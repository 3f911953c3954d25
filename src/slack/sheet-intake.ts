/**
 * The sheet intake with its Slack side: new applications become cards in the admin channel, bad
 * rows a notice there. `poll()` is what the schedule and `/kaizen sync` run.
 */
import type { WebClient } from '@slack/web-api';
import { recordSheetRead } from '../intake/last-read.js';
import { pollApplications, type SheetIntake } from '../intake/poll.js';
import type { ApplicationsSheet } from '../intake/sheets.js';
import { protectionPolicy } from '../keystone/protection.js';
import type { Metrics } from '../metrics.js';
import type { ApplicationStore } from '../provision/applications.js';
import { findProjectClash } from '../provision/project-names.js';
import type { QuotaRequestParts } from '../quotas/from-services.js';
import type { QuotaPresets } from '../quotas/presets.js';
import type { Services } from '../services.js';
import { PinHasher } from '../setpass/pin.js';
import { postApplicantCard, postIntakeNotice } from './applicant-cards.js';
import { slackQuotaIntake } from './quota-intake.js';

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
