/**
 * What an application's card warns about, as codes with their facts: the domain records them,
 * views/notes.ts words them. A record written before notes were codes holds plain text: `legacy`.
 */
export type Note =
  | { code: 'comment_cut'; length: number; limit: number }
  | { code: 'description_cut'; limit: number }
  | { code: 'possible_duplicate'; email: string; project: string; since: string }
  | { code: 'joins_existing_project'; project: string }
  | { code: 'no_account_found'; user: string }
  | { code: 'existing_account'; user: string }
  | { code: 'account_disabled'; user: string }
  | { code: 'extra_user_failed'; user: string; error: string }
  | { code: 'extra_user_missing'; user: string }
  | { code: 'mail_off'; email: string; newUser: boolean; federated?: boolean }
  | { code: 'sheets_off' }
  | { code: 'welcome_undelivered'; email: string; reason: string; newUser: boolean }
  | { code: 'project_renamed'; from: string; to: string }
  | { code: 'keystone_leftovers'; made: string[] }
  | { code: 'rejection_mail_off'; email: string }
  | { code: 'rejection_not_queued'; error: string }
  | { code: 'rejection_not_in_sheet'; error: string }
  | { code: 'quota_service_missing'; service: string }
  | { code: 'existing_federated_account'; user: string }
  | { code: 'federated_id_differs'; user: string; idpId: string; held: string; wanted: string }
  | { code: 'local_account_kept'; user: string }
  | { code: 'local_account_federated'; user: string; idpId: string }
  | { code: 'legacy'; text: string };

/** The same note twice (a resumed step reporting again) is recorded once. */
export function sameNote(a: Note, b: Note): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** A stored note as read back: text from an older record becomes a `legacy` note. */
export function noteFromStore(value: unknown): Note {
  if (typeof value === 'string') return { code: 'legacy', text: value };
  if (value && typeof value === 'object' && typeof (value as { code?: unknown }).code === 'string')
    return value as Note;
  return { code: 'legacy', text: String(value) };
}
