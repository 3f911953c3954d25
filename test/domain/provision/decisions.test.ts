import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ApplicationRecord } from '../../../src/domain/applications/store.js';
import { runProvisioning, startApproval } from '../../../src/domain/provision/approve.js';
import type { ProvisionDeps } from '../../../src/domain/provision/deps.js';
import { joinExistingProject, renameNewProject } from '../../../src/domain/provision/project-choice.js';
import { createdByTag } from '../../../src/domain/provision/project-names.js';
import { setQuotaChoice } from '../../../src/domain/provision/quota-choice.js';
import { rejectApplicant } from '../../../src/domain/provision/reject.js';
import { noteText } from '../../../views/notes.js';
import { DOMAIN_ID, newMember, unique } from '../../keystone/fixtures.js';
import { APPLICATIONS_TAB, type Harness, mailTo, startHarness } from './harness.js';

let h: Harness;

beforeAll(async () => {
  h = await startHarness({ sheets: true });
});
afterAll(() => h?.close());
beforeEach(() => {
  h.recorder.reset();
});

async function approve(deps: ProvisionDeps, id: string): Promise<ApplicationRecord> {
  const start = await startApproval(deps, id, 'U0ADMIN1');
  expect(start.kind).toBe('started');
  return runProvisioning(deps, id);
}

function statusCell(record: ApplicationRecord): string | undefined {
  const rows = h.sheets!.tab(APPLICATIONS_TAB)!;
  const column = rows[0]!.indexOf('Status');
  return rows.find((cells) => cells[1] === record.applicant.row[1])?.[column];
}

describe('an applicant who already has an account', () => {
  it('gets the role on the new project, keeps their password, and is told by an added-to-project email', async () => {
    const member = await newMember(h.keystone);
    const record = await h.apply({ email: member.user.name.toUpperCase(), hasAccount: true });

    const done = await approve(h.deps(), record.id);
    expect(done.state).toBe('notified');
    expect(done.checkpoints.user).toBe(member.user.id);
    expect(done.checkpoints.setpass).toBe('not needed');
    expect(done.notes.map(noteText)).toContain(
      `${member.user.name} already had an account: it gets the role on the project, and no password link`,
    );
    const projects = await h.keystone.listUserProjects(member.user.id);
    expect(projects.map((p) => p.id).sort()).toEqual([member.project.id, done.checkpoints.project].sort());
    expect((await h.tokens.status(member.user.id)).live).toBe(false);
    await expect(
      h.keystone.passwordLogin({ userId: member.user.id, password: member.password }),
    ).resolves.toBeDefined();

    const [mail, ...more] = mailTo(h, member.user.name);
    expect(more).toEqual([]);
    expect(mail?.subject).toBe(
      `You have been added to the OpenStack project ${record.applicant.project.name}`,
    );
    expect(mail?.text).toContain('Log in with the password you already use');
    expect(mail?.text).not.toContain('token=');
  });
});

describe('a request for an existing project', () => {
  it('joins the project found by name in any case, and leaves its quotas alone', async () => {
    const name = unique('Existing Lab');
    const project = await h.keystone.createProject({ name, description: 'theirs', domainId: DOMAIN_ID });
    const record = await h.apply({
      project: {
        kind: 'existing',
        name: ` ${name.toLowerCase()} `,
        contactName: 'Pi',
        contactEmail: 'pi@x.org',
      },
    });

    const done = await approve(h.deps(), record.id);
    expect(done.state).toBe('notified');
    expect(done.checkpoints.project).toBe(project.id);
    expect(done.checkpoints.quotas).toBe('skipped');
    expect(h.recorder.calls).toEqual([]);
    const user = await h.keystone.getUser(done.checkpoints.user!);
    expect(user.defaultProjectId).toBe(project.id);
  });

  it('fails the project step, readably, when there is no such project', async () => {
    const name = unique('Nowhere Lab');
    const record = await h.apply({
      project: { kind: 'existing', name, contactName: '', contactEmail: '' },
    });
    const failed = await approve(h.deps(), record.id);
    expect(failed.state).toBe('failed');
    expect(failed.failure).toEqual({
      step: 'project',
      message: `There is no project named "${name}" in domain default. Ask the applicant (or the project contact) for its exact name, or reject the application.`,
    });
    expect(await h.keystone.findUser(record.applicant.email, DOMAIN_ID)).toBeUndefined();
  });

  it('refuses an existing-project application to a protected project before anything is made', async () => {
    const record = await h.apply({
      project: {
        kind: 'existing',
        name: h.config.keystone.adminProjectName.toUpperCase(),
        contactName: '',
        contactEmail: '',
      },
    });
    const failed = await approve(h.deps(), record.id);
    expect(failed.state).toBe('failed');
    expect(failed.failure?.message).toContain('can never be joined through an application');
    expect(await h.keystone.findUser(record.applicant.email, DOMAIN_ID)).toBeUndefined();
  });
});

