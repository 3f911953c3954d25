/** `sync`: reads the applications sheet now instead of waiting for the next scheduled poll. */
import { KaizenError } from '../src/platform/errors.js';
import type { CommandDeps } from './deps.js';
import type { CommandResult } from './results.js';

export async function sync(deps: CommandDeps): Promise<CommandResult> {
  if (deps.sheet === undefined) {
    throw new KaizenError(
      'config',
      'The Google Sheet is not configured here: set GOOGLE_APPLICATION_CREDENTIALS and GOOGLE_SHEET_ID (and SLACK_BOT_TOKEN and SLACK_ADMIN_CHANNEL, which new applicants need for their cards).',
      { service: 'sheets' },
    );
  }
  const counts = await deps.sheet.poll();
  return {
    kind: 'synced',
    counts: {
      read: counts.read,
      new: counts.new,
      invalid: counts.invalid,
      duplicates: counts.duplicates,
      problem: counts.problem,
      quotaRequests:
        counts.quotaRequests === undefined
          ? undefined
          : {
              new: counts.quotaRequests.new,
              invalid: counts.quotaRequests.invalid,
              problem: counts.quotaRequests.problem,
            },
    },
  };
}
