/** The anti-forgery cookie of the password page's forms: a random value, sent back in a hidden field. */
import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { RandomPool } from '../platform/http/random-pool.js';

export const CSRF_FIELD = 'csrf';

const csrfValues = new RandomPool();

/** A fresh anti-forgery value, cut from a pooled block of randomness (one getrandom per many pages). */
export function newCsrfValue(): string {
  return csrfValues.base64url(32);
}

export function readCookie(req: IncomingMessage, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const index = part.indexOf('=');
    if (index > 0 && part.slice(0, index).trim() === name) return part.slice(index + 1).trim();
  }
  return undefined;
}

export function sameCsrf(field: string | null, cookie: string | undefined): boolean {
  if (!field || !cookie) return false;
  const a = Buffer.from(field);
  const b = Buffer.from(cookie);
  return a.length === b.length && timingSafeEqual(a, b);
}
