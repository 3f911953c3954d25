/**
 * The secrets of a password link, and how they are kept out of Redis: the token itself is stored
 * only as an HMAC, and the temporary password (and the token, for re-sending) only AES-256-GCM
 * encrypted. Both keys are derived from SETPASS_SECRET with HKDF, one per purpose, so the HMAC key
 * can never decrypt anything (the PIN key of pin.ts is derived the same way, with its own label).
 */
import { createHmac, hkdfSync, randomBytes } from 'node:crypto';
import { Sealer } from '../../platform/crypto/sealer.js';
import { KaizenError } from '../../platform/errors.js';

const TOKEN_BYTES = 32;
/** base64url of 32 bytes: 43 characters, no padding. */
export const TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/;

/** A fresh link token: 32 random bytes, base64url. */
export function newToken(): string {
  return randomBytes(TOKEN_BYTES).toString('base64url');
}

/** A temporary Keystone password nobody needs to type: 24 random bytes, base64url. */
export function newTemporaryPassword(): string {
  return randomBytes(24).toString('base64url');
}

export function isWellFormedToken(token: string): boolean {
  return TOKEN_PATTERN.test(token);
}

export class SetpassCrypto {
  private readonly hmacKey: Buffer;
  private readonly sealer: Sealer;

  constructor(secret: Buffer) {
    if (secret.length < 32) {
      throw new KaizenError('config', 'SETPASS_SECRET must hold at least 32 random bytes (base64)');
    }
    this.hmacKey = deriveKey(secret, 'kaizen setpass token hmac');
    this.sealer = new Sealer(secret, 'kaizen setpass aes-256-gcm');
  }

  /** What Redis keys a token by: HMAC-SHA256, hex. */
  tokenHmac(token: string): string {
    return createHmac('sha256', this.hmacKey).update(token, 'utf8').digest('hex');
  }

  /** Sealed with AES-256-GCM; `context` is bound as associated data. */
  seal(plaintext: string, context: string): string {
    return this.sealer.seal(plaintext, context);
  }

  /** The plaintext, or undefined when the value was altered, moved to another record, or is not ours. */
  open(sealed: string, context: string): string | undefined {
    return this.sealer.open(sealed, context);
  }
}

/** A 32-byte key for one purpose; keys for different purposes tell nothing about each other. */
export function deriveKey(secret: Buffer, purpose: string): Buffer {
  return Buffer.from(hkdfSync('sha256', secret, 'kaizen-registration', purpose, 32));
}
