/**
 * What the scheduled jobs need from the rest of the bot, as small interfaces, so src/jobs knows
 * nothing of Slack, SMTP or the password page and runs with any of them switched off.
 */

import type { MailMessage } from '../../mail/message.js';
import type { ResendOptions, ResentLink, SetpassLink } from '../setpass/issue.js';

/** A Block Kit block built by views/; the jobs only pass it through to the Slack side. */
export type NoticeBlock = object;

/** The admins' channel, as the jobs talk to it. Implemented in src/slack/job-notices.ts. */
export interface AdminNotices {
  /** Posts a message to the admin channel. */
  postToAdmins(text: string, blocks?: NoticeBlock[]): Promise<void>;
  /** Replies in the thread of a message (an applicant card). */
  replyInThread(channel: string, ts: string, text: string): Promise<void>;
}

/** A password link as the setpass side hands it out. The URL is a secret: it goes into email only. */

/** The setpass side, as the user reminders use it. */
export interface ReminderLinks {
  /**
   * Whether the user has a live link, and since when; `lockedOut` when wrong PINs burned the last
   * one and no admin has issued a new one since.
   */
  status(userId: string): Promise<{
    live: boolean;
    createdAt?: Date;
    expiresAt?: Date;
    lockedOut?: { attempts: number; at: Date };
  }>;
  /** The user's live link, undefined when none (never issued, used, expired, replaced, burned). */
  current(userId: string): Promise<SetpassLink | undefined>;
  /**
   * The live link, or a new one carrying the temporary password Keystone already has (never a new
   * password); `deliver` runs while the user's link can be neither redeemed nor issued.
   */
  resend<T>(
    user: { userId: string; username: string },
    options: ResendOptions,
    deliver: (link: SetpassLink, fresh: boolean) => Promise<T>,
  ): Promise<ResentLink<T>>;
  /** The PIN hash kept for the user, so a fresh link takes the PIN they chose. */
  pinOnFile(userId: string): Promise<string | undefined>;
  /** When the user last set a password through a link. */
  passwordSetAt(userId: string): Promise<Date | undefined>;
}

/** The mail outbox: the same `idempotencyKey` twice sends one email. */
export interface ReminderOutbox {
  enqueue(message: MailMessage, options: { idempotencyKey: string }): Promise<unknown>;
}
