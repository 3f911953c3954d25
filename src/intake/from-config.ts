import type { Config } from '../config.js';
import type { Logger } from '../log.js';
import { headerNames } from './columns.js';
import { ApplicationsSheet, SheetsClient } from './sheets.js';

/**
 * The applications sheet for these settings, or undefined when Sheets is off (no
 * GOOGLE_APPLICATION_CREDENTIALS or GOOGLE_SHEET_ID) or in the `setpass` role. An unreadable key
 * file or an unknown SHEET_HEADERS field is a `config` error: start-up stops with it.
 */
/** The sheet column KAIZEN_FEDERATED_ID_FROM names, in federated mode. */
export function federatedIdColumn(config: Config): { key: string; header: string } | undefined {
  const { identity } = config;
  return identity.mode === 'federated' && identity.idFrom.kind === 'column' ? identity.idFrom : undefined;
}

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
    names: headerNames(google.headers, federatedIdColumn(config)),
  });
}
