/**
 * The applications tab's header row as the last whole read found it, kept in Redis: it tells a poll
 * where the Timestamp, Email and PIN columns are before it reads anything, so the poll can read just
 * those (see `ApplicationsSheet.readApplicationKeys`). In Redis rather than in the process, so a
 * restarted bot or another replica does not start with a read of the whole tab.
 */
import { keys } from '../../platform/keys.js';
import type { Redis } from '../../platform/redis.js';

export async function loadKnownHeader(redis: Redis): Promise<string[] | undefined> {
  const raw = await redis.get(keys.sheetHeader());
  if (raw === null) return undefined;
  try {
    const cells: unknown = JSON.parse(raw);
    return Array.isArray(cells) && cells.every((cell) => typeof cell === 'string') ? cells : undefined;
  } catch {
    return undefined;
  }
}

export async function saveKnownHeader(redis: Redis, header: readonly string[]): Promise<void> {
  await redis.set(keys.sheetHeader(), JSON.stringify(header));
}
