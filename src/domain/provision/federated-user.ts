/**
 * The user step in federated mode (KAIZEN_IDENTITY=federated): the account is a shadow user that
 * carries Keystone's `federated` attribute and no password; its owner signs in through their
 * institution. A local (password) account under the same name is never turned federated without
 * an admin's choice: the run stops, the card asks, and the choice is kept on the record.
 */

import { keystoneUniqueId } from '../../keystone/federation.js';
import type { FederatedIdentity, User } from '../../keystone/index.js';
import type { FederatedIdSource, IdentityConfig } from '../../platform/config/config.js';
import { KaizenError } from '../../platform/errors.js';
import type { Note } from '../applications/notes.js';
import type { ApplicationRecord, ObjectOrigin } from '../applications/store.js';
import { type Applicant, fullName } from '../intake/applicant.js';
import type { ProvisionDeps } from './deps.js';

export type FederatedIdentityConfig = Extract<IdentityConfig, { mode: 'federated' }>;

/** What the user step hands in from steps.ts, so this module needs nothing back from it. */
export interface UserStepContext {
  /** The Keystone user name: the applicant's email, lower-cased. */
  name: string;
  find: () => Promise<User | undefined>;
  setOrigin: (origin: ObjectOrigin) => Promise<void>;
  projectId: () => string;
}

export interface FederatedStepResult {
  checkpoint: string;
  detail: string;
  notes: Note[];
}

/**
 * Thrown when federated mode meets a local account with the applicant's name: nothing was changed,
 * and the card asks an admin to turn it federated or to keep it local.
 */
export class LocalAccountExists extends KaizenError {
  constructor(readonly account: { id: string; name: string }) {
    super(
      'conflict',
      `A local account named ${account.name} already exists (it signs in with a password here): nothing was changed. Choose to make it federated, or to use it as it is.`,
    );
  }
}

/** The unique id the identity provider will present for this applicant, as it presents it. */
export function federatedUniqueId(idFrom: FederatedIdSource, applicant: Applicant): string {
  if (idFrom.kind === 'email') return applicant.email.trim().toLowerCase();
  const value = applicant.federatedId?.trim() ?? '';
  if (value === '') {
    throw new KaizenError(
      'invalid',
      `The application has nothing in the "${idFrom.header}" column, which gives the federated unique id (KAIZEN_FEDERATED_ID_FROM=${idFrom.key}): reject it and ask the applicant to apply again with it filled in.`,
    );
  }
  return value;
}

export function federatedIdentityFor(
  identity: FederatedIdentityConfig,
  applicant: Applicant,
): FederatedIdentity {
  // Stored as Keystone will look it up at sign-in (URL-quoted), so the first sign-in finds this user.
  const uniqueId = keystoneUniqueId(federatedUniqueId(identity.idFrom, applicant));
  return { idpId: identity.idpId, protocols: [{ protocolId: identity.protocol, uniqueId }] };
}

/** The unique id the user holds for this identity provider and protocol, if any. */
export function uniqueIdAt(
  user: Pick<User, 'federated'>,
  idpId: string,
  protocol: string,
): string | undefined {
  const idp = user.federated?.find((f) => f.idpId === idpId);
  return idp?.protocols.find((p) => p.protocolId === protocol)?.uniqueId;
}

/** The user's identities with `wanted` laid over the one for the same identity provider. */
function mergedIdentities(user: User, wanted: FederatedIdentity): FederatedIdentity[] {
  const others = (user.federated ?? []).filter((f) => f.idpId !== wanted.idpId);
  const same = user.federated?.find((f) => f.idpId === wanted.idpId);
  const protocols = [
    ...(same?.protocols ?? []).filter((p) => p.protocolId !== wanted.protocols[0]?.protocolId),
    ...wanted.protocols,
  ];
  return [...others, { idpId: wanted.idpId, protocols }];
}

export async function federatedUserStep(
  deps: ProvisionDeps,
  record: ApplicationRecord,
  identity: FederatedIdentityConfig,
  context: UserStepContext,
): Promise<FederatedStepResult> {
  const { applicant } = record;
  const wanted = federatedIdentityFor(identity, applicant);
  const uniqueId = wanted.protocols[0]!.uniqueId;
  let origin = record.origin?.user;
  if (origin === undefined) {
    origin = (await context.find()) === undefined ? 'created' : 'existing';
    await context.setOrigin(origin);
  }
  if (origin === 'created') {
    const ensured = await deps.keystone.ensureUser({
      name: context.name,
      email: applicant.email,
      description: fullName(applicant),
      federated: [wanted],
      defaultProjectId: context.projectId(),
      domainId: deps.config.keystone.domain,
    });
    const user = ensured.value;
    return {
      checkpoint: user.id,
      detail: `federated user ${user.name} (${user.id}) for ${identity.idpId}/${identity.protocol}`,
      notes: [],
    };
  }
  const listed = await context.find();
  // A user listed by name may come without its `federated` list (Keystone lists a local user turned
  // federated once per row): read it by id, which always carries it.
  const found = listed === undefined ? undefined : await deps.keystone.getUser(listed.id);
  if (found === undefined) {
    throw new KaizenError(
      'not_found',
      `The account ${context.name} was there a moment ago and is gone now; press Retry`,
      {
        service: 'keystone',
      },
    );
  }
  const held = uniqueIdAt(found, identity.idpId, identity.protocol);
  if (held !== undefined) {
    const notes: Note[] =
      held === uniqueId
        ? []
        : [{ code: 'federated_id_differs', user: found.name, idpId: identity.idpId, held, wanted: uniqueId }];
    return {
      checkpoint: found.id,
      detail: `existing federated user ${found.name} (${found.id})`,
      notes: [{ code: 'existing_federated_account', user: found.name }, ...notes],
    };
  }
  const otherIdps = (found.federated ?? []).map((f) => f.idpId).filter((idp) => idp !== identity.idpId);
  const choice = record.localAccountChoice;
  if (choice === undefined) {
    await deps.applications.update(record.id, ['approving'], {
      localAccount: { id: found.id, name: found.name, ...(otherIdps.length > 0 ? { otherIdps } : {}) },
    });
    throw new LocalAccountExists({ id: found.id, name: found.name });
  }
  if (choice.choice === 'keep_local') {
    return {
      checkpoint: found.id,
      detail: `existing local user ${found.name} (${found.id}) kept local, chosen by ${choice.by}`,
      notes: [{ code: 'local_account_kept', user: found.name }],
    };
  }
  const converted = await deps.keystone.makeFederated(found.id, mergedIdentities(found, wanted));
  // Its password is gone: a password link it still had could only fail now.
  await deps.setpass?.revoke(found.id);
  return {
    checkpoint: converted.id,
    detail: `local user ${found.name} (${found.id}) made federated for ${identity.idpId}/${identity.protocol}, chosen by ${choice.by}`,
    notes: [{ code: 'local_account_federated', user: found.name, idpId: identity.idpId }],
  };
}
