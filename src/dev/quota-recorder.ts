/**
 * Plays the quota APIs of nova, cinder and neutron on 127.0.0.1 and records every call, so tests can
 * run provisioning against a real Keystone whose catalog points here. Paths, bodies, answers and
 * error shapes follow the real services: each answer echoes the merged quota set, an unknown quota
 * key is a 400, and a request without `X-Auth-Token` is a 401. Once registered in a Keystone (or
 * told one with `verifyWith`), it checks tokens there as keystonemiddleware does (`GET
 * /v3/auth/tokens` with `X-Subject-Token`, results cached until the token expires): an unknown or
 * expired token is a 401, and a quota for a project id Keystone does not have is refused.
 *
 * `registerInKeystone` puts the recorder in a Keystone catalog the way deployments do it, talking to
 * Keystone's REST API directly (not through the app's client):
 * compute at `/compute/v2.1`, volumev3 at `/volume/v3/$(project_id)s` (Keystone substitutes the
 * token's project id, and both `$(...)s` and `%(...)s` work), network at `/network`.
 */
import { createHash } from 'node:crypto';
import { mkdir, rm, stat } from 'node:fs/promises';
import {
  createServer,
  request as httpRequest,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { closeNow, isRecord, listenLocally, readBody } from './local-http.js';

export type QuotaService = 'compute' | 'volumev3' | 'network';

export interface QuotaCall {
  service: QuotaService | 'unknown';
  method: string;
  path: string;
  /** The project whose quotas are read or set. */
  projectId: string | undefined;
  /** Cinder only: the project id in the endpoint URL (the caller's), when the URL has one. */
  urlProjectId: string | undefined;
  token: string | undefined;
  /** Microversion headers, as sent. */
  apiVersion: string | undefined;
  body: unknown;
  at: Date;
  /** Set when `failNext` made this call fail. */
  injectedStatus?: number;
  /** Set when the recorder refused the call on Keystone's word. */
  refused?: 'invalid_token' | 'unknown_project';
}

/** The Keystone a registered recorder checks tokens and project ids against. */
export interface KeystoneVerifier {
  /** Keystone's v3 URL, e.g. `http://127.0.0.1:5000/v3`. */
  identityUrl: string;
  /** A token allowed to validate others' tokens and read projects (an admin's). */
  serviceToken: string;
}

export type QuotaSet = Record<string, number>;

const NOVA_DEFAULTS: QuotaSet = {
  instances: 10,
  cores: 20,
  ram: 51200,
  metadata_items: 128,
  key_pairs: 100,
  server_groups: 10,
  server_group_members: 10,
  injected_files: 5,
  injected_file_content_bytes: 10240,
  injected_file_path_bytes: 255,
};

const CINDER_DEFAULTS: QuotaSet = {
  volumes: 10,
  snapshots: 10,
  gigabytes: 1000,
  backups: 10,
  backup_gigabytes: 1000,
  per_volume_gigabytes: -1,
  groups: 10,
  volumes___DEFAULT__: -1,
  snapshots___DEFAULT__: -1,
  gigabytes___DEFAULT__: -1,
};

const NEUTRON_DEFAULTS: QuotaSet = {
  network: 100,
  subnet: 100,
  port: 500,
  router: 10,
  floatingip: 50,
  security_group: 10,
  security_group_rule: 100,
  rbac_policy: 10,
  subnetpool: -1,
};

/** Where each service lives below the recorder's base URL, in the catalog's form. */
export const CATALOG_PATHS: Record<QuotaService, string> = {
  compute: '/compute/v2.1',
  volumev3: '/volume/v3/$(project_id)s',
  network: '/network',
};

const SERVICE_NAMES: Record<QuotaService, string> = {
  compute: 'nova',
  volumev3: 'cinderv3',
  network: 'neutron',
};

export class QuotaRecorder {
  readonly calls: QuotaCall[] = [];

  private server: Server | undefined;
  private baseUrl: string | undefined;
  private readonly quotaSets = new Map<string, QuotaSet>();
  /** What each project uses, as a test tells it (`setUsage`); reported by the detail GETs. */
  private readonly usages = new Map<string, QuotaSet>();
  private readonly failures: { service: QuotaService; status: number; remaining: number; method?: string }[] =
    [];
  private verifier: KeystoneVerifier | undefined;
  /** Token validations, kept as keystonemiddleware's cache keeps them: a valid one until it expires. */
  private readonly tokenChecks = new Map<string, Promise<{ valid: boolean; until: number }>>();
  /** Project ids Keystone confirmed; a missing one is asked again, since it may be created later. */
  private readonly knownProjects = new Set<string>();

  /** Listens on 127.0.0.1 on a free port. */
  async start(): Promise<this> {
    const server = createServer((request, response) => {
      this.handle(request, response).catch((error: unknown) => {
        sendJson(response, 500, { error: { code: 500, message: String(error) } });
      });
    });
    this.baseUrl = await listenLocally(server);
    this.server = server;
    return this;
  }

  /** `http://127.0.0.1:PORT`, without a trailing slash. */
  get url(): string {
    if (this.baseUrl === undefined) throw new Error('QuotaRecorder: call start() before reading url');
    return this.baseUrl;
  }

  async close(): Promise<void> {
    const server = this.server;
    if (server === undefined) return;
    this.server = undefined;
    await closeNow(server);
  }

  /** Catalog URLs for this recorder, with Keystone's `$(project_id)s` placeholder for cinder. */
  catalogUrls(): Record<QuotaService, string> {
    return {
      compute: `${this.url}${CATALOG_PATHS.compute}`,
      volumev3: `${this.url}${CATALOG_PATHS.volumev3}`,
      network: `${this.url}${CATALOG_PATHS.network}`,
    };
  }

  /** A project's quota set as the service would now report it (defaults merged with what was set). */
  quota(service: QuotaService, projectId: string): QuotaSet {
    return { ...defaultsFor(service), ...this.quotaSets.get(`${service}:${projectId}`) };
  }

  /**
   * What a project uses of one service's quotas, reported by the detail GETs (nova
   * `os-quota-sets/{id}/detail`, cinder `os-quota-sets/{id}?usage=true`, neutron
   * `quotas/{id}/details`); keys not given are in use 0. Replaces what was told before.
   */
  setUsage(service: QuotaService, projectId: string, usage: QuotaSet): void {
    this.usages.set(`${service}:${projectId}`, { ...usage });
  }

  /** A project's quota set with usage, as each service's detail GET shapes it. */
  detail(service: QuotaService, projectId: string): Record<string, unknown> {
    const usage = this.usages.get(`${service}:${projectId}`) ?? {};
    const entries = Object.entries(this.quota(service, projectId)).map(([name, limit]) => {
      const used = usage[name] ?? 0;
      // Neutron says `used`; nova says `in_use`; cinder adds `allocated` (for nested quotas).
      if (service === 'network') return [name, { limit, used, reserved: 0 }];
      if (service === 'volumev3') return [name, { limit, in_use: used, reserved: 0, allocated: 0 }];
      return [name, { limit, in_use: used, reserved: 0 }];
    });
    const set = Object.fromEntries(entries) as Record<string, unknown>;
    return service === 'network' ? { quota: set } : { quota_set: { id: projectId, ...set } };
  }

  /** Recorded calls, optionally of one service only. */
  callsFor(service?: QuotaService): QuotaCall[] {
    return service === undefined ? [...this.calls] : this.calls.filter((call) => call.service === service);
  }

  /**
   * The next `times` calls to `service` (with `method`, only calls with that method, e.g. `PUT`
   * so reads still answer) answer `status` in that service's error shape.
   */
  failNext(service: QuotaService, status: number, times = 1, method?: string): void {
    this.failures.push({ service, status, remaining: times, ...(method === undefined ? {} : { method }) });
  }

  /** Forgets calls, stored quotas and pending failures. */
  reset(): void {
    this.calls.length = 0;
    this.quotaSets.clear();
    this.usages.clear();
    this.failures.length = 0;
  }

  /**
   * Registers this recorder's endpoints in Keystone (see `registerInKeystone`); from then on it
   * checks tokens and project ids against that Keystone.
   */
  async registerInKeystone(options: KeystoneAdminOptions): Promise<KeystoneRegistration> {
    const identityUrl = v3Url(options.authUrl);
    const serviceToken = options.adminToken ?? (await passwordToken(identityUrl, options));
    this.verifyWith({ identityUrl, serviceToken });
    return registerInKeystone(this.catalogUrls(), { ...options, adminToken: serviceToken });
  }

  /** Checks every later call's token and project id against this Keystone. */
  verifyWith(verifier: KeystoneVerifier): void {
    this.verifier = verifier;
    this.tokenChecks.clear();
    this.knownProjects.clear();
  }

  private async tokenIsValid(verifier: KeystoneVerifier, token: string): Promise<boolean> {
    const cached = this.tokenChecks.get(token);
    if (cached !== undefined) {
      const check = await cached;
      if (check.until > Date.now()) return check.valid;
    }
    const check = validateToken(verifier, token);
    this.tokenChecks.set(token, check);
    // A failed look-up is not an answer about the token: ask again next time.
    check.catch(() => this.tokenChecks.delete(token));
    return (await check).valid;
  }

  private async projectExists(verifier: KeystoneVerifier, projectId: string): Promise<boolean> {
    if (this.knownProjects.has(projectId)) return true;
    const response = await keystoneRequest(
      'GET',
      `${verifier.identityUrl}/projects/${encodeURIComponent(projectId)}`,
      { 'X-Auth-Token': verifier.serviceToken },
    );
    if (response.status === 200) {
      this.knownProjects.add(projectId);
      return true;
    }
    if (response.status === 404) return false;
    throw new Error(`Keystone GET /projects/${projectId} answered ${response.status}`);
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const method = request.method ?? 'GET';
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    const rawBody = await readBody(request);
    const route = matchRoute(url.pathname);
    const token = headerValue(request.headers['x-auth-token']);
    let body: unknown = rawBody === '' ? undefined : rawBody;
    try {
      body = rawBody === '' ? undefined : JSON.parse(rawBody);
    } catch {
      // Kept as text; the handler below answers 400 for a body that is not JSON.
    }
    const call: QuotaCall = {
      service: route?.service ?? 'unknown',
      method,
      path: url.pathname,
      projectId: route?.projectId,
      urlProjectId: route?.urlProjectId,
      token,
      apiVersion:
        headerValue(request.headers['openstack-api-version']) ??
        headerValue(request.headers['x-openstack-nova-api-version']),
      body,
      at: new Date(),
    };
    this.calls.push(call);
    if (route === undefined) {
      sendJson(response, 404, {
        error: { code: 404, title: 'Not Found', message: 'The resource could not be found.' },
      });
      return;
    }
    const injected = this.takeFailure(route.service, method);
    if (injected !== undefined) {
      call.injectedStatus = injected;
      sendServiceError(response, route.service, injected, 'Injected failure.');
      return;
    }
    if (token === undefined || token === '') {
      // keystonemiddleware answers before the service sees the request.
      response.setHeader('WWW-Authenticate', 'Keystone uri="http://127.0.0.1/identity"');
      sendJson(response, 401, {
        error: {
          code: 401,
          title: 'Unauthorized',
          message: 'The request you have made requires authentication.',
        },
      });
      return;
    }
    const verifier = this.verifier;
    if (verifier !== undefined) {
      if (!(await this.tokenIsValid(verifier, token))) {
        call.refused = 'invalid_token';
        response.setHeader('WWW-Authenticate', `Keystone uri="${verifier.identityUrl}"`);
        sendJson(response, 401, {
          error: {
            code: 401,
            title: 'Unauthorized',
            message: 'The request you have made requires authentication.',
          },
        });
        return;
      }
      if (!(await this.projectExists(verifier, route.projectId))) {
        call.refused = 'unknown_project';
        const status = route.service === 'network' ? 404 : 400;
        sendServiceError(
          response,
          route.service,
          status,
          `Project ID ${route.projectId} is not a valid project.`,
        );
        return;
      }
    }
    // Cinder reports usage on the plain URL when asked with `?usage=true`.
    const detail = route.detail || (route.service === 'volumev3' && url.searchParams.get('usage') === 'true');
    if (detail && method === 'GET') {
      sendJson(response, 200, this.detail(route.service, route.projectId));
      return;
    }
    if (route.detail) {
      sendServiceError(
        response,
        route.service,
        405,
        `The method ${method} is not allowed for this resource.`,
      );
      return;
    }
    if (method === 'GET') {
      const quota = this.quota(route.service, route.projectId);
      if (route.service === 'network') sendJson(response, 200, { quota });
      else sendJson(response, 200, { quota_set: { id: route.projectId, ...quota } });
      return;
    }
    if (method !== 'PUT') {
      sendServiceError(
        response,
        route.service,
        405,
        `The method ${method} is not allowed for this resource.`,
      );
      return;
    }
    const wrapper = route.service === 'network' ? 'quota' : 'quota_set';
    const requested = isRecord(body) ? body[wrapper] : undefined;
    if (!isRecord(requested)) {
      sendServiceError(
        response,
        route.service,
        400,
        `Missing required element '${wrapper}' in request body.`,
      );
      return;
    }
    const problem = validateQuota(route.service, requested);
    if (problem !== undefined) {
      sendServiceError(response, route.service, 400, problem);
      return;
    }
    const key = `${route.service}:${route.projectId}`;
    const changes: QuotaSet = {};
    for (const [name, value] of Object.entries(requested)) {
      if (name !== 'force') changes[name] = Number(value);
    }
    this.quotaSets.set(key, { ...this.quotaSets.get(key), ...changes });
    const merged = this.quota(route.service, route.projectId);
    sendJson(response, 200, route.service === 'network' ? { quota: merged } : { quota_set: merged });
  }

  private takeFailure(service: QuotaService, method: string): number | undefined {
    const index = this.failures.findIndex(
      (entry) =>
        entry.service === service &&
        entry.remaining > 0 &&
        (entry.method === undefined || entry.method === method),
    );
    const entry = this.failures[index];
    if (entry === undefined) return undefined;
    entry.remaining -= 1;
    if (entry.remaining === 0) this.failures.splice(index, 1);
    return entry.status;
  }
}

/** Starts a quota recorder; see `QuotaRecorder`. */
export function startQuotaRecorder(): Promise<QuotaRecorder> {
  return new QuotaRecorder().start();
}

interface Route {
  service: QuotaService;
  projectId: string;
  urlProjectId: string | undefined;
  /** Nova's `/detail` or neutron's `/details`: the quota set with usage. */
  detail: boolean;
}

function matchRoute(path: string): Route | undefined {
  const nova = path.match(/^\/compute\/v2\.1\/os-quota-sets\/([^/]+?)(\/detail)?$/);
  if (nova?.[1] !== undefined)
    return { service: 'compute', projectId: nova[1], urlProjectId: undefined, detail: nova[2] !== undefined };
  // Cinder's URL carries the caller's project id before os-quota-sets, unless the catalog URL has none.
  const cinder = path.match(/^\/volume\/v3\/(?:([^/]+)\/)?os-quota-sets\/([^/]+)$/);
  if (cinder?.[2] !== undefined)
    return { service: 'volumev3', projectId: cinder[2], urlProjectId: cinder[1], detail: false };
  const neutron = path.match(/^\/network\/v2\.0\/quotas\/([^/]+?)(\/details)?(?:\.json)?$/);
  if (neutron?.[1] !== undefined)
    return {
      service: 'network',
      projectId: neutron[1],
      urlProjectId: undefined,
      detail: neutron[2] !== undefined,
    };
  return undefined;
}

function defaultsFor(service: QuotaService): QuotaSet {
  if (service === 'compute') return NOVA_DEFAULTS;
  if (service === 'volumev3') return CINDER_DEFAULTS;
  return NEUTRON_DEFAULTS;
}

/** The services' own checks: known keys only, whole numbers of at least -1 (unlimited). */
function validateQuota(service: QuotaService, requested: Record<string, unknown>): string | undefined {
  const known = Object.keys(defaultsFor(service));
  const unknown = Object.keys(requested).filter((name) => {
    if (known.includes(name)) return false;
    if (service === 'compute' && name === 'force') return false;
    // Cinder has one volumes/snapshots/gigabytes key per volume type.
    if (service === 'volumev3' && /^(volumes|snapshots|gigabytes)_.+$/.test(name)) return false;
    return true;
  });
  if (unknown.length > 0) {
    if (service === 'compute') {
      return `Invalid input for field/attribute quota_set. Value: ${JSON.stringify(requested)}. Additional properties are not allowed (${unknown.map((name) => `'${name}'`).join(', ')} ${unknown.length === 1 ? 'was' : 'were'} unexpected)`;
    }
    if (service === 'volumev3') return `Bad key(s) in quota set: ${unknown.join(', ')}`;
    return `Unrecognized attribute(s) '${unknown.join(', ')}'`;
  }
  for (const [name, value] of Object.entries(requested)) {
    if (name === 'force') continue;
    const number = typeof value === 'string' && /^-?\d+$/.test(value) ? Number(value) : value;
    if (typeof number !== 'number' || !Number.isInteger(number) || number < -1) {
      return `Invalid input for ${name}. Reason: '${String(value)}' is not an integer >= -1.`;
    }
  }
  return undefined;
}

function sendServiceError(
  response: ServerResponse,
  service: QuotaService,
  status: number,
  message: string,
): void {
  if (service === 'network') {
    const type =
      status === 400 ? 'HTTPBadRequest' : status === 404 ? 'HTTPNotFound' : 'HTTPInternalServerError';
    sendJson(response, status, { NeutronError: { type, message, detail: '' } });
    return;
  }
  const kind =
    status === 400
      ? 'badRequest'
      : status === 403
        ? 'forbidden'
        : status === 404
          ? 'itemNotFound'
          : status === 405
            ? 'badMethod'
            : status === 503
              ? 'serviceUnavailable'
              : 'computeFault';
  sendJson(response, status, { [kind]: { code: status, message } });
}

// ---- Keystone registration (plain fetch against the v3 REST API) ----

export interface KeystoneAdminOptions {
  /** With or without the trailing `/v3`. */
  authUrl: string;
  /** An admin token to use as it is; otherwise the password credentials below get one. */
  adminToken?: string;
  username?: string;
  password?: string;
  projectName?: string;
  userDomainName?: string;
  projectDomainName?: string;
  /** Created when missing. Tests running in parallel should each use their own region. */
  region?: string;
}

export interface KeystoneEndpointRecord {
  id: string;
  serviceId: string;
  serviceType: QuotaService;
  interface: 'public' | 'internal' | 'admin';
  url: string;
}

export interface KeystoneRegistration {
  region: string;
  services: Record<QuotaService, { id: string; name: string }>;
  endpoints: KeystoneEndpointRecord[];
  /** Deletes these endpoints, and the region when this registration created it. */
  unregister(): Promise<void>;
}

const INTERFACES = ['public', 'internal', 'admin'] as const;

const serviceListSchema = z.object({
  services: z.array(z.object({ id: z.string(), type: z.string(), name: z.string().optional() })),
});
const serviceSchema = z.object({ service: z.object({ id: z.string(), name: z.string().optional() }) });
const endpointListSchema = z.object({
  endpoints: z.array(
    z.object({
      id: z.string(),
      interface: z.string(),
      url: z.string(),
      region_id: z.string().nullable().optional(),
    }),
  ),
});
const endpointSchema = z.object({ endpoint: z.object({ id: z.string() }) });

/**
 * Makes Keystone's catalog list compute, volumev3 and network at these URLs in `region`
 * (default RegionOne). Idempotent: an existing service of each type is reused and its endpoints in
 * the region are pointed at the new URLs. A lock file keeps two test workers from racing.
 */
export async function registerInKeystone(
  urls: Record<QuotaService, string>,
  options: KeystoneAdminOptions,
): Promise<KeystoneRegistration> {
  const identityUrl = v3Url(options.authUrl);
  const region = options.region ?? 'RegionOne';
  const token = options.adminToken ?? (await passwordToken(identityUrl, options));
  const keystone = keystoneClient(identityUrl, token);
  return withLock(identityUrl, async () => {
    const createdRegion = await ensureRegion(keystone, region);
    const services = {} as Record<QuotaService, { id: string; name: string }>;
    const endpoints: KeystoneEndpointRecord[] = [];
    for (const type of Object.keys(urls) as QuotaService[]) {
      const service = await ensureService(keystone, type);
      services[type] = service;
      const listed = endpointListSchema
        .parse(await keystone('GET', `/endpoints?service_id=${encodeURIComponent(service.id)}`))
        .endpoints.filter((endpoint) => endpoint.region_id === region);
      for (const anInterface of INTERFACES) {
        const url = urls[type];
        const [existing, ...duplicates] = listed.filter((endpoint) => endpoint.interface === anInterface);
        for (const duplicate of duplicates) await keystone('DELETE', `/endpoints/${duplicate.id}`);
        let id: string;
        if (existing === undefined) {
          const body = {
            endpoint: { service_id: service.id, interface: anInterface, url, region_id: region },
          };
          id = endpointSchema.parse(await keystone('POST', '/endpoints', body)).endpoint.id;
        } else {
          id = existing.id;
          if (existing.url !== url)
            await keystone('PATCH', `/endpoints/${id}`, { endpoint: { url, enabled: true } });
        }
        endpoints.push({ id, serviceId: service.id, serviceType: type, interface: anInterface, url });
      }
    }
    return {
      region,
      services,
      endpoints,
      unregister: async () => {
        await withLock(identityUrl, async () => {
          for (const endpoint of endpoints)
            await keystone('DELETE', `/endpoints/${endpoint.id}`, undefined, [404]);
          if (createdRegion)
            await keystone('DELETE', `/regions/${encodeURIComponent(region)}`, undefined, [404]);
        });
      },
    };
  });
}

type KeystoneCall = (
  method: string,
  path: string,
  body?: unknown,
  allowedStatuses?: number[],
) => Promise<unknown>;

function keystoneClient(identityUrl: string, token: string): KeystoneCall {
  return async (method, path, body, allowedStatuses = []) => {
    const response = await keystoneRequest(method, `${identityUrl}${path}`, { 'X-Auth-Token': token }, body);
    if (response.status >= 400 && !allowedStatuses.includes(response.status)) {
      throw new Error(
        `Keystone ${method} ${path} answered ${response.status}: ${response.text.slice(0, 300)}`,
      );
    }
    return response.text === '' ? undefined : (JSON.parse(response.text) as unknown);
  };
}

/**
 * One request on a fresh connection. Keystone under uwsgi's `--http-socket` closes every connection
 * after answering without saying `Connection: close`, so a pooled fetch connection is sometimes reused
 * just as it closes and fails with ECONNRESET; `agent: false` never reuses one.
 */
function keystoneRequest(
  method: string,
  url: string,
  headers: Record<string, string>,
  body?: unknown,
): Promise<{ status: number; headers: IncomingHttpHeaders; text: string }> {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const request = httpRequest(
      url,
      {
        method,
        agent: false,
        headers: {
          Accept: 'application/json',
          ...headers,
          ...(payload === undefined
            ? {}
            : { 'Content-Type': 'application/json', 'Content-Length': String(Buffer.byteLength(payload)) }),
        },
        timeout: 30_000,
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () =>
          resolve({
            status: response.statusCode ?? 0,
            headers: response.headers,
            text: Buffer.concat(chunks).toString('utf8'),
          }),
        );
        response.on('error', reject);
      },
    );
    request.on('timeout', () => request.destroy(new Error(`Keystone ${method} ${url} timed out`)));
    request.on('error', reject);
    request.end(payload);
  });
}

