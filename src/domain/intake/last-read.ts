/**
 * When the applications sheet was last read successfully, by any replica: kept in Redis, so the
 * metric about it (and the alert on it) is the same whichever replica is asked.
 */
import { keys } from '../../platform/keys.js';
import type { Redis } from '../../platform/redis.js';

export async function recordSheetRead(redis: Redis, at = Date.now()): Promise<void> {
  await redis.set(keys.sheetLastRead(), String(at));
}

/** Seconds since the last successful read; undefined when the sheet was never read. */
export async function sheetLastReadAge(redis: Redis, now = Date.now()): Promise<number | undefined> {
  const at = Number(await redis.get(keys.sheetLastRead()));
  return at > 0 ? Math.max(0, (now - at) / 1000) : undefined;
}
