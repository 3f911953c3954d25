/** Which Keystone the demo uses, and how the form's answers land in the stand-in sheet. */
import { describe, expect, it } from 'vitest';
import { configuredKeystone } from '../../src/dev/demo/services.js';
import { APPLICATIONS_TAB, addApplication, formTimestamp } from '../../src/dev/demo/world.js';
import { DEFAULT_HEADERS } from '../../src/domain/intake/columns.js';
import { startSheetsFake } from '../support/sheets-fake.js';

describe('the Keystone the demo uses', () => {
  it("prefers the tests' TEST_OS_* settings, then OS_*, and fills in Keystone's usual names", () => {
    expect(
      configuredKeystone({
        TEST_OS_AUTH_URL: 'http://127.0.0.1:5391/v3',
        TEST_OS_USERNAME: 'admin',
        TEST_OS_PASSWORD: 'pw',
        OS_AUTH_URL: 'https://keystone.example.org/v3',
        OS_USERNAME: 'other',
        OS_PASSWORD: 'other-pw',
      }),
    ).toEqual({
      authUrl: 'http://127.0.0.1:5391/v3',
      username: 'admin',
      password: 'pw',
      projectName: 'admin',
      userDomainName: 'Default',
      projectDomainName: 'Default',
    });
    expect(
      configuredKeystone({
        OS_AUTH_URL: 'https://keystone.example.org/v3',
        OS_USERNAME: 'ops',
        OS_PASSWORD: 'ops-pw',
        OS_PROJECT_NAME: 'ops',
      }),
    ).toMatchObject({ authUrl: 'https://keystone.example.org/v3', username: 'ops', projectName: 'ops' });
  });

  it('starts its own when nothing names one, and refuses a URL without credentials', () => {
    expect(configuredKeystone({})).toBeUndefined();
    expect(() => configuredKeystone({ OS_AUTH_URL: 'https://keystone.example.org/v3' })).toThrow(
      'OS_AUTH_URL is set, so OS_USERNAME and OS_PASSWORD must be too',
    );
  });
});

describe('the application form', () => {
  it('adds one row under the headers, each answer in its column', async () => {
    const sheets = await startSheetsFake();
    try {
      sheets.setTab(APPLICATIONS_TAB, [
        [DEFAULT_HEADERS.email, DEFAULT_HEADERS.timestamp, DEFAULT_HEADERS.pin],
      ]);
      addApplication(sheets, { timestamp: '12/6/2026 9:05:07', email: 'ann@example.org', pin: '0123' });
      addApplication(sheets, { timestamp: '12/6/2026 9:06:00', email: 'bob@example.org', pin: '4321' });
      expect(sheets.tab(APPLICATIONS_TAB)).toEqual([
        ['Email', 'Timestamp', 'PIN'],
        ['ann@example.org', '12/6/2026 9:05:07', '0123'],
        ['bob@example.org', '12/6/2026 9:06:00', '4321'],
      ]);
    } finally {
      await sheets.close();
    }
  });

  it('stamps a row as Google Forms does: M/D/YYYY H:MM:SS', () => {
    expect(formTimestamp(new Date('2026-12-06T09:05:07Z'))).toBe('12/6/2026 9:05:07');
  });
});
