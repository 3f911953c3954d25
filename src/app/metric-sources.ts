/**
 * The Redis reads behind the shared-state gauges of src/platform/metrics.ts. Every replica reads the same
 * keys, so every replica reports the same values.
 */

import type { ApplicationStore } from '../domain/applications/store.js';
import { sheetLastReadAge } from '../domain/intake/last-read.js';
import type { HealthCheck } from '../platform/http/health.js';
import { checkHealth } from '../platform/http/health.js';
import { keys } from '../platform/keys.js';
import type { SharedStateSources } from '../platform/metrics.js';
import type { Redis } from '../platform/redis.js';

/** Counting applications reads every record: at most once per this long per process. */
const APPLICATION_COUNT_TTL_MS = 30_000;
/** The outbox's oldest message is looked for among the first this many by due time. */
const OUTBOX_SAMPLE = 100;

export function sharedStateSources(parts: {
  redis: Redis;
  applications: ApplicationStore | undefined;
  /** The outbox gauges are left out where mail is off. */
  mail: boolean;
  /** The sheet gauge is left out where Sheets is off. */
  sheets: boolean;
  checks: HealthCheck[];
}): SharedStateSources {
  const { redis, applications } = parts;
  let cached: { at: number; counts: Promise<Record<string, number>> } | undefined;
  return {
    applicationsByState: applications
      ? () => {
          if (cached === undefined || Date.now() - cached.at > APPLICATION_COUNT_TTL_MS) {
            const counts = applications.countByState();
            cached = { at: Date.now(), counts };
            counts.catch(() => {
              cached = undefined;
            });
          }
          return cached.counts;
        }
      : undefined,
    outbox: parts.mail ? () => readOutbox(redis) : undefined,
    sheetLastReadAgeSeconds: parts.sheets ? () => sheetLastReadAge(redis) : undefined,
    dependencies: async () => {
      const report = await checkHealth(parts.checks);
      return Object.fromEntries(
        Object.entries(report.checks).map(([name, result]) => [name, result === 'ok']),
      );
    },
  };
}

async function readOutbox(redis: Redis): Promise<{ depth: number; oldestAgeSeconds: number }> {
  const [depth, ids] = await Promise.all([
    redis.zcard(keys.mailOutbox()),
    redis.zrange(keys.mailOutbox(), 0, OUTBOX_SAMPLE - 1),
  ]);
  if (ids.length === 0) return { depth, oldestAgeSeconds: 0 };
  const pipeline = redis.pipeline();
  for (const id of ids) pipeline.hget(keys.mailMessage(id), 'created');
  const created = ((await pipeline.exec()) ?? [])
    .map(([, value]) => Number(value))
    .filter((value) => value > 0);
  const oldest = Math.min(...created);
  return { depth, oldestAgeSeconds: Number.isFinite(oldest) ? Math.max(0, (Date.now() - oldest) / 1000) : 0 };
}
