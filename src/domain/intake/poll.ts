/**
 * One look at the applications sheet: read it once, turn new rows into pending applications, and
 * hand each one to `announce` (the Slack side posts the card). Several replicas may poll the same
 * sheet; a row becomes an application on exactly one of them because each new row key is claimed
 * with SET NX on `sheet:seen:<key>` first.
 */

import { createHash } from 'node:crypto';
import { KaizenError } from '../../platform/errors.js';
import { keys } from '../../platform/keys.js';
import type { Logger } from '../../platform/log.js';
import type { Redis } from '../../platform/redis.js';
import type { Note } from '../applications/notes.js';
import type { ApplicationRecord, ApplicationStore, ProjectClash } from '../applications/store.js';
import type { QuotaChoice } from '../quotas/types.js';
import type { Applicant } from './applicant.js';
import { type HeaderNames, mapColumns, missingHeadersNotice } from './columns.js';
import { isBlankRow, type ParsedRow, parseRow, rowKeyOfCells } from './parse.js';

/** A bad row keeps its notice this long; an edit to the row makes a new notice at once. */
const ROW_NOTICE_TTL_S = 30 * 24 * 3600;
/** A problem with the whole sheet (headers) is repeated at most daily while it lasts. */
const SHEET_NOTICE_TTL_S = 24 * 3600;
/** How long one replica holds the right to post a card before another may try. */
const CARD_LOCK_S = 60;

export interface InvalidRow {
  rowNumber: number;
  email: string;
  reasons: string[];
}

/** What the admins are told about the sheet itself or about rows that cannot become applicants. */
export type IntakeNotice = (
  | { kind: 'rows'; tab: string; rows: InvalidRow[] }
  | { kind: 'sheet'; tab: string; message: string }
) & {
  /** Set for the quota requests tab (SHEET_QUOTA_REQUESTS); absent for the applications tab. */
  about?: 'quota_requests';
};

export interface PollCounts {
  /** Non-empty data rows in the sheet. */
  read: number;
  /** Applications this poll created. */
  new: number;
  /** Rows that cannot become applicants (each is noticed once while it reads the same). */
  invalid: number;
  /** New applications with the same email and project as one still pending. */
  duplicates: number;
  /** A problem with the sheet as a whole, e.g. missing headers. */
  problem?: string;
  /** The quota requests tab (SHEET_QUOTA_REQUESTS) read in the same poll; absent when it was not. */
  quotaRequests?: { new: number; invalid: number; problem?: string };
}

/** One look at the sheet on demand: what the schedule and `/kaizen sync` run. */
export interface SheetIntake {
  poll(): Promise<PollCounts>;
}

export interface IntakeDeps {
  sheet: {
    readApplications(): Promise<string[][]>;
    clearPins(rows: readonly string[][], keys: ReadonlySet<string>): Promise<number>;
  };
  store: ApplicationStore;
  redis: Redis;
  log: Logger;
  names: HeaderNames;
  applicationsTab: string;
  clearPin: boolean;
  /**
   * Keys the PIN hash (SETPASS_SECRET); without it no PIN is kept, and the sheet keeps its PIN
   * cells, since they are then the only copy.
   */
  pins: { hash(pin: string): string } | undefined;
  defaultQuota: QuotaChoice;
  /** Posts the card for a new application and saves where it is on the record. */
  announce(record: ApplicationRecord): Promise<void>;
  /** Posts a notice about bad rows or a bad sheet. */
  notify(notice: IntakeNotice): Promise<void>;
  /**
   * The existing project a new project's name collides with (any case), for the card; undefined
   * without Keystone. Approve checks again whatever this said.
   */
  projectClash?: (name: string) => Promise<ProjectClash | undefined>;
}