describe('a new project under a name that is taken', () => {
  async function stopped(name: string) {
    const record = await h.apply({ project: { kind: 'new', name, description: '' } });
    const failed = await approve(h.deps(), record.id);
    expect(failed.state).toBe('failed');
    expect(failed.failure?.code).toBe('project_exists');
    // Stopped before any grant: no user made, nothing written.
    expect(failed.checkpoints).toEqual({});
    expect(await h.keystone.findUser(record.applicant.email, DOMAIN_ID)).toBeUndefined();
    expect(h.recorder.calls).toEqual([]);
    return failed;
  }

  it('stops Approve before any grant; Join existing X grants that very project, named and audited', async () => {
    const name = unique('Taken Lab');
    const theirs = await h.keystone.createProject({ name, description: 'theirs', domainId: DOMAIN_ID });
    const failed = await stopped(name.toUpperCase());
    expect(failed.projectClash).toEqual({ id: theirs.id, name });
    expect(failed.failure?.message).toBe(
      `A project named "${name}" already exists: nothing was changed. Join it, or rename the new project.`,
    );

    const joined = await joinExistingProject(h.deps(), failed.id, 'U0ADMIN2');
    expect(joined).toMatchObject({ kind: 'started', record: { state: 'approving', decidedBy: 'U0ADMIN2' } });
    const done = await runProvisioning(h.deps(), failed.id);
    expect(done.state).toBe('notified');
    expect(done.checkpoints.project).toBe(theirs.id);
    expect(done.joinProject).toMatchObject({ id: theirs.id, name, by: 'U0ADMIN2' });
    const members = await h.keystone.listRoleAssignments({ projectId: theirs.id });
    expect(members.map((m) => m.userId)).toContain(done.checkpoints.user);
    expect(h.recorder.calls).toEqual([]);
    const audit = (await h.audit.read({ subject: failed.id })).find((e) => e.action === 'project_join');
    expect(audit).toMatchObject({ actor: 'U0ADMIN2', outcome: 'ok' });
    expect(audit?.detail).toContain(`joins the existing project ${name} (${theirs.id})`);
  });

  it('after Join, a crash and Retry still use the chosen project, even when its name changed meanwhile', async () => {
    const name = unique('Taken Lab');
    const theirs = await h.keystone.createProject({ name, description: 'theirs', domainId: DOMAIN_ID });
    const failed = await stopped(name);
    expect((await joinExistingProject(h.deps(), failed.id, 'U0ADMIN1')).kind).toBe('started');
    let crashed = false;
    const deps = h.deps({
      hooks: {
        afterStep: (step) => {
          if (step === 'user' && !crashed) {
            crashed = true;
            throw new Error('simulated crash after user');
          }
        },
      },
    });
    const broken = await runProvisioning(deps, failed.id);
    expect(broken.state).toBe('failed');
    // Someone makes a look-alike meanwhile: the checkpoint, not the name, decides.
    await h.keystone.createProject({ name: `${name}-x`, description: 'other', domainId: DOMAIN_ID });
    const retried = await approve(deps, failed.id);
    expect(retried.state).toBe('notified');
    expect(retried.checkpoints.project).toBe(theirs.id);
    const user = await h.keystone.getUser(retried.checkpoints.user!);
    expect(user.defaultProjectId).toBe(theirs.id);
  });

  it('Rename is checked again: a taken or protected name is refused, a free one is created as new', async () => {
    const name = unique('Taken Lab');
    const other = unique('Other Lab');
    await h.keystone.createProject({ name, description: 'theirs', domainId: DOMAIN_ID });
    await h.keystone.createProject({ name: other, description: 'also theirs', domainId: DOMAIN_ID });
    const failed = await stopped(name);

    const taken = await renameNewProject(h.deps(), failed.id, other.toLowerCase(), 'U0ADMIN1');
    expect(taken).toMatchObject({ kind: 'name_taken', clash: { name: other } });
    const guarded = await renameNewProject(h.deps(), failed.id, 'Admin', 'U0ADMIN1');
    expect(guarded).toMatchObject({ kind: 'name_taken', clash: { protection: 'admin_project' } });
    expect((await h.applications.get(failed.id))?.state).toBe('failed');

    const fresh = unique('Fresh Lab');
    const renamed = await renameNewProject(h.deps(), failed.id, ` ${fresh} `, 'U0ADMIN1');
    expect(renamed).toMatchObject({ kind: 'started', record: { applicant: { project: { name: fresh } } } });
    const done = await runProvisioning(h.deps(), failed.id);
    expect(done.state).toBe('notified');
    const project = await h.keystone.getProject(done.checkpoints.project!);
    expect(project.name).toBe(fresh);
    expect(h.recorder.calls.length).toBeGreaterThan(0);
    const audit = (await h.audit.read({ subject: failed.id })).find((e) => e.action === 'project_rename');
    expect(audit?.detail).toBe(`"${name}" → "${fresh}"`);
  });

  it('never joins a protected project: the admin project by any case, or one listed', async () => {
    const failed = await stopped(h.config.keystone.adminProjectName.toUpperCase());
    expect(failed.projectClash?.protection).toBe('admin_project');
    expect(failed.failure?.message).toContain('no application may join it');
    const refused = await joinExistingProject(h.deps(), failed.id, 'U0ADMIN1');
    expect(refused).toMatchObject({ kind: 'protected', reason: 'admin_project' });
    expect((await h.applications.get(failed.id))?.state).toBe('failed');

    const listed = unique('Infra');
    await h.keystone.createProject({ name: listed, description: 'ops', domainId: DOMAIN_ID });
    const config = { ...h.config, keystone: { ...h.config.keystone, protectedProjects: [listed] } };
    const record = await h.apply({ project: { kind: 'new', name: listed, description: '' } });
    const stop = await approve(h.deps({ config }), record.id);
    expect(stop.projectClash?.protection).toBe('listed_project');
    expect(await joinExistingProject(h.deps({ config }), record.id, 'U0ADMIN1')).toMatchObject({
      kind: 'protected',
    });
  });

  it('a run resumed after a crash between creating the project and its checkpoint takes its own project, by its tag', async () => {
    const record = await h.apply();
    const deps = h.deps();
    expect((await startApproval(deps, record.id, 'U0ADMIN1')).kind).toBe('started');
    // Play the crash: the origin saved and the project made, its checkpoint never written.
    const name = record.applicant.project.name;
    await h.applications.update(record.id, ['approving'], { origin: { project: 'created' } });
    const made = await h.keystone.createProject({
      name,
      description: 'made by the first run',
      domainId: DOMAIN_ID,
      tags: [createdByTag(record.id)],
    });
    const done = await runProvisioning(deps, record.id);
    expect(done.state).toBe('notified');
    expect(done.checkpoints.project).toBe(made.id);
  });
});

