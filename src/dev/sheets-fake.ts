/**
 * A fake Google Sheets v4 API on 127.0.0.1 for the real `@googleapis/sheets` client
 * (`sheets({ version: 'v4', auth, rootUrl: fake.url + '/' })`). It holds one spreadsheet's tabs as
 * rows of typed cells (text, numbers, booleans, dates: what Google Forms writes), answers values and
 * metadata calls in Google's shapes (trailing empty cells and rows trimmed, ranges clipped to the
 * grid, `valueRenderOption` and `dateTimeRenderOption` honoured, errors as
 * `{ error: { code, message, status } }`), and requires a Bearer JWT signed by its own test service
 * account, or an access token it issued.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { makeServiceAccountKey, type ServiceAccountKey, verifyServiceAccountJwt } from './google-key.js';
import { closeNow, isRecord, listenLocally, readBody } from './local-http.js';

export type SheetsOperation =
  | 'spreadsheets.get'
  | 'spreadsheets.batchUpdate'
  | 'values.get'
  | 'values.batchGet'
  | 'values.update'
  | 'values.append'
  | 'values.clear'
  | 'values.batchUpdate'
  | 'token';

export interface SheetsCall {
  operation: SheetsOperation | 'unknown';
  method: string;
  /** The path as received, percent-encoding included. */
  path: string;
  spreadsheetId: string | undefined;
  /** The decoded A1 range, for calls on one range. */
  range: string | undefined;
  query: Record<string, string>;
  /** Every `ranges` parameter of a batchGet, in order (`query` keeps only the last). */
  ranges: string[];
  body: unknown;
  at: Date;
  /** How a write asked its values to be read (`RAW` or `USER_ENTERED`), from its query or body. */
  valueInputOption: string | undefined;
  /** Set when `failNext` made this call fail. */
  injectedFailure?: SheetsFailure;
}

export interface SheetsFailure {
  status: number;
  message?: string;
}

/**
 * A date-time as Sheets holds it: a serial number of days since 1899-12-30 in the spreadsheet's
 * time zone, shown through a date format. Make one with `sheetDateTime`.
 */
export interface SheetDateTime {
  kind: 'datetime';
  serial: number;
}

/**
 * One cell as the sheet holds it. A string is text (Forms writes free-text answers so, and RAW
 * writes store strings as text); a number is what Sheets made of an answer that looked like one
 * (`0123` becomes 123); a boolean a checkbox; a `SheetDateTime` a timestamp.
 */
export type SheetsCell = string | number | boolean | SheetDateTime;

/** Days between the Sheets epoch (1899-12-30) and the Unix epoch. */
const SERIAL_UNIX_EPOCH = 25_569;
const MS_PER_DAY = 86_400_000;

/** A date-time cell for the wall-clock time given (month 1-12), as Forms writes its Timestamp. */
export function sheetDateTime(
  year: number,
  month: number,
  day: number,
  hour = 0,
  minute = 0,
  second = 0,
): SheetDateTime {
  const ms = Date.UTC(year, month - 1, day, hour, minute, second);
  return { kind: 'datetime', serial: ms / MS_PER_DAY + SERIAL_UNIX_EPOCH };
}

export interface SheetsFakeOptions {
  spreadsheetId?: string;
  title?: string;
}

interface Tab {
  sheetId: number;
  title: string;
  rows: SheetsCell[][];
  rowCount: number;
  columnCount: number;
}

/** A resolved A1 range: 0-based, end exclusive; an absent end runs to the edge of the grid. */
interface GridRange {
  tab: Tab;
  startRow: number;
  startCol: number;
  endRow: number | undefined;
  endCol: number | undefined;
}

class SheetsApiError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

const STATUS_NAMES: Record<number, string> = {
  400: 'INVALID_ARGUMENT',
  401: 'UNAUTHENTICATED',
  403: 'PERMISSION_DENIED',
  404: 'NOT_FOUND',
  429: 'RESOURCE_EXHAUSTED',
  500: 'INTERNAL',
  503: 'UNAVAILABLE',
};

const DEFAULT_MESSAGES: Record<number, string> = {
  429: "Quota exceeded for quota metric 'Read requests' and limit 'Read requests per minute per user' of service 'sheets.googleapis.com'.",
  500: 'Internal error encountered.',
  503: 'The service is currently unavailable.',
};

const WRITE_SCOPES = [
  'https://www.googleapis.com/auth/spreadsheets',
  'https://www.googleapis.com/auth/drive',
  'https://www.googleapis.com/auth/drive.file',
];
const READ_SCOPES = [
  ...WRITE_SCOPES,
  'https://www.googleapis.com/auth/spreadsheets.readonly',
  'https://www.googleapis.com/auth/drive.readonly',
];

