/**
 * Approving in federated mode (KAIZEN_IDENTITY=federated), against the real Keystone with an
 * identity provider, a mapping and a protocol registered in it: the user carries the `federated`
 * attribute and the role, Keystone's own mapping engine maps a sample assertion to that user, the
 * welcome email has no link, and a local account with the same name waits for an admin's choice.
 */

import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { runProvisioning, startApproval } from '../../../src/domain/provision/approve.js';
import { chooseLocalAccount } from '../../../src/domain/provision/local-account-choice.js';
import { keystoneUniqueId } from '../../../src/keystone/federation.js';
import type { Config } from '../../../src/platform/config/config.js';
import { applicantCard } from '../../../views/applicant-card.js';
import { noteText } from '../../../views/notes.js';
import {
  HEADER_RULES,
  type RegisteredFederation,
  registerFederation,
  signIn,
} from '../../keystone/federation-fixtures.js';
import { DOMAIN_ID, newMember } from '../../keystone/fixtures.js';
import { mapAssertion, uniqueIdAtSignIn } from '../../keystone/mapping-engine.js';
import { everythingStored, type Harness, mailTo, PIN, PUBLIC_URL, startHarness } from './harness.js';

let h: Harness;
let federation: RegisteredFederation;
let config: Config;

beforeAll(async () => {
  [h, federation] = await Promise.all([startHarness(), registerFederation()]);
  config = {
    ...h.config,
    identity: {
      mode: 'federated',
      idpId: federation.idpId,
      protocol: federation.protocol,
      idFrom: { kind: 'email' },
    },
  };
});
afterAll(async () => {
  await federation?.remove();
  await h?.close();
});
beforeEach(() => h.recorder.reset());

async function approve(id: string, actor = 'U0ADMIN1') {
  const deps = h.deps({ config });
  const steps: string[] = [];
  expect((await startApproval(deps, id, actor)).kind).toBe('started');
  const done = await runProvisioning(deps, id, async (_record, event) => {
    steps.push(`${event.step}:${event.outcome}`);
  });
  return { done, steps };
}

async function waitForMail(email: string, count = 1) {
  for (let i = 0; i < 100 && mailTo(h, email).length < count; i++)
    await new Promise((r) => setTimeout(r, 20));
  return mailTo(h, email);
}

async function roleNames(userId: string, projectId: string): Promise<string[]> {
  const assignments = await h.keystone.listRoleAssignments({ userId, projectId });
  return assignments.map((a) => a.roleName ?? a.roleId);
}

