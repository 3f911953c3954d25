/**
 * Everything an approval needs, real: Redis under a key prefix of its own, the Keystone from the
 * global setup with the quota recorder in its catalog (a region per harness), the SMTP test server
 * with the mail outbox in front of it, the password links of src/domain/setpass, and optionally the
 * applications sheet against the Sheets fake.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { inject } from 'vitest';
import { setpassFromConfig } from '../../../src/app/wiring/setpass.js';
import { sheetsFromConfig } from '../../../src/app/wiring/sheets.js';
import { type ApplicationRecord, ApplicationStore } from '../../../src/domain/applications/store.js';
import { Audit } from '../../../src/domain/audit/audit.js';
import type { Applicant, ProjectRequest } from '../../../src/domain/intake/applicant.js';
import { rowKey } from '../../../src/domain/intake/parse.js';
import { markWelcomeDelivered } from '../../../src/domain/provision/delivery.js';
import { type ProvisionDeps, quotaSetter } from '../../../src/domain/provision/deps.js';
import { DELIVERY_HOOK } from '../../../src/domain/provision/steps.js';
import { BUILT_IN_PRESETS } from '../../../src/domain/quotas/presets.js';
import type { QuotaChoice } from '../../../src/domain/quotas/types.js';
import type { PinHasher } from '../../../src/domain/setpass/pin.js';
import type { TokenStore } from '../../../src/domain/setpass/store.js';
import { keystoneFromConfig } from '../../../src/keystone/from-config.js';
import type { KeystoneClient } from '../../../src/keystone/index.js';
import { outboxFromConfig } from '../../../src/mail/from-config.js';
import type { MailOutbox } from '../../../src/mail/outbox.js';
import { type Config, loadConfig } from '../../../src/platform/config/config.js';
import { silentLogger } from '../../../src/platform/log.js';
import { approvalEmails } from '../../../views/emails/approval.js';
import { unique } from '../../keystone/fixtures.js';
import { keystoneEnv, testEnv } from '../../support/bot.js';
import {
  type KeystoneRegistration,
  type QuotaRecorder,
  startQuotaRecorder,
} from '../../support/quota-recorder.js';
import { type SheetsFake, startSheetsFake } from '../../support/sheets-fake.js';
import { type SmtpTestServer, startSmtpServer } from '../../support/smtp.js';
import { HEADER, row } from '../intake/fixtures.js';

export const PUBLIC_URL = 'https://register.example.org';
export const PIN = '4821';
export const APPLICATIONS_TAB = 'Form Responses 1';
export const ADMITTED_TAB = 'Current Users';

export interface Harness {
  config: Config;
  redis: Redis;
  keystone: KeystoneClient;
  applications: ApplicationStore;
  audit: Audit;
  tokens: TokenStore;
  /** Checks PINs with the harness's SETPASS_SECRET. */
  pins: PinHasher;
  outbox: MailOutbox;
  smtp: SmtpTestServer;
  recorder: QuotaRecorder;
  sheets: SheetsFake | undefined;
  /** Fresh dependencies, so a test may change them without touching the next test's. */
  deps(overrides?: Partial<ProvisionDeps>): ProvisionDeps;
  /** A new pending application with unique names; its row is put in the Sheets fake too. */
  apply(input?: ApplicantInput): Promise<ApplicationRecord>;
  close(): Promise<void>;
}

export interface ApplicantInput {
  email?: string;
  firstName?: string;
  lastName?: string;
  hasAccount?: boolean;
  project?: ProjectRequest;
  extraUsers?: string[];
  quota?: QuotaChoice;
  pinHash?: string | undefined;
}

