/**
 * The applications tab and the admitted tab: reading the applications (the header and key columns
 * first, then only the new rows), appending approved users to the admitted tab, and writing a
 * status back to an applicant's row, through the Sheets client.
 *
 * Rows move: people sort, insert and delete rows by hand. A row is therefore found again by its key
 * (Timestamp + Email) in a fresh read right before each write, never by a number kept from earlier.
 */

import { KaizenError } from '../../platform/errors.js';
import { columnLetter, quoteTab } from '../../sheets/a1-notation.js';
import { cellText, type SheetCell } from '../../sheets/cells.js';
import { rowSpans } from '../../sheets/row-ranges.js';
import type { SheetsClient } from '../../sheets/sheets.js';
import type { SheetWriter } from '../provision/ports.js';
import type { Applicant } from './applicant.js';
import { type ColumnMap, type HeaderNames, mapColumns, normalizeHeader } from './columns.js';
import { pinFromCell, rowKey } from './parse.js';

/** Headers the admitted tab adds after the applications tab's own. */
export const ADMITTED_EXTRA_HEADERS = [
  'Approved at',
  'Approved by',
  'Keystone project id',
  'Keystone user id',
] as const;

export interface ApplicationsSheetOptions {
  applicationsTab: string;
  admittedTab: string;
  names: HeaderNames;
}

/**
 * The two tabs the bot works with: applications (read, status written back) and admitted (rows
 * appended). It is the `SheetWriter` the provisioning workflow writes outcomes through.
 */
export class ApplicationsSheet implements SheetWriter {
  constructor(
    readonly client: SheetsClient,
    readonly options: ApplicationsSheetOptions,
  ) {}

  /** The applications tab, header row first: one request. A PIN Sheets made a number gets its zeros back. */
  async readApplications(): Promise<string[][]> {
    const cells = await this.client.readTypedTab(this.options.applicationsTab);
    const header = (cells[0] ?? []).map(cellText);
    const mapped = mapColumns(header, this.options.names);
    const pin = mapped.ok ? mapped.columns.pin : undefined;
    return cells.map((row, index) => textRow(row, index > 0 ? pin : undefined));
  }

  /**
   * The first read of a poll: the header row and the Timestamp and Email columns (and PIN, with
   * `withPin`), in one `values.batchGet`, column by column; the rest of a row is read with
   * `readRows` for the rows that turn out new. A 100,000-row sheet is then 300,000 cells to fetch
   * and hold instead of 1.8 million, in three arrays instead of 100,000.
   *
   * Where the columns are comes from `header`, the header row of an earlier whole read. Without
   * one, or when the sheet's header is no longer that, the whole tab is read instead (a second
   * request at most) and the answer says so.
   */
  async readApplicationKeys(options: {
    withPin: boolean;
    header: readonly string[] | undefined;
  }): Promise<ApplicationsRead> {
    const known = this.knownHeader(options.header);
    if (known === undefined) return { whole: true, rows: await this.readApplications() };
    const tab = this.options.applicationsTab;
    const { timestamp, email, pin } = known.columns;
    const columns = options.withPin ? [timestamp, email, pin] : [timestamp, email];
    const [headerRows = [], ...answered] = await this.client.readTypedRanges(
      [`${quoteTab(tab)}!1:1`, ...columns.map((column) => columnRange(tab, column))],
      tab,
      'COLUMNS',
    );
    // The header row read by column: one single-cell list per column.
    const header = headerRows.map((column) => cellText(column[0] ?? ''));
    while (header.length > 0 && header.at(-1) === '') header.pop();
    if (!sameCells(header, known.header)) return { whole: true, rows: await this.readApplications() };
    const [timestamps = [], emails = [], pins] = answered.map((cells) => cells[0] ?? []);
    return {
      whole: false,
      header,
      timestamps: timestamps.map(cellText),
      emails: emails.map(cellText),
      pins: pins?.map(pinFromCell),
    };
  }