const DEFAULT_ROW_COUNT = 1000;
const DEFAULT_COLUMN_COUNT = 26;

export class SheetsFake {
  readonly spreadsheetId: string;
  readonly title: string;
  /** Every request, in order, including token exchanges and failed ones. */
  readonly calls: SheetsCall[] = [];

  private server: Server | undefined;
  private baseUrl: string | undefined;
  private serviceAccount: ServiceAccountKey | undefined;
  private readonly tabs: Tab[] = [];
  private nextSheetId = 0;
  /** Access tokens issued by `POST /token`, with the scopes they carry. */
  private readonly accessTokens = new Map<string, { scopes: string[]; expiresAt: number }>();
  private readonly failures: { operation: SheetsOperation; failure: SheetsFailure; remaining: number }[] = [];

  constructor(options: SheetsFakeOptions = {}) {
    this.spreadsheetId = options.spreadsheetId ?? 'kaizen-test-sheet';
    this.title = options.title ?? 'MOC access requests';
  }

  /** Listens on 127.0.0.1 on a free port and writes a service-account key whose token_uri is this fake. */
  async start(): Promise<this> {
    const server = createServer((request, response) => {
      this.handle(request, response).catch((error: unknown) => {
        sendError(response, 500, `Fake failure: ${String(error)}`);
      });
    });
    this.baseUrl = await listenLocally(server);
    this.server = server;
    this.serviceAccount = await makeServiceAccountKey({ tokenUri: `${this.baseUrl}/token` });
    return this;
  }

  /** `http://127.0.0.1:PORT`, without a trailing slash. */
  get url(): string {
    if (this.baseUrl === undefined) throw new Error('SheetsFake: call start() before reading url');
    return this.baseUrl;
  }

  /** The service account whose JWTs this fake accepts. */
  get key(): ServiceAccountKey {
    if (this.serviceAccount === undefined) throw new Error('SheetsFake: call start() before reading key');
    return this.serviceAccount;
  }

  /** Path of the service-account JSON file, for `GOOGLE_APPLICATION_CREDENTIALS`. */
  get keyFile(): string {
    return this.key.path;
  }

