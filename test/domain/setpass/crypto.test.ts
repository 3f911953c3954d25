import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  isWellFormedToken,
  newTemporaryPassword,
  newToken,
  SetpassCrypto,
  TOKEN_PATTERN,
} from '../../../src/domain/setpass/crypto.js';

const secret = randomBytes(32);

describe('link tokens', () => {
  it('are 32 random bytes in base64url: 43 characters, never the same twice', () => {
    const tokens = Array.from({ length: 200 }, () => newToken());
    for (const token of tokens) {
      expect(token).toMatch(TOKEN_PATTERN);
      expect(Buffer.from(token, 'base64url')).toHaveLength(32);
    }
    expect(new Set(tokens).size).toBe(tokens.length);
  });

  it('tells a well-formed token from anything else', () => {
    expect(isWellFormedToken(newToken())).toBe(true);
    expect(isWellFormedToken(`${newToken()}x`)).toBe(false);
    expect(isWellFormedToken('a'.repeat(42))).toBe(false);
    expect(isWellFormedToken(`${'a'.repeat(42)}=`)).toBe(false);
  });

  it('makes temporary passwords of 24 random bytes', () => {
    const password = newTemporaryPassword();
    expect(Buffer.from(password, 'base64url')).toHaveLength(24);
    expect(newTemporaryPassword()).not.toBe(password);
  });
});

describe('SetpassCrypto', () => {
  const crypto = new SetpassCrypto(secret);

  it('keys token hashes by the secret: same secret, same hash; another secret, another hash', () => {
    const token = newToken();
    const hmac = crypto.tokenHmac(token);
    expect(hmac).toMatch(/^[0-9a-f]{64}$/);
    expect(new SetpassCrypto(Buffer.from(secret)).tokenHmac(token)).toBe(hmac);
    expect(new SetpassCrypto(randomBytes(32)).tokenHmac(token)).not.toBe(hmac);
    expect(hmac).not.toContain(token);
  });

  it('seals with a fresh IV each time and opens only with the same associated data', () => {
    const first = crypto.seal('temporary-password', 'context-a');
    const second = crypto.seal('temporary-password', 'context-a');
    expect(first).not.toBe(second);
    expect(first).not.toContain('temporary-password');
    expect(crypto.open(first, 'context-a')).toBe('temporary-password');
    expect(crypto.open(second, 'context-a')).toBe('temporary-password');
    expect(crypto.open(first, 'context-b')).toBeUndefined();
  });

  it('refuses a sealed value with any byte flipped, a truncated one, or one from another secret', () => {
    const sealed = crypto.seal('temporary-password', 'ctx');
    const [version, payload] = sealed.split('.') as [string, string];
    const bytes = Buffer.from(payload, 'base64url');
    for (const index of [0, 11, 12, bytes.length - 17, bytes.length - 1]) {
      const flipped = Buffer.from(bytes);
      flipped[index] = (flipped[index] ?? 0) ^ 0x01;
      expect(crypto.open(`${version}.${flipped.toString('base64url')}`, 'ctx')).toBeUndefined();
    }
    expect(crypto.open(`${version}.${bytes.subarray(0, 20).toString('base64url')}`, 'ctx')).toBeUndefined();
    expect(crypto.open(`v9.${payload}`, 'ctx')).toBeUndefined();
    expect(crypto.open('garbage', 'ctx')).toBeUndefined();
    expect(new SetpassCrypto(randomBytes(32)).open(sealed, 'ctx')).toBeUndefined();
  });

  it('refuses a secret shorter than 32 bytes', () => {
    expect(() => new SetpassCrypto(randomBytes(16))).toThrow(/SETPASS_SECRET/);
  });
});
