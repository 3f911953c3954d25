/** The applications sheet: credentials, tabs and the columns read by header text. */
import { z } from 'zod';
import { bool, setting, text, url } from '../setting.js';

export const googleSettings = {
  googleCredentials: setting(
    'GOOGLE_APPLICATION_CREDENTIALS',
    'Google',
    'path to the service-account JSON key',
    text,
    'a file path',
  ),
  googleSheetId: setting(
    'GOOGLE_SHEET_ID',
    'Google',
    'id of the spreadsheet (from its URL)',
    z.string().regex(/^[A-Za-z0-9_-]+$/),
    'the id from the sheet URL',
  ),
  sheetApplications: setting(
    'SHEET_APPLICATIONS',
    'Google',
    'tab with the form responses',
    text,
    'a tab name',
    {
      fallback: 'Form Responses 1',
    },
  ),
  sheetAdmitted: setting(
    'SHEET_ADMITTED',
    'Google',
    'tab that gets a row per approved user',
    text,
    'a tab name',
    {
      fallback: 'Current Users',
    },
  ),
  sheetQuotaRequests: setting(
    'SHEET_QUOTA_REQUESTS',
    'Google',
    'tab with the quota change requests (read by the same poll; a missing tab is looked for hourly)',
    text,
    'a tab name',
    {
      fallback: 'Quota Requests',
    },
  ),
  sheetHeaders: setting(
    'SHEET_HEADERS',
    'Google',
    'JSON object renaming column headers, e.g. {"email":"E-mail address"}',
    z.string().transform((v, ctx) => {
      try {
        return z.record(z.string(), z.string()).parse(JSON.parse(v));
      } catch {
        ctx.addIssue({ code: 'custom', message: 'bad json' });
        return {};
      }
    }),
    'a JSON object of field name to header text',
    { fallback: '{}' },
  ),
  sheetClearPin: setting(
    'SHEET_CLEAR_PIN',
    'Google',
    'blank the PIN cell once it has been read (only the keyed hash is kept)',
    bool,
    'true or false',
    {
      fallback: 'true',
    },
  ),
  googleSheetsApiUrl: setting(
    'GOOGLE_SHEETS_API_URL',
    'Google',
    'Sheets API root URL',
    url,
    'an http(s) URL',
    {
      fallback: 'https://sheets.googleapis.com/',
    },
  ),
} as const;
