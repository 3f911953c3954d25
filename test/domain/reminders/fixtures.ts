/** Records and clients the job tests share. */

import type { ApplicationRecord, ApplicationStore } from '../../../src/domain/applications/store.js';
import type { Applicant } from '../../../src/domain/intake/applicant.js';
import type { Setpass } from '../../../src/domain/setpass/service.js';
import type { KeystoneClient } from '../../../src/keystone/index.js';
import { newMember } from '../../keystone/fixtures.js';

import { sampleApplicant } from '../../support/applicants.js';

export const applicant = sampleApplicant;

/** A pending application whose card sits at `card` in the admin channel. */
export async function pendingApplication(
  store: ApplicationStore,
  card: { channel: string; ts: string } | undefined,
  overrides: Partial<Applicant> = {},
): Promise<ApplicationRecord> {
  const input = applicant(overrides);
  await store.create({ applicant: input, pinHash: undefined, quota: { kind: 'preset', preset: 'small' } });
  if (card) await store.update(input.id, ['pending'], { card });
  const record = await store.get(input.id);
  if (!record) throw new Error('the application was not stored');
  return record;
}

/**
 * An approved applicant as the workflow leaves one: a real Keystone user, the record in
 * `notified` with its checkpoints, and a live link (temporary password set) with `pin` on file.
 */
export async function approvedApplicant(
  bot: { store: ApplicationStore; setpass: Setpass },
  keystone: KeystoneClient,
  pin: string,
) {
  const { store, setpass } = bot;
  const { user, password } = await newMember(keystone);
  const email = user.name;
  const input = applicant({ email, firstName: 'Ann', lastName: 'Lee' });
  const pinHash = setpass.hashPin(pin);
  await store.create({ applicant: input, pinHash, quota: { kind: 'preset', preset: 'small' } });
  await store.transition(input.id, ['pending'], 'approving', {
    decidedBy: 'U0ADMIN',
    decidedAt: new Date().toISOString(),
  });
  await setpass.storePinHash(user.id, pinHash);
  const link = await setpass.issue({ userId: user.id, username: email }, pinHash);
  await store.checkpoint(input.id, 'user', user.id);
  await store.checkpoint(input.id, 'setpass', 'issued');
  await store.transition(input.id, ['approving'], 'notified');
  const issuedAt = (await setpass.status(user.id)).createdAt!;
  return { email, userId: user.id, link, issuedAt, applicantId: input.id, firstPassword: password };
}

/** Resolves once `predicate` holds, checking every 20 ms: for work the schedules do in the background. */
export async function waitUntil(
  predicate: () => boolean | Promise<boolean>,
  description: string,
  timeoutMs = 15_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline)
      throw new Error(`waitUntil: ${description} did not happen within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

export const HOUR = 3_600_000;
export const DAY = 24 * HOUR;