  /**
   * Whole rows by their 1-based sheet row numbers, in one `values.batchGet` (neighbouring rows
   * share a range); a row past the end of the sheet comes back empty. Cells as `readApplications`
   * gives them.
   */
  async readRows(rowNumbers: readonly number[], header: readonly string[]): Promise<Map<number, string[]>> {
    const found = new Map<number, string[]>();
    if (rowNumbers.length === 0) return found;
    const tab = this.options.applicationsTab;
    const pin = this.knownHeader(header)?.columns.pin;
    const spans = rowSpans(rowNumbers, MAX_RANGES_PER_READ);
    const answered = await this.client.readTypedRanges(
      spans.map((span) => `${quoteTab(tab)}!${span.first}:${span.last}`),
      tab,
    );
    const wanted = new Set(rowNumbers);
    spans.forEach((span, at) => {
      const rows = answered[at] ?? [];
      for (let row = span.first; row <= span.last; row++) {
        if (wanted.has(row)) found.set(row, textRow(rows[row - span.first] ?? [], pin));
      }
    });
    return found;
  }

  private knownHeader(header: readonly string[] | undefined): KnownHeader | undefined {
    if (header === undefined) return undefined;
    const mapped = mapColumns(header, this.options.names);
    return mapped.ok ? { header, columns: keyColumnsOf(mapped.columns) } : undefined;
  }

  /**
   * Appends one admitted row: the applicant's row as it was at intake (PIN cell empty) followed by
   * Approved at, Approved by, Keystone project id and Keystone user id. An empty tab gets a header
   * row first (the applications headers + those four), a missing tab is created, and a row already
   * there for the same applicant and Keystone ids is not added again, so a retried step writes one line.
   *
   * Several approvals (in this process or on other replicas) may find the tab missing or empty at
   * once: creating a tab that another run has just created counts as done, and the header is
   * written into row 1 rather than appended, so every run writes the same cells and the sheet ends
   * with one header whoever came first.
   */
  async appendAdmitted(row: string[]): Promise<void> {
    const { admittedTab, applicationsTab } = this.options;
    let existing: string[][];
    try {
      existing = await this.client.readTab(admittedTab);
    } catch (error) {
      if (!(error instanceof KaizenError && error.kind === 'not_found' && error.status === 400)) throw error;
      await this.client.addTab(admittedTab);
      existing = [];
    }
    const hasContent = existing.some((cells) => cells.some((cell) => cell.trim() !== ''));
    if (!hasContent) {
      const width = Math.max(0, row.length - ADMITTED_EXTRA_HEADERS.length);
      const header =
        (await this.client.readRange(`${quoteTab(applicationsTab)}!1:1`, applicationsTab))[0] ?? [];
      const admittedHeader = [
        ...Array.from({ length: width }, (_, index) => header[index] ?? ''),
        ...ADMITTED_EXTRA_HEADERS,
      ];
      await this.client.writeCells(admittedTab, [
        {
          range: `${quoteTab(admittedTab)}!A1:${columnLetter(admittedHeader.length - 1)}1`,
          values: [admittedHeader],
        },
      ]);
    } else if (this.alreadyAdmitted(existing, row)) {
      return;
    }
    await this.client.append(admittedTab, [row]);
  }

  /**
   * Writes `status` into the applicant's row of the applications tab, in a `Status` column (added
   * at the end of the header when there is none). A row deleted by hand is nothing to write to.
   */
  async writeStatus(applicant: Pick<Applicant, 'submittedAt' | 'email'>, status: string): Promise<void> {
    await this.writeStatusIfFound(applicant, status);
  }

  /** As `writeStatus`; answers false when the row is no longer in the sheet (deleted by hand). */
  async writeStatusIfFound(
    applicant: Pick<Applicant, 'submittedAt' | 'email'>,
    status: string,
  ): Promise<boolean> {
    const tab = this.options.applicationsTab;
    const rows = await this.client.readTab(tab);
    const header = rows[0] ?? [];
    const index = this.findRow(rows, applicant);
    if (index === undefined) return false;
    const wanted = normalizeHeader(this.options.names.status);
    let statusColumn = header.findIndex((cell) => normalizeHeader(cell) === wanted);
    const data: { range: string; values: string[][] }[] = [];
    if (statusColumn < 0) {
      statusColumn = header.length;
      data.push({
        range: `${quoteTab(tab)}!${columnLetter(statusColumn)}1`,
        values: [[this.options.names.status]],
      });
    }
    data.push({
      range: `${quoteTab(tab)}!${columnLetter(statusColumn)}${index + 1}`,
      values: [[status]],
    });
    await this.client.writeCells(tab, data);
    return true;
  }

