/**
 * One look at the quota requests tab, in the same poll as the applications tab: new rows become
 * stored requests (with what Keystone says about the requester's membership) and are handed to
 * `announce` (the Slack side posts the card); bad rows get one notice, as applications do. A row
 * is taken in by exactly one replica: its key is claimed with SET NX first.
 */
import { hash as oneShotHash } from 'node:crypto';
import { keys } from '../../platform/keys.js';
import type { Logger } from '../../platform/log.js';
import type { Redis } from '../../platform/redis.js';
import type { Membership } from '../quotas/membership.js';
import type { QuotaPresets } from '../quotas/presets.js';
import type { QuotaRequestRecord, QuotaRequestStore } from '../quotas/request-store.js';
import type { HeaderNames } from './columns.js';
import { isBlankRow } from './parse.js';
import { firstNotice, type IntakeNotice, type InvalidRow } from './poll.js';
import { mapQuotaColumns, parseQuotaRow, type QuotaRequest, quotaRowKey } from './quota-request.js';

const ROW_NOTICE_TTL_S = 30 * 24 * 3600;
const SHEET_NOTICE_TTL_S = 24 * 3600;
const CARD_LOCK_S = 60;

export interface QuotaPollCounts {
  /** False when the spreadsheet has no quota requests tab (nothing else is then counted). */
  tab: boolean;
  read: number;
  new: number;
  invalid: number;
  problem?: string;
}

export interface QuotaIntakeDeps {
  sheet: { readRequests(): Promise<string[][] | undefined> };
  store: QuotaRequestStore;
  redis: Redis;
  log: Logger;
  names: HeaderNames;
  tab: string;
  presets: QuotaPresets;
  /** What Keystone says about the requester and the project; a throw leaves the row for the next poll. */
  membership(request: QuotaRequest): Promise<Membership>;
  /**
   * QUOTA_AUTO_APPROVE, when on: applies a new request the policy allows before its card is
   * posted, and answers the record as it then is. A failure leaves the request for the admins.
   */
  autoApprove?: (record: QuotaRequestRecord) => Promise<QuotaRequestRecord>;
  /** Posts the card for a new request and saves where it is on the record. */
  announce(record: QuotaRequestRecord): Promise<void>;
  notify(notice: IntakeNotice): Promise<void>;
}

export async function pollQuotaRequests(deps: QuotaIntakeDeps): Promise<QuotaPollCounts> {
  const rows = await deps.sheet.readRequests();
  const counts: QuotaPollCounts = { tab: rows !== undefined, read: 0, new: 0, invalid: 0 };
  if (rows === undefined) return counts;
  const header = rows[0];
  // An empty tab is one made ready for a form not yet linked: nothing to say.
  if (header === undefined || header.every((cell) => cell.trim() === '')) return counts;
  const mapped = mapQuotaColumns(header, deps.names);
  if (!mapped.ok) {
    counts.problem =
      `The quota requests tab "${deps.tab}" has no column for ${mapped.missing.join(', ')}. ` +
      'Columns are found by their header text (case and spaces do not matter).';
    await noticeSheetOnce(deps, counts.problem);
    return counts;
  }
  const filled = rows
    .slice(1)
    .map((cells, index) => ({ cells, rowNumber: index + 2 }))
    .filter((row) => !isBlankRow(row.cells));
  counts.read = filled.length;
  const rowKeys = filled.map((row) => quotaRowKey(row.cells, mapped.columns));
  const seenValues =
    rowKeys.length === 0 ? [] : await deps.redis.mget(rowKeys.map((key) => keys.quotaRequestSeen(key)));
  const invalidRows: InvalidRow[] = [];
  for (const [index, row] of filled.entries()) {
    if (seenValues[index] !== null && seenValues[index] !== undefined) continue;
    const parsed = parseQuotaRow(row.cells, row.rowNumber, mapped.columns, deps.names, deps.presets);
    if (parsed.kind === 'blank') continue;
    if (parsed.kind === 'invalid') {
      counts.invalid += 1;
      const fingerprint = `quota-row:${hash([...row.cells, '\u0001', ...parsed.reasons].join('\u0000'))}`;
      if (await firstNotice(deps.redis, fingerprint, ROW_NOTICE_TTL_S)) {
        invalidRows.push({ rowNumber: row.rowNumber, email: parsed.email, reasons: parsed.reasons });
      }
      continue;
    }
    try {
      const admitted = await admit(deps, parsed.request);
      if (admitted === undefined) continue;
      counts.new += 1;
      const record =
        deps.autoApprove === undefined ? admitted : await decideByPolicy(deps, deps.autoApprove, admitted);
      await announceOnce(deps, record);
    } catch (error) {
      deps.log.error(
        { err: error, row: row.rowNumber },
        'intake: could not take in a quota request; the next poll tries again',
      );
    }
  }
  if (invalidRows.length > 0) {
    await deps
      .notify({ kind: 'rows', tab: deps.tab, rows: invalidRows, about: 'quota_requests' })
      .catch((error: unknown) =>
        deps.log.error({ err: error }, 'intake: could not post the invalid-row notice'),
      );
  }
  await announceMissingCards(deps);
  deps.log.info({ ...counts }, 'intake: quota requests read');
  return counts;
}

