/**
 * What the scheduled jobs need from the rest of the bot, as small interfaces, so the jobs know
 * nothing of Slack, SMTP or the password page and runs with any of them switched off.
 */

import type { MailMessage } from '../../mail/message.js';
import type { PasswordLinkIssuer } from '../setpass/ports.js';

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

/** Reminders read a link's state and send it again; they never set a password. */
export type ReminderLinks = Pick<
  PasswordLinkIssuer,
  'status' | 'current' | 'resend' | 'pinOnFile' | 'passwordSetAt'
>;

/** The mail outbox: the same `idempotencyKey` twice sends one email. */
export interface ReminderOutbox {
  enqueue(message: MailMessage, options: { idempotencyKey: string }): Promise<unknown>;
}
