/**
 * The Slack listeners' deps, built once from the shared clients: each listener gets only what it
 * uses. Rejecting and choosing a quota work without Keystone; approving needs the whole workflow.
 */

import type { WebClient } from '@slack/web-api';
import type { SheetPoller } from '../../../commands/deps.js';
import { approvalEmails } from '../../../views/emails/approval.js';
import type { DecisionDeps } from '../../domain/provision/deps.js';
import { HealthCache } from '../../ops/overview.js';
import { Slots } from '../../platform/slots.js';
import type { AdminDirectory } from '../../slack/admins.js';
import type { CardDeps } from '../../slack/applicant-cards.js';
import type { ApplicantSlackDeps } from '../../slack/applicant-deps.js';
import { CardRedraws } from '../../slack/card-redraws.js';
import { slackSurface } from '../../slack/command-surface.js';
import type { SlackDeps } from '../../slack/deps.js';
import type { QuotaRequestSlackDeps } from '../../slack/listeners/quota-request-actions.js';
import type { Services } from '../services.js';
import { commandDeps } from './commands.js';

/**
 * The applicant card's deps, with the process's one redraw queue per card; undefined without
 * application records. Built once by the composition root: the listeners and the outbox's redraws
 * must share the queue.
 */
export function cardDepsFrom(
  client: WebClient,
  services: Pick<Services, 'config' | 'log' | 'applications' | 'quotaPresets' | 'slackRequests'>,
): CardDeps | undefined {
  const { config, log, applications, quotaPresets } = services;
  if (!applications || !quotaPresets) return undefined;
  const cards: CardDeps = {
    client,
    store: applications,
    presets: quotaPresets,
    defaultPreset: config.quotas.defaultPreset,
    log,
  };
  cards.redraws = new CardRedraws(cards, () => services.slackRequests.idle());
  return cards;
}

/** chat.update calls for clicks' first card redraws in flight at once (see ApplicantSlackDeps). */
const FIRST_REDRAWS_AT_ONCE = 4;

function applicantSlackDeps(
  services: Services,
  admins: ApplicantSlackDeps['admins'],
  cards: CardDeps | undefined,
): ApplicantSlackDeps | undefined {
  const { config, log, applications, quotaPresets } = services;
  if (!applications || !quotaPresets || !cards) return undefined;
  const decisions: DecisionDeps = services.provision ?? {
    config,
    log,
    audit: services.audit,
    applications,
    quotaPresets,
    mail: services.mail,
    emails: approvalEmails,
    sheet: services.sheetWriter,
    metrics: services.metrics,
  };
  return {
    admins,
    adminChannel: config.slack.adminChannel,
    cards,
    provision: services.provision,
    decisions,
    inflight: services.inflight,
    firstRedraws: new Slots(FIRST_REDRAWS_AT_ONCE),
    requestsFirst: services.slackRequests,
    log,
  };
}

export function slackDeps(
  client: WebClient,
  services: Services,
  admins: Pick<AdminDirectory, 'isAdmin'>,
  intake: SheetPoller | undefined,
  cards: CardDeps | undefined,
): SlackDeps {
  const { config, log, redis } = services;
  const adminChannel = config.slack.adminChannel;
  return {
    admins,
    adminChannel,
    log,
    metrics: services.metrics,
    inflight: services.inflight,
    redis,
    commands: (requestClient) =>
      commandDeps(services, slackSurface(requestClient, adminChannel, log), { sheet: intake }),
    home: {
      redis,
      store: services.applications,
      audit: services.audit,
      health: new HealthCache(config),
      links: services.setpass,
    },
    applicant: applicantSlackDeps(services, admins, cards),
    quotaRequests: quotaRequestSlackDeps(client, services, admins),
  };
}

function quotaRequestSlackDeps(
  client: WebClient,
  services: Services,
  admins: QuotaRequestSlackDeps['admins'],
): QuotaRequestSlackDeps | undefined {
  const parts = services.quotaRequests;
  if (parts === undefined) return undefined;
  return {
    admins,
    adminChannel: services.config.slack.adminChannel,
    cards: { client, store: parts.deps.store, keystone: parts.deps.keystone, log: services.log },
    workflow: parts.deps,
    inflight: services.inflight,
    log: services.log,
  };
}
