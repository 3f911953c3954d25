/**
 * A project's quota as a small table, one line per key: Quota, Current, In use and, when a change
 * is asked, Requested. Shared by the quota request card, `/kaizen quota` and `kaizen quota`, so the
 * three show the same numbers the same way (RAM in GiB, -1 as unlimited, unknown as a dash).
 */
import type { QuotaKey } from '../src/domain/quotas/types.js';
import { gib } from './applicant-card.js';
import { QUOTA_LABELS } from './quota-modal.js';

export interface QuotaTableRow {
  key: QuotaKey;
  limit: number | undefined;
  inUse: number | undefined;
  requested?: number | undefined;
}

export function quotaAmount(key: QuotaKey, value: number | undefined): string {
  if (value === undefined) return '–';
  if (value === -1) return 'unlimited';
  return key === 'ram' ? `${gib(value)} GiB` : String(value);
}

/** The table's lines, columns padded (numbers to the right); plain text, nothing from outside in it. */
export function quotaTableLines(rows: readonly QuotaTableRow[], withRequested: boolean): string[] {
  const header = withRequested ? ['Quota', 'Current', 'In use', 'Requested'] : ['Quota', 'Current', 'In use'];
  const cells = rows.map((row) => {
    const line = [QUOTA_LABELS[row.key], quotaAmount(row.key, row.limit), quotaAmount(row.key, row.inUse)];
    if (withRequested) line.push(quotaAmount(row.key, row.requested));
    return line;
  });
  const all = [header, ...cells];
  const widths = header.map((_, column) => Math.max(...all.map((line) => (line[column] ?? '').length)));
  return all.map((line) =>
    line
      .map((cell, column) =>
        column === 0 ? cell.padEnd(widths[column] ?? 0) : cell.padStart(widths[column] ?? 0),
      )
      .join('  ')
      .trimEnd(),
  );
}
