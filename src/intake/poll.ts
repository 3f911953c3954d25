/**
 * One look at the applications sheet: read it once, turn new rows into pending applications, and
 * hand each one to `announce` (the Slack side posts the card). Several replicas may poll the same
 * sheet; a row becomes an application on exactly one of them because each new row key is claimed
 * with SET NX on `sheet:seen:<key>` first.
 */
import { createHash } from 'node:crypto';
import { KaizenError } from '../errors.js';
import { keys } from '../keys.js';
import type { Logger } from '../log.js';
import type { ApplicationRecord, ApplicationStore, ProjectClash } from '../provision/applications.js';
import type { QuotaChoice } from '../quotas/types.js';
import type { Redis } from '../redis.js';
import type { Applicant } from './applicant.js';
import { type ColumnMap, type HeaderNames, mapColumns, missingHeadersNotice } from './columns.js';
import { isBlankRow, type ParsedRow, parseRow, rowKeyOfCells } from './parse.js';
import type { ApplicationsRead } from './sheets.js';

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
export type IntakeNotice =
  | { kind: 'rows'; tab: string; rows: InvalidRow[] }
  | { kind: 'sheet'; tab: string; message: string };

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
}

/** One look at the sheet on demand: what the schedule and `/kaizen sync` run. */
export interface SheetIntake {
  poll(): Promise<PollCounts>;
}

export interface IntakeDeps {
  sheet: {
    readApplicationKeys(options: { withPin: boolean }): Promise<ApplicationsRead>;
    readRows(rowNumbers: readonly number[]): Promise<Map<number, string[]>>;
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
  const clearing = deps.clearPin && deps.pins !== undefined;
  const read = await deps.sheet.readApplicationKeys({ withPin: clearing });
  const rows = read.rows;
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
  // poll cost more than all the rest of the poll. When the first read brought only the key cells,
  // the rows not seen before are read whole in a second request.
  const data = rows
    .slice(1)
    .map((cells, index) => ({ cells, rowNumber: index + 2, key: rowKeyOfCells(cells, mapped.columns) }))
    // Key cells alone cannot show a row blank: a row without them is read whole like a new one.
    .filter((row) => !read.whole || !isBlankRow(row.cells));
  const seen = await alreadySeen(
    deps.redis,
    data.map((row) => row.key),
  );
  const stored = new Set<string>();
  let fresh: typeof data = [];
  for (const row of data) {
    if (seen.has(row.key)) stored.add(row.key);
    else fresh.push(row);
  }
  counts.read = data.length - fresh.length;
  if (!read.whole) fresh = await readWhole(deps, rows, fresh, mapped.columns);
  const unseen: ParsedRow[] = [];
  for (const row of fresh) {
    if (isBlankRow(row.cells)) continue;
    counts.read += 1;
    unseen.push(parseRow(row.cells, row.rowNumber, mapped.columns, deps.names, header.length));
  }

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
  if (clearing && stored.size > 0) {
    await deps.sheet
      .clearPins(rows, stored)
      .catch((error: unknown) =>
        deps.log.warn({ err: error }, 'intake: could not blank PIN cells; the next poll tries again'),
      );
  }
  deps.log.info({ ...counts }, 'intake: sheet read');
  return counts;
}

const DUPLICATE_PREFIX = 'Possible duplicate:';
const isDuplicateNote = (note: string) => note.startsWith(DUPLICATE_PREFIX);

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

function duplicateNotes(applicant: Applicant, pending: readonly ApplicationRecord[]): string[] {
  const project = applicant.project.name.toLowerCase();
  return pending
    .filter(
      (other) =>
        other.id !== applicant.id &&
        other.applicant.email === applicant.email &&
        other.applicant.project.name.toLowerCase() === project,
    )
    .map(
      (other) =>
        `${DUPLICATE_PREFIX} ${applicant.email} applied for "${other.applicant.project.name}" before (${other.applicant.submittedAt || other.createdAt}) and that application is still pending.`,
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

/**
 * The second read: the rows the first read could not place among the seen, whole, put back into
 * `rows` (where notices and PIN blanking find them). A row whose Timestamp and Email read
 * differently now was moved between the two reads (sorted, inserted above): it is left for the
 * next poll, which finds it wherever it went.
 */
async function readWhole<Row extends { cells: string[]; rowNumber: number; key: string }>(
  deps: IntakeDeps,
  rows: string[][],
  fresh: Row[],
  columns: ColumnMap,
): Promise<Row[]> {
  if (fresh.length === 0) return fresh;
  const whole = await deps.sheet.readRows(fresh.map((row) => row.rowNumber));
  const kept: Row[] = [];
  for (const row of fresh) {
    const cells = whole.get(row.rowNumber) ?? [];
    if (rowKeyOfCells(cells, columns) !== row.key) {
      deps.log.debug({ row: row.rowNumber }, 'intake: a row moved while it was read; the next poll takes it');
      continue;
    }
    rows[row.rowNumber - 1] = cells;
    kept.push({ ...row, cells });
  }
  return kept;
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

async function firstNotice(redis: Redis, fingerprint: string, ttlSeconds: number): Promise<boolean> {
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
