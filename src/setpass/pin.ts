/**
 * The applicant's 4-digit PIN is a second factor on the password page. It is kept only as a slow,
 * salted scrypt hash: `scrypt$<salt b64url>$<hash b64url>`.
 */
import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';
import { kdfSlots } from './limits.js';

const rawScrypt = promisify(scrypt) as (
  password: string,
  salt: Buffer,
  keylen: number,
  options: object,
) => Promise<Buffer>;
/** Every scrypt call waits for one of the few KDF slots, so a flood of posts cannot take the thread pool. */
const scryptAsync: typeof rawScrypt = (...args) => kdfSlots.run(() => rawScrypt(...args));
// N=2^14 costs ~15 ms here: slow enough that 10^4 PINs are not a moment's work offline, fast enough per request.
const PARAMS = { N: 16384, r: 8, p: 1, maxmem: 64 * 1024 * 1024 };
const KEY_LENGTH = 32;

export const PIN_PATTERN = /^\d{4}$/;

export function isValidPin(pin: string): boolean {
  return PIN_PATTERN.test(pin);
}

export async function hashPin(pin: string): Promise<string> {
  const salt = randomBytes(16);
  const hash = await scryptAsync(pin, salt, KEY_LENGTH, PARAMS);
  return `scrypt$${salt.toString('base64url')}$${hash.toString('base64url')}`;
}

export async function verifyPin(pin: string, stored: string): Promise<boolean> {
  const [scheme, salt, expected] = stored.split('$');
  if (scheme !== 'scrypt' || !salt || !expected) return false;
  const actual = await scryptAsync(pin, Buffer.from(salt, 'base64url'), KEY_LENGTH, PARAMS);
  const wanted = Buffer.from(expected, 'base64url');
  return wanted.length === actual.length && timingSafeEqual(wanted, actual);
}
