/** Sentences both renderings of a command result share; plain text, escaped by the caller when needed. */
import type { FederatedSignIn, LinkSummary, SyncCounts } from '../../commands/results.js';
import type { CommandName } from '../../commands/types.js';
import type { QuotaKey, QuotaValues } from '../../src/domain/quotas/types.js';
import { QUOTA_LABELS } from '../quota-modal.js';
import { quotaAmount } from '../quota-table.js';

export function plural(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}

export function syncSentence(counts: SyncCounts): string {
  const found = `Read the sheet: ${plural(counts.new, 'new applicant', 'new applicants')} and ${plural(counts.invalid, 'invalid row', 'invalid rows')} found (${plural(counts.read, 'row', 'rows')} in all).`;
  const quota = counts.quotaRequests;
  const quotaSentence =
    quota === undefined
      ? ''
      : ` Quota requests: ${quota.new} new, ${plural(quota.invalid, 'invalid row', 'invalid rows')}.${quota.problem ? ` ${quota.problem}` : ''}`;
  if (counts.duplicates === 0) return `${found}${quotaSentence}`;
  if (counts.duplicates === 1) return `${found} One of them looks like a duplicate.${quotaSentence}`;
  return `${found} ${counts.duplicates} of them look like duplicates.${quotaSentence}`;
}

export const RESET_WARNING =
  "The old password stops working at once: Keystone gets a new random temporary password, the user's old link dies, and a new link is emailed to the address Keystone holds.";

export function pinNote(pinOnFile: boolean): string {
  return pinOnFile
    ? 'The user keeps the PIN on file.'
    : 'No PIN is on file for this user: you will be asked for one (4 digits).';
}

/** A link burned by wrong PINs: reminders wait, and only a reset sends a new one. */
export function lockedOutNote(attempts: number): string {
  return `locked out after ${plural(attempts, 'wrong PIN', 'wrong PINs')}; a reset sends a new link`;
}

/** Where a user's password link stands; `when` writes a date the way the rendering shows dates. */
export function linkStatusText(link: LinkSummary, when: (iso: string) => string): string {
  if (link.live) return `live until ${when(link.expiresAt ?? '')}`;
  if (link.lockedOut)
    return `none live; ${lockedOutNote(link.lockedOut.attempts)} (${when(link.lockedOut.at)})`;
  if (link.passwordSetAt) return `none live; password set ${when(link.passwordSetAt)}`;
  return 'none live';
}

export const DISABLED_WARNING =
  'This account is disabled in Keystone: the new password will not let them log in until it is enabled again.';

/** `instances 20, RAM 64 GiB, ports unlimited`: a quota change in words, in the services' key order. */
export function quotaChangeText(values: QuotaValues): string {
  return (Object.entries(values) as [QuotaKey, number][])
    .map(([key, value]) => `${QUOTA_LABELS[key]} ${quotaAmount(key, value)}`)
    .join(', ');
}

/** Keystone keeps unique ids URL-quoted (`ann%40example.org`); people read them plain. */
function readableUniqueId(uniqueId: string): string {
  try {
    return decodeURIComponent(uniqueId);
  } catch {
    return uniqueId;
  }
}

/** "ExampleU (openid) as ann@example.org": how a federated user signs in. */
export function federatedSignInText(signIns: readonly FederatedSignIn[]): string {
  return signIns.map((s) => `${s.idpId} (${s.protocolId}) as ${readableUniqueId(s.uniqueId)}`).join(', ');
}

/** Why reset and resend refuse a federated user; `label` is the command as the caller shows commands. */
export function federatedRefusalText(
  label: string,
  command: CommandName,
  name: string,
  signIns: readonly FederatedSignIn[],
): string {
  const what = command === 'resend' ? 'no password link to resend' : 'no password to reset';
  return `${label}: ${name} signs in through their institution (${federatedSignInText(signIns)}) and has no password here, so there is ${what}. Nothing was changed. If they cannot sign in, their institution's help desk resets their login.`;
}

/** The status line of a federated user. */
export function federatedStatusText(signIns: readonly FederatedSignIn[]): string {
  return `signs in through their institution: ${federatedSignInText(signIns)}; no password here`;
}
