/**
 * The one HTTP(S) listener on PORT: our routes, plus Bolt's /slack/events in HTTP mode.
 * With TLS files it serves HTTPS itself and reloads the certificate on `reloadTls()` (SIGHUP).
 */
import { readFileSync } from 'node:fs';
import {
  createServer as createHttp,
  type IncomingMessage,
  type RequestListener,
  type Server,
  type ServerResponse,
  STATUS_CODES,
} from 'node:http';
import { createServer as createHttps, type Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { KaizenError } from '../errors.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import { newRequestId } from '../request-context.js';
import { clientIp, isHttps } from './client-ip.js';
import { compileRoutes, matchRoute, parseTarget, type Route, sendText } from './router.js';

export interface HttpServerOptions {
  routes: Route[];
  log: Logger;
  metrics?: Metrics;
  trustedProxies?: string[];
  tls?: { certFile: string; keyFile: string };
  /** Bolt's HTTPReceiver listener, mounted at /slack/events. */
  slackListener?: RequestListener;
}

export interface HttpServer {
  server: Server | HttpsServer;
  listen(port: number, host?: string): Promise<number>;
  close(): Promise<void>;
  reloadTls(): void;
}

export function createHttpServer(options: HttpServerOptions): HttpServer {
  const routes = compileRoutes(options.routes);
  const trusted = options.trustedProxies ?? [];
  const { log, metrics } = options;

  /** One line per refused request; what was sent is clipped, and the logger scrubs secrets from it. */
  const badRequest = (req: IncomingMessage, res: ServerResponse, reason: string) => {
    log.warn({ method: clip(req.method), target: clip(req.url), reason }, 'bad request');
    req.resume();
    sendText(res, 400, 'Bad request\n', { connection: 'close' });
  };

  /**
   * What a handler threw: our own 4xx as it is; a client that went away gets nothing; anything else
   * is ours to fix and is logged with its details, the answer saying only that it failed.
   */
  const failed = (
    req: IncomingMessage,
    res: ServerResponse,
    path: string,
    error: unknown,
    requestId?: string,
  ) => {
    if (error instanceof KaizenError && error.status && error.status < 500) {
      return sendText(res, error.status, `${error.message}\n`);
    }
    if (error instanceof URIError) return badRequest(req, res, 'a percent-escape that does not decode');
    if (clientGone(req, error)) {
      log.info({ path, requestId }, 'the client went away before its request was answered');
      res.destroy();
      return;
    }
    log.error({ err: error, path, https: isHttps(req, trusted), requestId }, 'request failed');
    sendText(res, 500, 'Something went wrong on our side. Please try again in a minute.\n');
  };

  const route = (req: IncomingMessage, res: ServerResponse, url: URL) => {
    if (url.pathname === '/slack/events' && options.slackListener) {
      // Bolt throws on any method but POST; it gets the target as the origin-form we read.
      if (req.method !== 'POST') {
        req.resume();
        return sendText(res, 405, 'Method not allowed\n', { allow: 'POST' });
      }
      req.url = `${url.pathname}${url.search}`;
      options.slackListener(req, res);
      return;
    }
    const match = matchRoute(routes, req.method ?? 'GET', url.pathname);
    if (match.kind === 'bad_escape') return badRequest(req, res, 'a percent-escape that does not decode');
    if (match.kind === 'not_found') return sendText(res, 404, 'Not found\n');
    if (match.kind === 'method_not_allowed') {
      return sendText(res, 405, 'Method not allowed\n', { allow: match.allow.join(', ') });
    }
    const ctx = {
      req,
      res,
      url,
      params: match.params,
      clientIp: clientIp(req, trusted),
      requestId: newRequestId(),
    };
    Promise.resolve()
      .then(() => match.route.handler(ctx))
      .catch((error: unknown) => failed(req, res, url.pathname, error, ctx.requestId));
  };

  // Everything a request can throw is caught here: no request, however malformed, ends the process.
  const listener: RequestListener = (req, res) => {
    const started = performance.now();
    let label = 'other';
    res.on('finish', () => {
      metrics?.observeRequest(label, res.statusCode, performance.now() - started);
    });
    try {
      if (options.tls) res.setHeader('strict-transport-security', 'max-age=31536000; includeSubDomains');
      const url = parseTarget(req.url);
      if (url === undefined) return badRequest(req, res, 'the request target is not a path on this host');
      label = routeLabel(url.pathname);
      route(req, res, url);
    } catch (error) {
      failed(req, res, req.url ?? '', error);
    }
  };

  const readTls = () => ({
    cert: readFileSync(options.tls!.certFile),
    key: readFileSync(options.tls!.keyFile),
  });
  const server = options.tls ? createHttps(readTls(), listener) : createHttp(listener);
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) =>
    refuseUnreadable(error, socket, log),
  );
  // A CONNECT asks for a tunnel, which this server never opens.
  server.on('connect', (req: IncomingMessage, socket: Duplex) => {
    log.warn({ method: 'CONNECT', target: clip(req.url), reason: 'no tunnels here' }, 'bad request');
    closeWith(socket, 400);
  });
  // Slow or idle clients must not pin sockets forever.
  server.headersTimeout = 15_000;
  server.requestTimeout = 30_000;
  server.keepAliveTimeout = 5_000;

  return {
    server,
    listen(port, host = '0.0.0.0') {
      return new Promise((resolve, reject) => {
        const refused = (error: NodeJS.ErrnoException) => reject(listenError(error, port, host));
        server.once('error', refused);
        server.listen(port, host, () => {
          server.off('error', refused);
          resolve((server.address() as AddressInfo).port);
        });
      });
    },
    close() {
      return new Promise((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
        // In-flight requests get a moment to finish; then sockets are cut.
        setTimeout(() => server.closeAllConnections(), 5_000).unref();
      });
    },
    reloadTls() {
      if (!options.tls || !('setSecureContext' in server)) return;
      try {
        server.setSecureContext(readTls());
        log.info('TLS certificate reloaded');
      } catch (error) {
        log.error({ err: error }, 'TLS certificate reload failed; keeping the old one');
      }
    },
  };
}

