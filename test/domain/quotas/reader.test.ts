import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { BUILT_IN_PRESETS } from '../../../src/domain/quotas/presets.js';
import { readQuotas } from '../../../src/domain/quotas/reader.js';
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
let projectId: string;

beforeAll(async () => {
  recorder = await startQuotaRecorder();
  full = await recorder.registerInKeystone({ ...admin, region: unique('quota-read') });
  const urls = recorder.catalogUrls();
  const computeAndNetwork = { compute: urls.compute, network: urls.network } as Record<QuotaService, string>;
  partial = await registerInKeystone(computeAndNetwork, { ...admin, region: unique('quota-read-novol') });
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

describe('readQuotas against the catalog of a real Keystone', () => {
  it('reads what was set and what is used, from each service detail URL', async () => {
    recorder.reset();
    await setQuotas(client, projectId, BUILT_IN_PRESETS.small!);
    recorder.setUsage('compute', projectId, { instances: 4, cores: 12, ram: 16384 });
    recorder.setUsage('volumev3', projectId, { gigabytes: 120, volumes: 3 });
    recorder.setUsage('network', projectId, { port: 9, floatingip: 1 });
    recorder.calls.length = 0;

    const reading = await readQuotas(client, projectId);

    expect(reading.notes).toEqual([]);
    expect(reading.usage).toMatchObject({
      instances: { limit: 10, inUse: 4 },
      cores: { limit: 50, inUse: 12 },
      ram: { limit: 65536, inUse: 16384 },
      gigabytes: { limit: 500, inUse: 120 },
      volumes: { limit: 20, inUse: 3 },
      snapshots: { limit: 50, inUse: 0 },
      port: { limit: 50, inUse: 9 },
      floatingip: { limit: 2, inUse: 1 },
      router: { limit: 3, inUse: 0 },
    });
    // Defaults the bot never set are reported too (the services' own), keys it does not set are not.
    expect(reading.usage.key_pairs).toEqual({ limit: 100, inUse: 0 });
    expect(reading.usage).not.toHaveProperty('server_groups');
    expect(
      recorder.calls.map((call) => [call.method, call.service, call.path.replaceAll(projectId, 'P')]),
    ).toEqual([
      ['GET', 'compute', '/compute/v2.1/os-quota-sets/P/detail'],
      ['GET', 'volumev3', '/volume/v3/P/os-quota-sets/P'],
      ['GET', 'network', '/network/v2.0/quotas/P/details'],
    ]);
    expect(recorder.calls.every((call) => call.refused === undefined && call.token !== undefined)).toBe(true);
  });

  it('skips a service the catalog lacks, with a note', async () => {
    recorder.reset();
    const reading = await readQuotas(withoutVolume, projectId);
    expect(reading.notes).toEqual(['volume quotas not read: no volume service in the catalog']);
    expect(reading.usage.gigabytes).toBeUndefined();
    expect(reading.usage.instances).toEqual({ limit: 10, inUse: 0 });
  });

  it("reports a service's refusal in words", async () => {
    recorder.reset();
    recorder.failNext('volumev3', 503);
    await expect(readQuotas(client, projectId)).rejects.toMatchObject({
      kind: 'upstream',
      message: expect.stringContaining('answered HTTP 503 to the quota read: Injected failure.'),
    });
  });

  it('is refused for a project Keystone does not have', async () => {
    await expect(readQuotas(client, unique('project').replace('-', ''))).rejects.toMatchObject({
      kind: 'invalid',
      message: expect.stringContaining('is not a valid project'),
    });
  });
});
