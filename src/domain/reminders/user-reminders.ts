/**
 * Reminding users who have not used their password link. REMINDER_AFTER after the link was issued
 * the user gets a reminder email, then one every REMINDER_INTERVAL, at most REMINDER_MAX; one
 * interval after the last, the admins are told once. Setting the password stops it all. A link
 * that expired meanwhile is replaced by a fresh one with the same PIN and the same temporary
 * password (a reminder never sets a password in Keystone); a link burned by wrong PINs is not: the
 * admins were told to reset it, and reminders wait until one of them has.
 *
 * The last look at the user (redeemed? locked out? which link?) and the email happen while the
 * setpass side holds the user's claim, so a redemption under way is never mistaken for an unused
 * link: the reminder finds the claim held, does nothing, and the next run sees the password set.
 *
 * Exactly once, across replicas and restarts: reminder N for user U is claimed in Redis first
 * (one Lua step on the user's ledger: only if N-1 were sent and nobody holds N), then mailed with
 * the outbox key `reminder:<U>:<N>`, then confirmed. A runner that stops between claim and
 * confirm leaves the claim behind; once its lease is over the next run takes it and mails under
 * the same outbox key, which sends nothing twice.
 */

import type { MailMessage } from '../../mail/message.js';
import { keys } from '../../platform/keys.js';
import type { Logger } from '../../platform/log.js';
import type { Redis } from '../../platform/redis.js';
import type { AccountGuard } from '../accounts/protection.js';
import type { ApplicationRecord, ApplicationStore } from '../applications/store.js';
import type { Audit } from '../audit/audit.js';
import { fullName } from '../intake/applicant.js';
import { FEDERATED_ACCOUNT } from '../provision/steps.js';
import type { ResentLink, SetpassLink } from '../setpass/issue.js';
import type { AdminNotices, ReminderLinks, ReminderOutbox } from './ports.js';

export interface ReminderPolicy {
  /** REMINDER_AFTER: from the link's issue to the first reminder. */
  afterMs: number;
  /** REMINDER_INTERVAL: between reminders, and from the last one to the note to the admins. */
  intervalMs: number;
  /** REMINDER_MAX. */
  max: number;
}

/** What a reminder email needs; views/emails/reminder.ts turns it into a message. */
export interface ReminderEmailInput {
  to: string;
  name: string;
  username: string;
  link: SetpassLink;
  /** 1 for the first reminder. */
  reminder: number;
  max: number;
  /** The old link had expired and this one replaces it (same PIN). */
  fresh: boolean;
}

export interface UserReminderTexts {
  email(input: ReminderEmailInput): MailMessage;
  /** The note to the admins when the reminders ran out. */
  gaveUp(user: { email: string }, reminders: number): string;
}

export interface UserReminderDeps {
  redis: Redis;
  store: ApplicationStore;
  links: ReminderLinks;
  outbox: ReminderOutbox;
  /** Undefined when Slack is off: the note is then only logged. */
  notices: AdminNotices | undefined;
  /** The protected-account rule; a protected user is never reminded (a reminder may issue a link). */
  accounts?: Pick<AccountGuard, 'check'> | undefined;
  texts: UserReminderTexts;
  audit: Audit;
  log: Logger;
  policy: ReminderPolicy;
  now?: () => Date;
  /** How long a claim keeps other runners off before they may take it over. */
  claimLeaseMs?: number;
  /** Names the runner in its claims, for the logs. */
  owner?: string;
}

/** A claim this old belongs to a runner that stopped; longer than any one reminder takes. */
export const CLAIM_LEASE_MS = 10 * 60_000;

export interface ReminderLedger {
  /** Reminders sent (confirmed). */
  sent: number;
  /** When the last one was sent. */
  lastAt: Date | undefined;
  /** When the link that reminders count from was issued. */
  anchor: Date | undefined;
  /** A reminder claimed but not confirmed yet. */
  pending: number | undefined;
  claimedAt: Date | undefined;
  /** When the admins were told that the reminders ran out. */
  gaveUpAt: Date | undefined;
}

