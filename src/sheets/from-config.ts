import { headerNames } from '../domain/intake/columns.js';
import type { Config } from '../platform/config/config.js';
import type { Logger } from '../platform/log.js';
import { ApplicationsSheet, SheetsClient } from './sheets.js';

/**
 * The applications sheet for these settings, or undefined when Sheets is off (no
 * GOOGLE_APPLICATION_CREDENTIALS or GOOGLE_SHEET_ID) or in the `setpass` role. An unreadable key
 * file or an unknown SHEET_HEADERS field is a `config` error: start-up stops with it.
 */
export function sheetsFromConfig(config: Config, log: Logger): ApplicationsSheet | undefined {
  const { google } = config;
  if (config.role === 'setpass' || !google.credentialsFile || !google.sheetId) return undefined;
  const client = new SheetsClient({
    credentialsFile: google.credentialsFile,
    spreadsheetId: google.sheetId,
    apiUrl: google.apiUrl,
    log: log.child({ component: 'sheets' }),
  });
  return new ApplicationsSheet(client, {
    applicationsTab: google.applicationsTab,
    admittedTab: google.admittedTab,
    names: headerNames(google.headers),
  });
}
