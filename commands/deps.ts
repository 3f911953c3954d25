/**
 * Everything a command handler may use, in one typed object. Slack and the CLI build it from the
 * same `Services` and differ only in the `Surface`: how a Slack user is looked up, how a card is
 * linked, how the admin channel is told. A capability that is switched off is undefined here, and
 * the handler that needs it answers with the setting to turn on.
 */
import type { Audit } from '../src/audit.js';
import { type Config, isEnabled } from '../src/config.js';
import { lastReminder } from '../src/jobs/user-reminders.js';
import { AccountGuard, type KeystoneClient, protectionPolicy } from '../src/keystone/index.js';
import type { ProtectionPolicy } from '../src/keystone/protection.js';
import type { Logger } from '../src/log.js';
import type { MailMessage } from '../src/mail/message.js';
import type { EnqueueResult } from '../src/mail/outbox.js';
import { ApplicationStore } from '../src/provision/applications.js';
import type { QuotaPresets } from '../src/quotas/presets.js';
import type { Redis } from '../src/redis.js';
import type { Services } from '../src/services.js';
import type { ResendOptions, ResentLink } from '../src/setpass/issue.js';
import { forgotPageUrl } from '../src/setpass/paths.js';

/** A password link as the setpass side hands it out. The URL is a secret: it goes into email only. */
export interface IssuedLink {
  url: string;
  expiresAt: Date;
}

/** The setpass side, as commands use it. */
export interface PasswordLinks {
  /** Sets a new random temporary password in Keystone and issues a link; the previous link dies. */
  issue(user: { userId: string; username: string }, pinHash: string): Promise<IssuedLink>;
  /**
   * The live link, or a new one carrying the temporary password Keystone already has; never sets a
   * password. `deliver` runs while no one can redeem or issue the user's link.
   */
  resend<T>(
    user: { userId: string; username: string },
    options: ResendOptions,
    deliver: (link: IssuedLink, fresh: boolean) => Promise<T>,
  ): Promise<ResentLink<T>>;
  /** The keyed hash of a PIN, as it is kept on file. */
  hashPin(pin: string): string;
  /** The user's live link, undefined when none (never issued, used, expired, replaced, burned). */
  current(userId: string): Promise<IssuedLink | undefined>;
  /** `lockedOut` when wrong PINs burned the last link and none was issued since. */
  status(userId: string): Promise<{ lockedOut?: { attempts: number; at: Date } }>;
  pinOnFile(userId: string): Promise<string | undefined>;
  storePinHash(userId: string, pinHash: string): Promise<void>;
  /** When the user last set a password through a link. */
  passwordSetAt(userId: string): Promise<Date | undefined>;
}

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
  links: PasswordLinks | undefined;
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

/**
 * The deps for these services. Slack and the CLI pass their own surface, and the sheet intake when
 * they built one themselves; everything else is the same clients the rest of the bot uses.
 */
export function commandDeps(
  services: Services,
  surface: Surface,
  parts: { sheet?: SheetPoller } = {},
): CommandDeps {
  const { config, redis } = services;
  return {
    log: services.log,
    redis,
    audit: services.audit,
    applications: services.applications ?? new ApplicationStore(redis),
    // OS_AUTH_URL alone gives a client without credentials: no use to a command.
    keystone: isEnabled(config, 'keystone') ? services.keystone : undefined,
    domainId: config.keystone.domain,
    accounts:
      services.keystone === undefined
        ? undefined
        : new AccountGuard(services.keystone, protectionPolicy(config)),
    links: services.setpass,
    outbox: services.mail,
    sheet: parts.sheet ?? services.intake,
    reminders: { last: (userId) => lastReminder(redis, userId) },
    mail: mailSettings(config),
    surface,
    quotaPresets: services.quotaPresets,
    projectProtection: protectionPolicy(config),
  };
}
