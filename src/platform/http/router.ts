/**
 * A small router on node:http. The bot serves few paths (password page, /token, health, metrics,
 * and Bolt's /slack/events), so a table of routes is clearer than a framework.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { KaizenError } from '../errors.js';

export interface RequestContext {
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  params: Record<string, string>;
  /** The client address, after TRUSTED_PROXIES handling. */
  clientIp: string;
  /**
   * This request's id, for its log lines. Carried here rather than in the request context
   * (AsyncLocalStorage), whose promise hooks cost the password page a tenth of its throughput;
   * Slack payloads and jobs, whose work spreads far from the request, keep the request context.
   */
  requestId: string;
}

export type RouteHandler = (ctx: RequestContext) => Promise<void> | void;

export interface Route {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE' | 'HEAD';
  /** `/token/:user_id` style; `:name` matches one path segment. */
  path: string;
  handler: RouteHandler;
}

interface CompiledRoute extends Route {
  pattern: RegExp;
  names: string[];
}

export function compileRoutes(routes: Route[]): CompiledRoute[] {
  return routes.map((route) => {
    const names: string[] = [];
    const source = route.path
      .split('/')
      .map((segment) => {
        if (!segment.startsWith(':')) return segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
        names.push(segment.slice(1));
        return '([^/]+)';
      })
      .join('/');
    return { ...route, pattern: new RegExp(`^${source}/?$`), names };
  });
}

export type Match =
  | { kind: 'found'; route: CompiledRoute; params: Record<string, string> }
  | { kind: 'method_not_allowed'; allow: string[] }
  | { kind: 'not_found' }
  /** A path parameter whose percent-escapes do not decode (`/token/%FF`). */
  | { kind: 'bad_escape' };

export function matchRoute(routes: CompiledRoute[], method: string, pathname: string): Match {
  const allow: string[] = [];
  for (const route of routes) {
    const found = route.pattern.exec(pathname);
    if (!found) continue;
    if (route.method !== method && !(method === 'HEAD' && route.method === 'GET')) {
      allow.push(route.method);
      continue;
    }
    const params: Record<string, string> = {};
    for (const [index, name] of route.names.entries()) {
      const value = decodeSegment(found[index + 1] ?? '');
      if (value === undefined) return { kind: 'bad_escape' };
      params[name] = value;
    }
    return { kind: 'found', route, params };
  }
  return allow.length > 0 ? { kind: 'method_not_allowed', allow } : { kind: 'not_found' };
}

/** A path segment with its percent-escapes decoded; undefined when they are not valid UTF-8 escapes. */
export function decodeSegment(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}

/**
 * The request target as a URL on this host, or undefined when it is not one we serve. Origin-form
 * (`/path?query`) is taken as it is, `//` included, rather than as a scheme-relative URL;
 * absolute-form (`http://host/path`, which HTTP/1.1 servers must accept) keeps its path and query.
 * Asterisk- and authority-form targets (`*`, `host:port`) and anything else name no resource here.
 */
export function parseTarget(target: string | undefined): URL | undefined {
  if (target === undefined || target === '') return undefined;
  try {
    if (target.startsWith('/')) return new URL(`http://localhost${target}`);
    if (!/^https?:\/\//i.test(target)) return undefined;
    const absolute = new URL(target);
    return new URL(`http://localhost${absolute.pathname}${absolute.search}`);
  } catch {
    return undefined;
  }
}

/** Reads a request body up to `limitBytes`; a larger one is refused with 413 before it is buffered. */
export async function readBody(req: IncomingMessage, limitBytes: number): Promise<string> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > limitBytes)
    throw new KaizenError('invalid', 'The request body is too large.', { status: 413 });
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limitBytes)
      throw new KaizenError('invalid', 'The request body is too large.', { status: 413 });
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** The media type of a request without parameters, lower-cased (`application/json`). */
export function mediaType(req: IncomingMessage): string {
  return (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
}

export function send(
  res: ServerResponse,
  status: number,
  body: string,
  contentType: string,
  headers: Record<string, string> = {},
): void {
  if (res.headersSent) return;
  res.writeHead(status, {
    'content-type': contentType,
    'content-length': Buffer.byteLength(body),
    ...headers,
  });
  res.end(res.req?.method === 'HEAD' ? undefined : body);
}

export const sendText = (
  res: ServerResponse,
  status: number,
  body: string,
  headers?: Record<string, string>,
) => send(res, status, body, 'text/plain; charset=utf-8', headers);

export const sendJson = (
  res: ServerResponse,
  status: number,
  body: unknown,
  headers?: Record<string, string>,
) => send(res, status, JSON.stringify(body), 'application/json; charset=utf-8', headers);
