import type { Metrics } from '../metrics.js';
import type { Services } from '../services.js';
import { adminGate } from './admin-gate.js';
import type { AdminDirectory } from './admins.js';
import type { App } from './app.js';
import { applicantSlackDeps } from './applicant-deps.js';
import { register as registerAppHome } from './listeners/app-home.js';
import { register as registerApplicantActions } from './listeners/applicant-actions.js';
import { register as registerKaizenCommand } from './listeners/kaizen-command.js';
import { register as registerKaizenQuota } from './listeners/kaizen-quota.js';
import { register as registerKaizenReset } from './listeners/kaizen-reset.js';
import { register as registerQuotaModal } from './listeners/quota-modal.js';
import {
  quotaRequestSlackDeps,
  register as registerQuotaRequestActions,
} from './listeners/quota-request-actions.js';
import { register as registerRejectModal } from './listeners/reject-modal.js';
import { register as registerRenameModal } from './listeners/rename-modal.js';

export interface SlackDeps {
  services: Services;
  admins: Pick<AdminDirectory, 'isAdmin'>;
}

/** The admin check of the surfaces that refuse non-admins: each "no" is a refused request in the metrics. */
function countingRefusals(
  admins: SlackDeps['admins'],
  metrics: Pick<Metrics, 'refused'>,
): SlackDeps['admins'] {
  return {
    async isAdmin(userId) {
      const admin = await admins.isAdmin(userId);
      if (!admin) metrics.refused('non_admin');
      return admin;
    },
  };
}

/** Every Slack surface registers its listeners here, one module each. */
export function registerListeners(app: App, deps: SlackDeps): void {
  // First: every button, modal and command passes the admin check before any listener runs; each
  // "no" is a refused request in the metrics.
  app.use(
    adminGate({
      admins: countingRefusals(deps.admins, deps.services.metrics),
      adminChannel: deps.services.config.slack.adminChannel,
      log: deps.services.log,
    }),
  );
  registerKaizenCommand(app, deps);
  registerAppHome(app, deps);
  registerKaizenReset(app, deps);
  registerKaizenQuota(app, deps);
  const applicant = applicantSlackDeps(app.client, deps.services, deps.admins);
  if (applicant) {
    registerApplicantActions(app, applicant);
    registerQuotaModal(app, applicant);
    registerRejectModal(app, applicant);
    registerRenameModal(app, applicant);
  }
  const quotaRequests = quotaRequestSlackDeps(app.client, deps.services, deps.admins);
  if (quotaRequests) registerQuotaRequestActions(app, quotaRequests);
}
