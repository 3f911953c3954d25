/**
 * AES-256-GCM for values that must not sit in Redis as plaintext (temporary passwords, queued mail
 * that carries password links). Each user of it derives its key from SETPASS_SECRET with HKDF under
 * a purpose of its own, so no sealer opens what another one sealed.
 */
import {
  createCipheriv,
  createDecipheriv,
  createSecretKey,
  hkdfSync,
  type KeyObject,
  randomBytes,
} from 'node:crypto';

const IV_BYTES = 12;
const TAG_BYTES = 16;
const VERSION = 's1';

export class Sealer {
  /** A KeyObject, imported once: a Buffer key is imported again by every cipher made with it. */
  private readonly key: KeyObject;

  constructor(secret: Buffer, purpose: string) {
    this.key = createSecretKey(Buffer.from(hkdfSync('sha256', secret, 'kaizen-registration', purpose, 32)));
  }

  /** A sealer whose key lives only in this process, for when SETPASS_SECRET is not configured. */
  static ephemeral(purpose: string): Sealer {
    return new Sealer(randomBytes(32), purpose);
  }

  /** `s1.<iv, ciphertext, tag in base64url>`; `context` (e.g. the record id) is bound as associated data. */
  seal(plaintext: string, context: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    cipher.setAAD(Buffer.from(context, 'utf8'));
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return `${VERSION}.${Buffer.concat([iv, body, cipher.getAuthTag()]).toString('base64url')}`;
  }

  /** The plaintext, or undefined when the value was altered, belongs to another context, or another key sealed it. */
  open(sealed: string, context: string): string | undefined {
    const [version, payload] = sealed.split('.');
    if (version !== VERSION || payload === undefined) return undefined;
    const bytes = Buffer.from(payload, 'base64url');
    if (bytes.length < IV_BYTES + TAG_BYTES) return undefined;
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.key, bytes.subarray(0, IV_BYTES));
      decipher.setAAD(Buffer.from(context, 'utf8'));
      decipher.setAuthTag(bytes.subarray(bytes.length - TAG_BYTES));
      const body = bytes.subarray(IV_BYTES, bytes.length - TAG_BYTES);
      return Buffer.concat([decipher.update(body), decipher.final()]).toString('utf8');
    } catch {
      return undefined;
    }
  }
}