/** keystonemiddleware's check: the token is valid while Keystone validates it, until its expiry. */
async function validateToken(
  verifier: KeystoneVerifier,
  token: string,
): Promise<{ valid: boolean; until: number }> {
  const response = await keystoneRequest('GET', `${verifier.identityUrl}/auth/tokens`, {
    'X-Auth-Token': verifier.serviceToken,
    'X-Subject-Token': token,
  });
  if (response.status === 404 || response.status === 401) return { valid: false, until: Infinity };
  if (response.status !== 200) throw new Error(`Keystone GET /auth/tokens answered ${response.status}`);
  const expires = Date.parse(tokenExpirySchema.parse(JSON.parse(response.text)).token.expires_at);
  return { valid: true, until: Number.isNaN(expires) ? Date.now() + 300_000 : expires };
}

const tokenExpirySchema = z.object({ token: z.object({ expires_at: z.string() }) });

async function passwordToken(identityUrl: string, options: KeystoneAdminOptions): Promise<string> {
  if (options.username === undefined || options.password === undefined || options.projectName === undefined) {
    throw new Error('registerInKeystone: pass adminToken, or username, password and projectName');
  }
  const response = await keystoneRequest(
    'POST',
    `${identityUrl}/auth/tokens`,
    {},
    {
      auth: {
        identity: {
          methods: ['password'],
          password: {
            user: {
              name: options.username,
              password: options.password,
              domain: { name: options.userDomainName ?? 'Default' },
            },
          },
        },
        scope: {
          project: { name: options.projectName, domain: { name: options.projectDomainName ?? 'Default' } },
        },
      },
    },
  );
  const token = response.headers['x-subject-token'];
  if (response.status !== 201 || typeof token !== 'string') {
    throw new Error(
      `Keystone refused the admin credentials (${response.status}): ${response.text.slice(0, 300)}`,
    );
  }
  return token;
}