export type UserReminderOutcome =
  | { kind: 'sent'; reminder: number; fresh: boolean }
  | { kind: 'not_due' }
  | { kind: 'done' }
  | { kind: 'busy' }
  | { kind: 'gave_up'; reminders: number }
  | { kind: 'skipped'; reason: string };

export interface UserReminderRun {
  sent: number;
  gaveUp: number;
  failed: number;
}

// KEYS[1] = ledger. ARGV: reminder n, now ms, lease ms, owner. Answers 1 (claimed), 2 (taken over
// from a runner whose lease ran out) or 0 (sent already, or another runner holds it).
const CLAIM = `
local sent = tonumber(redis.call('HGET', KEYS[1], 'sent') or '0')
if sent ~= tonumber(ARGV[1]) - 1 then return 0 end
local answer = 1
local pending = redis.call('HGET', KEYS[1], 'pending')
if pending then
  local claimedAt = tonumber(redis.call('HGET', KEYS[1], 'claimedAt') or '0')
  if pending == ARGV[1] and claimedAt + tonumber(ARGV[3]) > tonumber(ARGV[2]) then return 0 end
  answer = 2
end
redis.call('HSET', KEYS[1], 'pending', ARGV[1], 'claimedAt', ARGV[2], 'owner', ARGV[4])
return answer
`;

// KEYS[1] = ledger. ARGV: reminder n, claimed-at ms. Gives back a claim this run made and did not
// use (the user's link was busy), so the next run need not wait out the lease.
const UNCLAIM = `
if redis.call('HGET', KEYS[1], 'pending') ~= ARGV[1] then return 0 end
if redis.call('HGET', KEYS[1], 'claimedAt') ~= ARGV[2] then return 0 end
redis.call('HDEL', KEYS[1], 'pending', 'claimedAt', 'owner')
return 1
`;

// KEYS[1] = ledger. ARGV: reminder n, now ms. Records reminder n as sent, once.
const CONFIRM = `
if redis.call('HGET', KEYS[1], 'pending') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'sent', ARGV[1], 'lastAt', ARGV[2])
redis.call('HDEL', KEYS[1], 'pending', 'claimedAt', 'owner')
return 1
`;

/**
 * Whether the user has chosen a password since their link went out. A password set before the
 * live link was issued (an admin reset it since) does not count.
 */
export function passwordChosen(setAt: Date | undefined, link: { live: boolean; createdAt?: Date }): boolean {
  if (setAt === undefined) return false;
  return !(link.live && link.createdAt !== undefined && link.createdAt > setAt);
}

/** One pass over every user with an unused link. */
export async function remindUsers(deps: UserReminderDeps): Promise<UserReminderRun> {
  const run: UserReminderRun = { sent: 0, gaveUp: 0, failed: 0 };
  for (const record of await reminderCandidates(deps.store)) {
    try {
      const outcome = await remindUser(deps, record);
      if (outcome.kind === 'sent') run.sent += 1;
      if (outcome.kind === 'gave_up') run.gaveUp += 1;
    } catch (error) {
      run.failed += 1;
      deps.log.error(
        { err: error, applicant: record.id, user: record.checkpoints.user },
        'could not remind a user; the next run tries again',
      );
    }
  }
  if (run.sent > 0 || run.gaveUp > 0 || run.failed > 0) deps.log.info({ ...run }, 'user reminders run');
  return run;
}

/**
 * Approved users whose password link went out, one record per Keystone user (the newest: a user
 * approved twice, for two projects, is reminded once).
 */
export async function reminderCandidates(store: ApplicationStore): Promise<ApplicationRecord[]> {
  const byUser = new Map<string, ApplicationRecord>();
  for (const record of await store.list(['provisioned', 'notified'])) {
    const userId = record.checkpoints.user;
    if (userId === undefined || record.checkpoints.setpass === undefined) continue;
    byUser.set(userId, record);
  }
  return [...byUser.values()];
}

