/**
 * What the scheduled reminders say in Slack: the digest of applicants waiting for a decision, the
 * reply in each card's thread, and the note about a user who never set a password. Pure functions
 * of their input; everything that came from the sheet is escaped.
 */
import type { types as slack } from '@slack/bolt';
import type { WaitingApplicant } from '../src/domain/reminders/admin-reminders.js';
import { clipPlain, escapeAndClip, escapeMrkdwn } from './mrkdwn.js';

export type { WaitingApplicant };

export interface SlackText {
  text: string;
  blocks: slack.KnownBlock[];
}

/** Block Kit allows 50 blocks per message; two go to the heading and the overflow line. */
const MAX_LISTED = 45;

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** A wait as people say it: "5 minutes", "26 hours", "3 days". */
export function describeWait(ms: number): string {
  const plural = (n: number, unit: string) => `${n} ${unit}${n === 1 ? '' : 's'}`;
  if (ms < HOUR) return plural(Math.max(0, Math.floor(ms / 60_000)), 'minute');
  if (ms < 2 * DAY) return plural(Math.floor(ms / HOUR), 'hour');
  return plural(Math.floor(ms / DAY), 'day');
}

/** Slack's archive URL for a message; it redirects into the workspace, so no team domain is needed. */
export function messageLink(card: { channel: string; ts: string }): string {
  return `https://slack.com/archives/${card.channel}/p${card.ts.replace('.', '')}`;
}

function waitingLine(applicant: WaitingApplicant, now: Date): string {
  const waited = describeWait(now.getTime() - Date.parse(applicant.since));
  const who = `*${escapeAndClip(applicant.name || applicant.email, 150)}* (${escapeAndClip(applicant.email, 200)})`;
  const project = escapeAndClip(applicant.project, 200);
  const card = applicant.card ? ` · <${messageLink(applicant.card)}|card>` : '';
  return `${who} — ${project} — waiting ${waited}${card}`;
}

/** One message for the admin channel listing every applicant whose reminder is due this tick. */
export function adminDigest(waiting: readonly WaitingApplicant[], now: Date): SlackText {
  const count = waiting.length;
  const heading =
    count === 1
      ? ':hourglass: 1 applicant is waiting for a decision'
      : `:hourglass: ${count} applicants are waiting for a decision`;
  const listed = waiting.slice(0, MAX_LISTED);
  const blocks: slack.KnownBlock[] = [
    { type: 'section', text: { type: 'mrkdwn', text: `${heading}. Approve or reject them on their cards.` } },
    ...listed.map(
      (applicant): slack.KnownBlock => ({
        type: 'section',
        text: { type: 'mrkdwn', text: waitingLine(applicant, now) },
      }),
    ),
  ];
  if (count > listed.length) {
    blocks.push({
      type: 'context',
      elements: [
        { type: 'mrkdwn', text: `…and ${count - listed.length} more: \`/kaizen pending\` lists them all.` },
      ],
    });
  }
  const names = waiting.map((applicant) => escapeMrkdwn(applicant.email)).join(', ');
  return { text: clipPlain(`${heading}: ${names}`, 3_000), blocks };
}

/** The reply in a card's thread: it brings the card back to the admins' attention. */
export function stillWaitingReply(applicant: WaitingApplicant, now: Date): string {
  const waited = describeWait(now.getTime() - Date.parse(applicant.since));
  return `:hourglass: Still waiting for a decision after ${waited}. Approve, change the quota, or reject above.`;
}

/** Told to the admins once, when a user's reminders have run out without a password being set. */
export function passwordNeverSetNotice(user: { email: string }, reminders: number): string {
  const times = reminders === 1 ? '1 reminder' : `${reminders} reminders`;
  return `:warning: ${escapeMrkdwn(user.email)} has not set a password after ${times}. \`/kaizen resend ${escapeMrkdwn(user.email)}\` sends the link again; \`/kaizen status ${escapeMrkdwn(user.email)}\` shows where they stand.`;
}
