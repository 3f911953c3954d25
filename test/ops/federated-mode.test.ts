/**
 * Federated mode's pure parts: the settings checked together, the unique id read from a sheet
 * column named in SHEET_HEADERS, what a mapping would do on its own, and the words people read.
 */
import { describe, expect, it } from 'vitest';
import { headerNames, mapColumns } from '../../src/domain/intake/columns.js';
import { parseRow } from '../../src/domain/intake/parse.js';
import { federatedIdentityFor, federatedUniqueId } from '../../src/domain/provision/federated-user.js';
import { keystoneUniqueId, type MappingRule } from '../../src/keystone/federation.js';
import { isWarning, mappingFindings } from '../../src/keystone/mapping-risks.js';
import { ConfigError, loadConfig } from '../../src/platform/config/config.js';
import { mappingFindingText } from '../../views/doctor-federation.js';
import { federatedWelcomeEmail } from '../../views/emails/federated-welcome.js';
import { HEADER, row } from '../domain/intake/fixtures.js';

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

describe('federated settings', () => {
  it('defaults to password mode', () => {
    expect(loadConfig({}).identity).toEqual({ mode: 'password' });
  });

  it('federated mode needs the identity provider, the protocol and LOGIN_URL, and says what each is', () => {
    const problems = problemsOf({ KAIZEN_IDENTITY: 'federated' });
    expect(problems).toEqual([
      expect.stringMatching(
        /^KAIZEN_IDP_ID: required when KAIZEN_IDENTITY=federated: the id of the identity provider/,
      ),
      expect.stringMatching(
        /^KAIZEN_IDP_PROTOCOL: required when KAIZEN_IDENTITY=federated: .*e\.g\. openid or saml2/,
      ),
      'LOGIN_URL: required when KAIZEN_IDENTITY=federated: the welcome email has no password link, only where to sign in through the institution',
    ]);
    expect(problemsOf({ KAIZEN_IDENTITY: 'sso' })).toEqual([
      'KAIZEN_IDENTITY: expected password or federated, got "sso"',
    ]);
  });

  it('takes the unique id from the email, or from a column named in SHEET_HEADERS', () => {
    const base = {
      KAIZEN_IDENTITY: 'federated',
      KAIZEN_IDP_ID: 'campus',
      KAIZEN_IDP_PROTOCOL: 'openid',
      LOGIN_URL: 'https://cloud.example.org/',
    };
    expect(loadConfig(base).identity).toEqual({
      mode: 'federated',
      idpId: 'campus',
      protocol: 'openid',
      idFrom: { kind: 'email' },
    });
    const column = loadConfig({
      ...base,
      KAIZEN_FEDERATED_ID_FROM: 'eppn',
      SHEET_HEADERS: '{"eppn":" Institutional ID "}',
    });
    expect(column.identity).toMatchObject({
      idFrom: { kind: 'column', key: 'eppn', header: 'Institutional ID' },
    });
    expect(
      problemsOf({ ...base, KAIZEN_FEDERATED_ID_FROM: 'eppn', SHEET_HEADERS: '{"email":"E-mail"}' }),
    ).toEqual([
      'KAIZEN_FEDERATED_ID_FROM: "eppn" is neither email nor a column named in SHEET_HEADERS (which names email); add it there with its header text, e.g. SHEET_HEADERS={"eppn":"Institutional ID"}',
    ]);
  });

  it('refuses identity-provider settings in password mode rather than ignoring them', () => {
    expect(problemsOf({ KAIZEN_IDP_ID: 'campus', KAIZEN_FEDERATED_ID_FROM: 'eppn' })).toEqual([
      'KAIZEN_IDP_ID: only used when KAIZEN_IDENTITY=federated; set that too, or remove it',
      'KAIZEN_FEDERATED_ID_FROM: only used when KAIZEN_IDENTITY=federated; set that too, or remove it',
    ]);
  });
});

describe('the unique id', () => {
  const identity = {
    mode: 'federated' as const,
    idpId: 'campus',
    protocol: 'openid',
    idFrom: { kind: 'column' as const, key: 'eppn', header: 'Institutional ID' },
  };

  it('is read from the column SHEET_HEADERS names, which is no unknown field there', () => {
    const names = headerNames({ eppn: 'Institutional ID' }, identity.idFrom);
    const header = [...HEADER, 'Institutional ID'];
    const mapped = mapColumns(header, names);
    if (!mapped.ok) throw new Error('the header must map');
    const parsed = parseRow([...row(), ' ann@campus.edu '], 2, mapped.columns, names, header.length);
    if (parsed.kind !== 'applicant') throw new Error(`expected an applicant, got ${parsed.kind}`);
    expect(parsed.applicant.federatedId).toBe('ann@campus.edu');
    expect(federatedIdentityFor(identity, parsed.applicant)).toEqual({
      idpId: 'campus',
      // URL-quoted, as Keystone looks it up at sign-in.
      protocols: [{ protocolId: 'openid', uniqueId: 'ann%40campus.edu' }],
    });
    // Without the federated source, an unknown SHEET_HEADERS key is still a configuration error.
    expect(() => headerNames({ eppn: 'Institutional ID' })).toThrow(
      /SHEET_HEADERS names unknown fields: eppn/,
    );
  });

  it('refuses an application whose column is empty, saying what to do', () => {
    const names = headerNames({}, undefined);
    const mapped = mapColumns(HEADER, names);
    if (!mapped.ok) throw new Error('the header must map');
    const parsed = parseRow(row({ email: 'Ann@Example.org' }), 2, mapped.columns, names, HEADER.length);
    if (parsed.kind !== 'applicant') throw new Error('expected an applicant');
    expect(federatedUniqueId({ kind: 'email' }, parsed.applicant)).toBe('ann@example.org');
    expect(() => federatedUniqueId(identity.idFrom, parsed.applicant)).toThrow(
      'The application has nothing in the "Institutional ID" column, which gives the federated unique id (KAIZEN_FEDERATED_ID_FROM=eppn)',
    );
  });
});