/** Sends this user's next reminder if it is due, or tells the admins when the reminders ran out. */
export async function remindUser(
  deps: UserReminderDeps,
  record: ApplicationRecord,
): Promise<UserReminderOutcome> {
  const userId = record.checkpoints.user;
  if (userId === undefined) return { kind: 'skipped', reason: 'no Keystone user yet' };
  if (record.checkpoints.setpass === FEDERATED_ACCOUNT) {
    return {
      kind: 'skipped',
      reason:
        'federated account: it signs in through its institution and has no password here, so no link to remind of',
    };
  }
  const now = (deps.now ?? (() => new Date()))();
  const { links, policy } = deps;
  const ledgerKey = keys.userReminders(userId);

  // Reminders belong to onboarding: one series per user (their outbox keys are reminder:<user>:<n>).
  // A user who has ever set a password is done; a later reset is the admins' own follow-up.
  const [setAt, status] = await Promise.all([links.passwordSetAt(userId), links.status(userId)]);
  if (setAt !== undefined) return { kind: 'done' };
  const verdict = await deps.accounts?.check(userId);
  if (verdict?.protected) return { kind: 'skipped', reason: `protected account: ${verdict.reason}` };
  // A fresh link here would hand whoever guessed the PINs new attempts: unlocking is an admin's reset.
  if (status.lockedOut !== undefined) {
    return {
      kind: 'skipped',
      reason: `locked out after ${status.lockedOut.attempts} wrong PINs: waiting for /kaizen reset`,
    };
  }

  // Reminders count from the first link the bot saw; a record approved before this feature existed
  // counts from its decision.
  const anchorGuess =
    (status.live ? status.createdAt : undefined) ?? new Date(record.decidedAt ?? record.updatedAt);
  await deps.redis.hsetnx(ledgerKey, 'anchor', String(anchorGuess.getTime()));
  const ledger = await readReminderLedger(deps.redis, userId);

  if (ledger.sent >= policy.max) return giveUpIfDue(deps, record, ledger, now);

  const reminder = ledger.sent + 1;
  const dueAt =
    reminder === 1
      ? (ledger.anchor ?? anchorGuess).getTime() + policy.afterMs
      : (ledger.lastAt?.getTime() ?? 0) + policy.intervalMs;
  if (now.getTime() < dueAt) return { kind: 'not_due' };

  const username = record.applicant.email;
  const pinOnFile = async () => (await links.pinOnFile(userId)) ?? record.pinHash;
  if (!status.live && (await pinOnFile()) === undefined) {
    deps.log.warn(
      { user: userId },
      'a reminder is due but the link expired and no PIN is on file: use /kaizen reset',
    );
    return { kind: 'skipped', reason: 'no PIN on file for a fresh link' };
  }

  const claim = await deps.redis.eval(
    CLAIM,
    1,
    ledgerKey,
    String(reminder),
    String(now.getTime()),
    String(deps.claimLeaseMs ?? CLAIM_LEASE_MS),
    deps.owner ?? 'reminders',
  );
  if (claim === 0) return { kind: 'busy' };
  if (claim === 2)
    deps.log.info(
      { user: userId, reminder },
      'taking over a reminder another runner claimed and did not finish',
    );

  // The link is read again, and the email queued, under the user's claim: a runner before us may
  // have replaced the link, and the user may be setting their password right now.
  const resent = await links.resend(
    { userId, username },
    { pinHash: record.pinHash, unlessRedeemed: true, unlessLockedOut: true },
    async (link, fresh) => {
      const message = deps.texts.email({
        to: record.applicant.email,
        name: fullName(record.applicant),
        username,
        link,
        reminder,
        max: policy.max,
        fresh,
      });
      await deps.outbox.enqueue(message, { idempotencyKey: `reminder:${userId}:${reminder}` });
      await deps.redis.eval(CONFIRM, 1, ledgerKey, String(reminder), String(now.getTime()));
    },
  );
  if (resent.kind !== 'sent') {
    await deps.redis.eval(UNCLAIM, 1, ledgerKey, String(reminder), String(now.getTime()));
    return notSent(resent);
  }
  const { fresh } = resent;
  await deps.audit.record({
    actor: 'system',
    action: 'reminder_sent',
    subject: record.applicant.email,
    outcome: 'ok',
    detail: `reminder ${reminder} of ${policy.max}${fresh ? ', with a fresh link (the old one had expired)' : ''}`,
  });
  return { kind: 'sent', reminder, fresh };
}

