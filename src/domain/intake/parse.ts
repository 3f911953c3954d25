/**
 * One row of the applications sheet → an `Applicant`, or the reasons it cannot be one, written for
 * the admin who will fix the sheet ("row 7 (ann@x.org): PIN must be 4 digits").
 *
 * Length caps: fields that become identities or land in Keystone (email, names, project names,
 * extra users, contact) are refused when too long, because a silently cut name would create the
 * wrong account or project. Free text (Comment, New project description) is cut at a word and
 * the card says so: a shortened comment harms no one.
 *
 * A cell is data, whatever its first character: an organization called "@Lab" or a formula typed
 * into the form is taken as the text it is. Nothing here evaluates it, the card shows it escaped,
 * and every write back to the sheet uses RAW input (see sheets.ts), so the sheet never runs it.
 */

import { hash } from 'node:crypto';
import { z } from 'zod';
import { cellText, type SheetCell } from '../../sheets/cells.js';
import type { Note } from '../applications/notes.js';
import { isValidPin } from '../setpass/pin.js';
import type { Applicant, ProjectRequest } from './applicant.js';
import type { ColumnMap, HeaderNames, SheetField } from './columns.js';

export const LIMITS = {
  timestamp: 64,
  email: 254,
  firstName: 64,
  lastName: 64,
  organization: 200,
  role: 100,
  phone: 40,
  sponsor: 200,
  projectName: 64,
  contactName: 128,
  /** Keystone keeps a federated unique id in 255 characters. */
  federatedId: 255,
  extraUsersText: 2000,
  extraUser: 255,
  extraUsersCount: 20,
  /** Cut, not refused. */
  comment: 2000,
  description: 1000,
} as const;

export type ParsedRow =
  | {
      kind: 'applicant';
      rowNumber: number;
      applicant: Applicant;
      /** Only for hashing at intake; never stored or logged. */
      pin: string;
      /** Things the admin should know, e.g. a comment that was cut. */
      notes: Note[];
    }
  | { kind: 'invalid'; rowNumber: number; key: string; email: string; reasons: string[] }
  | { kind: 'blank'; rowNumber: number };

/** Stable across sorting, inserting and deleting rows: what the row says, not where it is. */
export function rowKey(timestamp: string, email: string): string {
  const identity = `${cleanLine(timestamp)}\n${cleanLine(email).toLowerCase()}`;
  // One-shot hash: every poll keys every row (100,000 on a big sheet), and createHash's
  // object per call cost three times as much CPU for the same digest.
  return hash('sha256', identity, 'base64url').slice(0, 22);
}

/** A cell as Sheets holds it: text, or a number or boolean it recognised in what was typed. */
/**
 * The PIN as the applicant typed it. Sheets stores an answer like `0123` as the number 123, so a
 * whole number below 10000 gets its leading zeros back; text is taken as it is, so a text `123`
 * stays three digits (and invalid).
 */
export function pinFromCell(cell: SheetCell): string {
  if (typeof cell === 'number' && Number.isInteger(cell) && cell >= 0 && cell < 10_000) {
    return String(cell).padStart(4, '0');
  }
  return cellText(cell);
}

/** A row with nothing in it: people leave gaps between rows. */
export function isBlankRow(cells: readonly string[]): boolean {
  return cells.every((cell) => String(cell ?? '').trim() === '');
}

/** The key `parseRow` gives the row, from its Timestamp and Email cells alone: cheap, for telling seen rows apart. */
export function rowKeyOfCells(cells: readonly string[], columns: ColumnMap): string {
  const cell = (index: number | undefined) => (index === undefined ? '' : String(cells[index] ?? ''));
  return rowKey(cell(columns.timestamp), cell(columns.email));
}

const NBSP = /[\u00a0\u2007\u202f]/g;

/** Non-breaking spaces to spaces, runs of whitespace to one space, trimmed. */
export function cleanLine(text: string): string {
  return text.replace(NBSP, ' ').replace(/\s+/g, ' ').trim();
}

/** As `cleanLine`, but keeps line breaks (comments and descriptions are paragraphs). */
function cleanText(text: string): string {
  return text
    .replace(NBSP, ' ')
    .replace(/\r\n?/g, '\n')
    .split('\n')
    .map((line) => line.replace(/[^\S\n]+/g, ' ').trim())
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}

