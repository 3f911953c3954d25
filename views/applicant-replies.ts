/**
 * The short replies of the applicant card's buttons and modals: to an admin whose click came too
 * late, to someone who is not an admin, and when the application is gone.
 */
import type { ApplicationRecord } from '../src/domain/applications/store.js';

/** For a click or a submission on an application that is no longer in Redis (expired or removed). */
export const APPLICATION_GONE = 'This application is no longer on file.';

/** For a click or a submission on an applicant someone has decided already. */
export function alreadyDecidedText(record: Pick<ApplicationRecord, 'state' | 'decidedBy'>): string {
  const by = record.decidedBy ? ` by <@${record.decidedBy}>` : '';
  const what = record.state === 'rejected' ? 'rejected' : 'approved';
  return `This applicant was already ${what}${by}; the card now shows it.`;
}

export const ADMIN_CHECK_FAILED = 'Could not check whether you are an admin; try again in a moment.';

export function notAllowedText(adminChannel: string | undefined): string {
  return `You're not allowed to do that; ask an admin of ${adminChannel ? `<#${adminChannel}>` : 'the admin channel'}.`;
}
