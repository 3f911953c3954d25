/** An applicant as read from one row of the applications sheet, after validation. */
export type ProjectRequest =
  | { kind: 'new'; name: string; description: string }
  | { kind: 'existing'; name: string; contactName: string; contactEmail: string };

export interface Applicant {
  /** Stable key of the row (hash of Timestamp + Email), never the row number. */
  id: string;
  submittedAt: string;
  /** Lower-cased; also the Keystone user name. */
  email: string;
  firstName: string;
  lastName: string;
  hasAccount: boolean;
  organization: string;
  role: string;
  phone: string;
  sponsor: string;
  comment: string;
  project: ProjectRequest;
  /** Emails or user names to add to the project too. */
  extraUsers: string[];
  /** The Federated ID column (see KAIZEN_FEDERATED_ID_FROM), when the sheet has one and it is filled in. */
  federatedId?: string;
  /** The row's cells as they were, in sheet order, for the admitted tab. */
  row: string[];
}

export function fullName(applicant: Pick<Applicant, 'firstName' | 'lastName'>): string {
  return `${applicant.firstName} ${applicant.lastName}`.trim();
}
