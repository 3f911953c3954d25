/**
 * The provisioning steps, one function each, in PROVISION_STEPS order. Every step is get-or-create:
 * run twice, it finds what the first run made. Each answers the checkpoint to save, and notes for
 * the card when something needs a person's eye but is not a failure.
 */

import { randomBytes } from 'node:crypto';
import type { User } from '../../keystone/index.js';
import { Sealer } from '../../platform/crypto/sealer.js';
import { isKaizenError, KaizenError } from '../../platform/errors.js';
import { protectedProject, protectionPolicy } from '../accounts/protection.js';
import type { Note } from '../applications/notes.js';
import type { ApplicationRecord, ObjectOrigin, ProjectClash, ProvisionStep } from '../applications/store.js';
import { type Applicant, fullName } from '../intake/applicant.js';
import { describeQuotaChoice, resolveQuota } from '../quotas/resolve.js';
import { forgotPageUrl } from '../setpass/paths.js';
import type { ProvisionDeps } from './deps.js';
import { federatedUniqueId, federatedUserStep } from './federated-user.js';
import type { ComposedEmail, SetpassLink } from './ports.js';
import { clashWith, createdByTag, PROJECT_NAME_MAX } from './project-names.js';

export interface StepResult {
  /** The checkpoint: an id, or a word such as `done`, `skipped`, `queued`. */
  checkpoint: string;
  /** For the audit line. */
  detail?: string;
  /** What the card warns about. */
  notes?: Note[];
  skipped?: boolean;
}

export type Step = (deps: ProvisionDeps, record: ApplicationRecord) => Promise<StepResult>;

const SEALED_LINK = 'sealed:';

export const welcomeMailKey = (applicantId: string): string => `welcome:${applicantId}`;
export const rejectionMailKey = (applicantId: string): string => `rejection:${applicantId}`;
export const DELIVERY_HOOK = 'application_notified';
/** The setpass step's checkpoint for an account that signs in through its institution: no password here. */
export const FEDERATED_ACCOUNT = 'federated';
/** The email step's checkpoint when the outbox gave the email up for good. */
export const UNDELIVERED = 'undelivered';

export const username = (applicant: Applicant): string => applicant.email.trim().toLowerCase();

/** A project name as typed (trimmed), within Keystone's limits. */
export function projectNameOf(applicant: Applicant): string {
  const name = applicant.project.name.trim();
  if (name.length === 0 || name.length > PROJECT_NAME_MAX) {
    throw new KaizenError(
      'invalid',
      `The project name must be 1 to ${PROJECT_NAME_MAX} characters; "${name.slice(0, 80)}" has ${name.length}. Ask the applicant for a shorter name, or create the project by hand and ask them to apply for it as an existing project.`,
    );
  }
  return name;
}

function checkpointOf(record: ApplicationRecord, step: ProvisionStep): string {
  const value = record.checkpoints[step];
  if (value === undefined) {
    throw new KaizenError('conflict', `The ${step} step has not run yet for this application; press Retry`);
  }
  return value;
}

async function setOrigin(
  deps: ProvisionDeps,
  record: ApplicationRecord,
  object: 'project' | 'user',
  origin: ObjectOrigin,
): Promise<void> {
  const patch = { origin: { ...record.origin, [object]: origin } };
  const result = await deps.applications.update(record.id, ['approving'], patch);
  if (!result.ok) throw new KaizenError('conflict', 'The application is no longer being approved');
  record.origin = patch.origin;
}

/**
 * Thrown when a new project's name is taken: the run stops before anything is made or granted,
 * and the card asks an admin to join that project or rename the new one.
 */
export class ProjectNameTaken extends KaizenError {
  constructor(readonly clash: ProjectClash) {
    super(
      'conflict',
      clash.protection === undefined
        ? `A project named "${clash.name}" already exists: nothing was changed. Join it, or rename the new project.`
        : `A project named "${clash.name}" already exists and no application may join it: nothing was changed. Rename the new project, or reject.`,
    );
  }
}

