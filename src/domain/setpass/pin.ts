/**
 * The applicant's 4-digit PIN is a second factor on the password page. Only 10,000 PINs exist, so
 * no hash that anyone can compute offline protects one: a Redis dump would be searched in moments.
 * The PIN is kept as HMAC-SHA256 under a key derived from SETPASS_SECRET instead (its own HKDF
 * label, so it opens nothing else): without the secret, a dump holds nothing to search against.
 * Stored as `hmac$<salt b64url>$<mac b64url>`; the salt keeps two users with the same PIN apart.
 *
 * Hashes written before this scheme (`scrypt$<salt>$<hash>`, unkeyed) are still accepted; a right
 * PIN against one answers a keyed hash to store in its place.
 */
import { createHmac, randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';
import { deriveKey } from './crypto.js';
import { kdfSlots } from './limits.js';

export const PIN_PATTERN = /^\d{4}$/;

const SCHEME = 'hmac';
const SALT_BYTES = 16;

export function isValidPin(pin: string): boolean {
  return PIN_PATTERN.test(pin);
}

export interface PinCheck {
  matches: boolean;
  /** A right PIN against an old, unkeyed hash: the keyed hash to store instead. */
  rehashed?: string;
}

export class PinHasher {
  private readonly key: Buffer;
  /** Checked on dead links, so that they cost what a live link costs. */
  private readonly decoyHash: string;

  constructor(secret: Buffer) {
    this.key = deriveKey(secret, 'kaizen setpass pin hmac');
    this.decoyHash = this.hash('0000');
  }

  hash(pin: string): string {
    const salt = randomBytes(SALT_BYTES);
    return `${SCHEME}$${salt.toString('base64url')}$${this.mac(salt, pin).toString('base64url')}`;
  }

  async verify(pin: string, stored: string): Promise<PinCheck> {
    const [scheme, salt, expected] = stored.split('$');
    if (!salt || !expected) return { matches: false };
    if (scheme === SCHEME) return { matches: this.matches(pin, salt, expected) };
    if (scheme === LEGACY_SCHEME) {
      const matches = await verifyLegacyScrypt(pin, salt, expected);
      return matches ? { matches, rehashed: this.hash(pin) } : { matches };
    }
    return { matches: false };
  }

  /** The same work as verifying a keyed hash, for a link that does not exist. */
  decoy(pin: string): void {
    const [, salt, expected] = this.decoyHash.split('$');
    this.matches(pin, salt!, expected!);
  }

  private matches(pin: string, salt: string, expected: string): boolean {
    const actual = this.mac(Buffer.from(salt, 'base64url'), pin);
    const wanted = Buffer.from(expected, 'base64url');
    // Compared even when the lengths differ, so a short stored value costs the same.
    const same = timingSafeEqual(actual, wanted.length === actual.length ? wanted : actual);
    return same && wanted.length === actual.length;
  }

  private mac(salt: Buffer, pin: string): Buffer {
    return createHmac('sha256', this.key).update(salt).update(pin, 'utf8').digest();
  }
}

const LEGACY_SCHEME = 'scrypt';
// The parameters the old hashes were made with.
const LEGACY_PARAMS = { N: 16384, r: 8, p: 1, maxmem: 64 * 1024 * 1024 };
const LEGACY_KEY_LENGTH = 32;
const rawScrypt = promisify(scrypt) as (
  password: string,
  salt: Buffer,
  keylen: number,
  options: object,
) => Promise<Buffer>;
/** Every scrypt call waits for one of the few KDF slots, so a flood of posts cannot take the thread pool. */
const scryptAsync: typeof rawScrypt = (...args) => kdfSlots.run(() => rawScrypt(...args));

async function verifyLegacyScrypt(pin: string, salt: string, expected: string): Promise<boolean> {
  const actual = await scryptAsync(pin, Buffer.from(salt, 'base64url'), LEGACY_KEY_LENGTH, LEGACY_PARAMS);
  const wanted = Buffer.from(expected, 'base64url');
  return wanted.length === actual.length && timingSafeEqual(wanted, actual);
}