function notSent(resent: Exclude<ResentLink<void>, { kind: 'sent' }>): UserReminderOutcome {
  switch (resent.kind) {
    case 'busy':
      return { kind: 'busy' };
    case 'redeemed':
      return { kind: 'done' };
    case 'locked_out':
      return {
        kind: 'skipped',
        reason: `locked out after ${resent.lockout.attempts} wrong PINs: waiting for /kaizen reset`,
      };
    case 'no_pin':
      return { kind: 'skipped', reason: 'no PIN on file for a fresh link' };
    case 'no_temporary_password':
      return {
        kind: 'skipped',
        reason: 'the link expired and its temporary password is no longer on file: waiting for /kaizen reset',
      };
  }
}

async function giveUpIfDue(
  deps: UserReminderDeps,
  record: ApplicationRecord,
  ledger: ReminderLedger,
  now: Date,
): Promise<UserReminderOutcome> {
  if (ledger.sent === 0 || ledger.gaveUpAt !== undefined) return { kind: 'done' };
  if (now.getTime() < (ledger.lastAt?.getTime() ?? 0) + deps.policy.intervalMs) return { kind: 'not_due' };
  const userId = record.checkpoints.user!;
  const first = await deps.redis.hsetnx(keys.userReminders(userId), 'gaveUpAt', String(now.getTime()));
  if (first !== 1) return { kind: 'done' };
  const text = deps.texts.gaveUp({ email: record.applicant.email }, ledger.sent);
  if (deps.notices) {
    try {
      await deps.notices.postToAdmins(text);
    } catch (error) {
      // Give the note back to the next run rather than lose it.
      await deps.redis.hdel(keys.userReminders(userId), 'gaveUpAt');
      throw error;
    }
  } else {
    deps.log.warn(
      { user: userId },
      'reminders ran out without a password being set (Slack is off, so only logged)',
    );
  }
  await deps.audit.record({
    actor: 'system',
    action: 'reminders_exhausted',
    subject: record.applicant.email,
    outcome: 'info',
    detail: `no password set after ${ledger.sent} reminder${ledger.sent === 1 ? '' : 's'}`,
  });
  return { kind: 'gave_up', reminders: ledger.sent };
}

export async function readReminderLedger(redis: Redis, userId: string): Promise<ReminderLedger> {
  const stored = await redis.hgetall(keys.userReminders(userId));
  const date = (value: string | undefined) => (value === undefined ? undefined : new Date(Number(value)));
  return {
    sent: Number(stored.sent ?? 0),
    lastAt: date(stored.lastAt),
    anchor: date(stored.anchor),
    pending: stored.pending === undefined ? undefined : Number(stored.pending),
    claimedAt: date(stored.claimedAt),
    gaveUpAt: date(stored.gaveUpAt),
  };
}

/** The last reminder sent to a user, for `/kaizen status`; undefined when none was. */
export async function lastReminder(
  redis: Redis,
  userId: string,
): Promise<{ count: number; at: Date } | undefined> {
  const ledger = await readReminderLedger(redis, userId);
  if (ledger.sent === 0 || ledger.lastAt === undefined) return undefined;
  return { count: ledger.sent, at: ledger.lastAt };
}
