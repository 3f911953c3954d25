/**
 * Tidying Redis. An application lock is always taken with an expiry, so one without (left by a
 * crash between two commands, or by hand) would block its applicant for good: it is released.
 * The audit stream is appended with approximate trimming, which lets it grow a little past
 * AUDIT_MAX_LENGTH; here it is cut to the exact length.
 */
import { keys } from '../keys.js';
import type { Logger } from '../log.js';
import { type Redis, scanTargets } from '../redis.js';

export interface HousekeepingDeps {
  redis: Redis;
  /** REDIS_KEY_PREFIX: SCAN patterns and the keys it answers carry it, unlike other commands. */
  keyPrefix: string;
  auditMaxLength: number;
  log: Logger;
}

export interface HousekeepingRun {
  locksReleased: number;
  auditTrimmed: number;
}

// KEYS[1] = lock. Only a lock that still has no expiry goes: one taken meanwhile has one.
const RELEASE_IF_ETERNAL = `
if redis.call('PTTL', KEYS[1]) == -1 then return redis.call('DEL', KEYS[1]) end
return 0
`;

export async function keepHouse(deps: HousekeepingDeps): Promise<HousekeepingRun> {
  const locksReleased = await releaseEternalLocks(deps);
  const auditTrimmed = await deps.redis.xtrim(keys.audit(), 'MAXLEN', deps.auditMaxLength);
  if (locksReleased > 0 || auditTrimmed > 0) {
    deps.log.info({ locksReleased, auditTrimmed }, 'housekeeping done');
  }
  return { locksReleased, auditTrimmed };
}

async function releaseEternalLocks(deps: HousekeepingDeps): Promise<number> {
  const { redis, keyPrefix, log } = deps;
  const pattern = `${escapeGlob(keyPrefix)}${keys.applicationLockPattern()}`;
  let released = 0;
  for (const server of scanTargets(redis)) {
    let cursor = '0';
    do {
      const [next, found] = await server.scan(cursor, 'MATCH', pattern, 'COUNT', 500);
      cursor = next;
      for (const fullKey of found) {
        const key = fullKey.slice(keyPrefix.length);
        if ((await redis.eval(RELEASE_IF_ETERNAL, 1, key)) === 1) {
          released += 1;
          log.warn({ lock: key }, 'released an application lock that had no expiry');
        }
      }
    } while (cursor !== '0');
  }
  return released;
}

/** A prefix is literal text; SCAN reads `*`, `?`, `[` and `\` in it as a pattern. */
function escapeGlob(text: string): string {
  return text.replace(/[*?[\]\\]/g, '\\$&');
}
