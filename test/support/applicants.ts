import { randomBytes } from 'node:crypto';
import type { Applicant } from '../../src/domain/intake/applicant.js';

/** An applicant as intake would make it from a valid row; override what a test cares about. */
export function sampleApplicant(overrides: Partial<Applicant> = {}): Applicant {
  const id = overrides.id ?? `app-${randomBytes(4).toString('hex')}`;
  const email = overrides.email ?? `${id}@example.org`;
  return {
    id,
    submittedAt: '2026-11-01 10:00:00',
    email,
    firstName: 'Ann',
    lastName: 'Lee',
    hasAccount: false,
    organization: 'Lab',
    role: 'Student',
    phone: '',
    sponsor: '',
    comment: '',
    project: { kind: 'new', name: 'lab-project', description: 'research' },
    extraUsers: [],
    row: ['2026-11-01 10:00:00', email],
    ...overrides,
  };
}