async function stopForClash(
  deps: ProvisionDeps,
  record: ApplicationRecord,
  found: { id: string; name: string },
): Promise<never> {
  const clash = clashWith(found, protectionPolicy(deps.config));
  await deps.applications.update(record.id, ['approving'], { projectClash: clash });
  throw new ProjectNameTaken(clash);
}

function refuseProtected(deps: ProvisionDeps, project: { id: string; name: string }): void {
  const verdict = protectedProject(project, protectionPolicy(deps.config));
  if (verdict.protected) {
    throw new KaizenError(
      'forbidden',
      `The project ${project.name} can never be joined through an application (${verdict.reason.replace(/_/g, ' ')}): reject the application, or add the user by hand if it is really meant.`,
    );
  }
}

/** The project the admin chose to join, by its id: a rename or a new look-alike since cannot change it. */
async function joinChosen(
  deps: ProvisionDeps,
  record: ApplicationRecord,
  chosen: NonNullable<ApplicationRecord['joinProject']>,
): Promise<StepResult> {
  const found = await deps.keystone.getProject(chosen.id);
  refuseProtected(deps, found);
  await setOrigin(deps, record, 'project', 'existing');
  return {
    checkpoint: found.id,
    detail: `joined existing project ${found.name} (${found.id}), chosen by ${chosen.by}`,
    notes: [{ code: 'joins_existing_project', project: found.name }],
  };
}

const project: Step = async (deps, record) => {
  const { applicant } = record;
  const { domain } = deps.config.keystone;
  // Federated mode: an application without its unique id stops here, before anything is made.
  const { identity } = deps.config;
  if (identity.mode === 'federated') federatedUniqueId(identity.idFrom, applicant);
  const name = projectNameOf(applicant);
  const find = () => deps.keystone.findProjectByName(name, domain);
  if (applicant.project.kind === 'existing') {
    const found = await find();
    if (found === undefined) {
      throw new KaizenError(
        'not_found',
        `There is no project named "${name}" in domain ${domain}. Ask the applicant (or the project contact) for its exact name, or reject the application.`,
        { service: 'keystone' },
      );
    }
    refuseProtected(deps, found);
    await setOrigin(deps, record, 'project', 'existing');
    return { checkpoint: found.id, detail: `existing project ${found.name} (${found.id})` };
  }
  if (record.joinProject !== undefined) return joinChosen(deps, record, record.joinProject);
  const found = await find();
  if (found !== undefined) {
    // Ours only when a run of this application made it and stopped before its checkpoint.
    const ours = record.origin?.project === 'created' && found.tags.includes(createdByTag(record.id));
    if (!ours) return stopForClash(deps, record, found);
    return { checkpoint: found.id, detail: `project ${found.name} (${found.id}), made by an earlier run` };
  }
  if (record.origin?.project !== 'created') await setOrigin(deps, record, 'project', 'created');
  const description = applicant.project.description.trim();
  const created = await deps.keystone.createProject({
    name,
    description: description || `Requested by ${fullName(applicant)} <${applicant.email}>`,
    domainId: domain,
    tags: [createdByTag(record.id)],
  });
  return { checkpoint: created.id, detail: `project ${created.name} (${created.id})` };
};

/** A password nobody learns: Keystone needs one to create the user; the password link replaces it. */
function throwawayPassword(): string {
  // The fixed tail satisfies password-complexity rules that ask for each kind of character.
  return `${randomBytes(24).toString('base64url')}aA1!`;
}

