/**
 * Every setting of the bot, in one table: environment name, what it is for, its default, and the
 * schema its value must match. Start-up fails fast with one readable list of what is wrong; a
 * capability whose settings are absent is switched off (see `capabilities`).
 */
import { readFileSync } from 'node:fs';
import { KaizenError } from '../errors.js';
import { maskCredentials } from '../log.js';
import { withCloud } from './clouds-yaml.js';
import type { Area, Setting } from './setting.js';
import { generalSettings } from './settings/general.js';
import { googleSettings } from './settings/google.js';
import { httpSettings } from './settings/http.js';
import { keystoneSettings } from './settings/keystone.js';
import { mailSettings } from './settings/mail.js';
import { redisSettings } from './settings/redis.js';
import { schedulesSettings } from './settings/schedules.js';
import { setpassSettings } from './settings/setpass.js';
import { slackSettings } from './settings/slack.js';
import { webSettings } from './settings/web.js';

export type { Area };

export const settings = {
  ...generalSettings,
  ...httpSettings,
  ...slackSettings,
  ...googleSettings,
  ...keystoneSettings,
  ...redisSettings,
  ...mailSettings,
  ...setpassSettings,
  ...schedulesSettings,
  ...webSettings,
} as const;

type Settings = typeof settings;
type Values = { [K in keyof Settings]: ReturnType<Settings[K]['parse']> };

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
  logLevel: Values['logLevel'];
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
    /** SHEET_QUOTA_REQUESTS. */
    quotaRequestsTab: string;
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
  quotas: {
    presetsFile: string | undefined;
    defaultPreset: string;
    /** QUOTA_AUTO_APPROVE. */
    autoApprove: boolean;
    /** QUOTA_AUTO_APPROVE_AFTER, in ms. */
    autoApproveAfterMs: number;
  };
  provision: { concurrency: number };
  audit: { maxLength: number };
}

/** Where a federated user's unique id comes from: the applicant's email, or a sheet column. */
export type FederatedIdSource = { kind: 'email' } | { kind: 'column'; key: string; header: string };

export type IdentityConfig =
  | { mode: 'password' }
  | { mode: 'federated'; idpId: string; protocol: string; idFrom: FederatedIdSource };

/** The sheet column KAIZEN_FEDERATED_ID_FROM names, in federated mode. */
export function federatedIdColumn(config: Config): { key: string; header: string } | undefined {
  const { identity } = config;
  return identity.mode === 'federated' && identity.idFrom.kind === 'column' ? identity.idFrom : undefined;
}

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
  // OS_CLOUD fills in the OS_* settings it names; see src/platform/config/clouds-yaml.ts.
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
  const from = v.federatedIdFrom;
  const idFrom: FederatedIdSource =
    from === 'email'
      ? { kind: 'email' }
      : { kind: 'column', key: from, header: (v.sheetHeaders[from] ?? '').trim() };
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
            projectName: v.osProjectName,
            userDomainName: v.osUserDomainName,
            projectDomainName: v.osProjectDomainName,
          }
        : undefined;
  return {
    role: v.role,
    production: v.nodeEnv === 'production',
    logLevel: v.logLevel,
    http: {
      port: v.port,
      host: v.host,
      publicUrl: v.publicUrl?.replace(/\/+$/, ''),
      tls: v.tlsCertFile && v.tlsKeyFile ? { certFile: v.tlsCertFile, keyFile: v.tlsKeyFile } : undefined,
      trustedProxies: v.trustedProxies,
      metrics: v.metricsPort === undefined ? undefined : { port: v.metricsPort, host: v.metricsHost },
    },
    slack: {
      botToken: v.slackBotToken,
      signingSecret: v.slackSigningSecret,
      appToken: v.slackAppToken,
      adminChannel: v.slackAdminChannel,
      admins: v.slackAdmins && v.slackAdmins.length > 0 ? v.slackAdmins : undefined,
      apiUrl: v.slackApiUrl.endsWith('/') ? v.slackApiUrl : `${v.slackApiUrl}/`,
    },
    google: {
      credentialsFile: v.googleCredentials,
      sheetId: v.googleSheetId,
      applicationsTab: v.sheetApplications,
      admittedTab: v.sheetAdmitted,
      quotaRequestsTab: v.sheetQuotaRequests,
      headers: v.sheetHeaders,
      clearPin: v.sheetClearPin,
      apiUrl: v.googleSheetsApiUrl.endsWith('/') ? v.googleSheetsApiUrl : `${v.googleSheetsApiUrl}/`,
    },
    keystone: {
      authUrl: v.osAuthUrl?.replace(/\/+$/, ''),
      auth: keystoneAuth,
      adminProjectName: v.osProjectName,
      adminProjectDomainName: v.osProjectDomainName,
      adminProjectDomainId:
        v.osProjectDomainId ??
        (v.osProjectDomainName.toLowerCase() === 'default' ? 'default' : v.osProjectDomainName),
      region: v.osRegionName,
      interface: v.osInterface,
      memberRole: v.memberRole,
      adminRole: v.adminRole,
      domain: v.domain,
      serviceProject: v.serviceProject,
      protectedUsers: v.protectedUsers,
      protectedProjects: v.protectedProjects,
      caFile: v.osCacert,
      insecure: false,
    },
    redis: {
      url: v.redisUrl,
      sentinels: v.redisSentinels && v.redisSentinels.length > 0 ? v.redisSentinels : undefined,
      sentinelName: v.redisSentinelName,
      keyPrefix: v.redisKeyPrefix,
      clusterNodes: v.redisClusterNodes && v.redisClusterNodes.length > 0 ? v.redisClusterNodes : undefined,
    },
    mail: {
      smtpUrl: v.smtpUrl,
      requireTls: v.smtpRequireTls,
      caFile: v.smtpCaFile,
      from: v.mailFrom,
      supportEmail: v.supportEmail,
    },
    setpass: {
      secret: v.setpassSecret,
      tokenTtlMs: v.setpassTokenTtl,
      appCredentialTtlMs: v.appCredentialTtl,
      maxPinAttempts: v.setpassMaxPinAttempts,
      passwordMinLength: v.passwordMinLength,
      passwordMinScore: v.passwordMinScore,
      siteName: v.setpassSiteName,
    },
    schedules: {
      sheetPoll: v.sheetPollCron,
      reminder: v.reminderCron,
      adminReminder: v.adminReminderCron,
      housekeeping: v.housekeepingCron,
      timezone: v.timezone,
      reminderAfterMs: v.reminderAfter,
      reminderIntervalMs: v.reminderInterval,
      reminderMax: v.reminderMax,
      adminReminderAfterMs: v.adminReminderAfter,
    },
    identity: identityOf(v),
    web: { loginUrl: v.loginUrl, gettingStartedUrl: v.gettingStartedUrl, termsUrl: v.termsUrl },
    quotas: {
      presetsFile: v.quotaPresetsFile,
      defaultPreset: v.defaultQuotaPreset,
      autoApprove: v.quotaAutoApprove,
      autoApproveAfterMs: v.quotaAutoApproveAfter,
    },
    provision: { concurrency: v.provisionConcurrency },
    audit: { maxLength: v.auditMaxLength },
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
