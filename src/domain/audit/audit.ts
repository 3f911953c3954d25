/**
 * The audit trail: an append-only Redis stream of who did what, when, to whom, with what outcome.
 * Capped at AUDIT_MAX_LENGTH entries (approximate trimming keeps XADD cheap).
 */
import { keys } from '../../platform/keys.js';
import type { Redis } from '../../platform/redis.js';

export interface AuditEntry {
  id: string;
  at: string;
  /** Who acted: a Slack user id, `cli:<name>`, `system` or `user:<keystone id>`. */
  actor: string;
  action: string;
  /** Whom it concerned: an applicant id, email or user name. */
  subject: string;
  outcome: 'ok' | 'failed' | 'denied' | 'info';
  detail?: string;
}

export type NewAuditEntry = Omit<AuditEntry, 'id' | 'at'>;

export class Audit {
  constructor(
    private readonly redis: Redis,
    private readonly maxLength: number,
  ) {}

  async record(entry: NewAuditEntry): Promise<void> {
    const fields = ['at', new Date().toISOString(), 'actor', entry.actor, 'action', entry.action];
    fields.push('subject', entry.subject, 'outcome', entry.outcome);
    if (entry.detail) fields.push('detail', entry.detail);
    await this.redis.xadd(keys.audit(), 'MAXLEN', '~', String(this.maxLength), '*', ...fields);
  }

  /** Newest first, optionally only entries about `subject` and newer than `sinceMs` ago. */
  async read(options: { subject?: string; sinceMs?: number; limit?: number } = {}): Promise<AuditEntry[]> {
    const limit = options.limit ?? 50;
    const start = options.sinceMs === undefined ? '-' : String(Date.now() - options.sinceMs);
    const wanted = options.subject?.toLowerCase();
    const out: AuditEntry[] = [];
    let end = '+';
    // Page backwards so a subject filter over a long stream still returns the newest matches.
    while (out.length < limit) {
      const page = await this.redis.xrevrange(keys.audit(), end, start, 'COUNT', 500);
      if (page.length === 0) break;
      for (const [id, flat] of page) {
        const entry = toEntry(id, flat);
        if (!wanted || entry.subject.toLowerCase() === wanted) out.push(entry);
        if (out.length >= limit) break;
      }
      const lastId = page[page.length - 1]?.[0];
      if (!lastId || page.length < 500) break;
      end = `(${lastId}`;
    }
    return out;
  }
}

function toEntry(id: string, flat: string[]): AuditEntry {
  const map = new Map<string, string>();
  for (let i = 0; i + 1 < flat.length; i += 2) map.set(flat[i]!, flat[i + 1]!);
  const outcome = map.get('outcome');
  return {
    id,
    at: map.get('at') ?? '',
    actor: map.get('actor') ?? '',
    action: map.get('action') ?? '',
    subject: map.get('subject') ?? '',
    outcome: outcome === 'failed' || outcome === 'denied' || outcome === 'info' ? outcome : 'ok',
    detail: map.get('detail'),
  };
}