  async close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (server !== undefined) {
      await closeNow(server);
    }
    await this.serviceAccount?.remove();
  }

  /** Creates or replaces a tab with these rows (row 1 first); cells may be typed (numbers, dates). */
  setTab(title: string, rows: readonly (readonly SheetsCell[])[]): void {
    const copy = rows.map((row) => [...row]);
    const existing = this.tabs.find((tab) => tab.title === title);
    const rowCount = Math.max(DEFAULT_ROW_COUNT, copy.length);
    const columnCount = Math.max(DEFAULT_COLUMN_COUNT, ...copy.map((row) => row.length));
    if (existing !== undefined) {
      existing.rows = copy;
      existing.rowCount = rowCount;
      existing.columnCount = columnCount;
      return;
    }
    this.tabs.push({ sheetId: this.allocateSheetId(), title, rows: copy, rowCount, columnCount });
  }

  /** A copy of a tab's rows as the sheet shows them (not trimmed), or undefined when there is no such tab. */
  tab(title: string): string[][] | undefined {
    return this.tabs.find((tab) => tab.title === title)?.rows.map((row) => row.map(formattedValue));
  }

  /** A copy of a tab's cells as stored, types included. */
  cells(title: string): SheetsCell[][] | undefined {
    return this.tabs.find((tab) => tab.title === title)?.rows.map((row) => [...row]);
  }

  /** Titles in the order the sheet shows them. */
  tabTitles(): string[] {
    return this.tabs.map((tab) => tab.title);
  }

  /** Makes the next `times` calls of `operation` fail with this HTTP status. */
  failNext(operation: SheetsOperation, failure: SheetsFailure, times = 1): void {
    this.failures.push({ operation, failure, remaining: times });
  }

  /** Forgets calls, tabs, issued tokens and pending failures; the service account stays. */
  reset(): void {
    this.calls.length = 0;
    this.tabs.length = 0;
    this.nextSheetId = 0;
    this.accessTokens.clear();
    this.failures.length = 0;
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    const rawBody = await readBody(request);
    const route = matchRoute(request.method ?? 'GET', url.pathname);
    const body = parseBody(request.headers['content-type'], rawBody);
    const inBody = isRecord(body) ? body.valueInputOption : undefined;
    const call: SheetsCall = {
      operation: route?.operation ?? 'unknown',
      method: request.method ?? 'GET',
      path: url.pathname,
      spreadsheetId: route?.spreadsheetId,
      range: route?.range,
      query: Object.fromEntries(url.searchParams),
      ranges: url.searchParams.getAll('ranges'),
      body,
      valueInputOption:
        url.searchParams.get('valueInputOption') ?? (typeof inBody === 'string' ? inBody : undefined),
      at: new Date(),
    };
    this.calls.push(call);
    if (route === undefined) {
      sendError(response, 404, `Method not found: ${request.method} ${url.pathname}`);
      return;
    }
    const failure = this.takeFailure(route.operation);
    if (failure !== undefined) {
      call.injectedFailure = failure;
      sendError(
        response,
        failure.status,
        failure.message ?? DEFAULT_MESSAGES[failure.status] ?? 'Injected failure.',
      );
      return;
    }
    try {
      if (route.operation === 'token') {
        const exchange = this.exchangeToken(call.body);
        sendJson(response, exchange.status, exchange.body);
        return;
      }
      this.authorize(request.headers.authorization, route.operation);
      if (route.spreadsheetId !== this.spreadsheetId) {
        throw new SheetsApiError(404, 'Requested entity was not found.');
      }
      sendJson(response, 200, this.answer(route.operation, route.range, url.searchParams, call.body));
    } catch (error) {
      if (error instanceof SheetsApiError) {
        sendError(response, error.code, error.message);
        return;
      }
      throw error;
    }
  }

  private takeFailure(operation: SheetsOperation): SheetsFailure | undefined {
    const index = this.failures.findIndex((entry) => entry.operation === operation && entry.remaining > 0);
    const entry = this.failures[index];
    if (entry === undefined) return undefined;
    entry.remaining -= 1;
    if (entry.remaining === 0) this.failures.splice(index, 1);
    return entry.failure;
  }

  /** Accepts a self-signed JWT from the test service account, or an access token from `/token`. */
  private authorize(header: string | undefined, operation: SheetsOperation): void {
    const token = header?.match(/^Bearer\s+(\S+)$/i)?.[1];
    if (token === undefined) {
      throw new SheetsApiError(
        401,
        'Request is missing required authentication credential. Expected OAuth 2 access token, login cookie or other valid authentication credential.',
      );
    }
    let scopes: string[];
    const issued = this.accessTokens.get(token);
    if (issued !== undefined && issued.expiresAt > Date.now()) {
      scopes = issued.scopes;
    } else {
      const check = verifyServiceAccountJwt(token, this.key);
      if (!check.ok) {
        throw new SheetsApiError(
          401,
          `Request had invalid authentication credentials (${check.reason}). Expected OAuth 2 access token, login cookie or other valid authentication credential.`,
        );
      }
      if (check.claims.scope !== undefined) {
        scopes = check.claims.scope.split(' ');
      } else if (
        check.claims.aud?.startsWith('https://sheets.googleapis.com') ||
        check.claims.aud?.startsWith(this.url)
      ) {
        // A self-signed JWT with the API as audience and no scope grants the API's full access.
        scopes = WRITE_SCOPES;
      } else {
        throw new SheetsApiError(
          401,
          'Request had invalid authentication credentials (no scope and no audience).',
        );
      }
    }
    const needed =
      operation === 'values.get' || operation === 'values.batchGet' || operation === 'spreadsheets.get'
        ? READ_SCOPES
        : WRITE_SCOPES;
    if (!scopes.some((scope) => needed.includes(scope))) {
      throw new SheetsApiError(403, 'Request had insufficient authentication scopes.');
    }
  }

  /**
   * The JWT-bearer grant (RFC 7523) a service account uses at its key file's token_uri; errors
   * are OAuth's `{ error, error_description }`, not the API's error shape.
   */
  private exchangeToken(body: unknown): { status: number; body: Record<string, unknown> } {
    const form = isRecord(body) ? body : {};
    if (
      form.grant_type !== 'urn:ietf:params:oauth:grant-type:jwt-bearer' ||
      typeof form.assertion !== 'string'
    ) {
      return {
        status: 400,
        body: { error: 'unsupported_grant_type', error_description: 'Invalid grant_type.' },
      };
    }
    const check = verifyServiceAccountJwt(form.assertion, this.key);
    if (!check.ok) return { status: 400, body: { error: 'invalid_grant', error_description: check.reason } };
    if (check.claims.aud !== `${this.url}/token`) {
      return { status: 400, body: { error: 'invalid_grant', error_description: 'Invalid JWT audience.' } };
    }
    const accessToken = `ya29.fake-${randomBytes(24).toString('base64url')}`;
    this.accessTokens.set(accessToken, {
      scopes: (check.claims.scope ?? '').split(' ').filter((scope) => scope !== ''),
      expiresAt: Date.now() + 3600_000,
    });
    return { status: 200, body: { access_token: accessToken, expires_in: 3599, token_type: 'Bearer' } };
  }

  private answer(
    operation: SheetsOperation,
    range: string | undefined,
    query: URLSearchParams,
    body: unknown,
  ): Record<string, unknown> {
    const payload = isRecord(body) ? body : {};
    switch (operation) {
      case 'spreadsheets.get':
        return this.metadata();
      case 'spreadsheets.batchUpdate':
        return this.batchUpdateSpreadsheet(payload);
      case 'values.get':
        return this.readRange(this.resolve(range ?? ''), renderOptions(query));
      case 'values.batchGet': {
        const render = renderOptions(query);
        return {
          spreadsheetId: this.spreadsheetId,
          valueRanges: query.getAll('ranges').map((one) => this.readRange(this.resolve(one), render)),
        };
      }
      case 'values.update': {
        const input = requireValueInputOption(query.get('valueInputOption'));
        return this.writeRange(this.resolve(range ?? ''), valuesOf(payload), input);
      }
      case 'values.append': {
        const input = requireValueInputOption(query.get('valueInputOption'));
        return this.append(
          this.resolve(range ?? ''),
          valuesOf(payload),
          query.get('insertDataOption'),
          input,
        );
      }
      case 'values.clear': {
        const grid = this.resolve(range ?? '');
        this.clearRange(grid);
        return { spreadsheetId: this.spreadsheetId, clearedRange: formatRange(grid) };
      }
      case 'values.batchUpdate':
        return this.batchUpdateValues(payload);
      default:
        throw new SheetsApiError(404, `Method not found: ${operation}`);
    }
  }

  private metadata(): Record<string, unknown> {
    return {
      spreadsheetId: this.spreadsheetId,
      properties: {
        title: this.title,
        locale: 'en_US',
        autoRecalc: 'ON_CHANGE',
        timeZone: 'America/New_York',
      },
      sheets: this.tabs.map((tab, index) => ({ properties: this.sheetProperties(tab, index) })),
      spreadsheetUrl: `https://docs.google.com/spreadsheets/d/${this.spreadsheetId}/edit`,
    };
  }

  private sheetProperties(tab: Tab, index: number): Record<string, unknown> {
    return {
      sheetId: tab.sheetId,
      title: tab.title,
      index,
      sheetType: 'GRID',
      gridProperties: { rowCount: tab.rowCount, columnCount: tab.columnCount },
    };
  }

  private batchUpdateSpreadsheet(payload: Record<string, unknown>): Record<string, unknown> {
    const requests = Array.isArray(payload.requests) ? payload.requests : [];
    const replies = requests.map((request: unknown, index: number) => {
      const addSheet = isRecord(request) && isRecord(request.addSheet) ? request.addSheet : undefined;
      if (addSheet === undefined) return {};
      const properties = isRecord(addSheet.properties) ? addSheet.properties : {};
      const title = typeof properties.title === 'string' ? properties.title : `Sheet${this.tabs.length + 1}`;
      if (this.tabs.some((tab) => tab.title.toLowerCase() === title.toLowerCase())) {
        throw new SheetsApiError(
          400,
          `Invalid requests[${index}].addSheet: A sheet with the name "${title}" already exists. Please enter another name.`,
        );
      }
      const grid = isRecord(properties.gridProperties) ? properties.gridProperties : {};
      const tab: Tab = {
        sheetId: typeof properties.sheetId === 'number' ? properties.sheetId : this.allocateSheetId(),
        title,
        rows: [],
        rowCount: typeof grid.rowCount === 'number' ? grid.rowCount : DEFAULT_ROW_COUNT,
        columnCount: typeof grid.columnCount === 'number' ? grid.columnCount : DEFAULT_COLUMN_COUNT,
      };
      this.tabs.push(tab);
      return { addSheet: { properties: this.sheetProperties(tab, this.tabs.length - 1) } };
    });
    return { spreadsheetId: this.spreadsheetId, replies };
  }

  private batchUpdateValues(payload: Record<string, unknown>): Record<string, unknown> {
    const input = requireValueInputOption(
      typeof payload.valueInputOption === 'string' ? payload.valueInputOption : null,
    );
    const data = Array.isArray(payload.data) ? payload.data : [];
    const responses = data.map((entry: unknown) => {
      const item = isRecord(entry) ? entry : {};
      return this.writeRange(
        this.resolve(typeof item.range === 'string' ? item.range : ''),
        valuesOf(item),
        input,
      );
    });
    const sum = (field: string) =>
      responses.reduce((total, one) => total + (typeof one[field] === 'number' ? one[field] : 0), 0);
    return {
      spreadsheetId: this.spreadsheetId,
      totalUpdatedRows: sum('updatedRows'),
      totalUpdatedColumns: sum('updatedColumns'),
      totalUpdatedCells: sum('updatedCells'),
      totalUpdatedSheets: new Set(data.map((entry: unknown) => (isRecord(entry) ? entry.range : ''))).size,
      responses,
    };
  }

  /**
   * Google's answer to a read: the range clipped to the grid, values without trailing blanks, each
   * cell rendered as `render` asks (numbers as JSON numbers unless formatted, dates as serials).
   */
  private readRange(grid: GridRange, render: RenderOptions): Record<string, unknown> {
    this.requireWithinGrid(grid, grid.endRow ?? grid.startRow + 1, grid.endCol ?? grid.startCol + 1);
    const endRow = Math.min(grid.endRow ?? grid.tab.rowCount, grid.tab.rowCount);
    const endCol = Math.min(grid.endCol ?? grid.tab.columnCount, grid.tab.columnCount);
    const values: (string | number | boolean)[][] = [];
    for (let row = grid.startRow; row < endRow; row++) {
      const cells = (grid.tab.rows[row] ?? []).slice(grid.startCol, endCol);
      while (cells.length > 0 && cells.at(-1) === '') cells.pop();
      values.push(cells.map((cell) => renderCell(cell, render)));
    }
    while (values.length > 0 && values.at(-1)?.length === 0) values.pop();
    const clipped = { ...grid, endRow, endCol };
    const answer = render.major === 'COLUMNS' ? byColumn(values) : values;
    return {
      range: formatRange(clipped),
      majorDimension: render.major,
      ...(answer.length > 0 ? { values: answer } : {}),
    };
  }

  private writeRange(grid: GridRange, values: unknown[][], input: ValueInputOption): Record<string, unknown> {
    const height = values.length;
    const width = Math.max(0, ...values.map((row) => row.length));
    if (grid.endRow !== undefined && grid.startRow + height > grid.endRow) {
      throw new SheetsApiError(
        400,
        `Requested writing within range [${formatRange(grid)}], but tried writing to row [${grid.startRow + height}]`,
      );
    }
    if (grid.endCol !== undefined && grid.startCol + width > grid.endCol) {
      throw new SheetsApiError(
        400,
        `Requested writing within range [${formatRange(grid)}], but tried writing to column [${columnName(grid.startCol + width - 1)}]`,
      );
    }
    this.requireWithinGrid(grid, grid.startRow + height, grid.startCol + width);
    this.putCells(grid.tab, grid.startRow, grid.startCol, values, input);
    const written = {
      ...grid,
      endRow: grid.startRow + Math.max(height, 1),
      endCol: grid.startCol + Math.max(width, 1),
    };
    return {
      spreadsheetId: this.spreadsheetId,
      updatedRange: formatRange(written),
      updatedRows: height,
      updatedColumns: width,
      updatedCells: values.reduce((total, row) => total + row.length, 0),
    };
  }

  /** Google refuses a read or write reaching past the tab's grid instead of clipping it. */
  private requireWithinGrid(grid: GridRange, endRow: number, endCol: number): void {
    if (endRow <= grid.tab.rowCount && endCol <= grid.tab.columnCount) return;
    throw new SheetsApiError(
      400,
      `Range (${quoteTitle(grid.tab.title)}!${columnName(endCol - 1)}${endRow}) exceeds grid limits. Max rows: ${grid.tab.rowCount}, max columns: ${grid.tab.columnCount}`,
    );
  }

  /** Writes below the last non-empty row of the tab, growing the grid as INSERT_ROWS does. */
  private append(
    grid: GridRange,
    values: unknown[][],
    insertDataOption: string | null,
    input: ValueInputOption,
  ): Record<string, unknown> {
    const tab = grid.tab;
    let lastRow = -1;
    tab.rows.forEach((row, index) => {
      if (row.some((cell) => cell !== '')) lastRow = index;
    });
    const firstRow = Math.max(lastRow + 1, grid.startRow);
    const height = values.length;
    const width = Math.max(0, ...values.map((row) => row.length));
    if (insertDataOption === 'INSERT_ROWS') {
      tab.rowCount += height;
    } else {
      tab.rowCount = Math.max(tab.rowCount, firstRow + height);
    }
    tab.columnCount = Math.max(tab.columnCount, grid.startCol + width);
    this.putCells(tab, firstRow, grid.startCol, values, input);
    const tableEndCol = Math.max(
      grid.startCol + Math.max(width, 1),
      ...tab.rows.slice(grid.startRow, lastRow + 1).map((row) => row.length),
    );
    const updated = formatRange({
      tab,
      startRow: firstRow,
      startCol: grid.startCol,
      endRow: firstRow + Math.max(height, 1),
      endCol: grid.startCol + Math.max(width, 1),
    });
    return {
      spreadsheetId: this.spreadsheetId,
      ...(lastRow >= grid.startRow
        ? {
            tableRange: formatRange({
              tab,
              startRow: grid.startRow,
              startCol: grid.startCol,
              endRow: lastRow + 1,
              endCol: tableEndCol,
            }),
          }
        : {}),
      updates: {
        spreadsheetId: this.spreadsheetId,
        updatedRange: updated,
        updatedRows: height,
        updatedColumns: width,
        updatedCells: values.reduce((total, row) => total + row.length, 0),
      },
    };
  }

  private clearRange(grid: GridRange): void {
    const endRow = Math.min(grid.endRow ?? grid.tab.rowCount, grid.tab.rows.length);
    for (let row = grid.startRow; row < endRow; row++) {
      const cells = grid.tab.rows[row];
      if (cells === undefined) continue;
      const endCol = Math.min(grid.endCol ?? cells.length, cells.length);
      for (let col = grid.startCol; col < endCol; col++) cells[col] = '';
    }
  }

  /**
   * `null` leaves a cell as it is, as in the real API. RAW stores strings as text and numbers as
   * numbers; USER_ENTERED parses a string that looks like a number into one, as typing it would.
   */
  private putCells(
    tab: Tab,
    startRow: number,
    startCol: number,
    values: unknown[][],
    input: ValueInputOption,
  ): void {
    values.forEach((rowValues, rowOffset) => {
      const rowIndex = startRow + rowOffset;
      while (tab.rows.length <= rowIndex) tab.rows.push([]);
      const row = tab.rows[rowIndex] ?? [];
      rowValues.forEach((value, colOffset) => {
        if (value === null || value === undefined) return;
        const colIndex = startCol + colOffset;
        while (row.length <= colIndex) row.push('');
        row[colIndex] = storedCell(value, input);
      });
      tab.rows[rowIndex] = row;
    });
  }

  /** Resolves an A1 range (`'Form Responses 1'!A1:Z`, `Sheet1!A:C`, `Current Users`, `A1:B2`). */
  private resolve(range: string): GridRange {
    const unparsable = () => new SheetsApiError(400, `Unable to parse range: ${range}`);
    let title: string | undefined;
    let cells: string | undefined;
    if (range.startsWith("'")) {
      const match = range.match(/^'((?:[^']|'')+)'(?:!(.*))?$/);
      if (match === null) throw unparsable();
      title = (match[1] ?? '').replaceAll("''", "'");
      cells = match[2];
    } else if (range.includes('!')) {
      const bang = range.indexOf('!');
      title = range.slice(0, bang);
      cells = range.slice(bang + 1);
    } else if (this.tabs.some((tab) => tab.title === range)) {
      title = range;
    } else {
      cells = range;
    }
    const tab = title === undefined ? this.tabs[0] : this.tabs.find((candidate) => candidate.title === title);
    if (tab === undefined) throw unparsable();
    if (cells === undefined || cells === '') {
      return { tab, startRow: 0, startCol: 0, endRow: undefined, endCol: undefined };
    }
    const match = cells.match(/^([A-Za-z]*)(\d*)(?::([A-Za-z]*)(\d*))?$/);
    if (match === null) throw unparsable();
    const [, startColText = '', startRowText = '', endColText, endRowText] = match;
    if (startColText === '' && startRowText === '') throw unparsable();
    const startCol = startColText === '' ? 0 : columnIndex(startColText);
    const startRow = startRowText === '' ? 0 : Number(startRowText) - 1;
    if (endColText === undefined && endRowText === undefined) {
      // One cell (`B2`), a whole column (`B`) or a whole row (`2`).
      return {
        tab,
        startRow,
        startCol,
        endRow: startRowText === '' ? undefined : startRow + 1,
        endCol: startColText === '' ? undefined : startCol + 1,
      };
    }
    return {
      tab,
      startRow,
      startCol,
      endRow: endRowText === undefined || endRowText === '' ? undefined : Number(endRowText),
      endCol: endColText === undefined || endColText === '' ? undefined : columnIndex(endColText) + 1,
    };
  }

  private allocateSheetId(): number {
    // The first tab of a new spreadsheet has id 0; later ones get large arbitrary ids as in Google.
    const id = this.nextSheetId === 0 ? 0 : 100_000_000 + this.nextSheetId * 7919;
    this.nextSheetId += 1;
    return id;
  }
}