describe('extra users', () => {
  it('adds those who have an account and notes those who do not', async () => {
    const colleague = await newMember(h.keystone);
    const stranger = `${unique('nobody')}@example.org`;
    const record = await h.apply({ extraUsers: [colleague.user.name, stranger] });

    const done = await approve(h.deps(), record.id);
    expect(done.state).toBe('notified');
    expect(done.checkpoints.extra_users).toBe('1 of 2 added');
    expect(done.notes.map(noteText)).toEqual([
      `Extra user "${stranger}" has no account in Keystone: not added`,
    ]);
    const members = await h.keystone.listRoleAssignments({ projectId: done.checkpoints.project });
    expect(members.map((m) => m.userId).sort()).toEqual([colleague.user.id, done.checkpoints.user].sort());
    expect(mailTo(h, colleague.user.name)).toEqual([]);
  });
});

describe('what the workflow cannot do', () => {
  it('refuses a project name Keystone would not take', async () => {
    const long = `Lab ${'x'.repeat(62)}`;
    const record = await h.apply({ project: { kind: 'new', name: long, description: '' } });
    const failed = await approve(h.deps(), record.id);
    expect(failed.failure?.step).toBe('project');
    expect(failed.failure?.message).toMatch(
      /^The project name must be 1 to 64 characters; "Lab x+" has 66\./,
    );
  });

  it('stops before a new user would be left without a way in', async () => {
    const noPin = await h.apply({ pinHash: undefined });
    expect((await approve(h.deps(), noPin.id)).failure).toEqual({
      step: 'setpass',
      message:
        'The application has no PIN on file, and the password link needs one: reject it and ask the applicant to apply again with a 4-digit PIN',
    });
    const noSetpass = await h.apply();
    expect((await approve(h.deps({ setpass: undefined }), noSetpass.id)).failure?.message).toBe(
      'Password links are off here (set SETPASS_SECRET and PUBLIC_URL): the new user could not log in; turn them on and press Retry',
    );
    expect(mailTo(h, noPin.applicant.email)).toEqual([]);
  });
});

