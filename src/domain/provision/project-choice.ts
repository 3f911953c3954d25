import { type ProjectProtection, protectedProject, protectionPolicy } from '../accounts/protection.js';
import type { ApplicationRecord, ProjectClash } from '../applications/store.js';
import type { ProvisionDeps } from './deps.js';
import { clashWith, findProjectClash, PROJECT_NAME_MAX } from './project-names.js';

export type ProjectChoiceOutcome =
  /** The approval goes on (state `approving`): run `runProvisioning` next. */
  | { kind: 'started'; record: ApplicationRecord }
  /** Nothing to choose: no name clash stopped this application (or it was decided meanwhile). */
  | { kind: 'not_waiting'; record: ApplicationRecord }
  /** The project may never be joined through an application; `reason` is the protection code. */
  | { kind: 'protected'; record: ApplicationRecord; reason: ProjectProtection }
  /** The new name is taken too (any case), or protected; nothing changed. */
  | { kind: 'name_taken'; record: ApplicationRecord; clash: ProjectClash }
  | { kind: 'invalid_name'; record: ApplicationRecord; max: number }
  | { kind: 'not_found' };

/** An approval that stopped because the new project's name is taken, waiting for an admin's choice. */
function waitingForChoice(record: ApplicationRecord): boolean {
  return (
    record.state === 'failed' &&
    record.failure?.code === 'project_exists' &&
    record.projectClash !== undefined
  );
}

/**
 * Join existing X: the admin chooses the existing project the clash named, by its id. Refused for
 * a protected project. The approval then goes on from where it stopped, audited with who chose.
 */
export async function joinExistingProject(
  deps: Pick<ProvisionDeps, 'applications' | 'audit' | 'keystone' | 'config'>,
  applicantId: string,
  actor: string,
): Promise<ProjectChoiceOutcome> {
  const record = await deps.applications.get(applicantId);
  if (record === undefined) return { kind: 'not_found' };
  if (!waitingForChoice(record)) return { kind: 'not_waiting', record };
  // Read again by id: the project may have been renamed, or made protected, since the clash was seen.
  const project = await deps.keystone.getProject(record.projectClash!.id);
  const clash = clashWith(project, protectionPolicy(deps.config));
  if (clash.protection !== undefined) {
    await deps.applications.update(applicantId, ['failed'], { projectClash: clash });
    return { kind: 'protected', record, reason: clash.protection };
  }
  const at = new Date().toISOString();
  const started = await deps.applications.transition(applicantId, ['failed'], 'approving', {
    joinProject: { id: project.id, name: project.name, by: actor, at },
    decidedBy: actor,
    decidedAt: at,
    failure: undefined,
  });
  if (!started.ok)
    return started.record ? { kind: 'not_waiting', record: started.record } : { kind: 'not_found' };
  await deps.audit.record({
    actor,
    action: 'project_join',
    subject: applicantId,
    outcome: 'ok',
    detail: `${record.applicant.email} joins the existing project ${project.name} (${project.id}) instead of a new "${record.applicant.project.name}"`,
  });
  return { kind: 'started', record: started.record };
}

/**
 * Rename: a new name for the new project, checked against Keystone again (any case) and against
 * the protected projects. The approval then goes on from where it stopped.
 */
export async function renameNewProject(
  deps: Pick<ProvisionDeps, 'applications' | 'audit' | 'keystone' | 'config'>,
  applicantId: string,
  newName: string,
  actor: string,
): Promise<ProjectChoiceOutcome> {
  const record = await deps.applications.get(applicantId);
  if (record === undefined) return { kind: 'not_found' };
  if (!waitingForChoice(record) || record.applicant.project.kind !== 'new')
    return { kind: 'not_waiting', record };
  const name = newName.trim();
  if (name.length === 0 || name.length > PROJECT_NAME_MAX) {
    return { kind: 'invalid_name', record, max: PROJECT_NAME_MAX };
  }
  const policy = protectionPolicy(deps.config);
  const named = protectedProject({ id: '', name }, policy);
  if (named.protected)
    return { kind: 'name_taken', record, clash: { id: '', name, protection: named.reason } };
  const clash = await findProjectClash(deps.keystone, policy, name);
  if (clash !== undefined) return { kind: 'name_taken', record, clash };
  const before = record.applicant.project.name;
  const at = new Date().toISOString();
  const started = await deps.applications.transition(applicantId, ['failed'], 'approving', {
    applicant: { ...record.applicant, project: { ...record.applicant.project, name } },
    projectClash: undefined,
    decidedBy: actor,
    decidedAt: at,
    failure: undefined,
    notes: [...record.notes, { code: 'project_renamed', from: before, to: name }],
  });
  if (!started.ok)
    return started.record ? { kind: 'not_waiting', record: started.record } : { kind: 'not_found' };
  await deps.audit.record({
    actor,
    action: 'project_rename',
    subject: applicantId,
    outcome: 'ok',
    detail: `"${before}" → "${name}"`,
  });
  return { kind: 'started', record: started.record };
}
