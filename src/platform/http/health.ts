import { describeError } from '../errors.js';
import type { Metrics } from '../metrics.js';
import { type Route, send, sendJson } from './router.js';

export interface HealthCheck {
  name: string;
  check: () => Promise<void>;
}

export interface HealthReport {
  status: 'ok' | 'degraded';
  checks: Record<string, string>;
}

/** Runs every configured check at once; each one either answers `ok` or the reason it failed. */
export async function checkHealth(checks: HealthCheck[], timeoutMs = 2_000): Promise<HealthReport> {
  const results = await Promise.all(
    checks.map(async ({ name, check }) => {
      let timer: NodeJS.Timeout | undefined;
      try {
        await Promise.race([
          check(),
          new Promise<never>((_, reject) => {
            timer = setTimeout(() => reject(new Error('timeout')), timeoutMs);
          }),
        ]);
        return [name, 'ok'] as const;
      } catch (error) {
        const reason =
          error instanceof Error && error.message === 'timeout' ? 'no answer in time' : describeError(error);
        return [name, `failing: ${reason}`] as const;
      } finally {
        clearTimeout(timer);
      }
    }),
  );
  const status = results.every(([, result]) => result === 'ok') ? 'ok' : 'degraded';
  return { status, checks: Object.fromEntries(results) };
}

/** GET /healthz: the fixed {status, checks} answer, with the running version alongside. */
export function healthRoutes(checks: HealthCheck[], version: string): Route[] {
  return [
    {
      method: 'GET',
      path: '/healthz',
      handler: async ({ res }) => {
        const report = await checkHealth(checks);
        sendJson(
          res,
          report.status === 'ok' ? 200 : 503,
          { ...report, version },
          { 'cache-control': 'no-store' },
        );
      },
    },
  ];
}

/** GET /metrics: the Prometheus text exposition. */
export function metricsRoutes(metrics: Metrics): Route[] {
  return [
    {
      method: 'GET',
      path: '/metrics',
      handler: async ({ res }) =>
        send(res, 200, await metrics.render(), metrics.contentType, { 'cache-control': 'no-store' }),
    },
  ];
}
