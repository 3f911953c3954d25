import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  type ApplicationRecord,
  PROVISION_STEPS,
  type ProvisionStep,
} from '../../../src/domain/applications/store.js';
import {
  resumeStalledApprovals,
  runProvisioning,
  startApproval,
} from '../../../src/domain/provision/approve.js';
import { type ProvisionDeps, quotaSetter } from '../../../src/domain/provision/deps.js';
import { RunLock } from '../../../src/domain/provision/run-lock.js';
import { KeystoneClient } from '../../../src/keystone/index.js';
import { freePort } from '../../support/local-http.js';
import { type Harness, mailTo, startHarness } from './harness.js';

let h: Harness;

beforeAll(async () => {
  h = await startHarness({ sheets: true });
});
afterAll(() => h?.close());
beforeEach(() => {
  h.recorder.reset();
});

async function approve(deps: ProvisionDeps, id: string, actor = 'U0ADMIN1'): Promise<ApplicationRecord> {
  const start = await startApproval(deps, id, actor);
  expect(start.kind).toBe('started');
  return runProvisioning(deps, id);
}

/** What one approval left behind, counted where it lives: Keystone, the quota APIs, SMTP, the sheet. */
async function footprint(record: ApplicationRecord) {
  const final = (await h.applications.get(record.id))!;
  const user = await h.keystone.findUser(record.applicant.email, 'default');
  const projects = user ? await h.keystone.listUserProjects(user.id) : [];
  const assignments = user ? await h.keystone.listRoleAssignments({ userId: user.id }) : [];
  const admitted = (h.sheets?.tab('Current Users') ?? []).filter((cells) =>
    cells.includes(record.applicant.email),
  );
  return {
    state: final.state,
    userIsTheCheckpointed: user?.id === final.checkpoints.user,
    projects: projects.map((p) => p.name),
    assignments: assignments.map((a) => a.roleName),
    quotaPuts: h.recorder.calls.filter((call) => call.method === 'PUT').map((call) => call.service),
    emails: mailTo(h, record.applicant.email).length,
    admittedRows: admitted.length,
    liveLinks: user && (await h.tokens.status(user.id)).live ? 1 : 0,
  };
}

const crashAfter = (target: ProvisionStep): ProvisionDeps['hooks'] => {
  let crashed = false;
  return {
    afterStep: (step) => {
      if (step === target && !crashed) {
        crashed = true;
        throw new Error(`simulated crash after ${step}`);
      }
    },
  };
};

describe('a crash after any step, then Retry', () => {
  it.each(PROVISION_STEPS.map((step) => [step]))(
    'after %s: resumes and makes exactly one of everything',
    async (step) => {
      const record = await h.apply();
      const deps = h.deps({ hooks: crashAfter(step) });

      const crashed = await approve(deps, record.id);
      expect(crashed.state).toBe('failed');
      expect(crashed.failure).toEqual({
        step,
        message: 'An unexpected error occurred; the details are in the bot log.',
      });
      expect(crashed.checkpoints[step]).toBeDefined();

      const retried = await approve(deps, record.id, 'U0ADMIN2');
      expect(retried.state).toBe('notified');
      expect(retried.failure).toBeUndefined();
      expect(await footprint(record)).toEqual({
        state: 'notified',
        userIsTheCheckpointed: true,
        projects: [record.applicant.project.name],
        assignments: ['member'],
        quotaPuts: ['compute', 'volumev3', 'network'],
        emails: 1,
        admittedRows: 1,
        liveLinks: 1,
      });
    },
  );
});

describe('Keystone unreachable', () => {
  let downUrl: string;
  beforeAll(async () => {
    downUrl = `http://127.0.0.1:${await freePort()}/v3`;
  });
  const unreachable = () =>
    new KeystoneClient({
      authUrl: downUrl,
      auth: h.config.keystone.auth,
      region: h.config.keystone.region,
      timeoutMs: 2_000,
    });

  it('fails at the first step with a readable reason, and Retry with Keystone back completes', async () => {
    const record = await h.apply();
    const down = unreachable();
    const failed = await approve(h.deps({ keystone: down, quotas: quotaSetter(down) }), record.id);
    expect(failed.state).toBe('failed');
    expect(failed.failure).toEqual({
      step: 'project',
      message: `Keystone at ${downUrl} did not answer (connection refused): is it running?`,
    });
    expect(failed.checkpoints).toEqual({});

    const done = await approve(h.deps(), record.id);
    expect(done.state).toBe('notified');
    expect((await footprint(record)).projects).toEqual([record.applicant.project.name]);
  });

  it('fails at the step where it went away, keeping the steps before', async () => {
    const record = await h.apply();
    const deps = h.deps();
    const down = unreachable();
    deps.hooks = {
      afterStep: (step) => {
        if (step === 'extra_users') {
          deps.keystone = down;
          deps.quotas = quotaSetter(down);
        }
      },
    };
    const failed = await approve(deps, record.id);
    expect(failed.state).toBe('failed');
    expect(failed.failure?.step).toBe('quotas');
    expect(failed.failure?.message).toBe(
      `Keystone at ${downUrl} did not answer (connection refused): is it running?`,
    );
    expect(Object.keys(failed.checkpoints).sort()).toEqual(['extra_users', 'project', 'role', 'user']);

    const done = await approve(h.deps(), record.id);
    expect(done.state).toBe('notified');
    expect(await footprint(record)).toMatchObject({ projects: [record.applicant.project.name], emails: 1 });
  });
});

describe('a run that died', () => {
  it('is resumed from its checkpoints once no run holds its lease', async () => {
    const record = await h.apply();
    const deps = h.deps({ hooks: crashAfter('user') });
    await approve(deps, record.id);
    // What a process that died after the user step leaves: approving, checkpoints, an expired lease.
    await h.applications.transition(record.id, ['failed'], 'approving', { failure: undefined });

    const held = await RunLock.acquire(h.redis, record.id, 60_000);
    expect(await resumeStalledApprovals(h.deps(), { stalledAfterMs: 0 })).toEqual([]);
    await held?.release();

    const [resumed, ...others] = await resumeStalledApprovals(h.deps(), { stalledAfterMs: 0 });
    expect(others).toEqual([]);
    expect(resumed).toMatchObject({ id: record.id, state: 'notified' });
    expect(await footprint(record)).toMatchObject({ projects: [record.applicant.project.name], emails: 1 });
  });

  it('is left alone while it may still be running', async () => {
    const record = await h.apply();
    await startApproval(h.deps(), record.id, 'U0ADMIN1');
    expect(await resumeStalledApprovals(h.deps())).toEqual([]);
    expect((await h.applications.get(record.id))?.state).toBe('approving');
    // A second run while one holds the lease does nothing.
    const held = await RunLock.acquire(h.redis, record.id, 60_000);
    expect((await runProvisioning(h.deps(), record.id)).checkpoints).toEqual({});
    await held?.release();
    expect((await runProvisioning(h.deps(), record.id)).state).toBe('notified');
  });
});