describe('mail', () => {
  it('queued while the relay is down: provisioned now, notified once the outbox delivers', async () => {
    const record = await h.apply();
    await h.smtp.stop();
    const done = await approve(h.deps(), record.id);
    expect(done.state).toBe('provisioned');
    expect(done.checkpoints.email).toBe('queued');

    const before = h.smtp.messages.length;
    await h.smtp.start();
    h.outbox.start();
    await h.smtp.waitForMessages(before + 1);
    await h.outbox.stop();
    const notified = await h.applications.get(record.id);
    expect(notified?.state).toBe('notified');
    expect(notified?.checkpoints.email).toBe('sent');
    expect(mailTo(h, record.applicant.email)).toHaveLength(1);
  });

  it('off: provisioned, with a note saying how to get the link out', async () => {
    const record = await h.apply();
    const done = await approve(h.deps({ mail: undefined }), record.id);
    expect(done.state).toBe('provisioned');
    expect(done.notes.map(noteText)).toEqual([
      `Mail is off (SMTP_URL, MAIL_FROM): no email was sent; once it is on, \`/kaizen resend ${record.applicant.email}\` sends a password link`,
    ]);
  });

  it('sheets off: the sheet steps are skipped with a note', async () => {
    const record = await h.apply();
    const done = await approve(h.deps({ sheet: undefined }), record.id);
    expect(done.state).toBe('notified');
    expect(done.checkpoints).toMatchObject({ admitted_sheet: 'skipped', sheet_status: 'skipped' });
    expect(done.notes.map(noteText)).toEqual(['Sheets is off: the admitted tab was not updated']);
    expect(statusCell(record)).toBeUndefined();
  });
});

