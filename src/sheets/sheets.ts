/**
 * The Google Sheets client: typed reads and writes of one spreadsheet's values, with readable
 * errors. The applications tab's rules (which rows, which columns, where a status goes) are in
 * src/domain/intake/applications-sheet.ts.
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
import { KaizenError } from '../platform/errors.js';
import type { Logger } from '../platform/log.js';
import { quoteTab } from './a1-notation.js';
import { cellText, type SheetCell } from './cells.js';

const SCOPES = ['https://www.googleapis.com/auth/spreadsheets'];

function toSheetCell(value: unknown): SheetCell {
  return typeof value === 'number' || typeof value === 'boolean' ? value : String(value ?? '');
}

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

  /** The titles of the spreadsheet's tabs: one metadata request, no cell values. */
  async tabTitles(): Promise<string[]> {
    try {
      const response = await this.api.spreadsheets.get({
        spreadsheetId: this.spreadsheetId,
        fields: 'sheets.properties.title',
      });
      return (response.data.sheets ?? []).map((sheet) => sheet.properties?.title ?? '');
    } catch (error) {
      throw this.explain(error, 'list the tabs', '');
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

  /** Creates the tab; one that exists already (another run created it a moment ago) is no error. */
  async addTab(tab: string): Promise<void> {
    await this.write(`create the tab "${tab}"`, tab, async () => {
      try {
        await this.api.spreadsheets.batchUpdate(
          {
            spreadsheetId: this.spreadsheetId,
            requestBody: { requests: [{ addSheet: { properties: { title: tab } } }] },
          },
          { retry: false },
        );
      } catch (error) {
        if (!tabExists(error)) throw error;
      }
    });
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

/** Google's answer to an addSheet whose title is taken: 400, "A sheet with the name … already exists". */
function tabExists(error: unknown): boolean {
  return statusOf(error) === 400 && /A sheet with the name .* already exists/.test(errorText(error));
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
