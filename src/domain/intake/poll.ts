/**
 * One look at the applications sheet: read it once, turn new rows into pending applications, and
 * hand each one to `announce` (the Slack side posts the card). Several replicas may poll the same
 * sheet; a row becomes an application on exactly one of them because each new row key is claimed
 * with SET NX on `sheet:seen:<key>` first.
 */

import { hash as oneShotHash } from 'node:crypto';
import { KaizenError } from '../../platform/errors.js';
import { keys } from '../../platform/keys.js';
import type { Logger } from '../../platform/log.js';
import type { Redis } from '../../platform/redis.js';
import type { Note } from '../applications/notes.js';
import type { ApplicationRecord, ApplicationStore, ProjectClash } from '../applications/store.js';
import type { QuotaChoice } from '../quotas/types.js';
import type { Applicant } from './applicant.js';
import type { ApplicationsRead } from './applications-sheet.js';
import { type ColumnMap, type HeaderNames, mapColumns, missingHeadersNotice } from './columns.js';
import { loadKnownHeader, saveKnownHeader } from './known-header.js';
import { isBlankRow, type ParsedRow, parseRow, rowKey, rowKeyOfCells } from './parse.js';

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
    readApplicationKeys(options: {
      withPin: boolean;
      header: readonly string[] | undefined;
    }): Promise<ApplicationsRead>;
    readRows(rowNumbers: readonly number[], header: readonly string[]): Promise<Map<number, string[]>>;
    clearPins(rowNumbers: readonly number[], header: readonly string[]): Promise<number>;
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
  const clearing = deps.clearPin && deps.pins !== undefined;
  const known = await loadKnownHeader(deps.redis);
  const read = await deps.sheet.readApplicationKeys({ withPin: clearing, header: known });
  const counts: PollCounts = { read: 0, new: 0, invalid: 0, duplicates: 0 };
  const header = read.whole ? read.rows[0] : read.header;
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
  const { columns } = mapped;
  if (read.whole && !sameCells(header, known)) await saveKnownHeader(deps.redis, header);

  // A row taken in before is told by its key alone: on a big sheet, parsing every row on every
  // poll cost more than all the rest of the poll. When the first read brought only the key
  // columns, the rows not seen before are read whole in a second request. Per data row (index 0
  // is sheet row 2): its key, undefined for a row the whole read shows blank. Key cells alone
  // cannot show a row blank, so there a row without them is read whole like a new one.
  const rowKeys: (string | undefined)[] = read.whole
    ? read.rows.slice(1).map((cells) => (isBlankRow(cells) ? undefined : rowKeyOfCells(cells, columns)))
    : Array.from(
        { length: Math.max(read.timestamps.length, read.emails.length, read.pins?.length ?? 0) },
        (_, index) => rowKey(read.timestamps[index] ?? '', read.emails[index] ?? ''),
      );
  const pinAt = (index: number): string =>
    read.whole ? (read.rows[index + 1]?.[columns.pin ?? -1] ?? '') : (read.pins?.[index] ?? '');
  const seen = await alreadySeen(
    deps.redis,
    rowKeys.filter((key): key is string => key !== undefined),
  );
  const stored = new Set<string>();
  let fresh: FreshRow[] = [];
  rowKeys.forEach((key, index) => {
    if (key === undefined) return;
    if (seen.has(key)) {
      stored.add(key);
      counts.read += 1;
    } else {
      fresh.push({ rowNumber: index + 2, key, cells: read.whole ? (read.rows[index + 1] ?? []) : [] });
    }
  });
  if (!read.whole) fresh = await readWhole(deps, fresh, header, columns);
  const unseen: { row: ParsedRow; cells: string[] }[] = [];
  for (const { cells, rowNumber } of fresh) {
    if (isBlankRow(cells)) continue;
    counts.read += 1;
    unseen.push({ row: parseRow(cells, rowNumber, columns, deps.names, header.length), cells });
  }

  const pending = await deps.store.list(['pending']);
  const invalidRows: InvalidRow[] = [];
  for (const { row, cells } of unseen) {
    if (row.kind === 'invalid') {
      counts.invalid += 1;
      const fingerprint = rowFingerprint(cells, columns.pin, row.reasons);
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
  if (clearing && stored.size > 0) {
    // The PIN cells still filled in rows whose application is stored, as this poll read them.
    const pinRows: number[] = [];
    rowKeys.forEach((key, index) => {
      if (key !== undefined && stored.has(key) && pinAt(index) !== '') pinRows.push(index + 2);
    });
    await deps.sheet
      .clearPins(pinRows, header)
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

/** A data row not seen before; its cells are empty until read whole. */
interface FreshRow {
  rowNumber: number;
  key: string;
  cells: string[];
}

/**
 * The second read: the rows the first read could not place among the seen, whole. A row whose
 * Timestamp and Email read differently now was moved between the two reads (sorted, inserted
 * above): it is left for the next poll, which finds it wherever it went.
 */
async function readWhole(
  deps: IntakeDeps,
  fresh: FreshRow[],
  header: readonly string[],
  columns: ColumnMap,
): Promise<FreshRow[]> {
  if (fresh.length === 0) return fresh;
  const whole = await deps.sheet.readRows(
    fresh.map((row) => row.rowNumber),
    header,
  );
  const kept: FreshRow[] = [];
  for (const row of fresh) {
    const cells = whole.get(row.rowNumber) ?? [];
    if (rowKeyOfCells(cells, columns) !== row.key) {
      deps.log.debug({ row: row.rowNumber }, 'intake: a row moved while it was read; the next poll takes it');
      continue;
    }
    kept.push({ ...row, cells });
  }
  return kept;
}

function sameCells(a: readonly string[], b: readonly string[] | undefined): boolean {
  return b !== undefined && a.length === b.length && a.every((cell, index) => cell === b[index]);
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
  return oneShotHash('sha256', text, 'base64url').slice(0, 22);
}
