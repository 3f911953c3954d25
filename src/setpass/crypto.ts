/**
 * The secrets of a password link, and how they are kept out of Redis: the token itself is stored
 * only as an HMAC, and the temporary password (and the token, for re-sending) only AES-256-GCM
 * encrypted. Both keys are derived from SETPASS_SECRET with HKDF, one per purpose, so the HMAC key
 * can never decrypt anything.
 */
import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes } from 'node:crypto';
import { KaizenError } from '../errors.js';

const TOKEN_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const SEALED_VERSION = 'v1';
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
  private readonly aesKey: Buffer;

  constructor(secret: Buffer) {
    if (secret.length < 32) {
      throw new KaizenError('config', 'SETPASS_SECRET must hold at least 32 random bytes (base64)');
    }
    this.hmacKey = derive(secret, 'kaizen setpass token hmac');
    this.aesKey = derive(secret, 'kaizen setpass aes-256-gcm');
  }

  /** What Redis keys a token by: HMAC-SHA256, hex. */
  tokenHmac(token: string): string {
    return createHmac('sha256', this.hmacKey).update(token, 'utf8').digest('hex');
  }

  /** `v1.<iv, ciphertext, tag in base64url>`; `context` is bound as associated data. */
  seal(plaintext: string, context: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.aesKey, iv);
    cipher.setAAD(Buffer.from(context, 'utf8'));
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return `${SEALED_VERSION}.${Buffer.concat([iv, body, cipher.getAuthTag()]).toString('base64url')}`;
  }

  /** The plaintext, or undefined when the value was altered, moved to another record, or is not ours. */
  open(sealed: string, context: string): string | undefined {
    const [version, payload] = sealed.split('.');
    if (version !== SEALED_VERSION || payload === undefined) return undefined;
    const bytes = Buffer.from(payload, 'base64url');
    if (bytes.length < IV_BYTES + TAG_BYTES) return undefined;
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.aesKey, bytes.subarray(0, IV_BYTES));
      decipher.setAAD(Buffer.from(context, 'utf8'));
      decipher.setAuthTag(bytes.subarray(bytes.length - TAG_BYTES));
      const body = bytes.subarray(IV_BYTES, bytes.length - TAG_BYTES);
      return Buffer.concat([decipher.update(body), decipher.final()]).toString('utf8');
    } catch {
      return undefined;
    }
  }
}

function derive(secret: Buffer, purpose: string): Buffer {
  return Buffer.from(hkdfSync('sha256', secret, 'kaizen-registration', purpose, 32));
}
