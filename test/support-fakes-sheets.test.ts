import { createSign } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { auth, sheets, type sheets_v4 } from '@googleapis/sheets';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { makeServiceAccountKey } from './support/google-key.js';
import { type SheetsFake, sheetDateTime, startSheetsFake } from './support/sheets-fake.js';

const SCOPE = 'https://www.googleapis.com/auth/spreadsheets';
const APPLICATIONS = 'Form Responses 1';
const keyFileSchema = z.object({
  client_email: z.string(),
  private_key: z.string(),
  private_key_id: z.string(),
});
const ADMITTED = 'Current Users';

/**
 * The app's way in: self-signed JWT access, so no token endpoint is called. The JWT constructor
 * ignores a `useJWTAccessWithScope` option (google-auth-library 10): it must be set on the client.
 */
function selfSignedClient(
  fake: SheetsFake,
  key: { clientEmail: string; privateKeyPem: string; privateKeyId: string },
  scopes = [SCOPE],
): sheets_v4.Sheets {
  const jwt = new auth.JWT({
    email: key.clientEmail,
    key: key.privateKeyPem,
    keyId: key.privateKeyId,
    scopes,
  });
  jwt.useJWTAccessWithScope = true;
  return sheets({ version: 'v4', auth: jwt, rootUrl: `${fake.url}/` });
}

function statusOf(error: unknown): number | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const status = 'status' in error ? error.status : 'code' in error ? error.code : undefined;
  return typeof status === 'number' ? status : Number(status);
}

async function failureStatus(promise: Promise<unknown>): Promise<number | undefined> {
  try {
    await promise;
  } catch (error) {
    return statusOf(error);
  }
  throw new Error('expected the call to fail');
}

