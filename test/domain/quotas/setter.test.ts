import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { BUILT_IN_PRESETS } from '../../../src/domain/quotas/presets.js';
import { setQuotas } from '../../../src/domain/quotas/setter.js';
import type { KeystoneClient } from '../../../src/keystone/index.js';
import { adminClient, unique } from '../../keystone/fixtures.js';
import {
  type KeystoneRegistration,
  type QuotaRecorder,
  type QuotaService,
  registerInKeystone,
  startQuotaRecorder,
} from '../../support/quota-recorder.js';

const provided = inject('keystone');
const admin = {
  authUrl: provided.authUrl,
  username: provided.username,
  password: provided.password,
  projectName: provided.projectName,
  userDomainName: provided.userDomainName,
  projectDomainName: provided.projectDomainName,
};

let recorder: QuotaRecorder;
let full: KeystoneRegistration;
let partial: KeystoneRegistration;
let client: KeystoneClient;
let withoutVolume: KeystoneClient;
/** A project Keystone has: the recorder refuses quotas for one it does not. */
let projectId: string;

beforeAll(async () => {
  recorder = await startQuotaRecorder();
  full = await recorder.registerInKeystone({ ...admin, region: unique('quota-full') });
  const urls = recorder.catalogUrls();
  // A cloud without block storage: only compute and network have endpoints in this region.
  const computeAndNetwork = { compute: urls.compute, network: urls.network } as Record<QuotaService, string>;
  partial = await registerInKeystone(computeAndNetwork, { ...admin, region: unique('quota-novolume') });
  client = adminClient({ region: full.region });
  withoutVolume = adminClient({ region: partial.region });
  const adminProject = await client.findProjectByName(provided.projectName, 'default');
  if (adminProject === undefined) throw new Error('the admin project is missing from Keystone');
  projectId = adminProject.id;
});

afterAll(async () => {
  await full?.unregister();
  await partial?.unregister();
  await recorder?.close();
});

describe('setQuotas against the catalog of a real Keystone', () => {
  it('PUTs each service its own keys at the catalog endpoint', async () => {
    recorder.reset();
    const outcome = await setQuotas(client, projectId, BUILT_IN_PRESETS.small!);

    expect(outcome.notes).toEqual([]);
    expect(outcome.applied.map((a) => a.service)).toEqual(['compute', 'volume', 'network']);
    // The three are asked at once, so they may arrive in any order.
    const order = ['compute', 'volumev3', 'network'];
    const puts = recorder.calls
      .filter((call) => call.method === 'PUT')
      .sort((a, b) => order.indexOf(a.service) - order.indexOf(b.service));
    expect(puts.map((call) => [call.service, call.projectId, call.body])).toEqual([
      ['compute', projectId, { quota_set: { instances: 10, cores: 50, ram: 65536 } }],
      ['volumev3', projectId, { quota_set: { gigabytes: 500, volumes: 20, snapshots: 50 } }],
      ['network', projectId, { quota: { floatingip: 2, network: 5, subnet: 10, port: 50, router: 3 } }],
    ]);
    // Cinder's catalog URL carries the admin token's project id; it is used as the base, as given.
    expect(puts[1]?.urlProjectId).toBe(projectId);
    expect(puts.every((call) => typeof call.token === 'string' && call.token.length > 0)).toBe(true);
    expect(recorder.quota('network', projectId).port).toBe(50);
  });

  it('asks the three services at once, not one after another', async () => {
    recorder.reset();
    let inFlight = 0;
    let most = 0;
    const counting = adminClient({
      region: full.region,
      fetch: async (input, init) => {
        inFlight += 1;
        most = Math.max(most, inFlight);
        try {
          return await fetch(input, init);
        } finally {
          inFlight -= 1;
        }
      },
    });
    await counting.getAdminToken();
    const outcome = await setQuotas(counting, projectId, BUILT_IN_PRESETS.small!);
    expect(outcome.applied.map((a) => a.service)).toEqual(['compute', 'volume', 'network']);
    expect(most).toBe(3);
  });

  it('skips a service the catalog lacks, with a note, and sets the others', async () => {
    recorder.reset();
    const outcome = await setQuotas(withoutVolume, projectId, BUILT_IN_PRESETS.medium!);

    expect(outcome.notes).toEqual([{ code: 'quota_service_missing', service: 'volume' }]);
    expect(outcome.applied.map((a) => a.service)).toEqual(['compute', 'network']);
    expect(recorder.calls.map((call) => call.service)).toEqual(['compute', 'network']);
  });

  it('calls no service that has none of the keys', async () => {
    recorder.reset();
    const outcome = await setQuotas(client, projectId, { instances: 3 });
    expect(outcome.applied).toEqual([{ service: 'compute', values: { instances: 3 } }]);
    expect(recorder.calls.map((call) => call.service)).toEqual(['compute']);
  });

  it("reports a service's refusal in words, with its own message", async () => {
    recorder.reset();
    recorder.failNext('network', 503);
    await expect(setQuotas(client, projectId, BUILT_IN_PRESETS.small!)).rejects.toMatchObject({
      kind: 'upstream',
      message: expect.stringMatching(
        new RegExp(
          `^The network \\(neutron\\) service at http://127\\.0\\.0\\.1:\\d+/network/v2\\.0/quotas/${projectId} answered HTTP 503 to the quota update: Injected failure\\.$`,
        ),
      ),
    });
  });

  it('is refused for a project Keystone does not have, as the services refuse it', async () => {
    recorder.reset();
    await expect(
      setQuotas(client, unique('project').replace('-', ''), { instances: 3 }),
    ).rejects.toMatchObject({
      kind: 'invalid',
      message: expect.stringContaining('is not a valid project'),
    });
  });
});
