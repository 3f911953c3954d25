/**
 * The Google Sheets side of intake: reading the applications tab, appending approved users to the
 * admitted tab, and writing a status back to an applicant's row.
 *
 * Authentication is a self-signed JWT from the service-account key (no token endpoint involved).
 * gaxios retries GET and PUT on 429/5xx but never POST, and every write here is a POST (append,
 * batchUpdate), so writes carry their own bounded retry with backoff.
 *
 * Rows move: people sort, insert and delete rows by hand. A row is therefore found again by its key
 * (Timestamp + Email) in a fresh read right before each write, never by a number kept from earlier.
 */
import { readFileSync } from 'node:fs';
import { auth, sheets, type sheets_v4 } from '@googleapis/sheets';
import { z } from 'zod';
import { KaizenError } from '../errors.js';
import type { Logger } from '../log.js';
import type { SheetWriter } from '../provision/ports.js';
import type { Applicant } from './applicant.js';
import {
  type ColumnMap,
  columnLetter,
  type HeaderNames,
  mapColumns,
  normalizeHeader,
  quoteTab,
} from './columns.js';
import { cellText, pinFromCell, rowKey, type SheetCell } from './parse.js';
import { rowSpans } from './row-ranges.js';

const SCOPES = ['https://www.googleapis.com/auth/spreadsheets'];

function toSheetCell(value: unknown): SheetCell {
  return typeof value === 'number' || typeof value === 'boolean' ? value : String(value ?? '');
}

/** Headers the admitted tab adds after the applications tab's own. */
export const ADMITTED_EXTRA_HEADERS = [
  'Approved at',
  'Approved by',
  'Keystone project id',
  'Keystone user id',
] as const;

const keyFileSchema = z.object({
  client_email: z.string().min(1),
  private_key: z.string().min(1),
  private_key_id: z.string().optional(),
});

export interface SheetsClientOptions {
  credentialsFile: string;
  spreadsheetId: string;
  /** Root of the API, e.g. https://sheets.googleapis.com/ (a fake in tests). */
  apiUrl: string;
  log: Logger;
  timeoutMs?: number;
  /** Attempts for a write (first try included), and the first backoff delay. */
  writeAttempts?: number;
  retryBaseMs?: number;
}

/** Thin typed access to one spreadsheet's values, with readable errors. */
export class SheetsClient {
  readonly serviceAccount: string;
  private readonly api: sheets_v4.Sheets;
  private readonly spreadsheetId: string;
  private readonly log: Logger;
  private readonly writeAttempts: number;
  private readonly retryBaseMs: number;

  constructor(options: SheetsClientOptions) {
    const key = readKeyFile(options.credentialsFile);
    const jwt = new auth.JWT({
      email: key.client_email,
      key: key.private_key,
      keyId: key.private_key_id,
      scopes: SCOPES,
    });
    // Sign our own JWTs instead of exchanging them at Google's token endpoint: one moving part less.
    jwt.useJWTAccessWithScope = true;
    this.api = sheets({
      version: 'v4',
      auth: jwt,
      rootUrl: options.apiUrl,
      timeout: options.timeoutMs ?? 15_000,
    });
    this.serviceAccount = key.client_email;
    this.spreadsheetId = options.spreadsheetId;
    this.log = options.log;
    this.writeAttempts = options.writeAttempts ?? 5;
    this.retryBaseMs = options.retryBaseMs ?? 1_000;
  }

  /** The used range of a tab, one request; rows come with trailing empty cells trimmed. */
  async readTab(tab: string): Promise<string[][]> {
    return this.readRange(quoteTab(tab), tab);
  }

  async readRange(range: string, tab: string): Promise<string[][]> {
    return (await this.readValues(range, tab, 'FORMATTED_VALUE')).map((row) => row.map(cellText));
  }

  /**
   * A tab's cells as the sheet holds them: numbers and booleans typed, dates as the sheet shows
   * them. Forms turns an answer like `0123` into the number 123, which only the type tells apart
   * from the text `123`.
   */
  async readTypedTab(tab: string): Promise<SheetCell[][]> {
    return this.readValues(quoteTab(tab), tab, 'UNFORMATTED_VALUE');
  }

  /**
   * Several ranges of one tab in one request (`values.batchGet`), cells typed as in
   * `readTypedTab`; one list of rows (or of columns, with COLUMNS) per range, in the order asked.
   */
  async readTypedRanges(
    ranges: readonly string[],
    tab: string,
    majorDimension: 'ROWS' | 'COLUMNS' = 'ROWS',
  ): Promise<SheetCell[][][]> {
    try {
      const response = await this.api.spreadsheets.values.batchGet({
        spreadsheetId: this.spreadsheetId,
        ranges: [...ranges],
        majorDimension,
        valueRenderOption: 'UNFORMATTED_VALUE',
        dateTimeRenderOption: 'FORMATTED_STRING',
      });
      const answered = response.data.valueRanges ?? [];
      return ranges.map((_, index) => {
        const rows: unknown[][] = answered[index]?.values ?? [];
        return rows.map((row) => row.map(toSheetCell));
      });
    } catch (error) {
      throw this.explain(error, `read the tab "${tab}"`, tab);
    }
  }

  private async readValues(
    range: string,
    tab: string,
    valueRenderOption: 'FORMATTED_VALUE' | 'UNFORMATTED_VALUE',
  ): Promise<SheetCell[][]> {
    try {
      const response = await this.api.spreadsheets.values.get({
        spreadsheetId: this.spreadsheetId,
        range,
        valueRenderOption,
        dateTimeRenderOption: 'FORMATTED_STRING',
      });
      const rows: unknown[][] = response.data.values ?? [];
      return rows.map((row) => row.map(toSheetCell));
    } catch (error) {
      throw this.explain(error, `read the tab "${tab}"`, tab);
    }
  }

