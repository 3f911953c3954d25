import { describe, expect, it } from 'vitest';
import { RandomPool } from '../../../src/platform/http/random-pool.js';

describe('random values cut from a pooled block', () => {
  it('hands out values of the asked size, never the same bytes twice, across block refills', () => {
    const pool = new RandomPool();
    // 32-byte values: 128 per 4 KiB block, so 1,000 of them span several refills.
    const values = Array.from({ length: 1_000 }, () => pool.base64url(32));
    expect(values.every((value) => Buffer.from(value, 'base64url').length === 32)).toBe(true);
    expect(new Set(values).size).toBe(values.length);
    expect(Buffer.from(pool.base64url(5000), 'base64url')).toHaveLength(5000);
  });
});