function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** Cuts at the last space before `max` when there is one not too far back. */
export function cutAtWord(text: string, max: number): string {
  if (text.length <= max) return text;
  const hard = text.slice(0, max - 1);
  const space = hard.search(/\s\S*$/);
  return `${(space > max * 0.6 ? hard.slice(0, space) : hard).trimEnd()}…`;
}

function field(label: string, max: number, options: { required?: boolean } = {}) {
  const schema = z.string().max(max, `${label} is too long (at most ${max} characters)`);
  return options.required ? schema.min(1, `${label} is empty`) : schema;
}

function schemaFor(names: HeaderNames) {
  const email = (label: string) =>
    z
      .string()
      .max(LIMITS.email, `${label} is too long (at most ${LIMITS.email} characters)`)
      .pipe(z.email(`${label} is not a valid email address`));
  return z.object({
    timestamp: z.string().max(LIMITS.timestamp, `${names.timestamp} is too long`),
    email: z.string().min(1, `${names.email} is empty`).pipe(email(names.email)),
    firstName: field(names.firstName, LIMITS.firstName, { required: true }),
    lastName: field(names.lastName, LIMITS.lastName, { required: true }),
    organization: field(names.organization, LIMITS.organization),
    role: field(names.role, LIMITS.role),
    phone: field(names.phone, LIMITS.phone),
    sponsor: field(names.sponsor, LIMITS.sponsor),
    pin: z.string().min(1, `${names.pin} is empty`).refine(isValidPin, `${names.pin} must be 4 digits`),
    contactName: field(names.contactName, LIMITS.contactName),
    contactEmail: z.union([z.literal(''), email(names.contactEmail)]),
    federatedId: field(names.federatedId, LIMITS.federatedId),
    extraUsers: z
      .string()
      .max(
        LIMITS.extraUsersText,
        `${names.extraUsers} is too long (at most ${LIMITS.extraUsersText} characters)`,
      )
      .transform((text) => splitUsers(text))
      .pipe(
        z
          .array(field(names.extraUsers, LIMITS.extraUser))
          .max(LIMITS.extraUsersCount, `${names.extraUsers} lists more than ${LIMITS.extraUsersCount} users`),
      ),
  });
}

const schemas = new WeakMap<HeaderNames, ReturnType<typeof schemaFor>>();

/** Built once per header text: building a zod schema costs far more than running it, on every row. */
const projectNameFields = new Map<string, ReturnType<typeof field>>();

function projectNameField(label: string): ReturnType<typeof field> {
  let schema = projectNameFields.get(label);
  if (schema === undefined) {
    schema = field(label, LIMITS.projectName, { required: true });
    projectNameFields.set(label, schema);
  }
  return schema;
}

/** "a@x.org, b@y.org; carol" → three entries; emails lower-cased, user names kept as typed. */
export function splitUsers(text: string): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const item of text.split(/[\s,;]+/)) {
    const value = item.includes('@') ? item.toLowerCase() : item;
    if (value === '' || seen.has(value.toLowerCase())) continue;
    seen.add(value.toLowerCase());
    out.push(value);
  }
  return out;
}

/**
 * Parses one data row. `rowNumber` is the sheet's 1-based row number, for messages only; the
 * applicant's identity is `rowKey`.
 */
