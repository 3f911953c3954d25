import { isKaizenError } from '../platform/errors.js';

export interface Ensured<T> {
  value: T;
  /** False when the object already existed, including when another writer created it first. */
  created: boolean;
}

/**
 * Look up, create when missing, and when the create loses a race (Keystone answers 409) return the
 * winner's object: a retried or concurrent approval must end with one project and one user.
 */
export async function getOrCreate<T>(
  find: () => Promise<T | undefined>,
  create: () => Promise<T>,
  /** The caller looked a moment ago and found nothing: create at once (a conflict still looks again). */
  knownMissing = false,
): Promise<Ensured<T>> {
  const existing = knownMissing ? undefined : await find();
  if (existing !== undefined) return { value: existing, created: false };
  try {
    return { value: await create(), created: true };
  } catch (error) {
    if (!isKaizenError(error, 'conflict')) throw error;
    const winner = await find();
    if (winner === undefined) throw error;
    return { value: winner, created: false };
  }
}