describe('what a mapping would do on its own', () => {
  const user = { user: { id: '{0}', name: '{0}' } };
  const codes = (rules: MappingRule[]) => mappingFindings(rules).map((f) => `${f.code}:${f.rule}`);

  it('a rule that only finds users by id is told about, not warned about', () => {
    const findings = mappingFindings([{ local: [user], remote: [{ type: 'OIDC-email' }] }]);
    expect(findings).toEqual([{ code: 'shadow_users', rule: 1 }]);
    expect(findings.filter(isWarning)).toEqual([]);
  });

  it('warns on projects and on groups for everyone', () => {
    expect(
      codes([
        { local: [user], remote: [{ type: 'A', any_one_of: ['staff'] }] },
        {
          local: [user, { projects: [{ name: 'P', roles: [{ name: 'member' }] }] }],
          remote: [{ type: 'A' }],
        },
        {
          local: [user, { groups: '{1}', domain: { id: 'default' } }],
          remote: [{ type: 'A' }, { type: 'B' }],
        },
        { local: [{ user: { name: '{0}' } }], remote: [{ type: 'A', not_any_of: ['guest'] }] },
      ]),
    ).toEqual(['creates_projects:2', 'shadow_users:2', 'grants_groups:3', 'shadow_users:3']);
  });

  it('a condition in remote makes groups no warning; a local user type is no shadow user', () => {
    expect(
      codes([
        { local: [user, { group: { id: 'g' } }], remote: [{ type: 'A', whitelist: ['x'] }] },
        { local: [{ user: { name: '{0}', type: 'local' } }], remote: [{ type: 'A' }] },
      ]),
    ).toEqual([]);
  });

  it('words each finding with the mapping and the rule', () => {
    expect(mappingFindingText('m1', { code: 'creates_projects', rule: 2, projects: ['P'] })).toBe(
      'mapping m1, rule 2 creates projects on its own (P) and grants their roles at sign-in: anyone it matches gets a project without an approval. Remove "projects" from its local part',
    );
  });
});

describe('the unique id as Keystone keeps it', () => {
  it('is URL-quoted as Python quote() does, which Keystone applies at sign-in', () => {
    // Each expected value is what /usr/bin/python3 -c 'urllib.parse.quote(…)' prints.
    expect(keystoneUniqueId('ann@example.org')).toBe('ann%40example.org');
    expect(keystoneUniqueId("o'neil!(x)*~_.-/y")).toBe('o%27neil%21%28x%29%2A~_.-/y');
    expect(keystoneUniqueId('zoë ü+%&=?#')).toBe('zo%C3%AB%20%C3%BC%2B%25%26%3D%3F%23');
  });
});

describe('the federated welcome email', () => {
  const input = {
    name: 'Ann <Lee>',
    username: 'ann@example.org',
    projectName: 'Lab "X"',
    loginUrl: 'https://cloud.example.org/',
    gettingStartedUrl: 'https://docs.example.org/',
    supportEmail: 'help@example.org',
  };

  it('says to sign in through the institution at LOGIN_URL, with no link token and no password', () => {
    const mail = federatedWelcomeEmail({ ...input, newAccount: true });
    expect(mail.subject).toBe('Your OpenStack account for Lab "X" is ready');
    expect(mail.text).toBe(
      [
        'Hello Ann <Lee>,',
        '',
        'Your OpenStack account has been created with access to the project "Lab "X"".',
        'Your account: ann@example.org',
        '',
        'Sign in through your institution: choose it on the login page and use the same login as for its other services. There is no separate password for this cloud.',
        'Sign in at https://cloud.example.org/',
        '',
        'New here? Start with https://docs.example.org/',
        'Questions? Write to help@example.org',
      ].join('\n'),
    );
    expect(mail.html).toContain('Hello Ann &lt;Lee&gt;');
    expect(mail.html).toContain('the project “Lab &quot;X&quot;”');
    expect([...mail.html.matchAll(/href="([^"]+)"/g)].map((m) => m[1])).toEqual([
      'https://cloud.example.org/',
      'https://docs.example.org/',
      'mailto:help@example.org',
    ]);
  });

  it('tells someone who had an account that they were added', () => {
    const mail = federatedWelcomeEmail({ ...input, newAccount: false, loginUrl: undefined });
    expect(mail.subject).toBe('You have been added to the OpenStack project Lab "X"');
    expect(mail.text).toContain('Your OpenStack account now has access to the project');
    expect(mail.text).not.toContain('Sign in at');
  });
});