describe('approving in federated mode', () => {
  it('makes a federated user with no password, grants the role, sets quotas, and mails no link', async () => {
    const record = await h.apply();
    const email = record.applicant.email;
    const { done, steps } = await approve(record.id);

    expect(done.state).toBe('notified');
    expect(steps).toEqual([
      'project:done',
      'user:done',
      'role:done',
      'extra_users:skipped',
      'quotas:done',
      'setpass:skipped',
      'email:done',
      'admitted_sheet:skipped',
      'sheet_status:skipped',
      'finished:done',
    ]);
    expect(done.checkpoints.setpass).toBe('federated');

    const user = await h.keystone.getUser(done.checkpoints.user!);
    expect(user).toMatchObject({ name: email, email, domainId: DOMAIN_ID });
    expect(user.federated).toEqual([
      { idpId: federation.idpId, protocols: [{ protocolId: 'openid', uniqueId: keystoneUniqueId(email) }] },
    ]);
    expect(user.federated?.[0]?.protocols[0]?.uniqueId).toMatch(/%40example\.org$/);
    expect(await roleNames(user.id, done.checkpoints.project!)).toEqual(['member']);
    const puts = h.recorder.calls.filter(
      (c) => c.method === 'PUT' && c.projectId === done.checkpoints.project,
    );
    expect(puts.map((c) => c.service).sort()).toEqual(['compute', 'network', 'volumev3']);
    // No password was set: no login by password, and no PIN or link kept for the user.
    await expect(
      h.keystone.passwordLogin({ userId: user.id, password: '', scope: 'unscoped' }),
    ).rejects.toThrow();
    expect(await h.tokens.current(user.id)).toBeUndefined();

    // Keystone's own mapping engine maps the identity provider's assertion to this very user.
    const mapped = await mapAssertion(await rulesOf(federation.mappingId), { 'OIDC-email': email });
    expect(mapped.user.type).toBe('ephemeral');
    expect(await uniqueIdAtSignIn(mapped)).toBe(user.federated?.[0]?.protocols[0]?.uniqueId);

    // The welcome email: sign in through the institution at LOGIN_URL; no link, no token.
    const [mail, ...more] = await waitForMail(email);
    expect(more).toEqual([]);
    expect(mail!.subject).toBe(`Your OpenStack account for ${record.applicant.project.name} is ready`);
    expect(mail!.text).toContain('Sign in through your institution');
    expect(mail!.text).toContain('Sign in at https://cloud.example.org/dashboard');
    expect(mail!.text).toContain('There is no separate password for this cloud.');
    expect(mail!.text).not.toContain(PUBLIC_URL);
    expect(mail!.text).not.toMatch(/token|PIN|forgot/i);
    expect(mail!.html).not.toContain(PUBLIC_URL);
    expect(mail!.html).toContain('href="https://cloud.example.org/dashboard"');
    expect(await everythingStored(h)).not.toContain(PUBLIC_URL);

    const card = JSON.stringify(applicantCard({ record: done, quota: undefined }).blocks);
    expect(card).toContain('password link: none, federated');
  });

  it('gives an account that is already federated the role on the new project, without asking', async () => {
    const { user: local } = await newMember(h.keystone);
    const federated = [
      {
        idpId: federation.idpId,
        protocols: [{ protocolId: 'openid', uniqueId: keystoneUniqueId(local.name) }],
      },
    ];
    // Made federated beforehand, as an earlier approval or an operator would have.
    await h.keystone.makeFederated(local.id, federated);
    const record = await h.apply({ email: local.name });
    const { done } = await approve(record.id);
    expect(done.failure).toBeUndefined();
    expect(done.state).toBe('notified');
    expect(done.checkpoints.user).toBe(local.id);
    expect(done.origin?.user).toBe('existing');
    expect(done.failure).toBeUndefined();
    expect(await roleNames(local.id, done.checkpoints.project!)).toEqual(['member']);
    expect((await h.keystone.getUser(local.id)).federated).toEqual(federated);
    const [mail] = await waitForMail(local.name);
    expect(mail!.subject).toBe(
      `You have been added to the OpenStack project ${record.applicant.project.name}`,
    );
    expect(mail!.text).toContain('Sign in through your institution');
  });
});

describe('the unique id from a sheet column', () => {
  it('an application without it stops before anything is made, saying what to do', async () => {
    const columnConfig: Config = {
      ...config,
      identity: {
        mode: 'federated',
        idpId: federation.idpId,
        protocol: federation.protocol,
        idFrom: { kind: 'column', key: 'eppn', header: 'Institutional ID' },
      },
    };
    const record = await h.apply();
    const deps = h.deps({ config: columnConfig });
    expect((await startApproval(deps, record.id, 'U0ADMIN1')).kind).toBe('started');
    const done = await runProvisioning(deps, record.id);
    expect(done.state).toBe('failed');
    expect(done.failure?.step).toBe('project');
    expect(done.failure?.message).toContain(
      'The application has nothing in the "Institutional ID" column, which gives the federated unique id (KAIZEN_FEDERATED_ID_FROM=eppn)',
    );
    expect(await h.keystone.findProjectByName(record.applicant.project.name, DOMAIN_ID)).toBeUndefined();
    expect(await h.keystone.findUserByName(record.applicant.email, DOMAIN_ID)).toBeUndefined();
  });

  it('with it, the user carries the column value as its unique id', async () => {
    const columnConfig: Config = {
      ...config,
      identity: {
        mode: 'federated',
        idpId: federation.idpId,
        protocol: federation.protocol,
        idFrom: { kind: 'column', key: 'eppn', header: 'Institutional ID' },
      },
    };
    const record = await h.apply();
    // As intake stores it when the sheet has the column (see test/federated-mode.test.ts).
    await h.applications.update(record.id, ['pending'], {
      applicant: { ...record.applicant, federatedId: 'ada.l@campus.edu' },
    });
    const deps = h.deps({ config: columnConfig });
    expect((await startApproval(deps, record.id, 'U0ADMIN1')).kind).toBe('started');
    const done = await runProvisioning(deps, record.id);
    expect(done.failure).toBeUndefined();
    expect((await h.keystone.getUser(done.checkpoints.user!)).federated).toEqual([
      { idpId: federation.idpId, protocols: [{ protocolId: 'openid', uniqueId: 'ada.l%40campus.edu' }] },
    ]);
  });
});

