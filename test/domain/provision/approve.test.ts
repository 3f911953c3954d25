import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { PROVISION_STEPS } from '../../../src/domain/applications/store.js';
import { ADMITTED_EXTRA_HEADERS } from '../../../src/domain/intake/applications-sheet.js';
import { runProvisioning, startApproval } from '../../../src/domain/provision/approve.js';
import { BUILT_IN_PRESETS } from '../../../src/domain/quotas/presets.js';
import { unique } from '../../keystone/fixtures.js';
import {
  ADMITTED_TAB,
  APPLICATIONS_TAB,
  everythingStored,
  type Harness,
  mailTo,
  PIN,
  PUBLIC_URL,
  startHarness,
} from './harness.js';

let h: Harness;

beforeAll(async () => {
  h = await startHarness({ sheets: true });
});
afterAll(() => h?.close());
beforeEach(() => {
  h.recorder.reset();
});

const LINK = new RegExp(`${PUBLIC_URL.replace(/[./]/g, '\\$&')}/\\?token=([A-Za-z0-9_-]{43})`);

describe('approving a new applicant', () => {
  it('creates the project, user and role, sets quotas, mails the link, writes the sheet, audits every step', async () => {
    const record = await h.apply({
      email: `${unique('Ada.Lovelace')}@Example.org`,
      quota: { kind: 'custom', values: { instances: 80, cores: 120 } },
    });
    const deps = h.deps();
    const steps: string[] = [];

    const start = await startApproval(deps, record.id, 'U0ADMIN1');
    expect(start.kind).toBe('started');
    const done = await runProvisioning(deps, record.id, async (_record, event) => {
      steps.push(`${event.step}:${event.outcome}`);
    });

    expect(done.state).toBe('notified');
    expect(done.failure).toBeUndefined();
    expect(done.decidedBy).toBe('U0ADMIN1');
    expect(steps).toEqual([
      'project:done',
      'user:done',
      'role:done',
      'extra_users:skipped',
      'quotas:done',
      'setpass:done',
      'email:done',
      'admitted_sheet:done',
      'sheet_status:done',
      'finished:done',
    ]);

    // Keystone: the project as typed, the user named by the lower-cased email, the member role.
    const email = record.applicant.email;
    expect(email).toBe(email.toLowerCase());
    const projectName = record.applicant.project.name;
    const project = await h.keystone.findProjectByName(projectName.toUpperCase(), 'default');
    expect(project).toMatchObject({
      id: done.checkpoints.project,
      name: projectName,
      description: 'Analytical engines',
    });
    const user = await h.keystone.getUser(done.checkpoints.user!);
    expect(user).toMatchObject({
      name: email,
      email,
      description: 'Ada Lovelace',
      defaultProjectId: project!.id,
      enabled: true,
    });
    const assignments = await h.keystone.listRoleAssignments({ userId: user.id });
    expect(assignments.map((a) => [a.roleName, a.projectId])).toEqual([['member', project!.id]]);

    // Quotas: the custom values over the small preset, ports raised to instances + 5.
    const puts = h.recorder.calls.filter((call) => call.method === 'PUT' && call.projectId === project!.id);
    expect(puts.map((call) => [call.service, call.body])).toEqual([
      ['compute', { quota_set: { instances: 80, cores: 120, ram: 65536 } }],
      ['volumev3', { quota_set: { gigabytes: 500, volumes: 20, snapshots: 50 } }],
      ['network', { quota: { floatingip: 2, network: 5, subnet: 10, port: 85, router: 3 } }],
    ]);

    // The welcome email, with a working link for that user and the PIN rule (not the PIN).
    const [mail, ...more] = mailTo(h, email);
    expect(more).toEqual([]);
    expect(mail?.subject).toBe(`Your OpenStack account for ${projectName} is ready`);
    expect(mail?.text).toContain(`Your user name is: ${email}`);
    expect(mail?.text).toContain('You will need the 4-digit PIN you chose on the form.');
    expect(mail?.text).toContain('expires in 7 days');
    expect(mail?.text).toContain('https://cloud.example.org/dashboard');
    expect(mail?.text).not.toContain(PIN);
    const token = LINK.exec(mail?.text ?? '')?.[1];
    expect(token).toBeDefined();
    const found = await h.tokens.find(token!);
    expect(found.kind).toBe('found');
    if (found.kind === 'found') {
      expect(found.record).toMatchObject({ userId: user.id, username: email });
      expect(await h.pins.verify(PIN, found.record.pinHash)).toEqual({ matches: true });
      // The temporary password behind the link is the user's password now.
      await expect(
        h.keystone.passwordLogin({ userId: user.id, password: found.record.temporaryPassword }),
      ).resolves.toBeDefined();
    }
    expect(await h.tokens.pinOnFile(user.id)).toBe(record.pinHash);

    // The sheet: an admitted row with the ids, and the status on the applicant's row.
    const admitted = h.sheets!.tab(ADMITTED_TAB)!;
    expect(admitted[0]?.slice(-4)).toEqual([...ADMITTED_EXTRA_HEADERS]);
    expect(admitted[1]).toEqual([...record.applicant.row, done.decidedAt, 'U0ADMIN1', project!.id, user.id]);
    const applications = h.sheets!.tab(APPLICATIONS_TAB)!;
    const statusColumn = applications[0]!.indexOf('Status');
    const applicantRow = applications.find((cells) => cells[1] === record.applicant.row[1]);
    expect(applicantRow?.[statusColumn]).toBe('Approved');

    // The audit: the decision, every step, the outcome.
    const audit = (await h.audit.read({ subject: record.id, limit: 50 })).reverse();
    expect(audit.map((entry) => `${entry.action}:${entry.outcome}`)).toEqual([
      'approve:info',
      ...PROVISION_STEPS.map((step) => `provision.${step}:ok`),
      'approve:ok',
    ]);
    expect(audit.every((entry) => entry.actor === 'U0ADMIN1')).toBe(true);

    // No secret at rest: the link left the record once the email held it.
    expect(done.checkpoints.setpass).toBe('issued');
    const stored = await everythingStored(h);
    expect(stored).not.toContain(token!);
    expect(stored).not.toContain('token=');
  });

  it('answers a second Approve with what happened, without running again', async () => {
    const record = await h.apply();
    const deps = h.deps();
    await startApproval(deps, record.id, 'U0ADMIN1');
    await runProvisioning(deps, record.id);
    expect(await startApproval(deps, record.id, 'U0ADMIN2')).toMatchObject({ kind: 'done' });
    expect(await startApproval(deps, 'no-such-applicant', 'U0ADMIN2')).toEqual({ kind: 'not_found' });
    expect((await runProvisioning(deps, record.id)).state).toBe('notified');
    expect(mailTo(h, record.applicant.email)).toHaveLength(1);
  });
});