/** Starts a fake Sheets API; see `SheetsFake`. */
export function startSheetsFake(options: SheetsFakeOptions = {}): Promise<SheetsFake> {
  return new SheetsFake(options).start();
}

interface RouteMatch {
  operation: SheetsOperation;
  spreadsheetId: string | undefined;
  range: string | undefined;
}

function matchRoute(method: string, path: string): RouteMatch | undefined {
  if (method === 'POST' && path === '/token')
    return { operation: 'token', spreadsheetId: undefined, range: undefined };
  const match = path.match(/^\/v4\/spreadsheets\/([^/]+?)(\/values(?::(batchUpdate|batchGet)|\/(.+))?)?$/);
  if (match === null) return undefined;
  const [, idPart = '', valuesPart, valuesAction, rangePart] = match;
  if (valuesPart === undefined) {
    if (method === 'GET' && !idPart.includes(':')) {
      return { operation: 'spreadsheets.get', spreadsheetId: decodeURIComponent(idPart), range: undefined };
    }
    if (method === 'POST' && idPart.endsWith(':batchUpdate')) {
      const spreadsheetId = decodeURIComponent(idPart.slice(0, -':batchUpdate'.length));
      return { operation: 'spreadsheets.batchUpdate', spreadsheetId, range: undefined };
    }
    return undefined;
  }
  const spreadsheetId = decodeURIComponent(idPart);
  if (valuesAction === 'batchUpdate' && method === 'POST') {
    return { operation: 'values.batchUpdate', spreadsheetId, range: undefined };
  }
  if (valuesAction === 'batchGet' && method === 'GET') {
    return { operation: 'values.batchGet', spreadsheetId, range: undefined };
  }
  if (rangePart === undefined) return undefined;
  // The client percent-encodes the range, so a raw colon can only start the `:append`/`:clear` suffix.
  for (const [suffix, operation] of [
    [':append', 'values.append'],
    [':clear', 'values.clear'],
  ] as const) {
    if (method === 'POST' && rangePart.endsWith(suffix)) {
      return { operation, spreadsheetId, range: decodeURIComponent(rangePart.slice(0, -suffix.length)) };
    }
  }
  const range = decodeURIComponent(rangePart);
  if (method === 'GET') return { operation: 'values.get', spreadsheetId, range };
  if (method === 'PUT') return { operation: 'values.update', spreadsheetId, range };
  return undefined;
}

