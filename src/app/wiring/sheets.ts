import { ApplicationsSheet } from '../../domain/intake/applications-sheet.js';
import { headerNames } from '../../domain/intake/columns.js';
import { type Config, federatedIdColumn } from '../../platform/config/config.js';
import type { Logger } from '../../platform/log.js';
import { sheetsClientFromConfig } from '../../sheets/from-config.js';

/**
 * The applications sheet for these settings, or undefined when Sheets is off or in the `setpass`
 * role. An unknown SHEET_HEADERS field is a `config` error: start-up stops with it.
 */
export function sheetsFromConfig(config: Config, log: Logger): ApplicationsSheet | undefined {
  const client = sheetsClientFromConfig(config, log);
  if (!client) return undefined;
  const { google } = config;
  return new ApplicationsSheet(client, {
    applicationsTab: google.applicationsTab,
    admittedTab: google.admittedTab,
    names: headerNames(google.headers, federatedIdColumn(config)),
  });
}
