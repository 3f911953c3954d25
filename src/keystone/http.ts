import type { z } from 'zod';
import { KaizenError } from '../platform/errors.js';
import { displayUrl, errorFromFailure, errorFromResponse, type RequestContext } from './errors.js';

export type FetchLike = (input: string, init: RequestInit) => Promise<Response>;

export interface KeystoneRequest {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE' | 'HEAD';
  /** Relative to the v3 base, starting with `/`. */
  path: string;
  query?: Record<string, string | undefined>;
  token?: string;
  headers?: Record<string, string>;
  body?: unknown;
  /** Values in the body (passwords) that must never reach an error message. */
  secrets?: readonly string[];
}

export interface KeystoneResponse {
  status: number;
  headers: Headers;
  body: unknown;
}

/** Counts every request made, so benchmarks can report Keystone calls per approval. */
export interface KeystoneStats {
  requests: number;
  tokenRequests: number;
}

/** One request to Keystone as it ended, for metrics and the debug log. */
export interface KeystoneCall {
  /** Method and path with every id collapsed, e.g. `PUT /projects/:id/users/:id/roles/:id`. */
  operation: string;
  /** The HTTP status, or undefined when no answer came. */
  status: number | undefined;
  outcome: 'ok' | 'client_error' | 'server_error' | 'unreachable';
  seconds: number;
}

export type KeystoneObserver = (call: KeystoneCall) => void;

/** Path segments that are Keystone's own words; anything else in a path is an id or a name. */
const PATH_WORDS = new Set([
  'auth',
  'tokens',
  'catalog',
  'projects',
  'users',
  'roles',
  'role_assignments',
  'domains',
  'groups',
  'password',
  'credentials',
  'application_credentials',
  'system',
  'regions',
  'services',
  'endpoints',
  'OS-FEDERATION',
  'identity_providers',
  'protocols',
  'mappings',
  'OS-INHERIT',
  'inherited_to_projects',
]);

/** A bounded label for a request: ids and names in the path become `:id`, the query is dropped. */
export function keystoneOperation(method: string, path: string): string {
  const segments = path
    .split('?')[0]!
    .split('/')
    .filter(Boolean)
    .map((segment) => (PATH_WORDS.has(segment) ? segment : ':id'));
  return `${method} /${segments.join('/')}`;
}

function outcomeOf(status: number | undefined): KeystoneCall['outcome'] {
  if (status === undefined) return 'unreachable';
  if (status < 400) return 'ok';
  return status < 500 ? 'client_error' : 'server_error';
}

/** `http://host:5000`, `http://host:5000/` and `http://host:5000/v3/` all name the same v3 API. */
export function v3Base(authUrl: string): string {
  const trimmed = authUrl.trim().replace(/\/+$/, '');
  return /\/v3$/.test(trimmed) ? trimmed : `${trimmed}/v3`;
}

export class KeystoneHttp {
  readonly base: string;
  readonly stats: KeystoneStats = { requests: 0, tokenRequests: 0 };

  constructor(
    readonly authUrl: string,
    private readonly timeoutMs: number,
    private readonly fetchImpl: FetchLike,
    private readonly observe?: KeystoneObserver,
  ) {
    try {
      new URL(authUrl);
    } catch {
      throw new KaizenError('config', `The Keystone auth URL "${displayUrl(authUrl)}" is not a URL`, {
        service: 'keystone',
      });
    }
    this.base = v3Base(authUrl);
  }

  /** Sends one request and answers whatever status came back; only a missing answer throws. */
  async send(request: KeystoneRequest): Promise<KeystoneResponse> {
    const context = this.context(request);
    const headers: Record<string, string> = { accept: 'application/json', ...request.headers };
    if (request.token !== undefined) headers['x-auth-token'] = request.token;
    if (request.body !== undefined) headers['content-type'] = 'application/json';
    for (let attempt = 1; ; attempt++) {
      this.stats.requests += 1;
      const started = performance.now();
      let status: number | undefined;
      try {
        const response = await this.fetchImpl(this.url(request), {
          method: request.method,
          headers,
          body: request.body === undefined ? undefined : JSON.stringify(request.body),
          signal: AbortSignal.timeout(this.timeoutMs),
        });
        const text = await response.text();
        status = response.status;
        return { status: response.status, headers: response.headers, body: parseJson(text) };
      } catch (error) {
        // A pooled keep-alive connection the server already closed fails before the request is
        // read; one fresh attempt is safe, and creates are get-or-create above this layer anyway.
        if (attempt === 1 && isStaleConnection(error)) continue;
        throw errorFromFailure(error, context, this.timeoutMs);
      } finally {
        this.observe?.({
          operation: keystoneOperation(request.method, request.path),
          status,
          outcome: outcomeOf(status),
          seconds: (performance.now() - started) / 1000,
        });
      }
    }
  }

  /** Sends, insists on one of the `ok` statuses and parses the body with `schema`. */
  async json<S extends z.ZodType>(
    request: KeystoneRequest,
    schema: S,
    ok: readonly number[] = [200],
  ): Promise<z.output<S>> {
    const response = await this.send(request);
    this.check(response, request, ok);
    return this.parse(response, request, schema);
  }

  /** Sends and insists on one of the `ok` statuses; for calls that answer 204 No Content. */
  async empty(request: KeystoneRequest, ok: readonly number[] = [204]): Promise<void> {
    this.check(await this.send(request), request, ok);
  }

  check(response: KeystoneResponse, request: KeystoneRequest, ok: readonly number[]): void {
    if (!ok.includes(response.status)) {
      throw errorFromResponse(response.status, response.body, this.context(request));
    }
  }

  parse<S extends z.ZodType>(response: KeystoneResponse, request: KeystoneRequest, schema: S): z.output<S> {
    const parsed = schema.safeParse(response.body);
    if (parsed.success) return parsed.data;
    // Issue paths only: zod's messages can quote the values, and a value may be a secret.
    const fields = [...new Set(parsed.error.issues.map((issue) => issue.path.join('.') || '(body)'))];
    throw new KaizenError(
      'upstream',
      `Keystone at ${displayUrl(this.authUrl)} answered ${request.method} ${request.path} with a body this bot does not understand (fields: ${fields.slice(0, 5).join(', ')})`,
      { service: 'keystone', status: response.status },
    );
  }

  context(request: KeystoneRequest): RequestContext {
    return {
      authUrl: this.authUrl,
      method: request.method,
      path: request.path,
      secrets: request.secrets ?? [],
    };
  }

  private url(request: KeystoneRequest): string {
    const url = new URL(this.base + request.path);
    for (const [key, value] of Object.entries(request.query ?? {})) {
      if (value !== undefined) url.searchParams.set(key, value);
    }
    return url.toString();
  }
}

function parseJson(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function isStaleConnection(error: unknown): boolean {
  const cause = error instanceof Error ? (error.cause as { code?: string } | undefined) : undefined;
  return cause?.code === 'ECONNRESET' || cause?.code === 'UND_ERR_SOCKET';
}
