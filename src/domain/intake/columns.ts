/**
 * Columns of the applications sheet are found by their header text, never by position: people
 * reorder form questions and insert columns. Headers compare without case and without spaces, and
 * each one can be renamed with SHEET_HEADERS (`{"email": "E-mail address"}`).
 */
import { KaizenError } from '../../platform/errors.js';

export const SHEET_FIELDS = [
  'timestamp',
  'email',
  'firstName',
  'lastName',
  'hasAccount',
  'organization',
  'role',
  'phone',
  'sponsor',
  'pin',
  'comment',
  'projectKind',
  'newProjectName',
  'newProjectDescription',
  'extraUsers',
  'existingProjectName',
  'contactName',
  'contactEmail',
  'status',
  'federatedId',
] as const;
export type SheetField = (typeof SHEET_FIELDS)[number];

export const DEFAULT_HEADERS: Record<SheetField, string> = {
  timestamp: 'Timestamp',
  email: 'Email',
  firstName: 'First name',
  lastName: 'Last name',
  hasAccount: 'Have an account?',
  organization: 'Organization',
  role: 'Role',
  phone: 'Phone',
  sponsor: 'Sponsor',
  pin: 'PIN',
  comment: 'Comment',
  projectKind: 'New or existing project',
  newProjectName: 'New project name',
  newProjectDescription: 'New project description',
  extraUsers: 'Extra existing users',
  existingProjectName: 'Existing project name',
  contactName: 'Project contact name',
  contactEmail: 'Contact email',
  status: 'Status',
  /** Read only in federated mode with KAIZEN_FEDERATED_ID_FROM naming a column. */
  federatedId: 'Federated ID',
};

/**
 * Without these a row cannot become an applicant. Timestamp is here because, with Email, it is the
 * row's identity (see `rowKey`). The project needs one of two columns, checked separately.
 */
const REQUIRED: readonly SheetField[] = ['timestamp', 'email', 'firstName', 'lastName', 'pin'];
const PROJECT_NAMES: readonly SheetField[] = ['newProjectName', 'existingProjectName'];

export type HeaderNames = Record<SheetField, string>;
/** Field → 0-based column index, for the fields the sheet has. */
export type ColumnMap = Partial<Record<SheetField, number>>;

export type ColumnResult =
  | { ok: true; columns: ColumnMap; headers: string[] }
  | { ok: false; missing: string[] };

/** Lower case, no whitespace of any kind (non-breaking spaces included). */
export function normalizeHeader(text: string): string {
  return text.toLowerCase().replace(/[\s\u00a0\u2007\u202f]+/g, '');
}

const loose = (text: string) => text.toLowerCase().replace(/[^a-z0-9]/g, '');

/**
 * The header text of every field, from the defaults and SHEET_HEADERS. A SHEET_HEADERS key may be
 * the field name (`firstName`, `first_name`) or the default header (`First name`); an unknown key
 * is a configuration error, because a silently ignored rename would hide a column.
 */
export function headerNames(
  overrides: Record<string, string> = {},
  federatedIdFrom?: { key: string; header: string },
): HeaderNames {
  const names: HeaderNames = { ...DEFAULT_HEADERS };
  const unknown: string[] = [];
  for (const [key, header] of Object.entries(overrides)) {
    // KAIZEN_FEDERATED_ID_FROM may name a column of its own in SHEET_HEADERS: known by that.
    if (key === federatedIdFrom?.key) continue;
    const field = SHEET_FIELDS.find(
      (candidate) => loose(candidate) === loose(key) || loose(DEFAULT_HEADERS[candidate]) === loose(key),
    );
    if (field === undefined) unknown.push(key);
    else if (header.trim() !== '') names[field] = header.trim();
  }
  if (federatedIdFrom !== undefined) names.federatedId = federatedIdFrom.header;
  if (unknown.length > 0) {
    throw new KaizenError(
      'config',
      `SHEET_HEADERS names unknown fields: ${unknown.join(', ')}. Known fields: ${SHEET_FIELDS.join(', ')}.`,
      { service: 'sheets' },
    );
  }
  return names;
}

/** Finds each field's column in a header row; the first matching column wins. */
export function mapColumns(headerRow: readonly string[], names: HeaderNames): ColumnResult {
  const normalized = headerRow.map((cell) => normalizeHeader(cell ?? ''));
  const columns: ColumnMap = {};
  for (const field of SHEET_FIELDS) {
    const index = normalized.indexOf(normalizeHeader(names[field]));
    if (index >= 0) columns[field] = index;
  }
  const missing = REQUIRED.filter((field) => columns[field] === undefined).map((field) => names[field]);
  if (PROJECT_NAMES.every((field) => columns[field] === undefined)) {
    missing.push(`${names.newProjectName} or ${names.existingProjectName}`);
  }
  if (missing.length > 0) return { ok: false, missing };
  return { ok: true, columns, headers: [...headerRow] };
}

/** The sentence an admin reads when the sheet lacks columns. */
export function missingHeadersNotice(tab: string, missing: readonly string[]): string {
  return (
    `The applications tab "${tab}" has no column for ${missing.join(', ')}. ` +
    'Columns are found by their header text (case and spaces do not matter): rename the header in the sheet, or set SHEET_HEADERS.'
  );
}