describe('rejecting', () => {
  it('records who and why, emails the reason, marks the sheet, and ends the story', async () => {
    const record = await h.apply();
    const deps = h.deps();
    const outcome = await rejectApplicant(deps, record.id, 'U0ADMIN2', {
      reason: 'Please apply through your PI <lab@x.org>.',
      notifyApplicant: true,
    });
    expect(outcome).toMatchObject({
      kind: 'rejected',
      mail: 'sent',
      record: {
        state: 'rejected',
        decidedBy: 'U0ADMIN2',
        rejectReason: 'Please apply through your PI <lab@x.org>.',
      },
    });
    const [mail] = mailTo(h, record.applicant.email);
    expect(mail?.subject).toBe('Your OpenStack access request');
    expect(mail?.text).toContain('Please apply through your PI <lab@x.org>.');
    expect(mail?.html).toContain('Please apply through your PI &lt;lab@x.org&gt;.');
    expect(statusCell(record)).toBe('Rejected');
    const audit = await h.audit.read({ subject: record.id });
    expect(audit.map((e) => `${e.actor} ${e.action} ${e.outcome}`)).toEqual([
      'U0ADMIN2 mail.rejection ok',
      'U0ADMIN2 reject ok',
    ]);

    expect(
      await rejectApplicant(deps, record.id, 'U0ADMIN1', { reason: 'again', notifyApplicant: true }),
    ).toMatchObject({ kind: 'already_rejected' });
    expect(await startApproval(deps, record.id, 'U0ADMIN1')).toMatchObject({ kind: 'rejected' });
    expect(mailTo(h, record.applicant.email)).toHaveLength(1);
  });

  it('sends nothing when not asked to, and cannot reject what is being approved or done', async () => {
    const quiet = await h.apply();
    const silent = await rejectApplicant(h.deps(), quiet.id, 'U0ADMIN1', {
      reason: '',
      notifyApplicant: false,
    });
    expect(silent).toMatchObject({ kind: 'rejected', mail: 'not_sent', record: { state: 'rejected' } });
    expect(silent.kind === 'rejected' && silent.record.rejectReason).toBeUndefined();
    expect(mailTo(h, quiet.applicant.email)).toEqual([]);

    const busy = await h.apply();
    await startApproval(h.deps(), busy.id, 'U0ADMIN1');
    expect(
      await rejectApplicant(h.deps(), busy.id, 'U0ADMIN2', { reason: 'x', notifyApplicant: true }),
    ).toMatchObject({ kind: 'busy', by: 'U0ADMIN1' });
    await runProvisioning(h.deps(), busy.id);
    expect(
      await rejectApplicant(h.deps(), busy.id, 'U0ADMIN2', { reason: 'x', notifyApplicant: true }),
    ).toMatchObject({ kind: 'approved' });
    expect(
      await rejectApplicant(h.deps(), 'nobody', 'U0ADMIN2', { reason: '', notifyApplicant: false }),
    ).toEqual({
      kind: 'not_found',
    });
  });

  it('after a failed approval, notes what was left in Keystone', async () => {
    const record = await h.apply();
    const failed = await approve(h.deps({ setpass: undefined }), record.id);
    expect(failed.state).toBe('failed');
    const outcome = await rejectApplicant(h.deps(), record.id, 'U0ADMIN1', {
      reason: 'dup',
      notifyApplicant: false,
    });
    expect(outcome.kind === 'rejected' && outcome.record.notes.map(noteText)).toEqual([
      `Made in Keystone before the failed approval and left in place: project ${failed.checkpoints.project}, user ${failed.checkpoints.user}`,
    ]);
  });
});

describe('choosing a quota', () => {
  it('keeps the choice while pending, refuses bad values, and is locked once decided', async () => {
    const record = await h.apply();
    const deps = h.deps();
    expect(
      await setQuotaChoice(deps, record.id, { kind: 'preset', preset: 'large' }, 'U0ADMIN1'),
    ).toMatchObject({
      kind: 'updated',
      record: { quota: { kind: 'preset', preset: 'large' } },
      values: { instances: 100, port: 300 },
    });
    await expect(setQuotaChoice(deps, record.id, { kind: 'preset', preset: 'huge' })).rejects.toMatchObject({
      kind: 'invalid',
      message: 'There is no quota preset "huge"; choose one of small, medium, large',
    });
    await expect(
      setQuotaChoice(deps, record.id, { kind: 'custom', values: { cores: -3 } }),
    ).rejects.toMatchObject({ kind: 'invalid' });

    const custom = await setQuotaChoice(deps, record.id, { kind: 'custom', values: { instances: 40 } });
    expect(custom).toMatchObject({ kind: 'updated', values: { instances: 40, port: 50 } });
    const done = await approve(deps, record.id);
    expect(done.checkpoints.quotas).toBe('custom (instances 40)');
    expect(h.recorder.calls.find((call) => call.service === 'compute')?.body).toEqual({
      quota_set: { instances: 40, cores: 50, ram: 65536 },
    });
    expect(await setQuotaChoice(deps, record.id, { kind: 'preset', preset: 'small' })).toMatchObject({
      kind: 'locked',
    });
    expect(await setQuotaChoice(deps, 'nobody', { kind: 'preset', preset: 'small' })).toEqual({
      kind: 'not_found',
    });
  });
});
