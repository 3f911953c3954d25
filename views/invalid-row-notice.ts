/**
 * The notice posted to the admin channel when rows of the applications sheet cannot become
 * applications, or the sheet itself is unusable (no header row, missing columns). Each row says
 * what to fix, e.g. "row 7 (ann@x.org): PIN must be 4 digits".
 */
import type { types as slack } from '@slack/bolt';
import type { IntakeNotice } from '../src/domain/intake/poll.js';
import type { SlackMessage } from './applicant-card.js';
import { clipPlain, escapeAndClip } from './mrkdwn.js';

const ROWS_SHOWN = 25;

/** "row 7 (ann@x.org): PIN must be 4 digits; Last name is empty" */
export function describeInvalidRow(row: { rowNumber: number; email: string; reasons: string[] }): string {
  const who = row.email === '' ? 'no email' : clipPlain(row.email, 80);
  return `row ${row.rowNumber} (${who}): ${row.reasons.join('; ')}`;
}
const SECTION_MAX = 3000;

export function invalidRowNotice(notice: IntakeNotice): SlackMessage {
  const tab = escapeAndClip(notice.tab, 100);
  const quota = notice.about === 'quota_requests';
  const sheet = quota ? 'The quota requests tab' : 'The applications sheet';
  if (notice.kind === 'sheet') {
    const text = `:warning: ${escapeAndClip(notice.message, SECTION_MAX - 20)}`;
    return {
      text: `${sheet} needs attention: ${escapeAndClip(notice.message, 250)}`,
      blocks: [{ type: 'section', text: { type: 'mrkdwn', text } }],
    };
  }
  const count = notice.rows.length;
  const intro =
    `:warning: ${count === 1 ? '1 row' : `${count} rows`} of *${tab}* cannot become ${quota ? (count === 1 ? 'a quota request' : 'quota requests') : count === 1 ? 'an application' : 'applications'}. ` +
    'Fix them in the sheet and the next read takes them in.';
  const lines = notice.rows
    .slice(0, ROWS_SHOWN)
    .map((row) => `• ${escapeAndClip(describeInvalidRow(row), 900)}`);
  if (count > ROWS_SHOWN) lines.push(`…and ${count - ROWS_SHOWN} more`);
  const blocks: slack.KnownBlock[] = [{ type: 'section', text: { type: 'mrkdwn', text: intro } }];
  // Lines are packed into as few sections as fit, each under Block Kit's 3000 characters.
  let current = '';
  for (const line of lines) {
    if (current !== '' && current.length + 1 + line.length > SECTION_MAX) {
      blocks.push({ type: 'section', text: { type: 'mrkdwn', text: current } });
      current = '';
    }
    current = current === '' ? line : `${current}\n${line}`;
  }
  if (current !== '') blocks.push({ type: 'section', text: { type: 'mrkdwn', text: current } });
  const where = quota ? 'the quota requests tab' : 'the applications sheet';
  return { text: `${count === 1 ? '1 row' : `${count} rows`} of ${where} need fixing`, blocks };
}
