import { KaizenError } from '../platform/errors.js';

export const sameName = (a: string, b: string): boolean => a.trim().toLowerCase() === b.trim().toLowerCase();

/**
 * The one object named `name`, ignoring case. Keystone on SQLite lets `Ann` and `ann` coexist, so an
 * exact match wins; several case-insensitive matches and no exact one is a conflict a person must sort out.
 */
export function pickOne<T extends { id: string }>(
  matches: readonly T[],
  isExact: (item: T) => boolean,
  describe: string,
): T | undefined {
  const exact = matches.filter(isExact);
  if (exact.length === 1) return exact[0];
  if (exact.length === 0 && matches.length <= 1) return matches[0];
  const candidates = exact.length > 1 ? exact : matches;
  throw new KaizenError(
    'conflict',
    `Keystone has ${candidates.length} ${describe} (ids ${candidates.map((c) => c.id).join(', ')}): rename or remove all but one`,
    { service: 'keystone' },
  );
}

export function pickByName<T extends { id: string; name: string }>(
  items: readonly T[],
  name: string,
  describe: string,
): T | undefined {
  const wanted = name.trim();
  return pickOne(
    items.filter((item) => sameName(item.name, wanted)),
    (item) => item.name === wanted,
    describe,
  );
}
