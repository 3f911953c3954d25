/**
 * `kaizen doctor` in federated mode, against the real Keystone with an identity provider, a mapping
 * and a protocol registered: it finds them, fails when one is missing, and warns when the mapping
 * would create projects or grant roles on its own (which would bypass approval).
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type CliIo, runCli } from '../../src/app/cli.js';
import {
  EMAIL_RULES,
  type RegisteredFederation,
  registerFederation,
} from '../keystone/federation-fixtures.js';
import { unique } from '../keystone/fixtures.js';
import { mapAssertion } from '../keystone/mapping-engine.js';
import { keystoneEnv, testEnv } from '../support/bot.js';
import { startSheetsFake } from '../support/sheets-fake.js';

interface Line {
  name: string;
  status: string;
  detail: string;
}

describe('kaizen doctor in federated mode', () => {
  let federation: RegisteredFederation;
  beforeAll(async () => {
    federation = await registerFederation();
  });
  afterAll(() => federation?.remove());

  async function doctor(
    overrides: Record<string, string> = {},
    name = 'federation',
  ): Promise<{ code: number; line: Line | undefined }> {
    const out: string[] = [];
    const io: CliIo = { out: (t) => out.push(t), err: (t) => out.push(t) };
    const env = testEnv({
      ...keystoneEnv(inject('keystone')),
      // Slack off: its fake is not running here, and only the federation line is under test.
      SLACK_BOT_TOKEN: '',
      KAIZEN_IDENTITY: 'federated',
      LOGIN_URL: 'https://cloud.example.org/',
      KAIZEN_IDP_ID: federation.idpId,
      KAIZEN_IDP_PROTOCOL: federation.protocol,
      ...overrides,
    });
    const code = await runCli(['doctor', '--json'], env, io);
    const lines = JSON.parse(out.join('\n')) as Line[];
    return { code, line: lines.find((l) => l.name === name) };
  }

  it('finds the identity provider, the protocol and its mapping', async () => {
    const { line } = await doctor();
    expect(line?.status).toBe('ok');
    expect(line?.detail).toContain(
      `identity provider ${federation.idpId} (enabled), protocol openid, mapping ${federation.mappingId}: found`,
    );
    // Told, not warned: a stranger gets an empty account with no role.
    expect(line?.detail).toContain('someone never approved gets an empty account with no role');
  });

  it('fails when the protocol or the identity provider is missing', async () => {
    let { code, line } = await doctor({ KAIZEN_IDP_PROTOCOL: 'saml2' });
    expect(code).toBe(2);
    expect(line).toMatchObject({ status: 'failing' });
    expect(line?.detail).toBe(`Keystone has no protocol saml2 for the identity provider ${federation.idpId}`);
    const missing = unique('no-such-idp');
    ({ code, line } = await doctor({ KAIZEN_IDP_ID: missing }));
    expect(code).toBe(2);
    expect(line?.detail).toBe(`Keystone has no identity provider ${missing}`);
  });

  it('warns when the mapping creates projects on its own, which Keystone really would do', async () => {
    const rules = [
      {
        local: [
          { user: { id: '{0}', name: '{0}' } },
          { projects: [{ name: 'Sandbox-{0}', roles: [{ name: 'member' }] }] },
        ],
        remote: [{ type: 'OIDC-email' }],
      },
    ];
    // Keystone's own engine: this mapping hands a project to whoever signs in.
    const mapped = await mapAssertion(rules, { 'OIDC-email': 'stranger@example.org' });
    expect(mapped.projects).toEqual([{ name: 'Sandbox-stranger@example.org', roles: [{ name: 'member' }] }]);

    await federation.setRules(rules);
    try {
      const { code, line } = await doctor();
      expect(code).toBe(0);
      expect(line?.status).toBe('warning');
      expect(line?.detail).toContain(
        `mapping ${federation.mappingId}, rule 1 creates projects on its own (Sandbox-{0}) and grants their roles at sign-in`,
      );
    } finally {
      await federation.setRules(EMAIL_RULES);
    }
  });

  it('warns when every user gets groups with no condition', async () => {
    const rules = [
      { local: [{ user: { name: '{0}' } }, { group: { id: 'g1' } }], remote: [{ type: 'OIDC-email' }] },
    ];
    await federation.setRules(rules);
    try {
      const { line } = await doctor();
      expect(line?.status).toBe('warning');
      expect(line?.detail).toContain('rule 1 puts every user the identity provider vouches for into groups');
    } finally {
      await federation.setRules(EMAIL_RULES);
    }
  });

  it('checks that the sheet has the column KAIZEN_FEDERATED_ID_FROM names', async () => {
    const sheets = await startSheetsFake();
    try {
      const settings = {
        GOOGLE_APPLICATION_CREDENTIALS: sheets.keyFile,
        GOOGLE_SHEET_ID: sheets.spreadsheetId,
        GOOGLE_SHEETS_API_URL: `${sheets.url}/`,
        KAIZEN_FEDERATED_ID_FROM: 'eppn',
        SHEET_HEADERS: '{"eppn":"Institutional ID"}',
      };
      const required = ['Timestamp', 'Email', 'First name', 'Last name', 'PIN', 'New project name'];
      sheets.setTab('Form Responses 1', [required]);
      let { code, line } = await doctor(settings, 'sheets');
      expect(code).toBe(2);
      expect(line?.status).toBe('failing');
      expect(line?.detail).toBe(
        'The applications tab "Form Responses 1" has no column for Institutional ID. Columns are found by their header text (case and spaces do not matter): rename the header in the sheet, or set SHEET_HEADERS. It gives the federated unique id (KAIZEN_FEDERATED_ID_FROM=eppn).',
      );
      sheets.setTab('Form Responses 1', [[...required, 'Institutional ID']]);
      ({ code, line } = await doctor(settings, 'sheets'));
      expect(code).toBe(0);
      expect(line?.status).toBe('ok');
    } finally {
      await sheets.close();
    }
  });
});
