import { describe, expect, it } from 'vitest';
import { PasswordPolicy } from '../../../src/domain/setpass/policy.js';

const policy = new PasswordPolicy({ minLength: 12, minScore: 3 });
const owner = { username: 'ann.lee@example.org', email: 'ann.lee@example.org' };

describe('PasswordPolicy', () => {
  it('accepts a long passphrase of unrelated words', async () => {
    const verdict = await policy.check('quartz lantern pickle orbit', owner);
    expect(verdict).toMatchObject({ ok: true, problems: [] });
    expect(verdict.score).toBeGreaterThanOrEqual(3);
  });

  it('says how many characters are missing', async () => {
    const verdict = await policy.check('x7#Qp!2', owner);
    expect(verdict.ok).toBe(false);
    expect(verdict.problems[0]).toBe('Use at least 12 characters (this one has 7).');
  });

  it('counts characters, not bytes', async () => {
    expect((await policy.check('ßßßßßßßßßßß', owner)).problems[0]).toBe(
      'Use at least 12 characters (this one has 11).',
    );
  });

  it('refuses the user name, the email, or its local part inside the password', async () => {
    for (const password of ['ann.lee@example.org', 'xx-Ann.Lee-2026-quartz', 'ANN.LEE@EXAMPLE.ORG!!']) {
      expect((await policy.check(password, owner)).problems).toContain(
        'Do not use your user name or email address in your password.',
      );
    }
  });

  it('refuses a common password however long, with zxcvbn feedback', async () => {
    const verdict = await policy.check('password1234', owner);
    expect(verdict.ok).toBe(false);
    expect(verdict.score).toBeLessThan(3);
    expect(verdict.problems[0]).toMatch(
      /^This password is too easy to guess \((very weak|weak|fair); it needs to be strong\)\.$/,
    );
    expect(verdict.problems.length).toBeGreaterThan(1);
  });

  it('refuses keyboard walks and repeats', async () => {
    expect((await policy.check('qwertyuiopasdf', owner)).ok).toBe(false);
    expect((await policy.check('aaaaaaaaaaaaaaaa', owner)).ok).toBe(false);
  });

  it('refuses control characters, which Keystone cannot store', async () => {
    for (const password of ['quartz lantern\u0000pickle orbit', 'quartz lantern\npickle orbit']) {
      expect((await policy.check(password, owner)).problems).toContain(
        'Use letters, digits, spaces and symbols only: this password contains a control character.',
      );
    }
    expect((await policy.check('quartz lantern pickle orbit ünïcödé', owner)).ok).toBe(true);
  });

  it('follows the configured minimums', async () => {
    const lenient = new PasswordPolicy({ minLength: 8, minScore: 0 });
    expect((await lenient.check('password', { username: 'bob' })).ok).toBe(true);
    expect(lenient.minLength).toBe(8);
  });
});
