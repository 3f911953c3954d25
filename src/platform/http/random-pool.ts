/**
 * Random values for per-response secrets (the anti-forgery value of every form page), cut from a
 * block of system randomness filled a few kilobytes at a time: one call into the CSPRNG per 128
 * values instead of one each, which showed in the password page's profile. Every byte is handed
 * out once.
 */
import { randomFillSync } from 'node:crypto';

const BLOCK_BYTES = 4096;

export class RandomPool {
  private block = Buffer.alloc(BLOCK_BYTES);
  private offset = BLOCK_BYTES;

  /** `size` fresh random bytes, base64url-encoded. */
  base64url(size: number): string {
    if (size > BLOCK_BYTES) return randomFillSync(Buffer.alloc(size)).toString('base64url');
    if (this.offset + size > BLOCK_BYTES) {
      this.block = randomFillSync(Buffer.alloc(BLOCK_BYTES));
      this.offset = 0;
    }
    const value = this.block.toString('base64url', this.offset, this.offset + size);
    this.offset += size;
    return value;
  }
}