export function parseRow(
  cells: readonly string[],
  rowNumber: number,
  columns: ColumnMap,
  names: HeaderNames,
  headerWidth: number,
): ParsedRow {
  const raw = (name: SheetField): string => {
    const index = columns[name];
    return index === undefined ? '' : String(cells[index] ?? '');
  };
  if (isBlankRow(cells)) return { kind: 'blank', rowNumber };

  const line = (name: SheetField) => cleanLine(raw(name));
  const timestamp = line('timestamp');
  const email = line('email').toLowerCase();
  const key = rowKey(timestamp, email);
  const reasons: string[] = [];
  const notes: Note[] = [];

  let schema = schemas.get(names);
  if (schema === undefined) {
    schema = schemaFor(names);
    schemas.set(names, schema);
  }
  const result = schema.safeParse({
    timestamp,
    email,
    firstName: line('firstName'),
    lastName: line('lastName'),
    organization: line('organization'),
    role: line('role'),
    phone: line('phone'),
    sponsor: line('sponsor'),
    pin: line('pin'),
    contactName: line('contactName'),
    contactEmail: line('contactEmail').toLowerCase(),
    extraUsers: line('extraUsers'),
    federatedId: line('federatedId'),
  });
  if (!result.success) {
    // One reason per field: the first is the one to fix.
    const byField = new Map<string, string>();
    for (const issue of result.error.issues) {
      const path = String(issue.path[0] ?? '');
      if (!byField.has(path)) byField.set(path, issue.message);
    }
    reasons.push(...byField.values());
  }

  const project = parseProject(
    {
      kind: line('projectKind'),
      newName: line('newProjectName'),
      description: cleanText(raw('newProjectDescription')),
      existingName: line('existingProjectName'),
    },
    names,
    reasons,
  );

  if (reasons.length > 0 || !result.success || project === undefined) {
    return { kind: 'invalid', rowNumber, key, email, reasons };
  }

  let comment = cleanText(raw('comment'));
  if (comment.length > LIMITS.comment) {
    notes.push({ code: 'comment_cut', length: comment.length, limit: LIMITS.comment });
    comment = cutAtWord(comment, LIMITS.comment);
  }
  if (project.kind === 'new' && project.description.length > LIMITS.description) {
    notes.push({ code: 'description_cut', limit: LIMITS.description });
    project.description = cutAtWord(project.description, LIMITS.description);
  }
  const data = result.data;
  const applicant: Applicant = {
    id: key,
    submittedAt: data.timestamp,
    email: data.email,
    firstName: data.firstName,
    lastName: data.lastName,
    hasAccount: /^(?:y|yes|true)$/i.test(line('hasAccount')),
    organization: data.organization,
    role: data.role,
    phone: data.phone,
    sponsor: data.sponsor,
    comment,
    project:
      project.kind === 'existing'
        ? { ...project, contactName: data.contactName, contactEmail: data.contactEmail }
        : project,
    extraUsers: data.extraUsers,
    ...(data.federatedId === '' ? {} : { federatedId: data.federatedId }),
    row: storedRow(cells, columns, headerWidth),
  };
  return { kind: 'applicant', rowNumber, applicant, pin: data.pin, notes };
}

function parseProject(
  input: { kind: string; newName: string; description: string; existingName: string },
  names: HeaderNames,
  reasons: string[],
): ProjectRequest | undefined {
  const kindText = input.kind.toLowerCase();
  let kind: 'new' | 'existing' | undefined;
  if (kindText.startsWith('new')) kind = 'new';
  else if (kindText.startsWith('exist')) kind = 'existing';
  else if (kindText !== '') {
    reasons.push(
      `${names.projectKind} is "${clip(input.kind, 40)}"; expected "New project" or "Existing project"`,
    );
    return undefined;
  } else if (input.newName !== '') kind = 'new';
  else if (input.existingName !== '') kind = 'existing';
  else {
    reasons.push(`no project: fill in ${names.newProjectName} or ${names.existingProjectName}`);
    return undefined;
  }
  const label = kind === 'new' ? names.newProjectName : names.existingProjectName;
  const name = kind === 'new' ? input.newName : input.existingName;
  const check = projectNameField(label).safeParse(name);
  if (!check.success) {
    reasons.push(check.error.issues[0]?.message ?? `${label} is not valid`);
    return undefined;
  }
  return kind === 'new'
    ? { kind: 'new', name, description: input.description }
    : { kind: 'existing', name, contactName: '', contactEmail: '' };
}

/**
 * The row as the sheet had it, one cell per header column so the admitted tab's extra columns line
 * up, with the PIN cell left empty: a PIN never reaches Redis or another tab.
 */
function storedRow(cells: readonly string[], columns: ColumnMap, headerWidth: number): string[] {
  const row = Array.from({ length: headerWidth }, (_, index) => String(cells[index] ?? ''));
  if (columns.pin !== undefined && columns.pin < row.length) row[columns.pin] = '';
  return row;
}