/** Returns whether the region had to be created. */
async function ensureRegion(keystone: KeystoneCall, region: string): Promise<boolean> {
  const found = await keystone('GET', `/regions/${encodeURIComponent(region)}`, undefined, [404]);
  if (found !== undefined && isRecord(found) && isRecord(found.region)) return false;
  await keystone('POST', '/regions', { region: { id: region, description: 'Kaizen test region' } }, [409]);
  return true;
}

async function ensureService(
  keystone: KeystoneCall,
  type: QuotaService,
): Promise<{ id: string; name: string }> {
  const listed = serviceListSchema.parse(await keystone('GET', `/services?type=${type}`)).services;
  // Sorting makes every caller reuse the same service if an earlier run left more than one.
  const existing = [...listed].sort((a, b) => a.id.localeCompare(b.id))[0];
  if (existing !== undefined) return { id: existing.id, name: existing.name ?? SERVICE_NAMES[type] };
  const name = SERVICE_NAMES[type];
  const created = serviceSchema.parse(
    await keystone('POST', '/services', {
      service: { type, name, description: `Kaizen test ${name}`, enabled: true },
    }),
  );
  return { id: created.service.id, name };
}

function v3Url(authUrl: string): string {
  const trimmed = authUrl.replace(/\/+$/, '');
  return trimmed.endsWith('/v3') ? trimmed : `${trimmed}/v3`;
}

/** A lock directory shared by every process on this machine that registers in the same Keystone. */
async function withLock<T>(identityUrl: string, work: () => Promise<T>): Promise<T> {
  const name = createHash('sha256').update(identityUrl).digest('hex').slice(0, 16);
  const lockDir = join(tmpdir(), `kaizen-keystone-catalog-${name}.lock`);
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      await mkdir(lockDir);
      break;
    } catch (error) {
      if (!(error instanceof Error && 'code' in error && error.code === 'EEXIST')) throw error;
      // A holder that died leaves the directory behind; registration never takes this long.
      const age = Date.now() - (await stat(lockDir).catch(() => ({ mtimeMs: Date.now() }))).mtimeMs;
      if (age > 30_000) await rm(lockDir, { recursive: true, force: true });
      if (Date.now() > deadline) throw new Error(`registerInKeystone: lock ${lockDir} held for over 60 s`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  try {
    return await work();
  } finally {
    await rm(lockDir, { recursive: true, force: true });
  }
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function sendJson(response: ServerResponse, status: number, body: unknown): void {
  if (response.headersSent) return;
  response.writeHead(status, { 'content-type': 'application/json' });
  response.end(JSON.stringify(body));
}
