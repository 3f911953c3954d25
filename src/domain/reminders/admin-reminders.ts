/**
 * Reminding the admins of applicants who wait for a decision. An applicant pending longer than
 * ADMIN_REMINDER_AFTER is listed once; after that the gap doubles (2×, 4×, 8× the setting), so a
 * case the admins are sitting on on purpose does not fill the channel. Each reminder is claimed
 * per applicant in Redis (compare the count, then bump it), so however many replicas run, an
 * applicant is listed once per step, and one run posts at most one digest.
 */

import { keys } from '../../platform/keys.js';
import type { Logger } from '../../platform/log.js';
import type { Redis } from '../../platform/redis.js';
import type { ApplicationRecord, ApplicationStore } from '../applications/store.js';
import type { Audit } from '../audit/audit.js';
import { fullName } from '../intake/applicant.js';
import type { AdminNotices, NoticeBlock } from './ports.js';

export interface WaitingApplicant {
  id: string;
  name: string;
  email: string;
  project: string;
  /** When the application came in (ISO 8601). */
  since: string;
  /** Which reminder about this applicant this is: 1 for the first. */
  reminder: number;
  card: { channel: string; ts: string } | undefined;
}

/** The texts, from views/reminders.ts; passed in because src/ does not build Slack messages. */
export interface AdminReminderTexts {
  digest(waiting: readonly WaitingApplicant[], now: Date): { text: string; blocks: NoticeBlock[] };
  threadReply(applicant: WaitingApplicant, now: Date): string;
}

export interface AdminReminderDeps {
  redis: Redis;
  store: ApplicationStore;
  notices: AdminNotices;
  texts: AdminReminderTexts;
  audit: Audit;
  log: Logger;
  /** ADMIN_REMINDER_AFTER, in ms: the first reminder, and the base of the backoff. */
  afterMs: number;
  now?: () => Date;
}

interface Ledger {
  count: number;
  lastAt: number | undefined;
}

// KEYS[1] = ledger. ARGV[1] = count the caller saw, ARGV[2] = now (ms). Takes the next reminder
// only if nobody took it since the caller looked; answers 1 when taken.
const CLAIM = `
local count = tonumber(redis.call('HGET', KEYS[1], 'count') or '0')
if count ~= tonumber(ARGV[1]) then return 0 end
redis.call('HSET', KEYS[1], 'count', count + 1, 'lastAt', ARGV[2])
return 1
`;

// KEYS[1] = ledger. ARGV[1] = count after our claim, ARGV[2] = count before, ARGV[3] = lastAt before
// ('' for none). Gives a claim back when the digest could not be posted.
const UNCLAIM = `
if tonumber(redis.call('HGET', KEYS[1], 'count') or '0') ~= tonumber(ARGV[1]) then return 0 end
if ARGV[2] == '0' then redis.call('DEL', KEYS[1]) return 1 end
redis.call('HSET', KEYS[1], 'count', ARGV[2])
if ARGV[3] == '' then redis.call('HDEL', KEYS[1], 'lastAt') else redis.call('HSET', KEYS[1], 'lastAt', ARGV[3]) end
return 1
`;

/** When the next reminder about an applicant is due: `after` from arrival, then 2×, 4×, … that after each one. */
export function nextAdminReminderAt(createdAt: number, ledger: Ledger, afterMs: number): number {
  if (ledger.count === 0 || ledger.lastAt === undefined) return createdAt + afterMs;
  return ledger.lastAt + afterMs * 2 ** ledger.count;
}

export interface AdminReminderRun {
  /** Applicants in this run's digest; empty when nothing was due (and nothing was posted). */
  reminded: WaitingApplicant[];
}

export async function remindAdmins(deps: AdminReminderDeps): Promise<AdminReminderRun> {
  const now = (deps.now ?? (() => new Date()))();
  const pending = await deps.store.list(['pending']);
  const claimed: { applicant: WaitingApplicant; before: Ledger }[] = [];
  for (const record of pending) {
    const ledger = await readLedger(deps.redis, record.id);
    if (now.getTime() < nextAdminReminderAt(Date.parse(record.createdAt), ledger, deps.afterMs)) continue;
    const taken = await deps.redis.eval(
      CLAIM,
      1,
      keys.adminReminders(record.id),
      String(ledger.count),
      String(now.getTime()),
    );
    if (taken === 1) claimed.push({ applicant: waiting(record, ledger.count + 1), before: ledger });
  }
  if (claimed.length === 0) return { reminded: [] };

  const reminded = claimed.map((entry) => entry.applicant);
  const digest = deps.texts.digest(reminded, now);
  try {
    await deps.notices.postToAdmins(digest.text, digest.blocks);
  } catch (error) {
    // Nobody was told: give the claims back so the next tick lists these applicants.
    await Promise.all(claimed.map((entry) => unclaim(deps.redis, entry.applicant, entry.before)));
    throw error;
  }
  for (const applicant of reminded) {
    if (applicant.card) {
      await deps.notices
        .replyInThread(applicant.card.channel, applicant.card.ts, deps.texts.threadReply(applicant, now))
        .catch((error: unknown) => {
          deps.log.warn({ err: error, applicant: applicant.id }, 'could not reply in the card thread');
        });
    }
    await deps.audit.record({
      actor: 'system',
      action: 'admin_reminder',
      subject: applicant.email,
      outcome: 'info',
      detail: `reminder ${applicant.reminder} about ${applicant.id}, pending since ${applicant.since}`,
    });
  }
  deps.log.info({ applicants: reminded.length }, 'admins reminded of waiting applicants');
  return { reminded };
}

async function readLedger(redis: Redis, applicantId: string): Promise<Ledger> {
  const stored = await redis.hgetall(keys.adminReminders(applicantId));
  const lastAt = stored.lastAt === undefined ? undefined : Number(stored.lastAt);
  return { count: Number(stored.count ?? 0), lastAt };
}

async function unclaim(redis: Redis, applicant: WaitingApplicant, before: Ledger): Promise<void> {
  await redis.eval(
    UNCLAIM,
    1,
    keys.adminReminders(applicant.id),
    String(before.count + 1),
    String(before.count),
    before.lastAt === undefined ? '' : String(before.lastAt),
  );
}

function waiting(record: ApplicationRecord, reminder: number): WaitingApplicant {
  return {
    id: record.id,
    name: fullName(record.applicant),
    email: record.applicant.email,
    project: record.applicant.project.name,
    since: record.createdAt,
    reminder,
    card: record.card,
  };
}