const user: Step = async (deps, record) => {
  const { applicant } = record;
  const { domain } = deps.config.keystone;
  const name = username(applicant);
  // Keystone cannot filter users by email: matching the email attribute lists the whole domain,
  // which costs seconds on a large cloud. Our accounts are named by email, so the name is enough
  // unless the applicant says they already have an account (which may carry another name).
  const find = () =>
    applicant.hasAccount ? deps.keystone.findUser(name, domain) : deps.keystone.findUserByName(name, domain);
  const { identity } = deps.config;
  if (identity.mode === 'federated') {
    return federatedUserStep(deps, record, identity, {
      name,
      find,
      setOrigin: (origin) => setOrigin(deps, record, 'user', origin),
      projectId: () => checkpointOf(record, 'project'),
    });
  }
  let origin = record.origin?.user;
  // A look-up made here to decide the origin is the one used below: no second look at once.
  let looked: { found: User | undefined } | undefined;
  if (origin === undefined) {
    looked = { found: await find() };
    origin = looked.found === undefined ? 'created' : 'existing';
    await setOrigin(deps, record, 'user', origin);
  }
  if (origin === 'existing') {
    const found = looked?.found ?? (await find());
    if (found === undefined) {
      throw new KaizenError(
        'not_found',
        `The account ${name} was there a moment ago and is gone now; press Retry`,
        {
          service: 'keystone',
        },
      );
    }
    return {
      checkpoint: found.id,
      detail: `existing user ${found.name} (${found.id})`,
      notes: existingAccountNotes(found),
    };
  }
  const ensured = await deps.keystone.ensureUser(
    {
      name,
      email: name,
      description: fullName(applicant),
      password: throwawayPassword(),
      defaultProjectId: checkpointOf(record, 'project'),
      domainId: domain,
    },
    // Both look-ups above start with the name: a miss a moment ago means the name was free.
    { knownMissing: looked !== undefined && looked.found === undefined },
  );
  const notes: Note[] = applicant.hasAccount ? [{ code: 'no_account_found', user: name }] : [];
  return { checkpoint: ensured.value.id, detail: `user ${ensured.value.name} (${ensured.value.id})`, notes };
};

function existingAccountNotes(found: User): Note[] {
  const notes: Note[] = [{ code: 'existing_account', user: found.name }];
  if (!found.enabled) notes.push({ code: 'account_disabled', user: found.name });
  return notes;
}

const role: Step = async (deps, record) => {
  const roleName = deps.config.keystone.memberRole;
  const found = await deps.keystone.findRole(roleName);
  if (found === undefined) {
    throw new KaizenError(
      'config',
      `Keystone has no role named "${roleName}": create it, or set KAIZEN_MEMBER_ROLE to the role members get`,
      { service: 'keystone' },
    );
  }
  const projectId = checkpointOf(record, 'project');
  const userId = checkpointOf(record, 'user');
  await deps.keystone.assignProjectRole(projectId, userId, found.id);
  return { checkpoint: found.id, detail: `${found.name} on project ${projectId} for user ${userId}` };
};

const extraUsers: Step = async (deps, record) => {
  const wanted = [...new Set(record.applicant.extraUsers.map((name) => name.trim()).filter(Boolean))].filter(
    (name) => name.toLowerCase() !== username(record.applicant),
  );
  if (wanted.length === 0) return { checkpoint: 'none', skipped: true };
  const projectId = checkpointOf(record, 'project');
  const roleId = checkpointOf(record, 'role');
  const added: string[] = [];
  const notes: Note[] = [];
  for (const name of wanted) {
    let found: User | undefined;
    try {
      found = await deps.keystone.findUser(name, deps.config.keystone.domain);
    } catch (error) {
      // Several accounts match the name: a person has to pick, which is no reason to stop the others.
      if (!isKaizenError(error, 'conflict')) throw error;
      notes.push({ code: 'extra_user_failed', user: name, error: error.message });
      continue;
    }
    if (found === undefined) {
      notes.push({ code: 'extra_user_missing', user: name });
      continue;
    }
    await deps.keystone.assignProjectRole(projectId, found.id, roleId);
    added.push(found.name);
  }
  return {
    checkpoint: `${added.length} of ${wanted.length} added`,
    detail: added.length > 0 ? `added ${added.join(', ')}` : 'none added',
    notes,
  };
};

