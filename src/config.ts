/**
 * Every setting of the bot, in one table: environment name, what it is for, its default, and the
 * schema its value must match. Start-up fails fast with one readable list of what is wrong; a
 * capability whose settings are absent is switched off (see `capabilities`).
 */
import { readFileSync } from 'node:fs';
import { validate as validateCron } from 'node-cron';
import { z } from 'zod';
import { withCloud } from './clouds-yaml.js';
import { parseDuration } from './duration.js';
import { KaizenError } from './errors.js';
import { isAddressOrRange } from './http/client-ip.js';
import { maskCredentials } from './log.js';

export type Area =
  | 'General'
  | 'HTTP'
  | 'Slack'
  | 'Google'
  | 'Keystone'
  | 'Redis'
  | 'Mail'
  | 'Setpass'
  | 'Schedules'
  | 'Web';

interface Setting<T> {
  env: string;
  area: Area;
  doc: string;
  /** The default as written in the environment; undefined means "not set". */
  fallback: string | undefined;
  secret: boolean;
  parse: (raw: string | undefined) => T;
}

type Parsed<T extends z.ZodType> = z.output<T>;

/** One setting whose raw text is checked by a zod schema. `hint` says what is expected, for the error list. */
function setting<S extends z.ZodType>(
  env: string,
  area: Area,
  doc: string,
  schema: S,
  hint: string,
  options: { fallback?: string; secret?: boolean } = {},
): Setting<Parsed<S> | undefined> {
  return {
    env,
    area,
    doc,
    fallback: options.fallback,
    secret: options.secret ?? false,
    parse(raw) {
      const text = raw === undefined || raw.trim() === '' ? options.fallback : raw.trim();
      if (text === undefined) return undefined;
      const result = schema.safeParse(text);
      if (!result.success) throw new Error(hint);
      return result.data;
    },
  };
}

const text = z.string().min(1);
const url = z.url({ protocol: /^https?$/ });
const wholeNumber = z.coerce.number().int();
const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => ['true', '1', 'yes'].includes(v));
const list = z.string().transform((v) =>
  v
    .split(/[\s,]+/)
    .map((item) => item.trim())
    .filter(Boolean),
);
const duration = z.string().transform((v, ctx) => {
  const ms = parseDuration(v);
  if (ms === undefined) ctx.addIssue({ code: 'custom', message: 'not a duration' });
  return ms ?? 0;
});
const cron = z.string().refine((v) => {
  const fields = v.trim().split(/\s+/).length;
  return (fields === 5 || fields === 6) && validateCron(v);
});
const isTimeZone = (zone: string) => {
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
};
const secretKey = z.string().transform((v, ctx) => {
  const bytes = Buffer.from(v, 'base64');
  if (bytes.length < 32 || !/^[A-Za-z0-9+/_-]+={0,2}$/.test(v))
    ctx.addIssue({ code: 'custom', message: 'short' });
  return bytes;
});