type ValueInputOption = 'RAW' | 'USER_ENTERED';

function requireValueInputOption(value: string | null): ValueInputOption {
  if (value === null || value === '') {
    throw new SheetsApiError(400, "'valueInputOption' is required but not specified");
  }
  if (value !== 'RAW' && value !== 'USER_ENTERED') {
    throw new SheetsApiError(400, `Invalid value at 'value_input_option' (${value})`);
  }
  return value;
}

interface RenderOptions {
  value: 'FORMATTED_VALUE' | 'UNFORMATTED_VALUE' | 'FORMULA';
  dateTime: 'SERIAL_NUMBER' | 'FORMATTED_STRING';
  /** COLUMNS: one list per column instead of per row (Google's `majorDimension`). */
  major: 'ROWS' | 'COLUMNS';
}

/** Rows turned into columns, as Google answers `majorDimension=COLUMNS`: blanks inside kept as "", trailing ones dropped. */
function byColumn(rows: (string | number | boolean)[][]): (string | number | boolean)[][] {
  const width = rows.reduce((widest, row) => Math.max(widest, row.length), 0);
  const columns = Array.from({ length: width }, (_, column) => {
    const cells = rows.map((row) => row[column] ?? '');
    while (cells.length > 0 && cells.at(-1) === '') cells.pop();
    return cells;
  });
  while (columns.length > 0 && columns.at(-1)?.length === 0) columns.pop();
  return columns;
}

