/** The words for an application's notes (src/domain/applications/notes.ts), as the card shows them. */
import type { Note } from '../src/domain/applications/notes.js';

export function noteText(note: Note): string {
  switch (note.code) {
    case 'comment_cut':
      return `The comment was ${note.length} characters long; the card shows the first ${note.limit}.`;
    case 'description_cut':
      return `The project description was cut to ${note.limit} characters.`;
    case 'possible_duplicate':
      return `Possible duplicate: ${note.email} applied for "${note.project}" before (${note.since}) and that application is still pending.`;
    case 'joins_existing_project':
      return `Joins the existing project "${note.project}", as an admin chose; its quotas are left as they are`;
    case 'no_account_found':
      return `The applicant said they have an account, but none was found for ${note.user}: a new one was made`;
    case 'existing_account':
      return `${note.user} already had an account: it gets the role on the project, and no password link`;
    case 'account_disabled':
      return `The account ${note.user} is disabled in Keystone: it cannot log in until enabled`;
    case 'extra_user_failed':
      return `Extra user "${note.user}" not added: ${note.error}`;
    case 'extra_user_missing':
      return `Extra user "${note.user}" has no account in Keystone: not added`;
    case 'mail_off':
      if (note.federated)
        return `Mail is off (SMTP_URL, MAIL_FROM): ${note.email} was not told how to sign in`;
      return note.newUser
        ? `Mail is off (SMTP_URL, MAIL_FROM): no email was sent; once it is on, \`/kaizen resend ${note.email}\` sends a password link`
        : `Mail is off (SMTP_URL, MAIL_FROM): ${note.email} was not told about the project`;
    case 'sheets_off':
      return 'Sheets is off: the admitted tab was not updated';
    case 'welcome_undelivered':
      return note.newUser
        ? `welcome email could not be delivered: ${note.reason}; use /kaizen resend ${note.email}`
        : `the email telling ${note.email} about the project could not be delivered: ${note.reason}`;
    case 'project_renamed':
      return `The new project was renamed from "${note.from}" to "${note.to}" by an admin`;
    case 'keystone_leftovers':
      return `Made in Keystone before the failed approval and left in place: ${note.made.join(', ')}`;
    case 'rejection_mail_off':
      return `Mail is off (SMTP_URL, MAIL_FROM): ${note.email} was not told`;
    case 'rejection_not_queued':
      return `The rejection email could not be queued: ${note.error}`;
    case 'rejection_not_in_sheet':
      return `The sheet row could not be marked Rejected: ${note.error}`;
    case 'quota_service_missing':
      return `${note.service} quotas skipped: no ${note.service} service in the catalog`;
    case 'existing_federated_account':
      return `${note.user} already had a federated account: it gets the role on the project`;
    case 'federated_id_differs':
      return `${note.user} already signs in through ${note.idpId} as "${note.held}", not "${note.wanted}": it was left as it is`;
    case 'local_account_kept':
      return `${note.user} keeps its local account and password, as an admin chose; it gets the role on the project`;
    case 'local_account_federated':
      return `${note.user} was made federated, as an admin chose: its password no longer works; it signs in through ${note.idpId}`;
    case 'legacy':
      return note.text;
  }
}