const quotas: Step = async (deps, record) => {
  if (record.origin?.project !== 'created') {
    return {
      checkpoint: 'skipped',
      skipped: true,
      detail: 'the project already existed; quotas left as they are',
    };
  }
  const values = resolveQuota(record.quota, deps.quotaPresets, deps.config.quotas.defaultPreset);
  const outcome = await deps.quotas(checkpointOf(record, 'project'), values);
  const choice = describeQuotaChoice(record.quota);
  const applied = outcome.applied.map((a) => a.service).join(', ') || 'no service';
  return {
    checkpoint: choice,
    detail: `${choice}: ${JSON.stringify(values)} set in ${applied}`,
    notes: outcome.notes,
  };
};

/** The link lives sealed on the record between the setpass and email steps, and nowhere in plaintext. */
function linkSealer(deps: ProvisionDeps): Sealer {
  const secret = deps.config.setpass.secret;
  if (secret === undefined) {
    throw new KaizenError('config', 'Password links need SETPASS_SECRET; set it and press Retry', {
      service: 'setpass',
    });
  }
  return new Sealer(secret, 'kaizen provision link');
}

function sealLink(deps: ProvisionDeps, recordId: string, link: SetpassLink): string {
  const payload = JSON.stringify({ url: link.url, expiresAt: link.expiresAt.toISOString() });
  return `${SEALED_LINK}${linkSealer(deps).seal(payload, recordId)}`;
}

function openLink(deps: ProvisionDeps, record: ApplicationRecord): SetpassLink | undefined {
  const value = record.checkpoints.setpass;
  if (value === undefined || !value.startsWith(SEALED_LINK)) return undefined;
  const opened = linkSealer(deps).open(value.slice(SEALED_LINK.length), record.id);
  if (opened === undefined) return undefined;
  const parsed = JSON.parse(opened) as { url: string; expiresAt: string };
  return { url: parsed.url, expiresAt: new Date(parsed.expiresAt) };
}

/** Stores the PIN hash for the user and issues a link; a link issued before for the user stops working. */
async function issueLink(deps: ProvisionDeps, record: ApplicationRecord): Promise<SetpassLink> {
  if (deps.setpass === undefined) {
    throw new KaizenError(
      'config',
      'Password links are off here (set SETPASS_SECRET and PUBLIC_URL): the new user could not log in; turn them on and press Retry',
      { service: 'setpass' },
    );
  }
  if (record.pinHash === undefined) {
    throw new KaizenError(
      'invalid',
      'The application has no PIN on file, and the password link needs one: reject it and ask the applicant to apply again with a 4-digit PIN',
    );
  }
  const userId = checkpointOf(record, 'user');
  await deps.setpass.storePinHash(userId, record.pinHash);
  return deps.setpass.issue({ userId, username: username(record.applicant) }, record.pinHash);
}

/** Federated mode, unless an admin kept a local account: the user signs in through their institution. */
export function signsInFederated(deps: Pick<ProvisionDeps, 'config'>, record: ApplicationRecord): boolean {
  return deps.config.identity.mode === 'federated' && record.localAccountChoice?.choice !== 'keep_local';
}

const setpass: Step = async (deps, record) => {
  if (signsInFederated(deps, record)) {
    return { checkpoint: FEDERATED_ACCOUNT, skipped: true, detail: 'federated account: no password link' };
  }
  if (record.origin?.user !== 'created') {
    return { checkpoint: 'not needed', skipped: true, detail: 'existing account: no password link' };
  }
  const link = await issueLink(deps, record);
  return {
    checkpoint: sealLink(deps, record.id, link),
    detail: `link expires ${link.expiresAt.toISOString()}`,
  };
};

/** The link from the setpass step; a fresh one when it is gone (its email was given up) or unreadable. */
async function linkForEmail(deps: ProvisionDeps, record: ApplicationRecord): Promise<SetpassLink> {
  const sealed = openLink(deps, record);
  if (sealed !== undefined) return sealed;
  const link = await issueLink(deps, record);
  await deps.applications.checkpoint(record.id, 'setpass', sealLink(deps, record.id, link));
  return link;
}