  /**
   * Blanks the PIN cells (SHEET_CLEAR_PIN) of these rows (1-based sheet row numbers), found by
   * the poll's own read of a moment ago under `header`: a fresh read here would add a read to the
   * poll, and the PINs cleared are those of rows whose hash is already stored.
   */
  async clearPins(rowNumbers: readonly number[], header: readonly string[]): Promise<number> {
    const tab = this.options.applicationsTab;
    const mapped = mapColumns(header, this.options.names);
    if (!mapped.ok || mapped.columns.pin === undefined) return 0;
    const letter = columnLetter(mapped.columns.pin);
    const data = rowNumbers.map((row) => ({ range: `${quoteTab(tab)}!${letter}${row}`, values: [['']] }));
    await this.client.writeCells(tab, data);
    return data.length;
  }

  /** Same applicant (Timestamp + Email) and the same Keystone project and user ids. */
  private alreadyAdmitted(existing: readonly string[][], row: readonly string[]): boolean {
    const ids = row.slice(-2).join('\u0000');
    const { timestamp, email } = this.identityColumns(existing[0] ?? []);
    const sameIds = (cells: readonly string[]) =>
      cells.slice(row.length - 2, row.length).join('\u0000') === ids;
    if (timestamp < 0 || email < 0) {
      return existing.some(
        (cells) => cells.length === row.length && cells.every((cell, i) => cell === row[i]),
      );
    }
    const wanted = rowKey(row[timestamp] ?? '', row[email] ?? '');
    return existing.some(
      (cells, index) =>
        index > 0 && rowKey(cells[timestamp] ?? '', cells[email] ?? '') === wanted && sameIds(cells),
    );
  }

  /** 0-based index of the row (header included) whose Timestamp + Email make this applicant's key. */
  private findRow(
    rows: readonly string[][],
    applicant: Pick<Applicant, 'submittedAt' | 'email'>,
  ): number | undefined {
    const { timestamp, email } = this.identityColumns(rows[0] ?? []);
    if (timestamp < 0 || email < 0) return undefined;
    const wanted = rowKey(applicant.submittedAt, applicant.email);
    for (let index = 1; index < rows.length; index++) {
      const row = rows[index] ?? [];
      if (rowKey(row[timestamp] ?? '', row[email] ?? '') === wanted) return index;
    }
    return undefined;
  }

  private identityColumns(headerRow: readonly string[]): { timestamp: number; email: number } {
    const header = headerRow.map(normalizeHeader);
    return {
      timestamp: header.indexOf(normalizeHeader(this.options.names.timestamp)),
      email: header.indexOf(normalizeHeader(this.options.names.email)),
    };
  }
}

/**
 * What a poll's first read returns: the whole tab (header row first), or the header and the key
 * columns, each listing the data rows from row 2 down (a column's trailing blanks left out).
 */
export type ApplicationsRead =
  | { whole: true; rows: string[][] }
  | {
      whole: false;
      header: string[];
      timestamps: string[];
      emails: string[];
      /** Only when asked for (to find the PIN cells still to blank). */
      pins: string[] | undefined;
    };

/** The columns a row is told by; PIN too, to find the PIN cells still to blank. */
const KEY_FIELDS = ['timestamp', 'email', 'pin'] as const;

/** Ranges in one batchGet: they travel in the URL, which Google caps at a few kilobytes. */
const MAX_RANGES_PER_READ = 40;

type KeyColumns = Record<(typeof KEY_FIELDS)[number], number>;

interface KnownHeader {
  header: readonly string[];
  columns: KeyColumns;
}

function keyColumnsOf(columns: ColumnMap): KeyColumns {
  const { timestamp = 0, email = 0, pin = 0 } = columns;
  return { timestamp, email, pin };
}

function columnRange(tab: string, column: number): string {
  const letter = columnLetter(column);
  return `${quoteTab(tab)}!${letter}2:${letter}`;
}

function sameCells(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((cell, index) => cell === b[index]);
}

/** A row's cells as text; the PIN column's number gets its leading zeros back. */
function textRow(cells: readonly SheetCell[], pin: number | undefined): string[] {
  return cells.map((cell, column) => (column === pin ? pinFromCell(cell) : cellText(cell)));
}
