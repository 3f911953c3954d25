/**
 * What a command answers, as plain data: views/commands/ renders it for Slack (Block Kit) and for a
 * terminal (text), and `kaizen … --json` prints it as it is. Times are ISO 8601 strings so the JSON
 * form needs no conversion. No result ever holds a secret (a link URL, a PIN, a password).
 */

import type { AccountProtection, ProjectProtection } from '../src/domain/accounts/protection.js';
import type { Note } from '../src/domain/applications/notes.js';
import type { QuotaKey, QuotaValues } from '../src/domain/quotas/types.js';
import type { ErrorKind } from '../src/platform/errors.js';
import type { CommandName } from './types.js';

/** One way a federated user signs in: through this identity provider and protocol, as `uniqueId`. */
export interface FederatedSignIn {
  idpId: string;
  protocolId: string;
  uniqueId: string;
}

export interface KeystoneUserSummary {
  id: string;
  name: string;
  email: string | undefined;
  enabled: boolean;
  /** Present for a federated user: they sign in through their institution and have no password here. */
  federated?: FederatedSignIn[];
}

export interface ProjectMembership {
  projectId: string;
  projectName: string;
  roles: string[];
}

export interface PendingApplicant {
  id: string;
  name: string;
  email: string;
  project: string;
  submittedAt: string;
  waitingSince: string;
  /** A link to the applicant's card in Slack, when the card was posted. */
  cardLink: string | undefined;
}

export interface ApplicationSummary {
  id: string;
  /** `pending`, `approving`, `provisioned`, `notified`, `rejected`, or `failed at step S`. */
  state: string;
  project: string;
  submittedAt: string;
  decidedBy: string | undefined;
  decidedAt: string | undefined;
  rejectReason: string | undefined;
  failure: string | undefined;
  cardLink: string | undefined;
}

export interface LinkSummary {
  live: boolean;
  expiresAt: string | undefined;
  /** When the user last set a password through a link. */
  passwordSetAt: string | undefined;
  /** Wrong PINs burned the last link (ISO 8601 `at`); a reset sends a new one. */
  lockedOut?: { attempts: number; at: string };
}

export interface AuditLine {
  at: string;
  actor: string;
  action: string;
  subject: string;
  outcome: string;
  detail: string | undefined;
}

export interface SyncCounts {
  read: number;
  new: number;
  invalid: number;
  duplicates: number;
  problem: string | undefined;
  /** The quota requests tab, when the spreadsheet has one. */
  quotaRequests?: { new: number; invalid: number; problem: string | undefined } | undefined;
}

export interface QuotaRow {
  key: QuotaKey;
  /** The current limit; undefined when the service did not report it. */
  limit: number | undefined;
  inUse: number | undefined;
  /** The value asked for; undefined in a plain `quota <project>`. */
  requested: number | undefined;
}

export interface ProjectSummary {
  id: string;
  name: string;
}

/** `queued`: the relay did not take it yet; the outbox retries. `duplicate`: the same email was just queued. */
export type MailOutcome = 'sent' | 'queued' | 'duplicate';

export type CommandResult =
  | { kind: 'help'; unknown: string | undefined }
  /** A missing argument or an unknown flag: nothing was done. */
  | { kind: 'usage'; command: CommandName; problem: string; usage: string }
  | { kind: 'denied'; command: CommandName }
  /** The account is one the bot never touches (an operator, a service account, …): nothing was done. */
  | { kind: 'protected'; command: CommandName; user: KeystoneUserSummary; reason: AccountProtection }
  /** A federated user has no password here: nothing to reset or resend. Nothing was done. */
  | {
      kind: 'federated_user';
      command: CommandName;
      user: KeystoneUserSummary & { federated: FederatedSignIn[] };
    }
  /** Nobody by that name: `suggestions` are close matches from Keystone. */
  | { kind: 'no_user'; query: string; suggestions: string[] }
  | { kind: 'failed'; command: CommandName; errorKind: ErrorKind | 'internal'; message: string }
  | { kind: 'pending'; applicants: PendingApplicant[] }
  | {
      kind: 'status';
      query: string;
      applications: ApplicationSummary[];
      user: KeystoneUserSummary | undefined;
      projects: ProjectMembership[];
      link: LinkSummary | undefined;
      /** The last reminder about an unused link, and how many went out; undefined means none. */
      lastReminder: { at: string; count: number } | undefined;
      audit: AuditLine[];
    }
  | {
      kind: 'reset_confirm';
      user: KeystoneUserSummary;
      projects: ProjectMembership[];
      /** False: the confirming admin is asked for a 4-digit PIN. */
      pinOnFile: boolean;
      /** Names this confirmation for the Reset button; single use, short-lived. */
      confirmation: string;
      expiresAt: string;
    }
  | { kind: 'reset_needs_pin'; user: KeystoneUserSummary }
  | {
      kind: 'reset_done';
      user: KeystoneUserSummary;
      emailedTo: string;
      mail: MailOutcome;
      linkExpiresAt: string;
    }
  | {
      kind: 'resent';
      user: KeystoneUserSummary;
      emailedTo: string;
      mail: MailOutcome;
      linkExpiresAt: string;
      /** True when the old link had expired and a new one (same PIN) was issued. */
      renewed: boolean;
    }
  | { kind: 'synced'; counts: SyncCounts }
  /** No project by that name in KAIZEN_DOMAIN. */
  | { kind: 'no_project'; query: string }
  | { kind: 'quota'; project: ProjectSummary; rows: QuotaRow[]; notes: string[] }
  /** A change asked for a project the bot never changes: nothing was done. */
  | { kind: 'project_protected'; project: ProjectSummary; reason: ProjectProtection }
  | {
      kind: 'quota_confirm';
      project: ProjectSummary;
      rows: QuotaRow[];
      notes: string[];
      /** Names this confirmation for the Apply button; single use, short-lived. */
      confirmation: string;
      expiresAt: string;
    }
  | { kind: 'quota_applied'; project: ProjectSummary; values: QuotaValues; notes: Note[] }
  | { kind: 'audit'; subject: string | undefined; since: string | undefined; entries: AuditLine[] };

/** Whether a result means the command did not do what was asked, and whose fault that was. */
export function outcomeOf(result: CommandResult): 'ok' | 'user_error' | 'failure' {
  switch (result.kind) {
    case 'usage':
    case 'denied':
    case 'protected':
    case 'federated_user':
    case 'no_user':
    case 'no_project':
    case 'project_protected':
    case 'reset_needs_pin':
      return 'user_error';
    case 'failed':
      return ['invalid', 'not_found', 'conflict', 'forbidden'].includes(result.errorKind)
        ? 'user_error'
        : 'failure';
    default:
      return 'ok';
  }
}