/** The read options of a values request; Google's defaults are FORMATTED_VALUE and SERIAL_NUMBER. */
function renderOptions(query: URLSearchParams): RenderOptions {
  const value = query.get('valueRenderOption') ?? 'FORMATTED_VALUE';
  const dateTime = query.get('dateTimeRenderOption') ?? 'SERIAL_NUMBER';
  if (value !== 'FORMATTED_VALUE' && value !== 'UNFORMATTED_VALUE' && value !== 'FORMULA') {
    throw new SheetsApiError(400, `Invalid value at 'value_render_option' (${value})`);
  }
  if (dateTime !== 'SERIAL_NUMBER' && dateTime !== 'FORMATTED_STRING') {
    throw new SheetsApiError(400, `Invalid value at 'date_time_render_option' (${dateTime})`);
  }
  const major = query.get('majorDimension') ?? 'ROWS';
  if (major !== 'ROWS' && major !== 'COLUMNS') {
    throw new SheetsApiError(400, `Invalid value at 'major_dimension' (${major})`);
  }
  return { value, dateTime, major };
}

/**
 * A cell as a read returns it. FORMATTED_VALUE is what the sheet shows, always a string;
 * UNFORMATTED_VALUE and FORMULA give numbers and booleans as JSON, and dates as serial numbers or,
 * with FORMATTED_STRING, as shown. (The fake evaluates no formulas: text starting with `=` reads
 * back as written under every option.)
 */