export const settings = {
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
  port: setting(
    'PORT',
    'HTTP',
    'the one HTTP listener: /slack/events, the password page, /token, /healthz, /metrics',
    wholeNumber.min(0).max(65535),
    'a port number from 0 to 65535',
    { fallback: '3000' },
  ),
  host: setting('HOST', 'HTTP', 'address to listen on', text, 'an address such as 0.0.0.0', {
    fallback: '0.0.0.0',
  }),
  metricsPort: setting(
    'METRICS_PORT',
    'HTTP',
    'a second listener serving only /metrics; the setpass role serves /metrics nowhere else (unset: off)',
    wholeNumber.min(0).max(65535),
    'a port number from 0 to 65535',
  ),
  metricsHost: setting(
    'METRICS_HOST',
    'HTTP',
    'address of the METRICS_PORT listener',
    text,
    'an address such as 127.0.0.1',
    { fallback: '127.0.0.1' },
  ),
  publicUrl: setting(
    'PUBLIC_URL',
    'HTTP',
    'base URL of the password page, used in emailed links',
    url,
    'an http(s) URL such as https://register.example.org',
  ),
  tlsCertFile: setting(
    'TLS_CERT_FILE',
    'HTTP',
    'PEM certificate: with TLS_KEY_FILE the listener serves HTTPS itself',
    text,
    'a file path',
  ),
  tlsKeyFile: setting('TLS_KEY_FILE', 'HTTP', 'PEM private key for TLS_CERT_FILE', text, 'a file path'),
  trustedProxies: setting(
    'TRUSTED_PROXIES',
    'HTTP',
    'comma list of proxy addresses and CIDR ranges (IPv4 or IPv6) whose X-Forwarded-For/-Proto are honoured',
    list.refine((entries) => entries.every(isAddressOrRange)),
    'a comma-separated list of IP addresses and CIDR ranges such as 127.0.0.1, 10.0.0.0/8, fd00::/8',
    { fallback: '' },
  ),
  allowInsecurePublicUrl: setting(
    'ALLOW_INSECURE_PUBLIC_URL',
    'HTTP',
    'allow an http:// PUBLIC_URL in production',
    bool,
    'true or false',
    { fallback: 'false' },
  ),
  slackBotToken: setting('SLACK_BOT_TOKEN', 'Slack', 'bot token (xoxb-…)', text, 'the xoxb- bot token', {
    secret: true,
  }),
  slackSigningSecret: setting(
    'SLACK_SIGNING_SECRET',
    'Slack',
    'signing secret that verifies requests to /slack/events',
    text,
    "the app's signing secret",
    { secret: true },
  ),
  slackAppToken: setting(
    'SLACK_APP_TOKEN',
    'Slack',
    'app-level token (xapp-…); when set the bot uses Socket Mode',
    z.string().startsWith('xapp-'),
    'an app-level token starting with xapp-',
    { secret: true },
  ),
  slackAdminChannel: setting(
    'SLACK_ADMIN_CHANNEL',
    'Slack',
    'channel id where applicant cards and outcomes are posted',
    z.string().regex(/^[CG][A-Z0-9]+$/),
    'a channel id such as C0123456789 (not the channel name)',
  ),
  slackAdmins: setting(
    'SLACK_ADMINS',
    'Slack',
    'comma list of Slack user ids allowed to act; default: members of the admin channel',
    list,
    'a comma-separated list of user ids such as U0123,U0456',
  ),
  slackApiUrl: setting(
    'SLACK_API_URL',
    'Slack',
    'Slack Web API base URL',
    url,
    'an http(s) URL ending in /api/',
    {
      fallback: 'https://slack.com/api/',
    },
  ),
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
  osAuthUrl: setting(
    'OS_AUTH_URL',
    'Keystone',
    'Keystone v3 URL, e.g. https://keystone.example.org:5000/v3',
    url,
    'an http(s) URL',
  ),
  osUsername: setting('OS_USERNAME', 'Keystone', 'admin user name', text, 'a user name'),
  osPassword: setting('OS_PASSWORD', 'Keystone', 'admin password', text, 'a password', { secret: true }),
  osProjectName: setting('OS_PROJECT_NAME', 'Keystone', 'admin project', text, 'a project name', {
    fallback: 'admin',
  }),
  osUserDomainName: setting(
    'OS_USER_DOMAIN_NAME',
    'Keystone',
    'domain of OS_USERNAME',
    text,
    'a domain name',
    {
      fallback: 'Default',
    },
  ),
  osProjectDomainName: setting(
    'OS_PROJECT_DOMAIN_NAME',
    'Keystone',
    'domain of OS_PROJECT_NAME',
    text,
    'a domain name',
    {
      fallback: 'Default',
    },
  ),
  osProjectDomainId: setting(
    'OS_PROJECT_DOMAIN_ID',
    'Keystone',
    'domain id of OS_PROJECT_NAME (default: derived from OS_PROJECT_DOMAIN_NAME; `Default` is `default`)',
    text,
    'a domain id',
  ),
  osRegionName: setting('OS_REGION_NAME', 'Keystone', 'region for catalog lookups', text, 'a region id'),
  osInterface: setting(
    'OS_INTERFACE',
    'Keystone',
    'endpoint interface for catalog lookups',
    z.enum(['public', 'internal', 'admin']),
    'public, internal or admin',
    { fallback: 'public' },
  ),
  osAppCredentialId: setting(
    'OS_APPLICATION_CREDENTIAL_ID',
    'Keystone',
    'application credential id (instead of user/password)',
    text,
    'an id',
  ),
  osAppCredentialSecret: setting(
    'OS_APPLICATION_CREDENTIAL_SECRET',
    'Keystone',
    'application credential secret',
    text,
    'the secret',
    { secret: true },
  ),
  osCloud: setting(
    'OS_CLOUD',
    'Keystone',
    'a cloud in clouds.yaml (./clouds.yaml, ~/.config/openstack/, /etc/openstack/; secure.yaml laid over it) instead of the OS_* settings; an OS_* setting that is set wins',
    text,
    'the name of a cloud in clouds.yaml',
  ),
  osClientConfigFile: setting(
    'OS_CLIENT_CONFIG_FILE',
    'Keystone',
    'path of clouds.yaml, instead of the search path',
    text,
    'a file path',
  ),
  osClientSecureFile: setting(
    'OS_CLIENT_SECURE_FILE',
    'Keystone',
    'path of secure.yaml, instead of the search path',
    text,
    'a file path',
  ),
  osCacert: setting(
    'OS_CACERT',
    'Keystone',
    "PEM CA certificate(s) trusted for Keystone and the catalog's endpoints, besides the system's (or `cacert` in clouds.yaml)",
    text,
    'a file path',
  ),
  memberRole: setting('KAIZEN_MEMBER_ROLE', 'Keystone', 'role given on the project', text, 'a role name', {
    fallback: 'member',
  }),
  domain: setting('KAIZEN_DOMAIN', 'Keystone', 'domain id for new projects and users', text, 'a domain id', {
    fallback: 'default',
  }),
  adminRole: setting(
    'KAIZEN_ADMIN_ROLE',
    'Keystone',
    'role that PUT /token callers need on the admin project; whoever holds it, anywhere, is a protected account',
    text,
    'a role name',
    { fallback: 'admin' },
  ),
  serviceProject: setting(
    'KAIZEN_SERVICE_PROJECT',
    'Keystone',
    "project of the cloud's service accounts: its members are never reset, resent to or reminded, and no application joins it",
    text,
    'a project name',
    { fallback: 'service' },
  ),
  protectedUsers: setting(
    'KAIZEN_PROTECTED_USERS',
    'Keystone',
    'comma list of more Keystone user names or ids that no Slack action or password link may touch',
    list,
    'a comma-separated list of user names or ids',
    { fallback: '' },
  ),
  protectedProjects: setting(
    'KAIZEN_PROTECTED_PROJECTS',
    'Keystone',
    'comma list of more project names or ids that no application may join (the admin and service projects always are)',
    list,
    'a comma-separated list of project names or ids',
    { fallback: '' },
  ),
  identity: setting(
    'KAIZEN_IDENTITY',
    'Keystone',
    '`password`: new users get a password link; `federated`: they sign in through their institution (KAIZEN_IDP_ID, KAIZEN_IDP_PROTOCOL) and have no password here',
    z.enum(['password', 'federated']),
    'password or federated',
    { fallback: 'password' },
  ),
  idpId: setting(
    'KAIZEN_IDP_ID',
    'Keystone',
    'federated mode: the identity provider id in Keystone (`openstack identity provider list`)',
    text,
    'an identity provider id',
  ),
  idpProtocol: setting(
    'KAIZEN_IDP_PROTOCOL',
    'Keystone',
    'federated mode: the protocol of KAIZEN_IDP_ID whose mapping signs users in, e.g. `openid`',
    text,
    'a protocol id such as openid or saml2',
  ),
  federatedIdFrom: setting(
    'KAIZEN_FEDERATED_ID_FROM',
    'Keystone',
    "federated mode: where a user's unique id at the identity provider comes from: `email`, or a sheet column named in SHEET_HEADERS (its key)",
    text,
    'email, or a key of SHEET_HEADERS',
    { fallback: 'email' },
  ),
  redisUrl: setting(
    'REDIS_URL',
    'Redis',
    'Redis server',
    z.url({ protocol: /^rediss?$/ }),
    'a redis:// or rediss:// URL',
    {
      fallback: 'redis://127.0.0.1:6379',
    },
  ),
  redisSentinels: setting(
    'REDIS_SENTINELS',
    'Redis',
    'comma list of host:port Sentinels (instead of REDIS_URL)',
    list,
    'a comma-separated list of host:port',
  ),
  redisClusterNodes: setting(
    'REDIS_CLUSTER_NODES',
    'Redis',
    'comma list of host:port nodes of a Redis Cluster (instead of REDIS_URL, whose user and password still apply)',
    list,
    'a comma-separated list of host:port',
  ),
  redisSentinelName: setting('REDIS_SENTINEL_NAME', 'Redis', 'master name for Sentinel', text, 'a name', {
    fallback: 'mymaster',
  }),
  redisKeyPrefix: setting(
    'REDIS_KEY_PREFIX',
    'Redis',
    'prefix for every key, to share one Redis',
    z.string(),
    'a short text such as kaizen:',
    { fallback: '' },
  ),
  smtpUrl: setting(
    'SMTP_URL',
    'Mail',
    'mail relay, e.g. smtp://user:pass@host:587',
    z.url({ protocol: /^smtps?$/ }),
    'an smtp:// or smtps:// URL',
    { secret: true },
  ),
  smtpRequireTls: setting(
    'SMTP_REQUIRE_TLS',
    'Mail',
    'require STARTTLS on smtp:// relays',
    bool,
    'true or false',
    {
      fallback: 'true',
    },
  ),
  smtpCaFile: setting(
    'SMTP_CA_FILE',
    'Mail',
    'extra CA certificate (PEM) for the relay',
    text,
    'a file path',
  ),
  mailFrom: setting(
    'MAIL_FROM',
    'Mail',
    'sender address',
    text,
    'an address such as "Cloud <noreply@x.org>"',
  ),
  supportEmail: setting(
    'SUPPORT_EMAIL',
    'Mail',
    'address users are told to write to',
    z.email(),
    'an email address',
  ),
  setpassSecret: setting(
    'SETPASS_SECRET',
    'Setpass',
    '32+ random bytes, base64: encrypts temporary passwords, keys token hashes',
    secretKey,
    'at least 32 random bytes in base64 (make one with `openssl rand -base64 32`)',
    { secret: true },
  ),
  setpassTokenTtl: setting(
    'SETPASS_TOKEN_TTL',
    'Setpass',
    'lifetime of a password link',
    duration,
    'a duration such as 90s, 15m, 24h, 7d',
    {
      fallback: '7d',
    },
  ),
  appCredentialTtl: setting(
    'APP_CREDENTIAL_TTL',
    'Setpass',
    'lifetime of the application credential the password page makes for the command line (unset: it does not expire)',
    duration,
    'a duration such as 90d, 24h',
  ),
  setpassMaxPinAttempts: setting(
    'SETPASS_MAX_PIN_ATTEMPTS',
    'Setpass',
    'wrong PINs before a link is burned',
    wholeNumber.min(1).max(20),
    'a whole number from 1 to 20',
    { fallback: '3' },
  ),
  passwordMinLength: setting(
    'PASSWORD_MIN_LENGTH',
    'Setpass',
    'minimum length of a new password',
    wholeNumber.min(8).max(128),
    'a whole number from 8 to 128',
    { fallback: '12' },
  ),
  passwordMinScore: setting(
    'PASSWORD_MIN_SCORE',
    'Setpass',
    'minimum zxcvbn strength score (0–4)',
    wholeNumber.min(0).max(4),
    'a whole number from 0 to 4',
    { fallback: '3' },
  ),
  setpassSiteName: setting(
    'SETPASS_SITE_NAME',
    'Setpass',
    'the cloud as users know it, in the password page header and title',
    text,
    'a short name such as "MOC OpenStack"',
    { fallback: 'OpenStack' },
  ),
  sheetPollCron: setting(
    'SHEET_POLL_CRON',
    'Schedules',
    'when to read the sheet',
    cron,
    'a cron expression with 5 or 6 fields',
    {
      fallback: '*/2 * * * *',
    },
  ),
  reminderCron: setting(
    'REMINDER_CRON',
    'Schedules',
    'when to remind users with unused links',
    cron,
    'a cron expression with 5 or 6 fields',
    { fallback: '0 9 * * *' },
  ),
  adminReminderCron: setting(
    'ADMIN_REMINDER_CRON',
    'Schedules',
    'when to remind admins of waiting applicants',
    cron,
    'a cron expression with 5 or 6 fields',
    { fallback: '0 10 * * 1-5' },
  ),
  housekeepingCron: setting(
    'HOUSEKEEPING_CRON',
    'Schedules',
    'when to release stuck application locks and trim the audit stream',
    cron,
    'a cron expression with 5 or 6 fields',
    { fallback: '7 * * * *' },
  ),
  timezone: setting(
    'TZ',
    'Schedules',
    'time zone of the schedules',
    z.string().refine(isTimeZone),
    'an IANA zone such as Europe/Berlin',
    {
      fallback: 'UTC',
    },
  ),
  reminderAfter: setting(
    'REMINDER_AFTER',
    'Schedules',
    'first user reminder after',
    duration,
    'a duration such as 2d',
    {
      fallback: '2d',
    },
  ),
  reminderInterval: setting(
    'REMINDER_INTERVAL',
    'Schedules',
    'time between user reminders',
    duration,
    'a duration such as 2d',
    {
      fallback: '2d',
    },
  ),
  reminderMax: setting(
    'REMINDER_MAX',
    'Schedules',
    'reminders per user at most',
    wholeNumber.min(0).max(50),
    'a whole number from 0 to 50',
    {
      fallback: '3',
    },
  ),
  adminReminderAfter: setting(
    'ADMIN_REMINDER_AFTER',
    'Schedules',
    'remind admins of applicants waiting longer than',
    duration,
    'a duration such as 24h',
    { fallback: '24h' },
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
  loginUrl: setting(
    'LOGIN_URL',
    'Web',
    'dashboard login page, shown in emails and after success',
    url,
    'a URL',
  ),
  gettingStartedUrl: setting('GETTING_STARTED_URL', 'Web', 'documentation for new users', url, 'a URL'),
  termsUrl: setting('TERMS_URL', 'Web', 'terms of use', url, 'a URL'),
} as const;

type Settings = typeof settings;
type Values = { [K in keyof Settings]: ReturnType<Settings[K]['parse']> };
type Defaulted<T> = Exclude<T, undefined>;

export type Role = 'all' | 'bot' | 'setpass';

/** Environment names that only the admin side may hold: the public `setpass` role refuses them. */
export const ADMIN_ONLY_ENV = [
  'OS_USERNAME',
  'OS_PASSWORD',
  'OS_APPLICATION_CREDENTIAL_ID',
  'OS_APPLICATION_CREDENTIAL_SECRET',
  'SLACK_BOT_TOKEN',
  'SLACK_APP_TOKEN',
  'SLACK_SIGNING_SECRET',
] as const;

export interface Config {
  role: Role;
  production: boolean;
  logLevel: Defaulted<Values['logLevel']>;
  http: {
    port: number;
    host: string;
    publicUrl: string | undefined;
    tls: { certFile: string; keyFile: string } | undefined;
    trustedProxies: string[];
    /** The /metrics-only listener; undefined when METRICS_PORT is not set. */
    metrics: { port: number; host: string } | undefined;
  };
  slack: {
    botToken: string | undefined;
    signingSecret: string | undefined;
    appToken: string | undefined;
    adminChannel: string | undefined;
    admins: string[] | undefined;
    apiUrl: string;
  };
  google: {
    credentialsFile: string | undefined;
    sheetId: string | undefined;
    applicationsTab: string;
    admittedTab: string;
    headers: Record<string, string>;
    clearPin: boolean;
    apiUrl: string;
  };
  keystone: {
    authUrl: string | undefined;
    auth:
      | {
          kind: 'password';
          username: string;
          password: string;
          projectName: string;
          userDomainName: string;
          projectDomainName: string;
        }
      | { kind: 'application_credential'; id: string; secret: string }
      | undefined;
    adminProjectName: string;
    adminProjectDomainName: string;
    /** Domain id of the admin project, for scoping callers' tokens to it. */
    adminProjectDomainId: string;
    region: string | undefined;
    interface: 'public' | 'internal' | 'admin';
    memberRole: string;
    adminRole: string;
    domain: string;
    /** KAIZEN_SERVICE_PROJECT. */
    serviceProject: string;
    /** KAIZEN_PROTECTED_USERS: names or ids. */
    protectedUsers: string[];
    /** KAIZEN_PROTECTED_PROJECTS: names or ids. */
    protectedProjects: string[];
    /** OS_CACERT (or clouds.yaml's cacert): trusted besides the system's CAs for every Keystone and catalog call. */
    caFile: string | undefined;
    /** clouds.yaml's `verify: false`, refused in production. */
    insecure: boolean;
  };
  redis: {
    url: string;
    sentinels: string[] | undefined;
    sentinelName: string;
    keyPrefix: string;
    /** REDIS_CLUSTER_NODES: seed nodes of a Redis Cluster. */
    clusterNodes?: string[] | undefined;
  };
  mail: {
    smtpUrl: string | undefined;
    requireTls: boolean;
    caFile: string | undefined;
    from: string | undefined;
    supportEmail: string | undefined;
  };
  setpass: {
    secret: Buffer | undefined;
    tokenTtlMs: number;
    /** APP_CREDENTIAL_TTL; undefined: credentials made on the password page do not expire. */
    appCredentialTtlMs: number | undefined;
    maxPinAttempts: number;
    passwordMinLength: number;
    passwordMinScore: number;
    siteName: string;
  };
  schedules: {
    sheetPoll: string;
    reminder: string;
    adminReminder: string;
    housekeeping: string;
    timezone: string;
    reminderAfterMs: number;
    reminderIntervalMs: number;
    reminderMax: number;
    adminReminderAfterMs: number;
  };
  /** How users sign in: KAIZEN_IDENTITY and, in federated mode, where their identity comes from. */
  identity: IdentityConfig;
  web: { loginUrl: string | undefined; gettingStartedUrl: string | undefined; termsUrl: string | undefined };
  quotas: { presetsFile: string | undefined; defaultPreset: string };
  provision: { concurrency: number };
  audit: { maxLength: number };
}

/** Where a federated user's unique id comes from: the applicant's email, or a sheet column. */
export type FederatedIdSource = { kind: 'email' } | { kind: 'column'; key: string; header: string };

export type IdentityConfig =
  | { mode: 'password' }
  | { mode: 'federated'; idpId: string; protocol: string; idFrom: FederatedIdSource };

export type Env = Record<string, string | undefined>;

/** Thrown when settings are wrong; its message lists every problem, one per line, naming the variable. */
export class ConfigError extends KaizenError {
  readonly problems: string[];
  constructor(problems: string[]) {
    super('config', `Configuration is not valid:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.problems = problems;
  }
}

export function loadConfig(given: Env): Config {
  // OS_CLOUD fills in the OS_* settings it names; see src/clouds-yaml.ts.
  const cloud = withCloud(given);
  const env = cloud.env;
  const problems: string[] = [...cloud.problems];
  const values = {} as Record<string, unknown>;
  for (const [key, spec] of Object.entries(settings) as [keyof Settings, Setting<unknown>][]) {
    try {
      values[key] = spec.parse(env[spec.env]);
    } catch (error) {
      const expected = error instanceof Error ? error.message : 'a valid value';
      // A URL's password is a secret even in a setting that is not: REDIS_URL=redis://:pw@host.
      const got = spec.secret ? '' : `, got "${maskCredentials(env[spec.env] ?? '')}"`;
      problems.push(`${spec.env}: expected ${expected}${got}`);
    }
  }
  const v = values as Values;
  if (problems.length === 0) problems.push(...crossChecks(v, env));
  if (problems.length > 0) throw new ConfigError(problems);
  const config = build(v as Required<Values>);
  config.keystone.insecure = cloud.insecure;
  return config;
}

function crossChecks(v: Values, env: Env): string[] {
  const problems: string[] = [];
  const present = (name: string) => (env[name] ?? '').trim() !== '';
  if (v.role === 'setpass') {
    for (const name of ADMIN_ONLY_ENV) {
      if (present(name)) {
        problems.push(
          `${name}: must not be set when KAIZEN_ROLE=setpass; the public password page holds no admin credentials or Slack tokens`,
        );
      }
    }
    for (const name of ['SETPASS_SECRET', 'PUBLIC_URL', 'OS_AUTH_URL']) {
      if (!present(name)) problems.push(`${name}: required when KAIZEN_ROLE=setpass`);
    }
  }
  if (v.redisClusterNodes?.length && v.redisSentinels?.length) {
    problems.push('REDIS_CLUSTER_NODES and REDIS_SENTINELS: a Redis Cluster or Sentinel, not both');
  }
  if (Boolean(v.tlsCertFile) !== Boolean(v.tlsKeyFile)) {
    problems.push('TLS_CERT_FILE and TLS_KEY_FILE: set both to serve HTTPS, or neither');
  }
  if (present('OS_USERNAME') !== present('OS_PASSWORD')) {
    problems.push('OS_USERNAME and OS_PASSWORD: set both, or use an application credential');
  }
  if (present('OS_APPLICATION_CREDENTIAL_ID') !== present('OS_APPLICATION_CREDENTIAL_SECRET')) {
    problems.push('OS_APPLICATION_CREDENTIAL_ID and OS_APPLICATION_CREDENTIAL_SECRET: set both');
  }
  const production = v.nodeEnv === 'production';
  if (production && v.publicUrl?.startsWith('http://') && !v.allowInsecurePublicUrl) {
    problems.push(
      'PUBLIC_URL: must be https:// in production (links carry one-time secrets); set ALLOW_INSECURE_PUBLIC_URL=true to override',
    );
  }
  problems.push(...identityChecks(v, present));
  for (const name of ['GOOGLE_APPLICATION_CREDENTIALS', 'SMTP_CA_FILE', 'TLS_CERT_FILE', 'TLS_KEY_FILE']) {
    const path = env[name]?.trim();
    if (path && !readable(path)) problems.push(`${name}: cannot read the file ${path}`);
  }
  return problems;
}

/** The federated settings belong together: one without the others is a mistake worth naming. */
function identityChecks(v: Values, present: (name: string) => boolean): string[] {
  const problems: string[] = [];
  const from = v.federatedIdFrom ?? 'email';
  if (v.identity !== 'federated') {
    for (const name of ['KAIZEN_IDP_ID', 'KAIZEN_IDP_PROTOCOL']) {
      if (present(name))
        problems.push(`${name}: only used when KAIZEN_IDENTITY=federated; set that too, or remove it`);
    }
    if (from !== 'email') {
      problems.push(
        'KAIZEN_FEDERATED_ID_FROM: only used when KAIZEN_IDENTITY=federated; set that too, or remove it',
      );
    }
    return problems;
  }
  if (!present('KAIZEN_IDP_ID')) {
    problems.push(
      'KAIZEN_IDP_ID: required when KAIZEN_IDENTITY=federated: the id of the identity provider in Keystone (openstack identity provider list)',
    );
  }
  if (!present('KAIZEN_IDP_PROTOCOL')) {
    problems.push(
      'KAIZEN_IDP_PROTOCOL: required when KAIZEN_IDENTITY=federated: the protocol users sign in with, e.g. openid or saml2 (openstack federation protocol list --identity-provider …)',
    );
  }
  if (!present('LOGIN_URL')) {
    problems.push(
      'LOGIN_URL: required when KAIZEN_IDENTITY=federated: the welcome email has no password link, only where to sign in through the institution',
    );
  }
  const headers = v.sheetHeaders ?? {};
  if (from !== 'email' && (headers[from] ?? '').trim() === '') {
    const keys = Object.keys(headers);
    problems.push(
      `KAIZEN_FEDERATED_ID_FROM: "${from}" is neither email nor a column named in SHEET_HEADERS (${keys.length === 0 ? 'which is empty' : `which names ${keys.join(', ')}`}); add it there with its header text, e.g. SHEET_HEADERS={"${from}":"Institutional ID"}`,
    );
  }
  return problems;
}

function identityOf(v: Required<Values>): IdentityConfig {
  if (v.identity !== 'federated') return { mode: 'password' };
  const from = v.federatedIdFrom!;
  const idFrom: FederatedIdSource =
    from === 'email'
      ? { kind: 'email' }
      : { kind: 'column', key: from, header: v.sheetHeaders![from]!.trim() };
  return { mode: 'federated', idpId: v.idpId!, protocol: v.idpProtocol!, idFrom };
}

function readable(path: string): boolean {
  try {
    readFileSync(path);
    return true;
  } catch {
    return false;
  }
}

function build(v: Required<Values>): Config {
  const keystoneAuth: Config['keystone']['auth'] =
    v.osAppCredentialId && v.osAppCredentialSecret
      ? { kind: 'application_credential', id: v.osAppCredentialId, secret: v.osAppCredentialSecret }
      : v.osUsername && v.osPassword
        ? {
            kind: 'password',
            username: v.osUsername,
            password: v.osPassword,
            projectName: v.osProjectName!,
            userDomainName: v.osUserDomainName!,
            projectDomainName: v.osProjectDomainName!,
          }
        : undefined;
  return {
    role: v.role!,
    production: v.nodeEnv === 'production',
    logLevel: v.logLevel!,
    http: {
      port: v.port!,
      host: v.host!,
      publicUrl: v.publicUrl?.replace(/\/+$/, ''),
      tls: v.tlsCertFile && v.tlsKeyFile ? { certFile: v.tlsCertFile, keyFile: v.tlsKeyFile } : undefined,
      trustedProxies: v.trustedProxies!,
      metrics: v.metricsPort === undefined ? undefined : { port: v.metricsPort, host: v.metricsHost! },
    },
    slack: {
      botToken: v.slackBotToken,
      signingSecret: v.slackSigningSecret,
      appToken: v.slackAppToken,
      adminChannel: v.slackAdminChannel,
      admins: v.slackAdmins && v.slackAdmins.length > 0 ? v.slackAdmins : undefined,
      apiUrl: v.slackApiUrl!.endsWith('/') ? v.slackApiUrl! : `${v.slackApiUrl}/`,
    },
    google: {
      credentialsFile: v.googleCredentials,
      sheetId: v.googleSheetId,
      applicationsTab: v.sheetApplications!,
      admittedTab: v.sheetAdmitted!,
      headers: v.sheetHeaders!,
      clearPin: v.sheetClearPin!,
      apiUrl: v.googleSheetsApiUrl!.endsWith('/') ? v.googleSheetsApiUrl! : `${v.googleSheetsApiUrl}/`,
    },
    keystone: {
      authUrl: v.osAuthUrl?.replace(/\/+$/, ''),
      auth: keystoneAuth,
      adminProjectName: v.osProjectName!,
      adminProjectDomainName: v.osProjectDomainName!,
      adminProjectDomainId:
        v.osProjectDomainId ??
        (v.osProjectDomainName!.toLowerCase() === 'default' ? 'default' : v.osProjectDomainName!),
      region: v.osRegionName,
      interface: v.osInterface!,
      memberRole: v.memberRole!,
      adminRole: v.adminRole!,
      domain: v.domain!,
      serviceProject: v.serviceProject!,
      protectedUsers: v.protectedUsers!,
      protectedProjects: v.protectedProjects!,
      caFile: v.osCacert,
      insecure: false,
    },
    redis: {
      url: v.redisUrl!,
      sentinels: v.redisSentinels && v.redisSentinels.length > 0 ? v.redisSentinels : undefined,
      sentinelName: v.redisSentinelName!,
      keyPrefix: v.redisKeyPrefix!,
      clusterNodes: v.redisClusterNodes && v.redisClusterNodes.length > 0 ? v.redisClusterNodes : undefined,
    },
    mail: {
      smtpUrl: v.smtpUrl,
      requireTls: v.smtpRequireTls!,
      caFile: v.smtpCaFile,
      from: v.mailFrom,
      supportEmail: v.supportEmail,
    },
    setpass: {
      secret: v.setpassSecret,
      tokenTtlMs: v.setpassTokenTtl!,
      appCredentialTtlMs: v.appCredentialTtl,
      maxPinAttempts: v.setpassMaxPinAttempts!,
      passwordMinLength: v.passwordMinLength!,
      passwordMinScore: v.passwordMinScore!,
      siteName: v.setpassSiteName!,
    },
    schedules: {
      sheetPoll: v.sheetPollCron!,
      reminder: v.reminderCron!,
      adminReminder: v.adminReminderCron!,
      housekeeping: v.housekeepingCron!,
      timezone: v.timezone!,
      reminderAfterMs: v.reminderAfter!,
      reminderIntervalMs: v.reminderInterval!,
      reminderMax: v.reminderMax!,
      adminReminderAfterMs: v.adminReminderAfter!,
    },
    identity: identityOf(v),
    web: { loginUrl: v.loginUrl, gettingStartedUrl: v.gettingStartedUrl, termsUrl: v.termsUrl },
    quotas: { presetsFile: v.quotaPresetsFile, defaultPreset: v.defaultQuotaPreset! },
    provision: { concurrency: v.provisionConcurrency! },
    audit: { maxLength: v.auditMaxLength! },
  };
}

export type CapabilityName = 'slack' | 'sheets' | 'keystone' | 'mail' | 'setpass' | 'redis';

export interface Capability {
  name: CapabilityName;
  enabled: boolean;
  /** Environment names still missing when the capability is off. */
  missing: string[];
}

/** Which parts of the product can run with these settings, and what each one still needs. */
export function capabilities(config: Config): Capability[] {
  const need = (name: CapabilityName, pairs: [string, unknown][]): Capability => {
    const missing = pairs.filter(([, value]) => value === undefined || value === '').map(([env]) => env);
    return { name, enabled: missing.length === 0, missing };
  };
  const adminSide = config.role !== 'setpass';
  const all: Capability[] = [
    need('redis', [['REDIS_URL', config.redis.url]]),
    need('setpass', [
      ['SETPASS_SECRET', config.setpass.secret],
      ['PUBLIC_URL', config.http.publicUrl],
      ['OS_AUTH_URL', config.keystone.authUrl],
    ]),
  ];
  if (adminSide) {
    all.push(
      need('slack', [
        ['SLACK_BOT_TOKEN', config.slack.botToken],
        [
          config.slack.appToken ? 'SLACK_APP_TOKEN' : 'SLACK_SIGNING_SECRET',
          config.slack.appToken ?? config.slack.signingSecret,
        ],
        ['SLACK_ADMIN_CHANNEL', config.slack.adminChannel],
      ]),
      need('keystone', [
        ['OS_AUTH_URL', config.keystone.authUrl],
        ['OS_USERNAME/OS_PASSWORD or OS_APPLICATION_CREDENTIAL_ID/_SECRET', config.keystone.auth],
      ]),
      need('sheets', [
        ['GOOGLE_APPLICATION_CREDENTIALS', config.google.credentialsFile],
        ['GOOGLE_SHEET_ID', config.google.sheetId],
      ]),
      need('mail', [
        ['SMTP_URL', config.mail.smtpUrl],
        ['MAIL_FROM', config.mail.from],
      ]),
    );
  }
  return all;
}

export function isEnabled(config: Config, name: CapabilityName): boolean {
  return capabilities(config).some((c) => c.name === name && c.enabled);
}

/** The settings table as Markdown, for the README and `kaizen config`. */
export function settingsTable(): string {
  const rows = Object.values(settings).map(
    (s) => `| \`${s.env}\` | ${s.area} | ${s.fallback === undefined ? '' : `\`${s.fallback}\``} | ${s.doc} |`,
  );
  return ['| variable | area | default | what it is for |', '|---|---|---|---|', ...rows].join('\n');
}