  /** Appends rows below the tab's table. RAW: nothing we write is evaluated as a formula. */
  async append(tab: string, rows: string[][]): Promise<void> {
    await this.write(`append to the tab "${tab}"`, tab, () =>
      this.api.spreadsheets.values.append(
        {
          spreadsheetId: this.spreadsheetId,
          range: `${quoteTab(tab)}!A1`,
          valueInputOption: 'RAW',
          insertDataOption: 'INSERT_ROWS',
          requestBody: { values: rows },
        },
        { retry: false },
      ),
    );
  }

  /** Writes several ranges in one request. */
  async writeCells(tab: string, data: { range: string; values: string[][] }[]): Promise<void> {
    if (data.length === 0) return;
    await this.write(`write to the tab "${tab}"`, tab, () =>
      this.api.spreadsheets.values.batchUpdate(
        {
          spreadsheetId: this.spreadsheetId,
          requestBody: { valueInputOption: 'RAW', data },
        },
        { retry: false },
      ),
    );
  }

  async addTab(tab: string): Promise<void> {
    await this.write(`create the tab "${tab}"`, tab, () =>
      this.api.spreadsheets.batchUpdate(
        {
          spreadsheetId: this.spreadsheetId,
          requestBody: { requests: [{ addSheet: { properties: { title: tab } } }] },
        },
        { retry: false },
      ),
    );
  }

  private async write(what: string, tab: string, call: () => Promise<unknown>): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await call();
        return;
      } catch (error) {
        const explained = this.explain(error, what, tab);
        if (explained.kind !== 'unreachable' || attempt >= this.writeAttempts) throw explained;
        const delay = backoff(attempt, this.retryBaseMs, retryAfterMs(error));
        this.log.warn({ err: explained, attempt, delayMs: delay }, `sheets: could not ${what}; trying again`);
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
    }
  }

  /** A KaizenError an admin can act on; `unreachable` means "try again later". */
  private explain(error: unknown, what: string, tab: string): KaizenError {
    const status = statusOf(error);
    const options = { service: 'sheets', status, cause: error };
    if (status === 429) {
      return new KaizenError(
        'unreachable',
        `Google Sheets is rate-limiting us, so we could not ${what}; it will be tried again.`,
        options,
      );
    }
    if (status !== undefined && status >= 500) {
      return new KaizenError(
        'unreachable',
        `Google Sheets answered ${status}, so we could not ${what}; it will be tried again.`,
        options,
      );
    }
    if (status === 401 || status === 403) {
      return new KaizenError(
        'forbidden',
        `Google refused access, so we could not ${what}: share the spreadsheet with ${this.serviceAccount} as an editor.`,
        options,
      );
    }
    if (status === 404) {
      return new KaizenError(
        'not_found',
        `There is no spreadsheet with the id ${this.spreadsheetId}: check GOOGLE_SHEET_ID.`,
        options,
      );
    }
    if (status === 400 && /unable to parse range/i.test(errorText(error))) {
      return new KaizenError('not_found', `The spreadsheet has no tab named "${tab}".`, options);
    }
    if (status === undefined) {
      return new KaizenError(
        'unreachable',
        `Google Sheets did not answer, so we could not ${what}; it will be tried again.`,
        options,
      );
    }
    return new KaizenError('upstream', `Google Sheets refused to ${what} (HTTP ${status}).`, options);
  }
}

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
    const rows: string[][] = [];
    const hasContent = existing.some((cells) => cells.some((cell) => cell.trim() !== ''));
    if (!hasContent) {
      const width = Math.max(0, row.length - ADMITTED_EXTRA_HEADERS.length);
      const header =
        (await this.client.readRange(`${quoteTab(applicationsTab)}!1:1`, applicationsTab))[0] ?? [];
      rows.push([
        ...Array.from({ length: width }, (_, index) => header[index] ?? ''),
        ...ADMITTED_EXTRA_HEADERS,
      ]);
    } else if (this.alreadyAdmitted(existing, row)) {
      return;
    }
    rows.push(row);
    await this.client.append(admittedTab, rows);
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

function readKeyFile(path: string): z.infer<typeof keyFileSchema> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    throw new KaizenError(
      'config',
      `GOOGLE_APPLICATION_CREDENTIALS points at ${path}, which cannot be read.`,
      {
        service: 'sheets',
      },
    );
  }
  try {
    return keyFileSchema.parse(JSON.parse(text));
  } catch {
    throw new KaizenError(
      'config',
      `GOOGLE_APPLICATION_CREDENTIALS (${path}) is not a service-account JSON key: it needs client_email and private_key.`,
      { service: 'sheets' },
    );
  }
}

function statusOf(error: unknown): number | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const candidate = error as { status?: unknown; response?: { status?: unknown } };
  const status = candidate.response?.status ?? candidate.status;
  return typeof status === 'number' ? status : undefined;
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function retryAfterMs(error: unknown): number | undefined {
  const headers = (error as { response?: { headers?: unknown } })?.response?.headers;
  const value =
    headers instanceof Headers
      ? headers.get('retry-after')
      : typeof headers === 'object' && headers !== null
        ? (headers as Record<string, unknown>)['retry-after']
        : undefined;
  const seconds = Number(value);
  return Number.isFinite(seconds) && seconds > 0 ? Math.min(seconds * 1000, 60_000) : undefined;
}

/** Exponential with jitter, or the server's Retry-After when it sent one. */
function backoff(attempt: number, baseMs: number, retryAfter: number | undefined): number {
  if (retryAfter !== undefined) return retryAfter;
  const exponential = baseMs * 2 ** (attempt - 1);
  return Math.round(exponential / 2 + Math.random() * (exponential / 2));
}
