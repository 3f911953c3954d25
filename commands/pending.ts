/** `pending`: applicants waiting for a decision, oldest first, each with a link to its card. */
import { fullName } from '../src/intake/applicant.js';
import type { CommandDeps } from './deps.js';
import type { CommandResult, PendingApplicant } from './results.js';

export async function pending(deps: CommandDeps): Promise<CommandResult> {
  const records = await deps.applications.list(['pending']);
  const applicants = await Promise.all(
    records.map(
      async (record): Promise<PendingApplicant> => ({
        id: record.id,
        name: fullName(record.applicant),
        email: record.applicant.email,
        project: record.applicant.project.name,
        submittedAt: record.applicant.submittedAt || record.createdAt,
        waitingSince: record.createdAt,
        cardLink: record.card === undefined ? undefined : await deps.surface.cardLink(record.card),
      }),
    ),
  );
  return { kind: 'pending', applicants };
}
