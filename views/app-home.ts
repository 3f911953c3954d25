/**
 * The App Home tab. Admins see the queue: applicants waiting for a decision (with the card's own
 * buttons, so the card's listeners handle a click here too), recent decisions, users who have not
 * used their password link, and the health of each part as `kaizen doctor` sees it. Everyone else
 * sees what the app is for. A pure function of its input.
 */
import type { types as slack } from '@slack/bolt';
import type { DoctorLine } from '../src/ops/doctor.js';
import type { Decision, PendingApplicant, QueueOverview, UnusedLink } from '../src/ops/overview.js';
import { APPLICANT_ACTIONS } from './applicant-card.js';
import { clipPlain, escapeAndClip, escapeMrkdwn, mention, slackDate } from './mrkdwn.js';
import { describeWait, messageLink } from './reminders.js';

export interface HomeInput extends QueueOverview {
  now: Date;
  isAdmin: boolean;
}

export interface HomeView {
  type: 'home';
  blocks: slack.KnownBlock[];
}

/** A Home tab takes 100 blocks; each applicant takes two. */
export const HOME_LIMITS = { pending: 20, decisions: 10, unusedLinks: 15 } as const;

const SECTION_MAX = 3_000;

export function appHomeView(input: HomeInput): HomeView {
  if (!input.isAdmin) return { type: 'home', blocks: visitorBlocks() };
  return {
    type: 'home',
    blocks: [
      header('Waiting for a decision'),
      ...pendingBlocks(input.pending, input.now),
      { type: 'divider' },
      header('Recent decisions'),
      section(decisionsText(input.decisions)),
      { type: 'divider' },
      header('Password links not used yet'),
      section(unusedLinksText(input.unusedLinks, input.now)),
      { type: 'divider' },
      header('Health'),
      section(healthText(input.health)),
      context(`Updated ${slackDate(input.now.toISOString())}. Open this tab again to refresh.`),
    ],
  };
}

function visitorBlocks(): slack.KnownBlock[] {
  return [
    header('Kaizen Registration'),
    section(
      [
        'This app creates OpenStack accounts for people who apply through the registration form.',
        'The admins review each application here in Slack; once approved, you get an email with a one-time link to choose your password, using the 4-digit PIN you put on the form.',
        'Questions about your application? Ask the cloud admins.',
      ].join('\n\n'),
    ),
  ];
}

function pendingBlocks(pending: readonly PendingApplicant[], now: Date): slack.KnownBlock[] {
  if (pending.length === 0) return [section('Nobody is waiting. :tada:')];
  const shown = pending.slice(0, HOME_LIMITS.pending);
  const blocks = shown.flatMap((applicant): slack.KnownBlock[] => {
    const waited = describeWait(now.getTime() - Date.parse(applicant.since));
    const card = applicant.card ? ` · <${messageLink(applicant.card)}|open the card>` : '';
    const text = `*${escapeAndClip(applicant.name || applicant.email, 150)}* (${escapeAndClip(applicant.email, 200)})\n${escapeAndClip(applicant.project, 300)} · waiting ${waited}${card}`;
    return [
      section(text),
      {
        type: 'actions',
        // Block ids are unique within a view; the action ids are the card's.
        block_id: `home_pending:${applicant.id}`,
        elements: [
          button(APPLICANT_ACTIONS.approve, 'Approve', applicant.id, 'primary'),
          button(APPLICANT_ACTIONS.quota, 'Quota', applicant.id),
          button(APPLICANT_ACTIONS.reject, 'Reject', applicant.id, 'danger'),
        ],
      },
    ];
  });
  if (pending.length > shown.length) {
    blocks.push(context(`…and ${pending.length - shown.length} more: \`/kaizen pending\` lists them all.`));
  }
  return blocks;
}

function decisionsText(decisions: readonly Decision[]): string {
  if (decisions.length === 0) return 'No decisions yet.';
  const lines = decisions.slice(0, HOME_LIMITS.decisions).map((decision) => {
    const who = /^[UW][A-Z0-9]+$/.test(decision.actor)
      ? mention(decision.actor)
      : escapeMrkdwn(decision.actor);
    const verb = decision.action === 'approve' ? 'approved' : 'rejected';
    const reason = decision.rejectReason ? ` — ${escapeAndClip(decision.rejectReason, 150)}` : '';
    return `${slackDate(decision.at)} · ${who} ${verb} *${escapeAndClip(decision.applicant, 200)}*${reason}`;
  });
  return clipLines(lines);
}

function unusedLinksText(links: readonly UnusedLink[], now: Date): string {
  if (links.length === 0) return 'Every approved user has set a password.';
  const lines = links.slice(0, HOME_LIMITS.unusedLinks).map((link) => {
    const issued = link.issuedAt
      ? `sent ${describeWait(now.getTime() - Date.parse(link.issuedAt))} ago`
      : 'sent';
    const expiry = link.expiresAt ? `expires ${slackDate(link.expiresAt)}` : 'expired';
    const reminders =
      link.remindersSent === 0
        ? 'no reminder yet'
        : `${link.remindersSent} reminder${link.remindersSent === 1 ? '' : 's'}`;
    return `*${escapeAndClip(link.email, 200)}* · ${issued} · ${expiry} · ${reminders}`;
  });
  if (links.length > HOME_LIMITS.unusedLinks)
    lines.push(`…and ${links.length - HOME_LIMITS.unusedLinks} more`);
  return clipLines(lines);
}

const HEALTH_ICONS: Record<DoctorLine['status'], string> = {
  ok: ':large_green_circle:',
  off: ':white_circle:',
  failing: ':red_circle:',
  warning: ':large_yellow_circle:',
};

function healthText(health: readonly DoctorLine[] | undefined): string {
  if (health === undefined)
    return 'The health checks did not answer in time; `kaizen doctor` runs them from a shell.';
  return clipLines(
    health.map(
      (line) =>
        `${HEALTH_ICONS[line.status]} *${line.name}* ${line.status} — ${escapeAndClip(line.detail, 300)}`,
    ),
  );
}

function header(text: string): slack.HeaderBlock {
  return { type: 'header', text: { type: 'plain_text', text: clipPlain(text, 150) } };
}

function section(text: string): slack.SectionBlock {
  return { type: 'section', text: { type: 'mrkdwn', text } };
}

function context(text: string): slack.ContextBlock {
  return { type: 'context', elements: [{ type: 'mrkdwn', text }] };
}

function button(actionId: string, label: string, value: string, style?: 'primary' | 'danger'): slack.Button {
  return {
    type: 'button',
    action_id: actionId,
    text: { type: 'plain_text', text: label },
    value,
    ...(style ? { style } : {}),
  };
}

/** Whole lines only, inside one section's limit. */
function clipLines(lines: string[]): string {
  const kept: string[] = [];
  let length = 0;
  for (const line of lines) {
    if (length + line.length + 1 > SECTION_MAX - 2) {
      kept.push('…');
      break;
    }
    kept.push(line);
    length += line.length + 1;
  }
  return kept.join('\n');
}