export async function pollApplications(deps: IntakeDeps): Promise<PollCounts> {
  const rows = await deps.sheet.readApplications();
  const counts: PollCounts = { read: 0, new: 0, invalid: 0, duplicates: 0 };
  const header = rows[0];
  if (header === undefined || header.every((cell) => cell.trim() === '')) {
    counts.problem = `The applications tab "${deps.applicationsTab}" is empty: it needs a header row (Timestamp, Email, First name, …).`;
    await noticeSheetOnce(deps, counts.problem);
    return counts;
  }
  const mapped = mapColumns(header, deps.names);
  if (!mapped.ok) {
    counts.problem = missingHeadersNotice(deps.applicationsTab, mapped.missing);
    await noticeSheetOnce(deps, counts.problem);
    return counts;
  }

  // A row taken in before is told by its key alone: on a big sheet, parsing every row on every
  // poll cost more than all the rest of the poll.
  const filled = rows
    .slice(1)
    .map((cells, index) => ({ cells, rowNumber: index + 2 }))
    .filter((row) => !isBlankRow(row.cells));
  counts.read = filled.length;
  const rowKeys = filled.map((row) => rowKeyOfCells(row.cells, mapped.columns));
  const seen = await alreadySeen(deps.redis, rowKeys);
  const stored = new Set<string>();
  const unseen: ParsedRow[] = [];
  filled.forEach((row, index) => {
    const key = rowKeys[index] ?? '';
    if (seen.has(key)) stored.add(key);
    else unseen.push(parseRow(row.cells, row.rowNumber, mapped.columns, deps.names, header.length));
  });

  const pending = await deps.store.list(['pending']);
  const invalidRows: InvalidRow[] = [];
  for (const row of unseen) {
    if (row.kind === 'invalid') {
      counts.invalid += 1;
      const fingerprint = rowFingerprint(rows[row.rowNumber - 1] ?? [], mapped.columns.pin, row.reasons);
      if (await firstNotice(deps.redis, fingerprint, ROW_NOTICE_TTL_S)) {
        invalidRows.push({ rowNumber: row.rowNumber, email: row.email, reasons: row.reasons });
      }
      continue;
    }
    if (row.kind !== 'applicant') continue;
    try {
      const record = await admit(deps, row, pending);
      if (record === undefined) continue;
      stored.add(record.id);
      counts.new += 1;
      if (record.notes.some(isDuplicateNote)) counts.duplicates += 1;
      pending.push(record);
      await announceOnce(deps, record);
    } catch (error) {
      deps.log.error(
        { err: error, row: row.rowNumber },
        'intake: could not take in a row; the next poll tries again',
      );
    }
  }

  if (invalidRows.length > 0) {
    await deps
      .notify({ kind: 'rows', tab: deps.applicationsTab, rows: invalidRows })
      .catch((error: unknown) =>
        deps.log.error({ err: error }, 'intake: could not post the invalid-row notice'),
      );
  }
  await announceMissingCards(deps, pending);
  if (deps.clearPin && deps.pins !== undefined && stored.size > 0) {
    await deps.sheet
      .clearPins(rows, stored)
      .catch((error: unknown) =>
        deps.log.warn({ err: error }, 'intake: could not blank PIN cells; the next poll tries again'),
      );
  }
  deps.log.info({ ...counts }, 'intake: sheet read');
  return counts;
}

const isDuplicateNote = (note: Note) => note.code === 'possible_duplicate';

/** Claims the row, stores the application (PIN hashed), and answers it; undefined when another poller won. */
async function admit(
  deps: IntakeDeps,
  row: Extract<ParsedRow, { kind: 'applicant' }>,
  pending: ApplicationRecord[],
): Promise<ApplicationRecord | undefined> {
  const { applicant } = row;
  const claimed = await deps.redis.set(keys.sheetSeen(applicant.id), new Date().toISOString(), 'NX');
  if (claimed !== 'OK') return undefined;
  try {
    const notes = [...row.notes, ...duplicateNotes(applicant, pending)];
    const projectClash = await clashOf(deps, applicant);
    const created = await deps.store.create({
      applicant,
      pinHash: deps.pins?.hash(row.pin),
      quota: deps.defaultQuota,
      notes,
      ...(projectClash ? { projectClash } : {}),
    });
    if (!created) return undefined;
    const record = await deps.store.get(applicant.id);
    if (record === undefined)
      throw new KaizenError('not_found', `Application ${applicant.id} vanished after it was stored`);
    return record;
  } catch (error) {
    // Give the row back so the next poll takes it in.
    await deps.redis.del(keys.sheetSeen(applicant.id)).catch(() => undefined);
    throw error;
  }
}