function renderCell(cell: SheetsCell, render: RenderOptions): string | number | boolean {
  if (render.value === 'FORMATTED_VALUE') return formattedValue(cell);
  if (typeof cell !== 'object') return cell;
  return render.dateTime === 'SERIAL_NUMBER' ? cell.serial : formattedValue(cell);
}

/** What the sheet shows, in the en_US locale: Sheets' automatic number format, `M/d/yyyy H:mm:ss` dates. */
function formattedValue(cell: SheetsCell): string {
  if (typeof cell === 'string') return cell;
  if (typeof cell === 'boolean') return cell ? 'TRUE' : 'FALSE';
  if (typeof cell === 'number') return String(cell);
  const at = new Date(Math.round((cell.serial - SERIAL_UNIX_EPOCH) * MS_PER_DAY));
  const two = (n: number) => String(n).padStart(2, '0');
  return `${at.getUTCMonth() + 1}/${at.getUTCDate()}/${at.getUTCFullYear()} ${at.getUTCHours()}:${two(at.getUTCMinutes())}:${two(at.getUTCSeconds())}`;
}

const LOOKS_NUMERIC = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

function storedCell(value: unknown, input: ValueInputOption): SheetsCell {
  if (typeof value === 'boolean' || typeof value === 'number') return value;
  if (typeof value !== 'string') {
    throw new SheetsApiError(400, `Invalid values: ${JSON.stringify(value)} is not a cell value`);
  }
  if (input === 'USER_ENTERED') {
    const trimmed = value.trim();
    if (LOOKS_NUMERIC.test(trimmed)) return Number(trimmed);
    if (/^(?:true|false)$/i.test(trimmed)) return trimmed.toLowerCase() === 'true';
  }
  return value;
}

