import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { z } from 'zod';
import './support/provided.js';
import { type QuotaRecorder, startQuotaRecorder } from './support/quota-recorder.js';

const TOKEN = 'gAAAAAB-test-token';

async function call(
  url: string,
  method: string,
  body?: unknown,
  token: string | null = TOKEN,
): Promise<{ status: number; json: unknown }> {
  const response = await fetch(url, {
    method,
    headers: {
      ...(token === null ? {} : { 'X-Auth-Token': token }),
      ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: response.status, json: await response.json() };
}

describe('QuotaRecorder', () => {
  let recorder: QuotaRecorder;

  beforeAll(async () => {
    recorder = await startQuotaRecorder();
  });
  afterEach(() => recorder.reset());
  afterAll(() => recorder.close());

  it('sets nova quotas and echoes the merged set; GET adds the project id', async () => {
    const url = `${recorder.url}/compute/v2.1/os-quota-sets/p-1`;
    const put = await call(url, 'PUT', { quota_set: { cores: 4, ram: 8192, instances: 2 } });
    expect(put.status).toBe(200);
    expect(put.json).toEqual({
      quota_set: expect.objectContaining({ cores: 4, ram: 8192, instances: 2, key_pairs: 100 }),
    });
    expect(put.json).not.toHaveProperty('quota_set.id');
    const get = await call(url, 'GET');
    expect(get.json).toEqual({ quota_set: expect.objectContaining({ id: 'p-1', cores: 4 }) });
    expect(recorder.callsFor('compute')[0]).toMatchObject({
      method: 'PUT',
      projectId: 'p-1',
      token: TOKEN,
      body: { quota_set: { cores: 4, ram: 8192, instances: 2 } },
    });
  });

  it('sets cinder quotas with and without the caller project in the URL', async () => {
    const withCaller = await call(`${recorder.url}/volume/v3/admin-p/os-quota-sets/p-2`, 'PUT', {
      quota_set: { volumes: 3, gigabytes: 50, gigabytes___DEFAULT__: 50 },
    });
    expect(withCaller.json).toEqual({ quota_set: expect.objectContaining({ volumes: 3, gigabytes: 50 }) });
    await call(`${recorder.url}/volume/v3/os-quota-sets/p-2`, 'PUT', { quota_set: { snapshots: 1 } });
    expect(recorder.quota('volumev3', 'p-2')).toMatchObject({ volumes: 3, gigabytes: 50, snapshots: 1 });
    expect(recorder.callsFor('volumev3').map((one) => one.urlProjectId)).toEqual(['admin-p', undefined]);
  });

  it('sets neutron quotas under "quota"', async () => {
    const put = await call(`${recorder.url}/network/v2.0/quotas/p-3`, 'PUT', {
      quota: { port: 20, network: 1 },
    });
    expect(put.json).toEqual({ quota: expect.objectContaining({ port: 20, network: 1, router: 10 }) });
    expect((await call(`${recorder.url}/network/v2.0/quotas/p-3`, 'GET')).json).toEqual({
      quota: expect.objectContaining({ port: 20 }),
    });
  });

  it('answers like the services to a missing token, unknown keys and bad values', async () => {
    const anonymous = await call(
      `${recorder.url}/compute/v2.1/os-quota-sets/p`,
      'PUT',
      { quota_set: {} },
      null,
    );
    expect(anonymous.status).toBe(401);
    const nova = await call(`${recorder.url}/compute/v2.1/os-quota-sets/p`, 'PUT', {
      quota_set: { floppies: 1 },
    });
    expect(nova).toMatchObject({ status: 400, json: { badRequest: { code: 400 } } });
    expect(JSON.stringify(nova.json)).toContain("'floppies' was unexpected");
    const cinder = await call(`${recorder.url}/volume/v3/a/os-quota-sets/p`, 'PUT', {
      quota_set: { disks: 1 },
    });
    expect(cinder.json).toEqual({ badRequest: { code: 400, message: 'Bad key(s) in quota set: disks' } });
    const neutron = await call(`${recorder.url}/network/v2.0/quotas/p`, 'PUT', { quota: { port: -5 } });
    expect(neutron).toMatchObject({ status: 400, json: { NeutronError: { type: 'HTTPBadRequest' } } });
    expect(recorder.quota('network', 'p').port).toBe(500);
  });

  it("answers the detail GETs with what was set and the usage it was told, in each service's shape", async () => {
    await call(`${recorder.url}/compute/v2.1/os-quota-sets/p-4`, 'PUT', { quota_set: { cores: 8 } });
    await call(`${recorder.url}/volume/v3/a/os-quota-sets/p-4`, 'PUT', { quota_set: { volumes: 4 } });
    await call(`${recorder.url}/network/v2.0/quotas/p-4`, 'PUT', { quota: { port: 30 } });
    recorder.setUsage('compute', 'p-4', { cores: 3 });
    recorder.setUsage('volumev3', 'p-4', { volumes: 2 });
    recorder.setUsage('network', 'p-4', { port: 7 });

    const nova = await call(`${recorder.url}/compute/v2.1/os-quota-sets/p-4/detail`, 'GET');
    expect(nova.status).toBe(200);
    expect(nova.json).toEqual({
      quota_set: expect.objectContaining({
        id: 'p-4',
        cores: { limit: 8, in_use: 3, reserved: 0 },
        instances: { limit: 10, in_use: 0, reserved: 0 },
      }),
    });
    const cinder = await call(`${recorder.url}/volume/v3/a/os-quota-sets/p-4?usage=true`, 'GET');
    expect(cinder.json).toEqual({
      quota_set: expect.objectContaining({
        id: 'p-4',
        volumes: { limit: 4, in_use: 2, reserved: 0, allocated: 0 },
      }),
    });
    // Without ?usage=true cinder answers the plain limits.
    const plain = await call(`${recorder.url}/volume/v3/a/os-quota-sets/p-4`, 'GET');
    expect(plain.json).toEqual({ quota_set: expect.objectContaining({ id: 'p-4', volumes: 4 }) });
    const neutron = await call(`${recorder.url}/network/v2.0/quotas/p-4/details`, 'GET');
    expect(neutron.json).toEqual({
      quota: expect.objectContaining({ port: { limit: 30, used: 7, reserved: 0 } }),
    });
    expect(neutron.json).not.toHaveProperty('quota.id');
    // The detail resources are read-only, as in the services.
    const put = await call(`${recorder.url}/compute/v2.1/os-quota-sets/p-4/detail`, 'PUT', { quota_set: {} });
    expect(put.status).toBe(405);
    recorder.reset();
    const afterReset = await call(`${recorder.url}/network/v2.0/quotas/p-4/details`, 'GET');
    expect(afterReset.json).toEqual({
      quota: expect.objectContaining({ port: { limit: 500, used: 0, reserved: 0 } }),
    });
  });

  it('fails the next calls to one service on request', async () => {
    recorder.failNext('network', 503, 2);
    const url = `${recorder.url}/network/v2.0/quotas/p`;
    expect((await call(url, 'PUT', { quota: { port: 1 } })).status).toBe(503);
    expect((await call(url, 'PUT', { quota: { port: 1 } })).status).toBe(503);
    expect((await call(url, 'PUT', { quota: { port: 1 } })).status).toBe(200);
    expect(recorder.callsFor('network').map((one) => one.injectedStatus)).toEqual([503, 503, undefined]);
  });

  it('fails only the calls of one method when told one', async () => {
    recorder.failNext('compute', 503, 1, 'PUT');
    const url = `${recorder.url}/compute/v2.1/os-quota-sets/p`;
    expect((await call(`${url}/detail`, 'GET')).status).toBe(200);
    expect((await call(url, 'PUT', { quota_set: { cores: 2 } })).status).toBe(503);
    expect((await call(url, 'PUT', { quota_set: { cores: 2 } })).status).toBe(200);
  });
});

const catalogSchema = z.object({
  token: z.object({
    project: z.object({ id: z.string() }),
    catalog: z.array(
      z.object({
        type: z.string(),
        id: z.string(),
        endpoints: z.array(z.object({ interface: z.string(), region_id: z.string(), url: z.string() })),
      }),
    ),
  }),
});

describe('QuotaRecorder registered in the real Keystone', () => {
  const keystone = inject('keystone');
  // A region of its own keeps this file's endpoints apart from other test files running at the same time.
  const region = `kaizen-support-${randomBytes(4).toString('hex')}`;
  const admin = { ...keystone, region };
  let first: QuotaRecorder;
  let second: QuotaRecorder;
  const cleanups: (() => Promise<void>)[] = [];

  beforeAll(async () => {
    first = await startQuotaRecorder();
    second = await startQuotaRecorder();
  });
  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
    await first?.close();
    await second?.close();
  });

  async function projectCatalog() {
    const response = await fetch(`${keystone.authUrl.replace(/\/+$/, '')}/auth/tokens`, {
      method: 'POST',
      // Keystone under uwsgi closes each connection after answering; a pooled one could be reused as it closes.
      headers: { 'Content-Type': 'application/json', Connection: 'close' },
      body: JSON.stringify({
        auth: {
          identity: {
            methods: ['password'],
            password: {
              user: {
                name: keystone.username,
                password: keystone.password,
                domain: { name: keystone.userDomainName },
              },
            },
          },
          scope: { project: { name: keystone.projectName, domain: { name: keystone.projectDomainName } } },
        },
      }),
    });
    expect(response.status).toBe(201);
    const subjectToken = response.headers.get('x-subject-token') ?? '';
    const { token } = catalogSchema.parse(await response.json());
    const urls = (type: string) =>
      Object.fromEntries(
        token.catalog
          .filter((service) => service.type === type)
          .flatMap((service) => service.endpoints)
          .filter((endpoint) => endpoint.region_id === region)
          .map((endpoint) => [endpoint.interface, endpoint.url]),
      );
    return { projectId: token.project.id, catalog: token.catalog, urls, token: subjectToken };
  }

  it('puts compute, volumev3 and network in a project-scoped catalog, cinder with the project id substituted', async () => {
    const registration = await first.registerInKeystone(admin);
    cleanups.push(registration.unregister);
    expect(registration.endpoints).toHaveLength(9);

    const { projectId, urls, token } = await projectCatalog();
    const everyInterface = (url: string) => ({ public: url, internal: url, admin: url });
    expect(urls('compute')).toEqual(everyInterface(`${first.url}/compute/v2.1`));
    expect(urls('volumev3')).toEqual(everyInterface(`${first.url}/volume/v3/${projectId}`));
    expect(urls('network')).toEqual(everyInterface(`${first.url}/network`));

    // The catalog URL works as a client would use it, with a token Keystone issued.
    const cinder = await call(
      `${urls('volumev3').public}/os-quota-sets/${projectId}`,
      'PUT',
      { quota_set: { volumes: 2 } },
      token,
    );
    expect(cinder.status).toBe(200);
    expect(first.callsFor('volumev3')[0]).toMatchObject({ projectId, urlProjectId: projectId });
  });

  it('once registered, checks tokens against Keystone and refuses a project id Keystone does not have', async () => {
    const registration = await first.registerInKeystone(admin);
    cleanups.push(registration.unregister);
    const { projectId, token } = await projectCatalog();
    const nova = (project: string) => `${first.url}/compute/v2.1/os-quota-sets/${project}`;
    first.reset();

    const made_up = await call(nova(projectId), 'PUT', { quota_set: { cores: 2 } }, 'gAAAAAB-made-up');
    expect(made_up.status).toBe(401);
    const missing = await call(
      nova('0123456789abcdef0123456789abcdef'),
      'PUT',
      { quota_set: { cores: 2 } },
      token,
    );
    expect(missing.status).toBe(400);
    expect(missing.json).toMatchObject({
      badRequest: { message: expect.stringContaining('not a valid project') },
    });
    const neutron = await call(
      `${first.url}/network/v2.0/quotas/0123456789abcdef0123456789abcdef`,
      'PUT',
      { quota: { network: 1 } },
      token,
    );
    expect(neutron.status).toBe(404);
    const real = await call(nova(projectId), 'PUT', { quota_set: { cores: 2 } }, token);
    expect(real.status).toBe(200);
    expect(first.quota('compute', projectId)).toMatchObject({ cores: 2 });
    expect(first.calls.map((one) => one.refused)).toEqual([
      'invalid_token',
      'unknown_project',
      'unknown_project',
      undefined,
    ]);
  });

  it('registers again idempotently: same services, endpoints moved to the new recorder, no duplicates', async () => {
    const before = await first.registerInKeystone(admin);
    const after = await second.registerInKeystone(admin);
    expect(after.services).toEqual(before.services);
    expect(after.endpoints.map((endpoint) => endpoint.id).sort()).toEqual(
      before.endpoints.map((endpoint) => endpoint.id).sort(),
    );

    const { catalog, urls } = await projectCatalog();
    expect(urls('compute')).toEqual({
      public: `${second.url}/compute/v2.1`,
      internal: `${second.url}/compute/v2.1`,
      admin: `${second.url}/compute/v2.1`,
    });
    for (const type of ['compute', 'volumev3', 'network']) {
      const inRegion = catalog
        .filter((service) => service.type === type)
        .flatMap((service) => service.endpoints)
        .filter((endpoint) => endpoint.region_id === region);
      expect(inRegion.map((endpoint) => endpoint.interface).sort()).toEqual(['admin', 'internal', 'public']);
    }
  });

  it('unregister removes the endpoints', async () => {
    const registration = await second.registerInKeystone(admin);
    await registration.unregister();
    const { urls } = await projectCatalog();
    expect(urls('compute')).toEqual({});
    expect(urls('volumev3')).toEqual({});
  });
});
