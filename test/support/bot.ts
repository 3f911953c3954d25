/**
 * Starts the real bot (src/app/start.ts) on port 0 against the fakes and the real services, with a
 * Redis key prefix of its own so test files never see each other's keys.
 */
import { randomBytes } from 'node:crypto';
import { type RunningKaizen, startKaizen } from '../../src/app/start.js';
import { type Env, loadConfig } from '../../src/platform/config/config.js';
import { createLogger, type Logger } from '../../src/platform/log.js';
import type { SlackAppOptions } from '../../src/slack/app.js';
import type { ProvidedKeystone } from './provided.js';
import type { SheetsFake } from './sheets-fake.js';
import type { SlackFake } from './slack-fake.js';
import type { SmtpTestServer } from './smtp.js';

export const TEST_SIGNING_SECRET = 'test-signing-secret-0123456789abcdef';
export const TEST_BOT_TOKEN = 'xoxb-test-token';
export const TEST_ADMIN_CHANNEL = 'C0ADMINS';

export function uniquePrefix(label = 't'): string {
  return `test:${label}:${randomBytes(4).toString('hex')}:`;
}

/** Midnight on New Year's Day: no schedule fires during a run; tests and benchmarks poll on purpose. */
export const NEVER = '0 0 1 1 *';

/**
 * Settings for a bot against an approval world: the Slack and Sheets fakes, the test SMTP server and
 * the test Keystone in a region of the world's own. No schedule fires.
 */
export function approvalWorldEnv(
  world: { slack: SlackFake; sheets: SheetsFake; smtp: SmtpTestServer },
  keystone: ProvidedKeystone,
  region: string,
  overrides: Env = {},
): Env {
  return mailWorldEnv(world, keystone, {
    GOOGLE_SHEETS_API_URL: `${world.sheets.url}/`,
    GOOGLE_APPLICATION_CREDENTIALS: world.sheets.keyFile,
    GOOGLE_SHEET_ID: world.sheets.spreadsheetId,
    OS_REGION_NAME: region,
    HOUSEKEEPING_CRON: NEVER,
    ...overrides,
  });
}

/**
 * Settings for a bot with Slack and mail and no sheet: the Slack fake, the test SMTP server and the
 * test Keystone. No schedule fires.
 */
export function mailWorldEnv(
  world: { slack: SlackFake; smtp: SmtpTestServer },
  keystone: ProvidedKeystone,
  overrides: Env = {},
): Env {
  return testEnv({
    SLACK_API_URL: `${world.slack.url}/api/`,
    ...keystoneEnv(keystone),
    SMTP_URL: world.smtp.url,
    SMTP_CA_FILE: world.smtp.caFile,
    MAIL_FROM: 'Kaizen <noreply@kaizen.test>',
    SUPPORT_EMAIL: 'help@kaizen.test',
    PUBLIC_URL: 'https://register.kaizen.test',
    SHEET_POLL_CRON: NEVER,
    REMINDER_CRON: NEVER,
    ADMIN_REMINDER_CRON: NEVER,
    ...overrides,
  });
}

/** Settings for a bot in tests; the caller adds the URLs of the fakes it started. */
export function testEnv(overrides: Env = {}): Env {
  return {
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'silent',
    SLACK_BOT_TOKEN: TEST_BOT_TOKEN,
    SLACK_SIGNING_SECRET: TEST_SIGNING_SECRET,
    SLACK_ADMIN_CHANNEL: TEST_ADMIN_CHANNEL,
    REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
    REDIS_KEY_PREFIX: uniquePrefix(),
    SETPASS_SECRET: randomBytes(32).toString('base64'),
    ...overrides,
  };
}

/** The OS_* settings of the test Keystone (from `inject('keystone')`). */
export function keystoneEnv(keystone: ProvidedKeystone): Env {
  return {
    OS_AUTH_URL: keystone.authUrl,
    OS_USERNAME: keystone.username,
    OS_PASSWORD: keystone.password,
    OS_PROJECT_NAME: keystone.projectName,
    OS_USER_DOMAIN_NAME: keystone.userDomainName,
    OS_PROJECT_DOMAIN_NAME: keystone.projectDomainName,
    OS_REGION_NAME: keystone.region,
  };
}

export interface TestBot {
  bot: RunningKaizen;
  /** Bolt's endpoint on the running bot. */
  eventsUrl: string;
  url: string;
  env: Env;
  stop(): Promise<void>;
}

/** How long a test bot's Web API calls may take (no retries unless a test is about them). */
export const TEST_SLACK_TIMEOUT_MS = 5_000;

/** Web API retries are off in tests unless a test is about them (`slack`). */
export async function startTestBot(
  env: Env,
  log: Logger = createLogger({ level: env.LOG_LEVEL ?? 'silent', pretty: false }),
  slack: SlackAppOptions = { retries: 0, timeoutMs: TEST_SLACK_TIMEOUT_MS },
): Promise<TestBot> {
  const config = loadConfig(env);
  const bot = await startKaizen(config, { log, slack, drainMs: 5_000 });
  return { bot, eventsUrl: `${bot.url}/slack/events`, url: bot.url, env, stop: () => bot.stop() };
}