describe('signing in through the identity provider after approval', () => {
  it('Keystone signs the person in as the approved user, who reaches the project with the role', async () => {
    const direct = await registerFederation(HEADER_RULES, 'mapped');
    try {
      const signInConfig: Config = {
        ...h.config,
        identity: { mode: 'federated', idpId: direct.idpId, protocol: 'mapped', idFrom: { kind: 'email' } },
      };
      const record = await h.apply();
      const deps = h.deps({ config: signInConfig });
      expect((await startApproval(deps, record.id, 'U0ADMIN1')).kind).toBe('started');
      const done = await runProvisioning(deps, record.id);
      expect(done.state).not.toBe('failed');

      const { token, userId } = await signIn(direct, record.applicant.email);
      // The very account approval made: no second, empty shadow user.
      expect(userId).toBe(done.checkpoints.user);
      const users = await h.keystone.listUsers(DOMAIN_ID);
      expect(users.filter((u) => u.name === record.applicant.email)).toHaveLength(1);
      // Its token scopes to the project: the role is there.
      const projects = await h.keystone.authProjects(token);
      expect(projects.map((p) => p.id)).toEqual([done.checkpoints.project]);

      // A local account an admin made federated signs in as itself too.
      const member = await newMember(h.keystone);
      const local = await h.apply({ email: member.user.name });
      expect((await startApproval(deps, local.id, 'U0ADMIN1')).kind).toBe('started');
      expect((await runProvisioning(deps, local.id)).failure?.code).toBe('local_account_exists');
      expect((await chooseLocalAccount(deps, local.id, 'convert', 'U0ADMIN2')).kind).toBe('started');
      const converted = await runProvisioning(deps, local.id);
      expect(converted.failure).toBeUndefined();
      expect((await signIn(direct, member.user.name)).userId).toBe(member.user.id);
    } finally {
      await direct.remove();
    }
  });
});

