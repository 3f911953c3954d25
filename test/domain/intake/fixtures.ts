/** Rows of an applications sheet as the MOC access form writes them, for intake tests. */
import { DEFAULT_HEADERS } from '../../../src/domain/intake/columns.js';

export const HEADER = [
  DEFAULT_HEADERS.timestamp,
  DEFAULT_HEADERS.email,
  DEFAULT_HEADERS.firstName,
  DEFAULT_HEADERS.lastName,
  DEFAULT_HEADERS.hasAccount,
  DEFAULT_HEADERS.organization,
  DEFAULT_HEADERS.role,
  DEFAULT_HEADERS.phone,
  DEFAULT_HEADERS.sponsor,
  DEFAULT_HEADERS.pin,
  DEFAULT_HEADERS.comment,
  DEFAULT_HEADERS.projectKind,
  DEFAULT_HEADERS.newProjectName,
  DEFAULT_HEADERS.newProjectDescription,
  DEFAULT_HEADERS.extraUsers,
  DEFAULT_HEADERS.existingProjectName,
  DEFAULT_HEADERS.contactName,
  DEFAULT_HEADERS.contactEmail,
];

export interface RowInput {
  timestamp?: string;
  email?: string;
  firstName?: string;
  lastName?: string;
  hasAccount?: string;
  organization?: string;
  role?: string;
  phone?: string;
  sponsor?: string;
  pin?: string;
  comment?: string;
  projectKind?: string;
  newProjectName?: string;
  newProjectDescription?: string;
  extraUsers?: string;
  existingProjectName?: string;
  contactName?: string;
  contactEmail?: string;
}

/** One row in HEADER's order; defaults make a valid new-project applicant. */
export function row(input: RowInput = {}): string[] {
  const v = {
    timestamp: '11/02/2026 10:00:00',
    email: 'ann@example.org',
    firstName: 'Ann',
    lastName: 'Lee',
    hasAccount: 'No',
    organization: 'Boston University',
    role: 'Student',
    phone: '+1 617 555 0100',
    sponsor: 'Prof. Smith',
    pin: '1234',
    comment: 'For my thesis.',
    projectKind: 'New project',
    newProjectName: 'ann-lab',
    newProjectDescription: 'Thesis experiments',
    extraUsers: '',
    existingProjectName: '',
    contactName: '',
    contactEmail: '',
    ...input,
  };
  return [
    v.timestamp,
    v.email,
    v.firstName,
    v.lastName,
    v.hasAccount,
    v.organization,
    v.role,
    v.phone,
    v.sponsor,
    v.pin,
    v.comment,
    v.projectKind,
    v.newProjectName,
    v.newProjectDescription,
    v.extraUsers,
    v.existingProjectName,
    v.contactName,
    v.contactEmail,
  ];
}