export async function startHarness(options: { sheets?: boolean } = {}): Promise<Harness> {
  const provided = inject('keystone');
  const [smtp, recorder, sheets] = await Promise.all([
    startSmtpServer(),
    startQuotaRecorder(),
    options.sheets ? startSheetsFake() : Promise.resolve(undefined),
  ]);
  const region = unique('kaizen-provision');
  const registration: KeystoneRegistration = await recorder.registerInKeystone({ ...provided, region });
  const config = loadConfig(
    testEnv({
      ...keystoneEnv(provided),
      OS_REGION_NAME: region,
      PUBLIC_URL: PUBLIC_URL,
      SETPASS_SECRET: randomBytes(32).toString('base64'),
      SMTP_URL: smtp.url,
      SMTP_CA_FILE: smtp.caFile,
      MAIL_FROM: 'Kaizen <kaizen@example.org>',
      SUPPORT_EMAIL: 'help@example.org',
      LOGIN_URL: 'https://cloud.example.org/dashboard',
      GETTING_STARTED_URL: 'https://docs.example.org/start',
      ...(sheets
        ? {
            GOOGLE_APPLICATION_CREDENTIALS: sheets.keyFile,
            GOOGLE_SHEET_ID: sheets.spreadsheetId,
            GOOGLE_SHEETS_API_URL: `${sheets.url}/`,
          }
        : {}),
    }),
  );
  if (sheets) sheets.setTab(APPLICATIONS_TAB, [HEADER]);
  const redis = new Redis(config.redis.url, { keyPrefix: config.redis.keyPrefix });
  const keystone = keystoneFromConfig(config)!;
  const applications = new ApplicationStore(redis);
  const audit = new Audit(redis, config.audit.maxLength);
  const setpass = setpassFromConfig(config, { redis, keystone, log: silentLogger })!;
  const tokens = setpass.tokens;
  const outbox = outboxFromConfig(config, redis, silentLogger, {
    retryBaseMs: 20,
    retryMaxMs: 200,
    pollMs: 10,
  })!;
  outbox.onDelivered(DELIVERY_HOOK, (id) => markWelcomeDelivered({ applications, audit }, id));
  const sheet = sheets ? sheetsFromConfig(config, silentLogger) : undefined;
  const pinHash = setpass.hashPin(PIN);

  return {
    config,
    redis,
    keystone,
    applications,
    audit,
    tokens,
    pins: setpass.pins,
    outbox,
    smtp,
    recorder,
    sheets,
    deps: (overrides = {}) => ({
      config,
      log: silentLogger,
      audit,
      redis,
      applications,
      keystone,
      quotas: quotaSetter(keystone),
      quotaPresets: BUILT_IN_PRESETS,
      mail: outbox,
      emails: approvalEmails,
      sheet,
      setpass,
      ...overrides,
    }),
    async apply(input = {}) {
      const email = input.email ?? `${unique('ada')}@example.org`;
      const submittedAt = '11/02/2026 10:00:00';
      const project = input.project ?? {
        kind: 'new',
        name: unique('Kaizen Lab'),
        description: 'Analytical engines',
      };
      const cells = row({
        timestamp: submittedAt,
        email,
        firstName: input.firstName ?? 'Ada',
        lastName: input.lastName ?? 'Lovelace',
        hasAccount: input.hasAccount ? 'Yes' : 'No',
        pin: '',
        projectKind: project.kind === 'new' ? 'New project' : 'Existing project',
        newProjectName: project.kind === 'new' ? project.name : '',
        existingProjectName: project.kind === 'existing' ? project.name : '',
        extraUsers: (input.extraUsers ?? []).join(', '),
      });
      const applicant: Applicant = {
        id: rowKey(submittedAt, email),
        submittedAt,
        email: email.toLowerCase(),
        firstName: input.firstName ?? 'Ada',
        lastName: input.lastName ?? 'Lovelace',
        hasAccount: input.hasAccount ?? false,
        organization: 'Analytical Society',
        role: 'Researcher',
        phone: '',
        sponsor: '',
        comment: '',
        project,
        extraUsers: input.extraUsers ?? [],
        row: cells,
      };
      if (sheets) sheets.setTab(APPLICATIONS_TAB, [...(sheets.tab(APPLICATIONS_TAB) ?? [HEADER]), cells]);
      await applications.create({
        applicant,
        pinHash: 'pinHash' in input ? input.pinHash : pinHash,
        quota: input.quota ?? { kind: 'preset', preset: 'small' },
      });
      return (await applications.get(applicant.id))!;
    },
    async close() {
      await outbox.stop();
      await registration.unregister();
      await Promise.all([smtp.close(), recorder.close(), sheets?.close()]);
      const raw = new Redis(config.redis.url);
      const mine = await raw.keys(`${config.redis.keyPrefix}*`);
      if (mine.length > 0) await raw.del(...mine);
      await Promise.all([raw.quit(), redis.quit()]);
    },
  };
}

/** Every key and value this harness holds in Redis, as text, to look for secrets in. */
export async function everythingStored(harness: Harness): Promise<string> {
  const raw = new Redis(harness.config.redis.url);
  try {
    const found = await raw.keys(`${harness.config.redis.keyPrefix}*`);
    const parts = await Promise.all(
      found.map(async (key) => {
        const type = await raw.type(key);
        if (type === 'string') return `${key}=${await raw.get(key)}`;
        if (type === 'hash') return `${key}=${JSON.stringify(await raw.hgetall(key))}`;
        if (type === 'zset') return `${key}=${(await raw.zrange(key, 0, -1)).join(',')}`;
        if (type === 'stream') return `${key}=${JSON.stringify(await raw.xrange(key, '-', '+'))}`;
        return key;
      }),
    );
    return parts.join('\n');
  } finally {
    await raw.quit();
  }
}

/** The messages the SMTP server got for one address. */
export const mailTo = (harness: Harness, email: string) =>
  harness.smtp.messages.filter((message) => message.to.includes(email));