describe('two admins approving at once', () => {
  it('provisions once: one project, one user, one email, and the losers learn who won', async () => {
    const record = await h.apply();
    const deps = h.deps();
    const actors = Array.from({ length: 20 }, (_, n) => (n % 2 === 0 ? 'U0ADMIN1' : 'U0ADMIN2'));

    const outcomes = await Promise.all(
      actors.map(async (actor) => {
        const start = await startApproval(deps, record.id, actor);
        if (start.kind === 'started') await runProvisioning(deps, record.id);
        return start;
      }),
    );

    const started = outcomes.filter((o) => o.kind === 'started');
    expect(started).toHaveLength(1);
    const winner = started[0]!.kind === 'started' ? started[0]!.record.decidedBy : undefined;
    for (const outcome of outcomes) {
      if (outcome.kind === 'busy') expect(outcome.by).toBe(winner);
      else expect(['started', 'done']).toContain(outcome.kind);
    }

    const final = (await h.applications.get(record.id))!;
    expect(final.state).toBe('notified');
    const user = await h.keystone.findUser(record.applicant.email, 'default');
    expect(user?.id).toBe(final.checkpoints.user);
    const projects = await h.keystone.listUserProjects(user!.id);
    expect(projects.map((p) => p.id)).toEqual([final.checkpoints.project]);
    expect(projects[0]?.name).toBe(record.applicant.project.name);
    expect(mailTo(h, record.applicant.email)).toHaveLength(1);
    // The small preset, set once per service.
    const puts = h.recorder.calls.filter((call) => call.method === 'PUT');
    expect(puts.map((call) => call.service)).toEqual(['compute', 'volumev3', 'network']);
    expect(puts[0]?.body).toEqual({
      quota_set: { instances: 10, cores: 50, ram: BUILT_IN_PRESETS.small!.ram },
    });
  });
});
