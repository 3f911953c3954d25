/**
 * `status <email|username>`: where a person stands, from every source the bot has: their
 * applications, their Keystone user with projects and roles, their password link, the last
 * reminder, and the recent audit lines about them.
 */

import type { ApplicationRecord } from '../src/domain/applications/store.js';
import type { AuditEntry } from '../src/domain/audit/audit.js';
import type { User } from '../src/keystone/index.js';
import type { UserQuery } from './args.js';
import type { CommandDeps } from './deps.js';
import type { ApplicationSummary, AuditLine, CommandResult, LinkSummary } from './results.js';
import {
  closeMatches,
  findKeystoneUser,
  membershipsOf,
  nameOf,
  requireKeystone,
  summarizeUser,
} from './users.js';

const AUDIT_LINES = 8;
const APPLICATIONS_SHOWN = 5;

export async function status(deps: CommandDeps, query: UserQuery): Promise<CommandResult> {
  const name = await nameOf(deps, query);
  const user = deps.keystone === undefined ? undefined : await findKeystoneUser(deps, name);
  const email = (user?.email ?? (name.includes('@') ? name : user?.name) ?? '').toLowerCase();
  const records = email.includes('@') ? await deps.applications.findByEmail(email) : [];
  if (user === undefined && records.length === 0) {
    // "No user x in Keystone" would be false when Keystone is not configured here at all.
    requireKeystone(deps);
    const suggestions = await closeMatches(deps, name);
    return { kind: 'no_user', query: name, suggestions };
  }

  const [projects, link, lastReminder, audit, applications] = await Promise.all([
    user === undefined ? [] : membershipsOf(deps, user.id),
    user === undefined ? undefined : linkOf(deps, user),
    user === undefined ? undefined : deps.reminders?.last(user.id),
    recentAudit(deps, [name, email, user?.name, ...records.map((r) => r.id)]),
    Promise.all(records.slice(0, APPLICATIONS_SHOWN).map((record) => summarizeApplication(deps, record))),
  ]);
  return {
    kind: 'status',
    query: name,
    applications,
    user: user === undefined ? undefined : summarizeUser(user),
    projects,
    link,
    lastReminder: lastReminder && { at: lastReminder.at.toISOString(), count: lastReminder.count },
    audit,
  };
}

/** `failed at step S` carries the step, which is what an admin needs to retry or fix. */
export function stateLabel(record: Pick<ApplicationRecord, 'state' | 'failure'>): string {
  if (record.state === 'failed') return `failed at step ${record.failure?.step ?? 'unknown'}`;
  return record.state;
}

async function summarizeApplication(
  deps: CommandDeps,
  record: ApplicationRecord,
): Promise<ApplicationSummary> {
  return {
    id: record.id,
    state: stateLabel(record),
    project: record.applicant.project.name,
    submittedAt: record.applicant.submittedAt || record.createdAt,
    decidedBy: record.decidedBy,
    decidedAt: record.decidedAt,
    rejectReason: record.rejectReason,
    failure: record.failure?.message,
    cardLink: record.card === undefined ? undefined : await deps.surface.cardLink(record.card),
  };
}

async function linkOf(deps: CommandDeps, user: User): Promise<LinkSummary | undefined> {
  if (deps.links === undefined) return undefined;
  const [current, setAt, { lockedOut }] = await Promise.all([
    deps.links.current(user.id),
    deps.links.passwordSetAt(user.id),
    deps.links.status(user.id),
  ]);
  return {
    live: current !== undefined,
    expiresAt: current?.expiresAt.toISOString(),
    passwordSetAt: setAt?.toISOString(),
    ...(lockedOut ? { lockedOut: { attempts: lockedOut.attempts, at: lockedOut.at.toISOString() } } : {}),
  };
}

/** The newest audit lines about any of the names a person goes by, without repeats. */
export async function recentAudit(deps: CommandDeps, subjects: (string | undefined)[]): Promise<AuditLine[]> {
  const wanted = [...new Set(subjects.filter((s): s is string => Boolean(s)).map((s) => s.toLowerCase()))];
  const pages = await Promise.all(wanted.map((subject) => deps.audit.read({ subject, limit: AUDIT_LINES })));
  const byId = new Map<string, AuditEntry>();
  for (const entry of pages.flat()) byId.set(entry.id, entry);
  return [...byId.values()]
    .sort((a, b) => compareStreamIds(b.id, a.id))
    .slice(0, AUDIT_LINES)
    .map(auditLine);
}

export function auditLine(entry: AuditEntry): AuditLine {
  return {
    at: entry.at,
    actor: entry.actor,
    action: entry.action,
    subject: entry.subject,
    outcome: entry.outcome,
    detail: entry.detail,
  };
}

/** Redis stream ids are `<ms>-<seq>`; compare numerically, not as text. */
function compareStreamIds(a: string, b: string): number {
  const [am = 0, as = 0] = a.split('-').map(Number);
  const [bm = 0, bs = 0] = b.split('-').map(Number);
  return am - bm || as - bs;
}
