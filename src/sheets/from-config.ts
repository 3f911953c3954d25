import type { Config } from '../platform/config/config.js';
import type { Logger } from '../platform/log.js';
import { SheetsClient } from './sheets.js';

/**
 * The Sheets client for these settings, or undefined when Sheets is off (no
 * GOOGLE_APPLICATION_CREDENTIALS or GOOGLE_SHEET_ID) or in the `setpass` role. An unreadable key
 * file is a `config` error: start-up stops with it.
 */
export function sheetsClientFromConfig(config: Config, log: Logger): SheetsClient | undefined {
  const { google } = config;
  if (config.role === 'setpass' || !google.credentialsFile || !google.sheetId) return undefined;
  return new SheetsClient({
    credentialsFile: google.credentialsFile,
    spreadsheetId: google.sheetId,
    apiUrl: google.apiUrl,
    log: log.child({ component: 'sheets' }),
  });
}
