/** `pending`: applicants waiting for a decision, oldest first, each with a link to its card. */
import { fullName } from '../src/domain/intake/applicant.js';
import { archiveLink, type CommandDeps } from './deps.js';
import type { CommandResult, PendingApplicant } from './results.js';

/**
 * Cards asked of the surface (Slack's permalink) at most; a longer queue gets archive links after
 * that, which need no call, so a big backlog never turns one command into hundreds of API calls.
 */
const LOOKED_UP = 50;

export async function pending(deps: CommandDeps): Promise<CommandResult> {
  const records = await deps.applications.list(['pending']);
  const applicants = await Promise.all(
    records.map(
      async (record, index): Promise<PendingApplicant> => ({
        id: record.id,
        name: fullName(record.applicant),
        email: record.applicant.email,
        project: record.applicant.project.name,
        submittedAt: record.applicant.submittedAt || record.createdAt,
        waitingSince: record.createdAt,
        cardLink:
          record.card === undefined
            ? undefined
            : index < LOOKED_UP
              ? await deps.surface.cardLink(record.card)
              : archiveLink(record.card),
      }),
    ),
  );
  return { kind: 'pending', applicants };
}