describe('SheetsFake with the real @googleapis/sheets client', () => {
  let fake: SheetsFake;
  let client: sheets_v4.Sheets;

  beforeAll(async () => {
    fake = await startSheetsFake();
    client = selfSignedClient(fake, fake.key);
  });
  beforeEach(() => {
    fake.setTab(APPLICATIONS, [
      ['Timestamp', 'Email', 'First name', 'Last name', 'Comment', ''],
      ['1/2/2026 10:00:00', 'ada@example.org', 'Ada', 'Lovelace', '', ''],
      ['1/3/2026 11:30:00', 'alan@example.org', 'Alan', 'Turing', 'hi', ''],
      ['', '', '', '', '', ''],
    ]);
    fake.setTab(ADMITTED, [['Email', 'Approved at', 'Approved by']]);
  });
  afterEach(() => fake.reset());
  afterAll(() => fake.close());

  it('writes a service-account key file whose token_uri is the fake', () => {
    expect(fake.key.json).toMatchObject({
      type: 'service_account',
      client_email: fake.key.clientEmail,
      private_key_id: fake.key.privateKeyId,
      token_uri: `${fake.url}/token`,
    });
    expect(fake.key.json.private_key).toMatch(/^-----BEGIN PRIVATE KEY-----/);
    expect(fake.keyFile).toBe(fake.key.path);
  });

  it('answers a batchGet by column: blanks inside a column kept as "", trailing ones dropped', async () => {
    const result = await client.spreadsheets.values.batchGet({
      spreadsheetId: fake.spreadsheetId,
      ranges: [`'${APPLICATIONS}'!1:1`, `'${APPLICATIONS}'!B2:B`, `'${APPLICATIONS}'!E2:E`],
      majorDimension: 'COLUMNS',
    });
    expect(result.data.valueRanges?.map((range) => range.values)).toEqual([
      [['Timestamp'], ['Email'], ['First name'], ['Last name'], ['Comment']],
      [['ada@example.org', 'alan@example.org']],
      [['', 'hi']],
    ]);
    expect(result.data.valueRanges?.[1]?.majorDimension).toBe('COLUMNS');
    expect(fake.calls.at(-1)?.ranges).toEqual([
      `'${APPLICATIONS}'!1:1`,
      `'${APPLICATIONS}'!B2:B`,
      `'${APPLICATIONS}'!E2:E`,
    ]);
  });

  it('reads a quoted tab range, trimming trailing empty cells and rows like Google', async () => {
    const result = await client.spreadsheets.values.get({
      spreadsheetId: fake.spreadsheetId,
      range: `'${APPLICATIONS}'!A1:Z`,
    });
    expect(result.data).toEqual({
      range: `'${APPLICATIONS}'!A1:Z1000`,
      majorDimension: 'ROWS',
      values: [
        ['Timestamp', 'Email', 'First name', 'Last name', 'Comment'],
        ['1/2/2026 10:00:00', 'ada@example.org', 'Ada', 'Lovelace'],
        ['1/3/2026 11:30:00', 'alan@example.org', 'Alan', 'Turing', 'hi'],
      ],
    });
    const call = fake.calls.at(-1);
    expect(call).toMatchObject({ operation: 'values.get', method: 'GET', range: `'${APPLICATIONS}'!A1:Z` });

    const byName = await client.spreadsheets.values.get({
      spreadsheetId: fake.spreadsheetId,
      range: APPLICATIONS,
    });
    expect(byName.data.values).toHaveLength(3);
    const cell = await client.spreadsheets.values.get({
      spreadsheetId: fake.spreadsheetId,
      range: `${ADMITTED}!B1`,
    });
    expect(cell.data).toEqual({
      range: `'${ADMITTED}'!B1`,
      majorDimension: 'ROWS',
      values: [['Approved at']],
    });
    const empty = await client.spreadsheets.values.get({
      spreadsheetId: fake.spreadsheetId,
      range: `'${ADMITTED}'!A5:C`,
    });
    expect(empty.data.values).toBeUndefined();
  });

  it('renders typed cells as valueRenderOption and dateTimeRenderOption ask, as Google does', async () => {
    // What Google Forms writes: the Timestamp as a date, `0123` as the number 123, a checkbox.
    fake.setTab(APPLICATIONS, [
      ['Timestamp', 'PIN', 'Text PIN', 'Agreed', 'Formula'],
      [sheetDateTime(2026, 11, 2, 10, 5, 9), 123, '0123', true, '=1+1'],
    ]);
    const read = async (options: Record<string, string>) =>
      (
        await client.spreadsheets.values.get({
          spreadsheetId: fake.spreadsheetId,
          range: 'A2:E2',
          ...options,
        })
      ).data.values?.[0];
    // Days since 1899-12-30; 10:05:09 is that fraction of a day.
    const serial = expect.closeTo(46_328 + (10 * 3600 + 5 * 60 + 9) / 86_400, 9);
    expect(await read({})).toEqual(['11/2/2026 10:05:09', '123', '0123', 'TRUE', '=1+1']);
    expect(await read({ valueRenderOption: 'UNFORMATTED_VALUE' })).toEqual([
      serial,
      123,
      '0123',
      true,
      '=1+1',
    ]);
    expect(
      await read({ valueRenderOption: 'UNFORMATTED_VALUE', dateTimeRenderOption: 'FORMATTED_STRING' }),
    ).toEqual(['11/2/2026 10:05:09', 123, '0123', true, '=1+1']);
    expect(await read({ valueRenderOption: 'FORMULA', dateTimeRenderOption: 'SERIAL_NUMBER' })).toEqual([
      serial,
      123,
      '0123',
      true,
      '=1+1',
    ]);
    expect(
      await failureStatus(
        client.spreadsheets.values.get({
          spreadsheetId: fake.spreadsheetId,
          range: 'A1',
          valueRenderOption: 'PRETTY',
        }),
      ),
    ).toBe(400);
  });

  it('stores RAW strings as text and USER_ENTERED numbers as numbers, as typing them would', async () => {
    await client.spreadsheets.values.update({
      spreadsheetId: fake.spreadsheetId,
      range: `'${ADMITTED}'!A2:B2`,
      valueInputOption: 'RAW',
      requestBody: { values: [['0123', 42]] },
    });
    await client.spreadsheets.values.update({
      spreadsheetId: fake.spreadsheetId,
      range: `'${ADMITTED}'!A3:B3`,
      valueInputOption: 'USER_ENTERED',
      requestBody: { values: [['0123', 'ann']] },
    });
    expect(fake.cells(ADMITTED)?.slice(1)).toEqual([
      ['0123', 42],
      [123, 'ann'],
    ]);
    expect(fake.tab(ADMITTED)?.slice(1)).toEqual([
      ['0123', '42'],
      ['123', 'ann'],
    ]);
  });

  it('answers spreadsheet metadata with every tab', async () => {
    const result = await client.spreadsheets.get({ spreadsheetId: fake.spreadsheetId });
    expect(result.data.sheets?.map((sheet) => sheet.properties?.title)).toEqual([APPLICATIONS, ADMITTED]);
    expect(result.data.sheets?.[0]?.properties).toMatchObject({
      sheetId: 0,
      index: 0,
      gridProperties: { rowCount: 1000, columnCount: 26 },
    });
  });

  it('appends after the last non-empty row and reports the range it wrote', async () => {
    const first = await client.spreadsheets.values.append({
      spreadsheetId: fake.spreadsheetId,
      range: `'${ADMITTED}'!A1`,
      valueInputOption: 'RAW',
      insertDataOption: 'INSERT_ROWS',
      requestBody: { values: [['ada@example.org', '2026-01-04T00:00:00Z', 'U0ADMIN']] },
    });
    expect(first.data.updates).toMatchObject({
      updatedRange: `'${ADMITTED}'!A2:C2`,
      updatedRows: 1,
      updatedColumns: 3,
      updatedCells: 3,
    });
    expect(first.data.tableRange).toBe(`'${ADMITTED}'!A1:C1`);
    await client.spreadsheets.values.append({
      spreadsheetId: fake.spreadsheetId,
      range: ADMITTED,
      valueInputOption: 'USER_ENTERED',
      insertDataOption: 'INSERT_ROWS',
      requestBody: { values: [['alan@example.org', 42, true]] },
    });
    expect(fake.tab(ADMITTED)).toEqual([
      ['Email', 'Approved at', 'Approved by'],
      ['ada@example.org', '2026-01-04T00:00:00Z', 'U0ADMIN'],
      ['alan@example.org', '42', 'TRUE'],
    ]);
    expect(fake.calls.at(-1)).toMatchObject({
      operation: 'values.append',
      method: 'POST',
      range: ADMITTED,
      query: { valueInputOption: 'USER_ENTERED', insertDataOption: 'INSERT_ROWS' },
      body: { values: [['alan@example.org', 42, true]] },
    });
  });

  it('updates ranges one at a time and in a batch, refusing writes outside the range', async () => {
    const single = await client.spreadsheets.values.update({
      spreadsheetId: fake.spreadsheetId,
      range: `'${APPLICATIONS}'!F1`,
      valueInputOption: 'RAW',
      requestBody: { values: [['Status']] },
    });
    expect(single.data).toMatchObject({ updatedRange: `'${APPLICATIONS}'!F1`, updatedCells: 1 });

    const batch = await client.spreadsheets.values.batchUpdate({
      spreadsheetId: fake.spreadsheetId,
      requestBody: {
        valueInputOption: 'RAW',
        data: [
          { range: `'${APPLICATIONS}'!F2`, values: [['approved']] },
          { range: `'${APPLICATIONS}'!F3:F3`, values: [['rejected']] },
        ],
      },
    });
    expect(batch.data).toMatchObject({ totalUpdatedCells: 2, totalUpdatedRows: 2 });
    expect(batch.data.responses?.map((one) => one.updatedRange)).toEqual([
      `'${APPLICATIONS}'!F2`,
      `'${APPLICATIONS}'!F3`,
    ]);
    expect(fake.tab(APPLICATIONS)?.map((row) => row[5])).toEqual(['Status', 'approved', 'rejected', '']);

    const tooBig = client.spreadsheets.values.update({
      spreadsheetId: fake.spreadsheetId,
      range: `'${APPLICATIONS}'!A1:A1`,
      valueInputOption: 'RAW',
      requestBody: { values: [['a'], ['b']] },
    });
    expect(await failureStatus(tooBig)).toBe(400);
    const noOption = client.spreadsheets.values.update({
      spreadsheetId: fake.spreadsheetId,
      range: `'${APPLICATIONS}'!A1`,
      requestBody: { values: [['a']] },
    });
    expect(await failureStatus(noOption)).toBe(400);
  });

  it('adds a tab with spreadsheets.batchUpdate and refuses a duplicate title', async () => {
    const added = await client.spreadsheets.batchUpdate({
      spreadsheetId: fake.spreadsheetId,
      requestBody: { requests: [{ addSheet: { properties: { title: 'Rejected' } } }] },
    });
    expect(added.data.replies?.[0]?.addSheet?.properties).toMatchObject({ title: 'Rejected', index: 2 });
    expect(fake.tabTitles()).toEqual([APPLICATIONS, ADMITTED, 'Rejected']);
    const duplicate = client.spreadsheets.batchUpdate({
      spreadsheetId: fake.spreadsheetId,
      requestBody: { requests: [{ addSheet: { properties: { title: 'rejected' } } }] },
    });
    expect(await failureStatus(duplicate)).toBe(400);
  });

  it('answers 404 for another spreadsheet, 400 for an unknown tab or a range past the grid', async () => {
    expect(await failureStatus(client.spreadsheets.get({ spreadsheetId: 'someone-elses' }))).toBe(404);
    const unknownTab = client.spreadsheets.values.get({
      spreadsheetId: fake.spreadsheetId,
      range: `'Nope'!A1`,
    });
    expect(await failureStatus(unknownTab)).toBe(400);
    const pastGrid = client.spreadsheets.values.get({
      spreadsheetId: fake.spreadsheetId,
      range: `${ADMITTED}!A1:AB`,
    });
    expect(await failureStatus(pastGrid)).toBe(400);
  });

  it('rejects a JWT signed by another key with 401, and writes with a read-only scope with 403', async () => {
    const stranger = await makeServiceAccountKey({ clientEmail: fake.key.clientEmail });
    try {
      const forged = selfSignedClient(fake, stranger);
      const refused = forged.spreadsheets.values.get({ spreadsheetId: fake.spreadsheetId, range: ADMITTED });
      expect(await failureStatus(refused)).toBe(401);
    } finally {
      await stranger.remove();
    }
    const noAuth = await fetch(`${fake.url}/v4/spreadsheets/${fake.spreadsheetId}`);
    expect(noAuth.status).toBe(401);
    expect(await noAuth.json()).toMatchObject({ error: { code: 401, status: 'UNAUTHENTICATED' } });

    const reader = selfSignedClient(fake, fake.key, [
      'https://www.googleapis.com/auth/spreadsheets.readonly',
    ]);
    await reader.spreadsheets.values.get({ spreadsheetId: fake.spreadsheetId, range: ADMITTED });
    const write = reader.spreadsheets.values.append({
      spreadsheetId: fake.spreadsheetId,
      range: ADMITTED,
      valueInputOption: 'RAW',
      requestBody: { values: [['x']] },
    });
    expect(await failureStatus(write)).toBe(403);
  });

  it('works from the key file as written (what GOOGLE_APPLICATION_CREDENTIALS points at)', async () => {
    const json = keyFileSchema.parse(JSON.parse(await readFile(fake.keyFile, 'utf8')));
    const fromFile = selfSignedClient(fake, {
      clientEmail: json.client_email,
      privateKeyPem: json.private_key,
      privateKeyId: json.private_key_id,
    });
    const result = await fromFile.spreadsheets.values.get({
      spreadsheetId: fake.spreadsheetId,
      range: ADMITTED,
    });
    expect(result.data.values).toEqual([['Email', 'Approved at', 'Approved by']]);
  });

  it('exchanges a JWT-bearer assertion at /token for an access token it then accepts', async () => {
    const now = Math.floor(Date.now() / 1000);
    const header = Buffer.from(
      JSON.stringify({ alg: 'RS256', typ: 'JWT', kid: fake.key.privateKeyId }),
    ).toString('base64url');
    const claims = Buffer.from(
      JSON.stringify({
        iss: fake.key.clientEmail,
        scope: SCOPE,
        aud: fake.key.json.token_uri,
        iat: now,
        exp: now + 3600,
      }),
    ).toString('base64url');
    const signature = createSign('RSA-SHA256')
      .update(`${header}.${claims}`)
      .sign(fake.key.privateKeyPem, 'base64url');
    const response = await fetch(fake.key.json.token_uri, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer',
        assertion: `${header}.${claims}.${signature}`,
      }),
    });
    expect(response.status).toBe(200);
    const token = (await response.json()) as { access_token: string; token_type: string; expires_in: number };
    expect(token).toMatchObject({ token_type: 'Bearer', expires_in: 3599 });

    const oauth = new auth.OAuth2();
    oauth.setCredentials({ access_token: token.access_token, expiry_date: Date.now() + 3_000_000 });
    const withToken = sheets({ version: 'v4', auth: oauth, rootUrl: `${fake.url}/` });
    const result = await withToken.spreadsheets.values.get({
      spreadsheetId: fake.spreadsheetId,
      range: ADMITTED,
    });
    expect(result.data.values).toHaveLength(1);

    const refused = await fetch(fake.key.json.token_uri, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer',
        assertion: 'a.b.c',
      }),
    });
    expect(refused.status).toBe(400);
    expect(await refused.json()).toMatchObject({ error: 'invalid_grant' });
  });

  it('injects 429 and 500: the client retries a GET, but not a POST', async () => {
    fake.failNext('values.get', { status: 429 });
    const read = await client.spreadsheets.values.get({ spreadsheetId: fake.spreadsheetId, range: ADMITTED });
    expect(read.data.values).toHaveLength(1);
    expect(
      fake.calls.filter((call) => call.operation === 'values.get').map((call) => call.injectedFailure),
    ).toEqual([{ status: 429 }, undefined]);

    fake.failNext('values.append', { status: 500 });
    const append = client.spreadsheets.values.append({
      spreadsheetId: fake.spreadsheetId,
      range: ADMITTED,
      valueInputOption: 'RAW',
      requestBody: { values: [['x']] },
    });
    expect(await failureStatus(append)).toBe(500);
    expect(fake.calls.filter((call) => call.operation === 'values.append')).toHaveLength(1);
    expect(fake.tab(ADMITTED)).toHaveLength(1);
  });
});
