/**
 * One row of the quota requests tab (SHEET_QUOTA_REQUESTS) → a `QuotaRequest`, or the reasons it
 * cannot be one. Columns are found by header text, as on the applications tab: Timestamp, Email and
 * Status as SHEET_HEADERS names them, then Project, Preset, Justification, and one column per
 * quota key named as the services name it (`instances`, `cores`, `gigabytes`, `port`, …). RAM is
 * `ram` (MiB, as nova counts it) or `ram_gib` / `RAM (GiB)`.
 */
import { z } from 'zod';
import { QUOTA_KEYS, type QuotaPresets } from '../quotas/presets.js';
import { parseQuotaInput, wholeNumber } from '../quotas/resolve.js';
import type { QuotaKey, QuotaValues } from '../quotas/types.js';
import type { HeaderNames } from './columns.js';
import { cleanLine, cutAtWord, isBlankRow, LIMITS, rowKey } from './parse.js';

export interface QuotaRequest {
  /** Stable key of the row (Timestamp + Email), as for applications. */
  id: string;
  submittedAt: string;
  /** Lower-cased. */
  email: string;
  /** The project's name as typed. */
  project: string;
  /** A preset name, when the row named one. */
  preset: string | undefined;
  /** The values the row gave key by key (ram in MiB). */
  values: QuotaValues;
  /** What is asked in all: the preset's values with the row's own values over them. */
  requested: QuotaValues;
  justification: string;
}

export const QUOTA_REQUEST_HEADERS = {
  project: 'Project',
  preset: 'Preset',
  justification: 'Justification',
} as const;

/** Column index of each field the tab has; `ramGib` is a RAM column counted in GiB. */
export interface QuotaRequestColumns {
  timestamp: number;
  email: number;
  project: number;
  preset: number | undefined;
  justification: number | undefined;
  status: number | undefined;
  keys: Partial<Record<QuotaKey, number>>;
  ramGib: number | undefined;
}

export type QuotaColumnResult = { ok: true; columns: QuotaRequestColumns } | { ok: false; missing: string[] };

const loose = (text: string) => text.toLowerCase().replace(/[^a-z0-9]/g, '');
const JUSTIFICATION_MAX = 2000;
const MIB_PER_GIB = 1024;

/** Finds the columns by header text (case, spaces and punctuation do not matter); the first match wins. */
export function mapQuotaColumns(headerRow: readonly string[], names: HeaderNames): QuotaColumnResult {
  const normalized = headerRow.map((cell) => loose(cell ?? ''));
  const find = (header: string) => {
    const index = normalized.indexOf(loose(header));
    return index < 0 ? undefined : index;
  };
  const timestamp = find(names.timestamp);
  const email = find(names.email);
  const project = find(QUOTA_REQUEST_HEADERS.project);
  const missing = [
    ...(timestamp === undefined ? [names.timestamp] : []),
    ...(email === undefined ? [names.email] : []),
    ...(project === undefined ? [QUOTA_REQUEST_HEADERS.project] : []),
  ];
  if (timestamp === undefined || email === undefined || project === undefined) return { ok: false, missing };
  const keyColumns: Partial<Record<QuotaKey, number>> = {};
  for (const key of QUOTA_KEYS) {
    const index = find(key);
    if (index !== undefined) keyColumns[key] = index;
  }
  return {
    ok: true,
    columns: {
      timestamp,
      email,
      project,
      preset: find(QUOTA_REQUEST_HEADERS.preset),
      justification: find(QUOTA_REQUEST_HEADERS.justification),
      status: find(names.status),
      keys: keyColumns,
      ramGib: find('ram_gib') ?? find('RAM (GiB)'),
    },
  };
}

/** The key of a row from its Timestamp and Email cells alone: cheap, for telling seen rows apart. */
export function quotaRowKey(cells: readonly string[], columns: QuotaRequestColumns): string {
  return rowKey(cells[columns.timestamp] ?? '', cells[columns.email] ?? '');
}

export type ParsedQuotaRow =
  | { kind: 'request'; rowNumber: number; request: QuotaRequest }
  | { kind: 'invalid'; rowNumber: number; key: string; email: string; reasons: string[] }
  | { kind: 'blank'; rowNumber: number };

const emailSchema = z.email();

export function parseQuotaRow(
  cells: readonly string[],
  rowNumber: number,
  columns: QuotaRequestColumns,
  names: HeaderNames,
  presets: QuotaPresets,
): ParsedQuotaRow {
  if (isBlankRow(cells)) return { kind: 'blank', rowNumber };
  const cell = (index: number | undefined) =>
    index === undefined ? '' : cleanLine(String(cells[index] ?? ''));
  const timestamp = cell(columns.timestamp);
  const email = cell(columns.email).toLowerCase();
  const key = rowKey(timestamp, email);
  const reasons: string[] = [];
  if (email === '') reasons.push(`${names.email} is empty`);
  else if (email.length > LIMITS.email || !emailSchema.safeParse(email).success)
    reasons.push(`${names.email} is not a valid email address`);
  if (timestamp.length > LIMITS.timestamp) reasons.push(`${names.timestamp} is too long`);
  const project = cell(columns.project);
  if (project === '') reasons.push(`${QUOTA_REQUEST_HEADERS.project} is empty`);
  else if (project.length > LIMITS.projectName)
    reasons.push(`${QUOTA_REQUEST_HEADERS.project} is too long (at most ${LIMITS.projectName} characters)`);

  const presetText = cell(columns.preset);
  const preset =
    presetText === ''
      ? undefined
      : Object.keys(presets).find((name) => name.toLowerCase() === presetText.toLowerCase());
  if (presetText !== '' && preset === undefined) {
    reasons.push(
      `${QUOTA_REQUEST_HEADERS.preset} "${presetText.slice(0, 40)}" is not a preset; the presets are ${Object.keys(presets).join(', ')}`,
    );
  }

  const fields: Record<string, string> = {};
  for (const [name, index] of Object.entries(columns.keys)) fields[name] = cell(index);
  const input = parseQuotaInput(fields);
  const values: QuotaValues = input.ok ? { ...input.values } : {};
  if (!input.ok) {
    for (const [name, message] of Object.entries(input.errors)) reasons.push(`${name}: ${message}`);
  }
  const ramGib = cell(columns.ramGib);
  if (ramGib !== '') {
    // The same rule as every other quota field: digits only, then a safe number of MiB.
    const gib = wholeNumber(ramGib);
    if (gib === undefined || !Number.isSafeInteger(gib * MIB_PER_GIB))
      reasons.push('ram_gib: Enter a whole number, or -1 for unlimited');
    else if (values.ram !== undefined) reasons.push('give RAM once: ram (MiB) or ram_gib, not both');
    else values.ram = gib === -1 ? -1 : gib * MIB_PER_GIB;
  }
  if (presetText === '' && Object.keys(values).length === 0 && reasons.length === 0) {
    reasons.push(`no quota asked: fill in ${QUOTA_REQUEST_HEADERS.preset} or at least one quota column`);
  }
  if (reasons.length > 0) return { kind: 'invalid', rowNumber, key, email, reasons };

  const justification = cutAtWord(
    String(columns.justification === undefined ? '' : (cells[columns.justification] ?? '')).trim(),
    JUSTIFICATION_MAX,
  );
  const base = preset === undefined ? {} : (presets[preset] ?? {});
  return {
    kind: 'request',
    rowNumber,
    request: {
      id: key,
      submittedAt: timestamp,
      email,
      project,
      preset,
      values,
      requested: { ...base, ...values },
      justification,
    },
  };
}
