/**
 * A reset asked for in Slack waits for its **Reset** button. The button carries only a random
 * name for the confirmation; Redis holds whom it is about. Taking it is one atomic GETDEL, so a
 * double click, a second admin on the same message, or an old message resets at most once.
 */
import { randomBytes } from 'node:crypto';
import { keys } from '../src/platform/keys.js';
import type { Redis } from '../src/platform/redis.js';

export const CONFIRMATION_TTL_S = 15 * 60;

export interface PendingReset {
  userId: string;
  username: string;
  /** Who asked for it, as the audit names them. */
  requestedBy: string;
}

export async function createConfirmation(
  redis: Redis,
  reset: PendingReset,
): Promise<{ confirmation: string; expiresAt: Date }> {
  const confirmation = randomBytes(16).toString('base64url');
  await redis.set(keys.resetConfirmation(confirmation), JSON.stringify(reset), 'EX', CONFIRMATION_TTL_S);
  return { confirmation, expiresAt: new Date(Date.now() + CONFIRMATION_TTL_S * 1000) };
}

/** Reads a confirmation without using it up (to decide whether a PIN must be asked for first). */
export async function peekConfirmation(
  redis: Redis,
  confirmation: string,
): Promise<PendingReset | undefined> {
  if (!isConfirmationName(confirmation)) return undefined;
  return parse(await redis.get(keys.resetConfirmation(confirmation)));
}

/** Uses the confirmation up; undefined when it expired or was used already. */
export async function takeConfirmation(
  redis: Redis,
  confirmation: string,
): Promise<PendingReset | undefined> {
  if (!isConfirmationName(confirmation)) return undefined;
  return parse(await redis.getdel(keys.resetConfirmation(confirmation)));
}

function isConfirmationName(text: string): boolean {
  return /^[A-Za-z0-9_-]{22}$/.test(text);
}

function parse(raw: string | null): PendingReset | undefined {
  if (raw === null) return undefined;
  const value = JSON.parse(raw) as Partial<PendingReset>;
  if (typeof value.userId !== 'string' || typeof value.username !== 'string') return undefined;
  return { userId: value.userId, username: value.username, requestedBy: value.requestedBy ?? '' };
}