/** A clash that cannot be looked up now is no reason to hold the row back: Approve looks again. */
async function clashOf(deps: IntakeDeps, applicant: Applicant): Promise<ProjectClash | undefined> {
  if (applicant.project.kind !== 'new' || deps.projectClash === undefined) return undefined;
  try {
    return await deps.projectClash(applicant.project.name);
  } catch (error) {
    deps.log.warn({ err: error, applicant: applicant.id }, 'intake: could not look up the project name');
    return undefined;
  }
}

function duplicateNotes(applicant: Applicant, pending: readonly ApplicationRecord[]): Note[] {
  const project = applicant.project.name.toLowerCase();
  return pending
    .filter(
      (other) =>
        other.id !== applicant.id &&
        other.applicant.email === applicant.email &&
        other.applicant.project.name.toLowerCase() === project,
    )
    .map(
      (other): Note => ({
        code: 'possible_duplicate',
        email: applicant.email,
        project: other.applicant.project.name,
        since: other.applicant.submittedAt || other.createdAt,
      }),
    );
}

/** Posts the card unless another replica is posting it right now. */
async function announceOnce(deps: IntakeDeps, record: ApplicationRecord): Promise<void> {
  const locked = await deps.redis.set(keys.cardLock(record.id), '1', 'EX', CARD_LOCK_S, 'NX');
  if (locked !== 'OK') return;
  try {
    await deps.announce(record);
  } catch (error) {
    deps.log.error(
      { err: error, applicant: record.id },
      'intake: could not post the card; the next poll tries again',
    );
  }
}

/** A card whose first post failed (Slack down) is posted by a later poll. */
async function announceMissingCards(deps: IntakeDeps, pending: readonly ApplicationRecord[]): Promise<void> {
  const fresh = await Promise.all(
    pending.filter((record) => record.card === undefined).map((record) => deps.store.get(record.id)),
  );
  for (const record of fresh) {
    if (record !== undefined && record.state === 'pending' && record.card === undefined) {
      await announceOnce(deps, record);
    }
  }
}

/** Rows per MGET when telling seen rows apart: one command per slice instead of one per row. */
const SEEN_BATCH = 5_000;

async function alreadySeen(redis: Redis, rowKeys: string[]): Promise<Set<string>> {
  const seen = new Set<string>();
  for (let start = 0; start < rowKeys.length; start += SEEN_BATCH) {
    const slice = rowKeys.slice(start, start + SEEN_BATCH);
    // The seen keys share the {sheet} hash tag, so one MGET holds under Redis Cluster too.
    const values = await redis.mget(slice.map((key) => keys.sheetSeen(key)));
    values.forEach((value, index) => {
      if (value !== null) seen.add(slice[index] ?? '');
    });
  }
  return seen;
}

export async function firstNotice(redis: Redis, fingerprint: string, ttlSeconds: number): Promise<boolean> {
  return (await redis.set(keys.sheetNotice(fingerprint), '1', 'EX', ttlSeconds, 'NX')) === 'OK';
}

async function noticeSheetOnce(deps: IntakeDeps, message: string): Promise<void> {
  deps.log.warn({ tab: deps.applicationsTab }, message);
  if (!(await firstNotice(deps.redis, `sheet:${hash(message)}`, SHEET_NOTICE_TTL_S))) return;
  await deps
    .notify({ kind: 'sheet', tab: deps.applicationsTab, message })
    .catch((error: unknown) => deps.log.error({ err: error }, 'intake: could not post the sheet notice'));
}

/**
 * What the row says and what is wrong with it, so an edited row is noticed again and an unchanged
 * one is not. The PIN cell is left out: a hash over a row whose other cells are known would give a
 * 4-digit PIN away.
 */
function rowFingerprint(cells: readonly string[], pinColumn: number | undefined, reasons: string[]): string {
  const withoutPin = cells.map((cell, index) => (index === pinColumn ? '' : cell));
  return `row:${hash([...withoutPin, '\u0001', ...reasons].join('\u0000'))}`;
}

function hash(text: string): string {
  return createHash('sha256').update(text).digest('base64url').slice(0, 22);
}