async function admit(deps: QuotaIntakeDeps, request: QuotaRequest): Promise<QuotaRequestRecord | undefined> {
  const claimed = await deps.redis.set(keys.quotaRequestSeen(request.id), new Date().toISOString(), 'NX');
  if (claimed !== 'OK') return undefined;
  try {
    const membership = await deps.membership(request);
    if (!(await deps.store.create(request, membership))) return undefined;
    return await deps.store.get(request.id);
  } catch (error) {
    // Give the row back so the next poll takes it in.
    await deps.redis.del(keys.quotaRequestSeen(request.id)).catch(() => undefined);
    throw error;
  }
}

async function decideByPolicy(
  deps: QuotaIntakeDeps,
  autoApprove: (record: QuotaRequestRecord) => Promise<QuotaRequestRecord>,
  record: QuotaRequestRecord,
): Promise<QuotaRequestRecord> {
  try {
    return await autoApprove(record);
  } catch (error) {
    deps.log.warn(
      { err: error, request: record.id },
      'intake: the quota policy could not decide; the admins will',
    );
    return (await deps.store.get(record.id)) ?? record;
  }
}

async function announceOnce(deps: QuotaIntakeDeps, record: QuotaRequestRecord): Promise<void> {
  const locked = await deps.redis.set(keys.quotaCardLock(record.id), '1', 'EX', CARD_LOCK_S, 'NX');
  if (locked !== 'OK') return;
  try {
    await deps.announce(record);
  } catch (error) {
    deps.log.error(
      { err: error, request: record.id },
      'intake: could not post the quota request card; the next poll tries again',
    );
  }
}

/** A card whose first post failed (Slack down) is posted by a later poll. */
async function announceMissingCards(deps: QuotaIntakeDeps): Promise<void> {
  for (const record of await deps.store.list(['pending'])) {
    if (record.card === undefined) await announceOnce(deps, record);
  }
}

async function noticeSheetOnce(deps: QuotaIntakeDeps, message: string): Promise<void> {
  deps.log.warn({ tab: deps.tab }, message);
  if (!(await firstNotice(deps.redis, `quota-sheet:${hash(message)}`, SHEET_NOTICE_TTL_S))) return;
  await deps
    .notify({ kind: 'sheet', tab: deps.tab, message, about: 'quota_requests' })
    .catch((error: unknown) => deps.log.error({ err: error }, 'intake: could not post the sheet notice'));
}

function hash(text: string): string {
  return oneShotHash('sha256', text, 'base64url').slice(0, 22);
}
