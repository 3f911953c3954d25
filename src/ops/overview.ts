/**
 * The queue at a glance, for the App Home tab: who waits for a decision, what was decided lately,
 * who has not used their password link, and how each part of the bot is doing.
 */

import type { ApplicationStore } from '../domain/applications/store.js';
import type { Audit, AuditEntry } from '../domain/audit/audit.js';
import { fullName } from '../domain/intake/applicant.js';
import type { ReminderLinks } from '../domain/reminders/ports.js';
import {
  passwordChosen,
  readReminderLedger,
  reminderCandidates,
} from '../domain/reminders/user-reminders.js';
import type { Config } from '../platform/config/config.js';
import type { Redis } from '../platform/redis.js';
import { type DoctorLine, runDoctor } from './doctor.js';

export interface PendingApplicant {
  id: string;
  name: string;
  email: string;
  project: string;
  /** When the application came in (ISO 8601). */
  since: string;
  card: { channel: string; ts: string } | undefined;
}

export interface UnusedLink {
  email: string;
  /** When the link was issued (ISO 8601), when known. */
  issuedAt: string | undefined;
  /** When it stops working (ISO 8601); undefined when it already expired. */
  expiresAt: string | undefined;
  remindersSent: number;
}

/** An admin's decision on an applicant, from the audit. */
export interface Decision {
  /** ISO 8601. */
  at: string;
  /** A Slack user id, `cli:<name>` or `system`. */
  actor: string;
  action: 'approve' | 'reject';
  /** `Name (email)`, or the applicant id when the record is gone. */
  applicant: string;
  rejectReason: string | undefined;
}

export interface QueueOverview {
  pending: PendingApplicant[];
  decisions: Decision[];
  unusedLinks: UnusedLink[];
  /** Undefined when the checks did not answer in time. */
  health: DoctorLine[] | undefined;
}

export interface OverviewDeps {
  redis: Redis;
  store: ApplicationStore;
  audit: Audit;
  /** Undefined in a bot without the password-link side. */
  links: ReminderLinks | undefined;
  health: HealthCache;
}

/** How many decisions the overview shows, and how far back in the audit it looks for them. */
const DECISIONS = 10;
const AUDIT_SCAN = 300;

/**
 * Audit lines that record a decision taken: a finished approval or a rejection (an approval's
 * `started` line is left out, its outcome follows).
 */
export function isDecision(entry: Pick<AuditEntry, 'action' | 'outcome'>): boolean {
  return (entry.action === 'approve' || entry.action === 'reject') && entry.outcome === 'ok';
}

async function decisionsOf(store: ApplicationStore, entries: AuditEntry[]): Promise<Decision[]> {
  return Promise.all(
    entries
      .filter(isDecision)
      .slice(0, DECISIONS)
      .map(async (entry): Promise<Decision> => {
        const record = await store.get(entry.subject);
        const name = record ? fullName(record.applicant) : '';
        const applicant = record
          ? name
            ? `${name} (${record.applicant.email})`
            : record.applicant.email
          : entry.subject;
        return {
          at: entry.at,
          actor: entry.actor,
          action: entry.action === 'approve' ? 'approve' : 'reject',
          applicant,
          rejectReason: entry.action === 'reject' ? record?.rejectReason : undefined,
        };
      }),
  );
}

export async function queueOverview(deps: OverviewDeps): Promise<QueueOverview> {
  const [pending, recent, unusedLinks, health] = await Promise.all([
    deps.store.list(['pending']),
    deps.audit.read({ limit: AUDIT_SCAN }),
    unusedLinksOf(deps),
    deps.health.read(),
  ]);
  return {
    pending: pending.map((record) => ({
      id: record.id,
      name: fullName(record.applicant),
      email: record.applicant.email,
      project: record.applicant.project.name,
      since: record.createdAt,
      card: record.card,
    })),
    decisions: await decisionsOf(deps.store, recent),
    unusedLinks,
    health,
  };
}

async function unusedLinksOf(deps: OverviewDeps): Promise<UnusedLink[]> {
  const { links } = deps;
  if (links === undefined) return [];
  const out: UnusedLink[] = [];
  for (const record of await reminderCandidates(deps.store)) {
    const userId = record.checkpoints.user!;
    const [status, setAt, ledger] = await Promise.all([
      links.status(userId),
      links.passwordSetAt(userId),
      readReminderLedger(deps.redis, userId),
    ]);
    if (passwordChosen(setAt, status)) continue;
    out.push({
      email: record.applicant.email,
      issuedAt: (status.createdAt ?? ledger.anchor)?.toISOString(),
      expiresAt: status.live ? status.expiresAt?.toISOString() : undefined,
      remindersSent: ledger.sent,
    });
  }
  return out;
}

/**
 * `kaizen doctor`'s lines, kept for a minute: every open of the Home tab would otherwise sign in
 * to Keystone and Slack again.
 */
export class HealthCache {
  private cached: { lines: DoctorLine[]; at: number } | undefined;
  private running: Promise<DoctorLine[] | undefined> | undefined;

  constructor(
    private readonly config: Config,
    private readonly maxAgeMs = 60_000,
    private readonly check: (config: Config) => Promise<DoctorLine[]> = runDoctor,
  ) {}

  async read(): Promise<DoctorLine[] | undefined> {
    if (this.cached && Date.now() - this.cached.at < this.maxAgeMs) return this.cached.lines;
    this.running ??= this.check(this.config)
      .then((lines) => {
        this.cached = { lines, at: Date.now() };
        return lines;
      })
      .catch(() => undefined)
      .finally(() => {
        this.running = undefined;
      });
    return this.running;
  }
}
