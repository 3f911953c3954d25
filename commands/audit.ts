/** `kaizen audit [--user X] [--since 7d]`: the audit trail, newest first, for operators at a shell. */
import type { CommandDeps } from './deps.js';
import type { CommandResult } from './results.js';
import { auditLine } from './status.js';

export interface AuditQuery {
  subject: string | undefined;
  sinceMs: number | undefined;
  /** The duration as typed, to echo back. */
  since: string | undefined;
  limit: number;
}

export async function audit(deps: CommandDeps, query: AuditQuery): Promise<CommandResult> {
  const entries = await deps.audit.read({
    subject: query.subject,
    sinceMs: query.sinceMs,
    limit: query.limit,
  });
  return { kind: 'audit', subject: query.subject, since: query.since, entries: entries.map(auditLine) };
}
