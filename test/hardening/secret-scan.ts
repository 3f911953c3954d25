/**
 * The secrets a hardening test handled (tokens, PINs, passwords, the deployment's own credentials),
 * and a scan of everything the bot left behind for any of them in plaintext: every key and value
 * under its Redis prefix, its log output, and everything it sent to Slack.
 */
import { Redis } from 'ioredis';
import { closeServices, createServices } from '../../src/app/services.js';
import { type Env, loadConfig } from '../../src/platform/config/config.js';
import { silentLogger } from '../../src/platform/log.js';
import { dumpRedis } from '../support/redis-dump.js';
import type { SlackFake } from '../support/slack-fake.js';
import type { SmtpTestServer } from '../support/smtp.js';

/** Where a scan looks: each place is a name and its text. */
export type Place = [where: string, text: string];

export class SecretLedger {
  private readonly secrets = new Map<string, string>();
  private readonly pins = new Map<string, string>();

  /** A secret to look for; values too short to tell apart from ordinary text are refused. */
  add(label: string, value: string | undefined): void {
    if (value === undefined || value === '') return;
    if (value.length < 8) throw new Error(`SecretLedger: "${label}" is too short to scan for`);
    this.secrets.set(value, label);
  }

  /** A 4-digit PIN: it counts only standing alone, since ids and times are full of digits. */
  addPin(pin: string): void {
    if (!/^\d{4}$/.test(pin)) return;
    this.pins.set(pin, `PIN ${pin}`);
  }

  /**
   * A fresh PIN for an applicant, remembered for the scan. Drawn from 3000–9999 so that no year in
   * a timestamp can look like it.
   */
  newPin(): string {
    for (;;) {
      const pin = String(3000 + Math.floor(Math.random() * 7000));
      if (!this.pins.has(pin)) {
        this.addPin(pin);
        return pin;
      }
    }
  }

  /** The deployment's own secrets from the bot's settings. */
  addSettings(env: Env): void {
    for (const name of ['SLACK_BOT_TOKEN', 'SLACK_SIGNING_SECRET', 'SETPASS_SECRET', 'OS_PASSWORD']) {
      this.add(name, env[name]);
    }
    const smtp = env.SMTP_URL ? new URL(env.SMTP_URL) : undefined;
    if (smtp?.password) this.add('the SMTP password', decodeURIComponent(smtp.password));
  }

  /** The password-link tokens in the emails the SMTP server received. */
  addMailedTokens(smtp: SmtpTestServer): void {
    for (const mail of smtp.messages) {
      for (const match of mail.text.matchAll(/[?&]token=([\w-]{43})/g))
        this.add('an emailed token', match[1]);
    }
  }

  /**
   * The temporary passwords sealed in the live links of these users, opened the way any replica of
   * the deployment `env` describes would open them.
   */
  async addTemporaryPasswords(env: Env, userIds: readonly string[]): Promise<void> {
    const services = createServices(loadConfig(env), silentLogger);
    try {
      for (const userId of userIds) {
        const record = await services.setpass?.tokens.current(userId);
        this.add('a temporary password', record?.temporaryPassword);
      }
    } finally {
      await closeServices(services, 0);
    }
  }

  get size(): number {
    return this.secrets.size + this.pins.size;
  }

  /** "label in where" for each secret found in each place. */
  leaks(places: readonly Place[]): string[] {
    const found: string[] = [];
    for (const [where, text] of places) {
      for (const [value, label] of this.secrets) if (text.includes(value)) found.push(`${label} in ${where}`);
      for (const [pin, label] of this.pins) {
        if (new RegExp(`(?<![0-9A-Za-z])${pin}(?![0-9A-Za-z])`).test(text))
          found.push(`${label} in ${where}`);
      }
    }
    return found;
  }
}

/** Every key and value under `prefix`, as one text. */
export async function redisPlace(redisUrl: string, prefix: string): Promise<Place> {
  const plain = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
  plain.on('error', () => {});
  try {
    const stored = await dumpRedis(plain, prefix);
    if (stored.size === 0)
      throw new Error(`nothing under ${prefix} in ${redisUrl}: a scan would prove nothing`);
    return [`Redis (${prefix})`, [...stored].map(([key, value]) => `${key} ${value}`).join('\n')];
  } finally {
    plain.disconnect();
  }
}

/**
 * What the bot sent to Slack: every Web API call's arguments (messages, updates, ephemerals,
 * modals, App Home) and every post to a response URL.
 */
export function slackPlace(slack: SlackFake): Place {
  const calls = slack.calls().map((call) => ({ method: call.method, args: call.args }));
  const responses = slack.responses.map((response) => response.body);
  return ['Slack', JSON.stringify({ calls, responses })];
}
