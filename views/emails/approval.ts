import type { ApprovalEmails } from '../../src/domain/provision/ports.js';
import { addedToProjectEmail } from './added-to-project.js';
import { federatedWelcomeEmail } from './federated-welcome.js';
import { rejectionEmail } from './rejection.js';
import { welcomeEmail } from './welcome.js';

/** The templates the approval workflow sends, for the composition root to hand in. */
export const approvalEmails: ApprovalEmails = {
  welcome: welcomeEmail,
  addedToProject: addedToProjectEmail,
  federatedWelcome: federatedWelcomeEmail,
  rejection: rejectionEmail,
};
