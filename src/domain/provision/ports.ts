/**
 * What the approval workflow needs from features built elsewhere, as small interfaces, so the
 * workflow depends on no sheet or setpass implementation and runs with either switched off.
 */

import type { Applicant } from '../intake/applicant.js';
import type { PasswordLinkIssuer } from '../setpass/ports.js';

/**
 * Writes approval outcomes to the Google Sheet. Implemented by the intake side with the Sheets API.
 * A retried approval may call `appendAdmitted` again for a row whose first append was never
 * checkpointed (a crash between the two); implementations should skip a row that is already there
 * (same applicant cells and Keystone ids) rather than add it twice.
 */
export interface SheetWriter {
  /** Appends one row to the admitted tab (SHEET_ADMITTED). */
  appendAdmitted(row: string[]): Promise<void>;
  /** Writes `status` (e.g. `Approved`, `Rejected`) to the applicant's row in the applications tab. */
  writeStatus(applicant: Applicant, status: string): Promise<void>;
}

/** A one-time password link, as the setpass side issues it. The URL is a secret. */
export interface SetpassLink {
  url: string;
  expiresAt: Date;
}

/** Provisioning keeps the applicant's PIN on file and issues the first link (or kills one a federated account no longer needs). */
export type SetpassIssuer = Pick<PasswordLinkIssuer, 'storePinHash' | 'issue' | 'revoke'>;

/** An email as the templates in views/emails/ compose it. */
export interface ComposedEmail {
  subject: string;
  text: string;
  html: string;
}

/** Where to log in, where to read first, whom to ask: optional lines in every email. */
export interface EmailSignposts {
  loginUrl?: string | undefined;
  gettingStartedUrl?: string | undefined;
  supportEmail?: string | undefined;
  /** The password page's `/forgot`. */
  forgotUrl?: string | undefined;
}

/**
 * The emails of an approval decision. The templates live in views/emails/ (everything a person sees
 * is a view); the composition root hands them in, as it does for the jobs' reminder email.
 */
export interface ApprovalEmails {
  /** To a new user: the password link, its lifetime, and that the PIN from the form is needed. */
  welcome(
    input: EmailSignposts & {
      name: string;
      username: string;
      projectName: string;
      link: string;
      lifetimeMs: number;
    },
  ): ComposedEmail;
  /**
   * Federated mode: the account signs in through the person's institution at LOGIN_URL; there is
   * no password here and the email carries no link token. `newAccount`: the account is new to them.
   */
  federatedWelcome(
    input: Omit<EmailSignposts, 'forgotUrl'> & {
      name: string;
      username: string;
      projectName: string;
      newAccount: boolean;
    },
  ): ComposedEmail;
  /** To someone who already had an account: the project they can now use. */
  addedToProject(
    input: EmailSignposts & { name: string; username: string; projectName: string },
  ): ComposedEmail;
  /** To a rejected applicant, with the admin's reason. */
  rejection(input: { name: string; reason: string; supportEmail?: string | undefined }): ComposedEmail;
}