function valuesOf(payload: Record<string, unknown>): unknown[][] {
  const values = payload.values;
  if (values === undefined) return [];
  if (!Array.isArray(values) || !values.every(Array.isArray)) {
    throw new SheetsApiError(400, "Invalid value at 'data.values': expected a list of rows");
  }
  if (payload.majorDimension === 'COLUMNS') {
    const width = Math.max(0, ...values.map((column: unknown[]) => column.length));
    return Array.from({ length: width }, (_, row) => values.map((column: unknown[]) => column[row] ?? null));
  }
  return values;
}

function columnIndex(letters: string): number {
  let index = 0;
  for (const letter of letters.toUpperCase()) index = index * 26 + (letter.charCodeAt(0) - 64);
  return index - 1;
}

function columnName(index: number): string {
  let name = '';
  for (let rest = index + 1; rest > 0; rest = Math.floor((rest - 1) / 26)) {
    name = String.fromCharCode(65 + ((rest - 1) % 26)) + name;
  }
  return name;
}

/** Google quotes a tab title in ranges unless it is a plain word. */
function quoteTitle(title: string): string {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(title) && !/^[A-Za-z]{1,3}\d+$/.test(title)
    ? title
    : `'${title.replaceAll("'", "''")}'`;
}

function formatRange(grid: GridRange): string {
  const endRow = grid.endRow ?? grid.tab.rowCount;
  const endCol = grid.endCol ?? grid.tab.columnCount;
  const start = `${columnName(grid.startCol)}${grid.startRow + 1}`;
  const end = `${columnName(endCol - 1)}${endRow}`;
  return `${quoteTitle(grid.tab.title)}!${start === end ? start : `${start}:${end}`}`;
}

function parseBody(contentType: string | undefined, rawBody: string): unknown {
  if (rawBody === '') return undefined;
  if (contentType?.includes('application/x-www-form-urlencoded')) {
    return Object.fromEntries(new URLSearchParams(rawBody));
  }
  try {
    return JSON.parse(rawBody);
  } catch {
    return rawBody;
  }
}

function sendJson(response: ServerResponse, status: number, body: unknown): void {
  if (response.headersSent) return;
  response.writeHead(status, { 'content-type': 'application/json; charset=UTF-8' });
  response.end(JSON.stringify(body));
}

function sendError(response: ServerResponse, code: number, message: string): void {
  sendJson(response, code, { error: { code, message, status: STATUS_NAMES[code] ?? 'UNKNOWN' } });
}
