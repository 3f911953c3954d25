/** Records and clients the job tests share. */
import type { Applicant } from '../../src/intake/applicant.js';
import type { ApplicationRecord, ApplicationStore } from '../../src/provision/applications.js';

import { sampleApplicant } from '../support/applicants.js';

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
