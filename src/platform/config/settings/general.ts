/** The role, logging, and the settings of no one service: audit, provisioning, quota presets. */
import { z } from 'zod';
import { bool, duration, setting, text, wholeNumber } from '../setting.js';

export const generalSettings = {
  role: setting(
    'KAIZEN_ROLE',
    'General',
    '`all` runs everything; `bot` the admin side; `setpass` only the public password page and API',
    z.enum(['all', 'bot', 'setpass']),
    'one of all, bot, setpass',
    { fallback: 'all' },
  ),
  nodeEnv: setting('NODE_ENV', 'General', '`production` turns on the stricter checks', text, 'a word', {
    fallback: 'development',
  }),
  logLevel: setting(
    'LOG_LEVEL',
    'General',
    'pino log level',
    z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']),
    'one of fatal, error, warn, info, debug, trace, silent',
    { fallback: 'info' },
  ),
  auditMaxLength: setting(
    'AUDIT_MAX_LENGTH',
    'General',
    'audit stream entries kept',
    wholeNumber.min(100),
    'a whole number ≥ 100',
    {
      fallback: '100000',
    },
  ),
  provisionConcurrency: setting(
    'PROVISION_CONCURRENCY',
    'General',
    'approvals provisioned at once per process; more wait their turn',
    wholeNumber.min(1).max(64),
    'a whole number from 1 to 64',
    { fallback: '4' },
  ),
  quotaPresetsFile: setting(
    'QUOTA_PRESETS_FILE',
    'General',
    'JSON file of quota presets (default: small/medium/large built in)',
    text,
    'a file path',
  ),
  defaultQuotaPreset: setting(
    'DEFAULT_QUOTA_PRESET',
    'General',
    'preset applied when an admin picks none',
    text,
    'a preset name',
    {
      fallback: 'small',
    },
  ),
  quotaAutoApprove: setting(
    'QUOTA_AUTO_APPROVE',
    'General',
    'apply a quota request at once when it is at most one preset above the current quota and that quota is unchanged for QUOTA_AUTO_APPROVE_AFTER',
    bool,
    'true or false',
    { fallback: 'false' },
  ),
  quotaAutoApproveAfter: setting(
    'QUOTA_AUTO_APPROVE_AFTER',
    'General',
    'how long a project quota must be unchanged before QUOTA_AUTO_APPROVE applies a request',
    duration,
    'a duration such as 30d',
    { fallback: '30d' },
  ),
} as const;