const email: Step = async (deps, record) => {
  const { applicant } = record;
  const federated = signsInFederated(deps, record);
  // A federated user has no link: the email is the same whether the account is new or not.
  const newUser = record.origin?.user === 'created' && !federated;
  const kind = federated ? 'federated-welcome' : newUser ? 'welcome' : 'added-to-project';
  if (deps.mail === undefined) {
    return {
      checkpoint: 'skipped',
      skipped: true,
      notes: [{ code: 'mail_off', email: applicant.email, newUser, federated }],
    };
  }
  const key = welcomeMailKey(record.id);
  const before = await deps.mail.status(key);
  if (before === 'queued' || before === 'delivered') {
    // An earlier run queued it and stopped before its checkpoint: the email (and its link) stands.
    if (newUser) await deps.applications.checkpoint(record.id, 'setpass', 'issued');
    return {
      checkpoint: before === 'delivered' ? 'sent' : 'queued',
      detail: `${kind} email already ${before}`,
    };
  }
  const signposts = {
    loginUrl: deps.config.web.loginUrl,
    gettingStartedUrl: deps.config.web.gettingStartedUrl,
    supportEmail: deps.config.mail.supportEmail,
    forgotUrl: forgotPageUrl(deps.config.http.publicUrl),
  };
  const base = {
    name: fullName(applicant),
    username: username(applicant),
    projectName: projectNameOf(applicant),
  };
  let content: ComposedEmail;
  if (federated) {
    content = deps.emails.federatedWelcome({
      ...base,
      loginUrl: signposts.loginUrl,
      gettingStartedUrl: signposts.gettingStartedUrl,
      supportEmail: signposts.supportEmail,
      newAccount: record.origin?.user === 'created' || record.localAccountChoice?.choice === 'convert',
    });
  } else if (newUser) {
    const link = await linkForEmail(deps, record);
    content = deps.emails.welcome({
      ...base,
      ...signposts,
      link: link.url,
      lifetimeMs: deps.config.setpass.tokenTtlMs,
    });
  } else {
    content = deps.emails.addedToProject({ ...base, ...signposts });
  }
  const result = await deps.mail.enqueue(
    {
      to: applicant.email,
      ...content,
      ...(signposts.supportEmail ? { replyTo: signposts.supportEmail } : {}),
    },
    { idempotencyKey: key, onDelivered: { kind: DELIVERY_HOOK, ref: record.id } },
  );
  // The email holds the link now (sealed in the outbox until it is sent): the record keeps no copy.
  if (newUser) await deps.applications.checkpoint(record.id, 'setpass', 'issued');
  const now = result.status === 'sent' ? 'delivered' : await deps.mail.status(key);
  const reason = result.status === 'queued' ? `: ${result.reason}` : '';
  if (now === 'delivered' || (result.status === 'duplicate' && result.delivered)) {
    return { checkpoint: 'sent', detail: `${kind} email sent` };
  }
  // Refused for good on the first try: the outbox's give-up hook has put the reason on the card.
  if (now === 'failed') return { checkpoint: UNDELIVERED, detail: `${kind} email given up${reason}` };
  return { checkpoint: 'queued', detail: `${kind} email queued${reason}` };
};

const admittedSheet: Step = async (deps, record) => {
  if (deps.sheet === undefined) {
    return {
      checkpoint: 'skipped',
      skipped: true,
      notes: [{ code: 'sheets_off' }],
    };
  }
  const row = [
    ...record.applicant.row,
    record.decidedAt ?? new Date().toISOString(),
    record.decidedBy ?? '',
    checkpointOf(record, 'project'),
    checkpointOf(record, 'user'),
  ];
  await deps.sheet.appendAdmitted(row);
  return { checkpoint: 'done', detail: `row appended to ${deps.config.google.admittedTab}` };
};

const sheetStatus: Step = async (deps, record) => {
  if (deps.sheet === undefined) return { checkpoint: 'skipped', skipped: true };
  await deps.sheet.writeStatus(record.applicant, 'Approved');
  return { checkpoint: 'done', detail: 'Approved' };
};

export const STEPS: Record<ProvisionStep, Step> = {
  project,
  user,
  role,
  extra_users: extraUsers,
  quotas,
  setpass,
  email,
  admitted_sheet: admittedSheet,
  sheet_status: sheetStatus,
};