/** Why the port could not be opened, in words an operator can act on. */
function listenError(error: NodeJS.ErrnoException, port: number, host: string): KaizenError {
  const where = `port ${port} on ${host}`;
  const message =
    error.code === 'EADDRINUSE'
      ? `${where} is already in use by another process; stop it or set PORT to a free port.`
      : error.code === 'EACCES'
        ? `${where} needs privileges this process does not have; set PORT to 1024 or above, or put a proxy in front.`
        : error.code === 'EADDRNOTAVAIL'
          ? `${host} is not an address of this machine; check HOST.`
          : `could not listen on ${where}: ${error.message}`;
  return new KaizenError('config', message, { cause: error });
}

/**
 * A request Node's parser could not read (a broken request line, a bad header, headers too
 * large, too slow): a plain answer and the connection closed, as Node does by default, plus one
 * log line. A socket already answering, or already gone, is only closed.
 */
function refuseUnreadable(error: NodeJS.ErrnoException, socket: Duplex, log: Logger): void {
  const answering = (socket as { _httpMessage?: ServerResponse })._httpMessage;
  if (error.code === 'ECONNRESET' || !socket.writable || answering?.headersSent) {
    socket.destroy();
    return;
  }
  const status =
    error.code === 'HPE_HEADER_OVERFLOW' ? 431 : error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
  log.warn({ code: error.code, status }, 'bad request: the request could not be read');
  closeWith(socket, status);
}

function closeWith(socket: Duplex, status: number): void {
  const body = `${STATUS_CODES[status] ?? 'Bad Request'}\n`;
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Bad Request'}\r\n` +
      'content-type: text/plain; charset=utf-8\r\n' +
      `content-length: ${Buffer.byteLength(body)}\r\n` +
      'connection: close\r\n\r\n' +
      body,
  );
}

/** Whether a handler failed because its client closed the connection or stopped sending. */
function clientGone(req: IncomingMessage, error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return (
    code === 'ECONNRESET' ||
    code === 'ERR_STREAM_PREMATURE_CLOSE' ||
    (error instanceof Error && error.message === 'aborted') ||
    req.socket.destroyed
  );
}

/** At most 200 characters of what a client sent, for a log line. */
function clip(text: string | undefined): string {
  const value = text ?? '';
  return value.length > 200 ? `${value.slice(0, 200)}…` : value;
}

/** Collapses ids in paths so metrics have few label values. */
function routeLabel(pathname: string): string {
  if (pathname.startsWith('/token/')) return '/token/:user_id';
  return ['/', '/healthz', '/metrics', '/slack/events'].includes(pathname) ? pathname : 'other';
}
