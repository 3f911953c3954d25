import type { Metrics } from '../platform/metrics.js';
import { adminGate } from './admin-gate.js';
import type { App } from './app.js';
import type { SlackDeps } from './deps.js';
import { register as registerAppHome } from './listeners/app-home.js';
import { register as registerApplicantActions } from './listeners/applicant-actions.js';
import { register as registerKaizenCommand } from './listeners/kaizen-command.js';
import { register as registerKaizenQuota } from './listeners/kaizen-quota.js';
import { register as registerKaizenReset } from './listeners/kaizen-reset.js';
import { register as registerQuotaModal } from './listeners/quota-modal.js';
import { register as registerQuotaRequestActions } from './listeners/quota-request-actions.js';
import { register as registerRejectModal } from './listeners/reject-modal.js';
import { register as registerRenameModal } from './listeners/rename-modal.js';

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
      admins: countingRefusals(deps.admins, deps.metrics),
      adminChannel: deps.adminChannel,
      log: deps.log,
    }),
  );
  registerKaizenCommand(app, deps);
  registerAppHome(app, deps);
  registerKaizenReset(app, deps);
  registerKaizenQuota(app, deps);
  if (deps.applicant) {
    registerApplicantActions(app, deps.applicant);
    registerQuotaModal(app, deps.applicant);
    registerRejectModal(app, deps.applicant);
    registerRenameModal(app, deps.applicant);
  }
  if (deps.quotaRequests) registerQuotaRequestActions(app, deps.quotaRequests);
}