describe('a local account with the same name', () => {
  async function localAccount() {
    const member = await newMember(h.keystone);
    const record = await h.apply({ email: member.user.name });
    return { member, record };
  }

  it('is not turned federated silently: the approval stops and the card asks', async () => {
    const { member, record } = await localAccount();
    const { done } = await approve(record.id);
    expect(done.state).toBe('failed');
    expect(done.failure).toMatchObject({ step: 'user', code: 'local_account_exists' });
    expect(done.localAccount).toEqual({ id: member.user.id, name: member.user.name });
    const user = await h.keystone.getUser(member.user.id);
    expect(user.federated).toBeUndefined();
    await h.keystone.passwordLogin({ userId: user.id, password: member.password, scope: 'unscoped' });

    const card = applicantCard({ record: done, quota: undefined });
    const text = JSON.stringify(card.blocks);
    expect(text).toContain('already exists as a local account that signs in with a password');
    const actions = card.blocks.find((b) => b.type === 'actions');
    expect(
      actions && 'elements' in actions ? actions.elements.map((e) => 'action_id' in e && e.action_id) : [],
    ).toEqual(['applicant_convert_account', 'applicant_keep_local_account', 'applicant_reject']);
    expect(card.text).toContain('a local account has that name');
  });

  it('an account federated with another identity provider is asked about too, and the card names that provider', async () => {
    const other = await registerFederation();
    try {
      const { member, record } = await localAccount();
      await h.keystone.makeFederated(member.user.id, [
        {
          idpId: other.idpId,
          protocols: [{ protocolId: 'openid', uniqueId: keystoneUniqueId(member.user.name) }],
        },
      ]);
      const { done } = await approve(record.id);
      expect(done.failure).toMatchObject({ step: 'user', code: 'local_account_exists' });
      expect(done.localAccount).toEqual({
        id: member.user.id,
        name: member.user.name,
        otherIdps: [other.idpId],
      });
      const text = JSON.stringify(applicantCard({ record: done, quota: undefined }).blocks);
      expect(text).toContain(`signs in through another identity provider (${other.idpId})`);
    } finally {
      await other.remove();
    }
  });

  it('Make it federated: the account gets the federated identity, loses its password, and gets the role', async () => {
    const { member, record } = await localAccount();
    await approve(record.id);
    // A password link the local account still had (an earlier reset, say) dies with its password.
    await h.tokens.issue({
      userId: member.user.id,
      username: member.user.name,
      pinHash: h.pins.hash(PIN),
      temporaryPassword: 'an-old-temporary-password',
    });
    expect((await h.tokens.status(member.user.id)).live).toBe(true);
    const chosen = await chooseLocalAccount(h.deps({ config }), record.id, 'convert', 'U0ADMIN2');
    expect(chosen.kind).toBe('started');
    const done = await runProvisioning(h.deps({ config }), record.id);
    expect(done.state).toBe('notified');
    expect(done.localAccountChoice).toMatchObject({ choice: 'convert', by: 'U0ADMIN2' });
    expect((await h.tokens.status(member.user.id)).live).toBe(false);
    const user = await h.keystone.getUser(member.user.id);
    expect(user.federated).toEqual([
      {
        idpId: federation.idpId,
        protocols: [{ protocolId: 'openid', uniqueId: keystoneUniqueId(member.user.name) }],
      },
    ]);
    await expect(
      h.keystone.passwordLogin({ userId: user.id, password: member.password, scope: 'unscoped' }),
    ).rejects.toThrow();
    expect(await roleNames(user.id, done.checkpoints.project!)).toEqual(['member']);
    expect(done.notes.map(noteText).join('\n')).toContain('was made federated, as an admin chose');
    const [mail] = await waitForMail(member.user.name);
    expect(mail!.text).toContain('Sign in through your institution');
    const audit = await h.audit.read({ subject: record.id, limit: 50 });
    expect(audit.some((e) => e.action === 'local_account' && e.actor === 'U0ADMIN2')).toBe(true);
  });

  it('Keep it local: the account keeps its password, gets the role, and is told as an existing account', async () => {
    const { member, record } = await localAccount();
    await approve(record.id);
    expect((await chooseLocalAccount(h.deps({ config }), record.id, 'keep_local', 'U0ADMIN3')).kind).toBe(
      'started',
    );
    const done = await runProvisioning(h.deps({ config }), record.id);
    expect(done.state).toBe('notified');
    expect(done.checkpoints.setpass).toBe('not needed');
    const user = await h.keystone.getUser(member.user.id);
    expect(user.federated).toBeUndefined();
    await h.keystone.passwordLogin({ userId: user.id, password: member.password, scope: 'unscoped' });
    expect(await roleNames(user.id, done.checkpoints.project!)).toEqual(['member']);
    const [mail] = await waitForMail(member.user.name);
    expect(mail!.text).toContain('Log in with the password you already use');
    // A second click finds nothing waiting.
    expect((await chooseLocalAccount(h.deps({ config }), record.id, 'convert', 'U0ADMIN3')).kind).toBe(
      'not_waiting',
    );
  });
});

/** The mapping's rules as Keystone holds them. */
async function rulesOf(mappingId: string): Promise<unknown> {
  return (await h.keystone.getMapping(mappingId)).rules;
}
