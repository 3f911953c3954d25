/**
 * The one HTTP(S) listener on PORT: our routes, plus Bolt's /slack/events in HTTP mode.
 * With TLS files it serves HTTPS itself and reloads the certificate on `reloadTls()` (SIGHUP).
 */
import { readFileSync } from 'node:fs';
import { createServer as createHttp, type RequestListener, type Server } from 'node:http';
import { createServer as createHttps, type Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { KaizenError } from '../errors.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import { clientIp, isHttps } from './client-ip.js';
import { compileRoutes, matchRoute, type Route, sendText } from './router.js';

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

  const listener: RequestListener = (req, res) => {
    const started = performance.now();
    const url = new URL(req.url ?? '/', 'http://localhost');
    res.on('finish', () => {
      metrics?.observeRequest(routeLabel(url.pathname), res.statusCode, performance.now() - started);
    });
    if (options.tls) res.setHeader('strict-transport-security', 'max-age=31536000; includeSubDomains');
    if (url.pathname === '/slack/events' && options.slackListener) {
      options.slackListener(req, res);
      return;
    }
    const match = matchRoute(routes, req.method ?? 'GET', url.pathname);
    if (match.kind === 'not_found') return sendText(res, 404, 'Not found\n');
    if (match.kind === 'method_not_allowed') {
      return sendText(res, 405, 'Method not allowed\n', { allow: match.allow.join(', ') });
    }
    const ctx = { req, res, url, params: match.params, clientIp: clientIp(req, trusted) };
    Promise.resolve()
      .then(() => match.route.handler(ctx))
      .catch((error: unknown) => {
        if (error instanceof KaizenError && error.status && error.status < 500) {
          return sendText(res, error.status, `${error.message}\n`);
        }
        log.error({ err: error, path: url.pathname, https: isHttps(req, trusted) }, 'request failed');
        sendText(res, 500, 'Something went wrong on our side. Please try again in a minute.\n');
      });
  };

  const readTls = () => ({
    cert: readFileSync(options.tls!.certFile),
    key: readFileSync(options.tls!.keyFile),
  });
  const server = options.tls ? createHttps(readTls(), listener) : createHttp(listener);
  // Slow or idle clients must not pin sockets forever.
  server.headersTimeout = 15_000;
  server.requestTimeout = 30_000;
  server.keepAliveTimeout = 5_000;

  return {
    server,
    listen(port, host = '0.0.0.0') {
      return new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          server.off('error', reject);
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

/** Collapses ids in paths so metrics have few label values. */
function routeLabel(pathname: string): string {
  if (pathname.startsWith('/token/')) return '/token/:user_id';
  return ['/', '/healthz', '/metrics', '/slack/events'].includes(pathname) ? pathname : 'other';
}
