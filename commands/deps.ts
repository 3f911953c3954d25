/**
 * Everything a command handler may use, in one typed object. Slack and the CLI build it from the
 * same `Services` and differ only in the `Surface`: how a Slack user is looked up, how a card is
 * linked, how the admin channel is told. A capability that is switched off is undefined here, and
 * the handler that needs it answers with the setting to turn on.
 */

import type { AccountGuard, ProtectionPolicy } from '../src/domain/accounts/protection.js';
import type { ApplicationStore } from '../src/domain/applications/store.js';
import type { Audit } from '../src/domain/audit/audit.js';
import type { QuotaPresets } from '../src/domain/quotas/presets.js';
import { forgotPageUrl } from '../src/domain/setpass/paths.js';
import type { PasswordLinkIssuer } from '../src/domain/setpass/ports.js';
import type { KeystoneClient } from '../src/keystone/index.js';
import type { MailMessage } from '../src/mail/message.js';
import type { EnqueueResult } from '../src/mail/outbox.js';
import type { Config } from '../src/platform/config/config.js';
import type { Logger } from '../src/platform/log.js';
import type { Redis } from '../src/platform/redis.js';

/** A password link as the setpass side hands it out. The URL is a secret: it goes into email only. */

export interface Outbox {
  /** Queues a message; the same `idempotencyKey` twice sends once. */
  enqueue(message: MailMessage, options: { idempotencyKey: string }): Promise<EnqueueResult>;
}

export interface SheetCounts {
  read: number;
  new: number;
  invalid: number;
  duplicates: number;
  problem?: string;
  quotaRequests?: { new: number; invalid: number; problem?: string };
}

export interface SheetPoller {
  poll(): Promise<SheetCounts>;
}

export interface Reminders {
  /** The last reminder about an unused link sent to this Keystone user, and how many went out; undefined when none. */
  last(userId: string): Promise<{ count: number; at: Date } | undefined>;
}

/** What differs between Slack and the shell. */
export interface Surface {
  /** The email of a Slack user named as `<@U…>`; undefined when Slack is not reachable from here or has none. */
  emailOfSlackUser(userId: string): Promise<string | undefined>;
  /** A link to an applicant card; undefined when none can be made. */
  cardLink(card: { channel: string; ts: string }): Promise<string | undefined>;
  /** A line in the admin channel, for outcomes every admin should see. Never throws. */
  tellAdmins(text: string): Promise<void>;
}

/** The texts emails need besides the link. */
export interface MailSettings {
  supportEmail: string | undefined;
  loginUrl: string | undefined;
  gettingStartedUrl: string | undefined;
  /** Where a user asks for a new link with their PIN. */
  forgotUrl: string | undefined;
}

export interface CommandDeps {
  log: Logger;
  redis: Redis;
  audit: Audit;
  applications: ApplicationStore;
  /** The admin client; undefined when Keystone is not configured. */
  keystone: KeystoneClient | undefined;
  /** KAIZEN_DOMAIN: where users are looked up. */
  domainId: string;
  /** The protected-account rule, read through the admin client; undefined when Keystone is not configured. */
  accounts: Pick<AccountGuard, 'check'> | undefined;
  links: PasswordLinkIssuer | undefined;
  outbox: Outbox | undefined;
  sheet: SheetPoller | undefined;
  reminders: Reminders | undefined;
  mail: MailSettings;
  surface: Surface;
  /** The presets `quota <project> <preset>` may name. */
  quotaPresets?: QuotaPresets | undefined;
  /** The projects whose quota `quota` never changes (admin, service, KAIZEN_PROTECTED_PROJECTS). */
  projectProtection?: ProtectionPolicy | undefined;
}

/** The mail settings commands need, from the configuration. */
export function mailSettings(config: Config): MailSettings {
  return {
    supportEmail: config.mail.supportEmail,
    loginUrl: config.web.loginUrl,
    gettingStartedUrl: config.web.gettingStartedUrl,
    forgotUrl: forgotPageUrl(config.http.publicUrl),
  };
}

/** A surface with nothing behind it: no Slack lookups, archive links only, admin notes only logged. */
export function offlineSurface(log: Logger): Surface {
  return {
    emailOfSlackUser: async () => undefined,
    cardLink: async (card) => archiveLink(card),
    tellAdmins: async (text) => {
      log.info({ note: text }, 'admin note (Slack is not configured here)');
    },
  };
}

/** Slack's archive URL for a message; it redirects to the workspace, so no team domain is needed. */
export function archiveLink(card: { channel: string; ts: string }): string {
  return `https://slack.com/archives/${card.channel}/p${card.ts.replace('.', '')}`;
}
