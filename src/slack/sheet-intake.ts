/**
 * The sheet intake with its Slack side: new applications become cards in the admin channel, bad
 * rows a notice there. `poll()` is what the schedule and `/kaizen sync` run.
 */
import type { WebClient } from '@slack/web-api';
import { pollApplications, type SheetIntake } from '../intake/poll.js';
import type { ApplicationsSheet } from '../intake/sheets.js';
import { protectionPolicy } from '../keystone/protection.js';
import type { ApplicationStore } from '../provision/applications.js';
import { findProjectClash } from '../provision/project-names.js';
import type { QuotaPresets } from '../quotas/presets.js';
import type { Services } from '../services.js';
import { postApplicantCard, postIntakeNotice } from './applicant-cards.js';

export interface SheetIntakeParts {
  client: WebClient;
  adminChannel: string;
  sheet: ApplicationsSheet;
  store: ApplicationStore;
  presets: QuotaPresets;
}

export function slackSheetIntake(
  services: Pick<Services, 'config' | 'redis' | 'log'> & Partial<Pick<Services, 'keystone'>>,
  parts: SheetIntakeParts,
): SheetIntake {
  const { config, redis, keystone } = services;
  const log = services.log.child({ component: 'intake' });
  const cards = {
    client: parts.client,
    store: parts.store,
    presets: parts.presets,
    defaultPreset: config.quotas.defaultPreset,
    log,
  };
  return {
    poll: () =>
      pollApplications({
        sheet: parts.sheet,
        store: parts.store,
        redis,
        log,
        names: parts.sheet.options.names,
        applicationsTab: config.google.applicationsTab,
        clearPin: config.google.clearPin,
        defaultQuota: { kind: 'preset', preset: config.quotas.defaultPreset },
        announce: (record) => postApplicantCard(cards, parts.adminChannel, record),
        notify: (notice) => postIntakeNotice(parts.client, parts.adminChannel, notice),
        projectClash: keystone && ((name) => findProjectClash(keystone, protectionPolicy(config), name)),
      }),
  };
}
