/**
 * What the password-page tests share: opening a link and submitting its form as a browser without
 * JavaScript would (cookie and hidden field carried over), and reading the answer.
 */
import { expect } from 'vitest';
import type { KeystoneClient } from '../../../src/keystone/index.js';
import { KaizenError } from '../../../src/platform/errors.js';

export interface OpenedForm {
  status: number;
  html: string;
  headers: Headers;
  /** The anti-forgery value from the hidden field, and the cookie that must come back with it. */
  csrf: string | undefined;
  cookie: string | undefined;
}

export interface Submission {
  pin?: string;
  password?: string;
  confirm?: string;
  csrf?: string;
  cookie?: string;
  /** Sent as X-Forwarded-For; the bot trusts it when TRUSTED_PROXIES names 127.0.0.1. */
  ip?: string;
}

export interface Answer {
  status: number;
  html: string;
  headers: Headers;
}

const forwarded = (ip: string | undefined): Record<string, string> => (ip ? { 'x-forwarded-for': ip } : {});

export async function openLink(baseUrl: string, token: string, ip?: string): Promise<OpenedForm> {
  const response = await fetch(`${baseUrl}/?token=${encodeURIComponent(token)}`, { headers: forwarded(ip) });
  const html = await response.text();
  return {
    status: response.status,
    html,
    headers: response.headers,
    csrf: html.match(/name="csrf" value="([^"]+)"/)?.[1],
    cookie: response.headers.get('set-cookie')?.split(';')[0],
  };
}

/** Opens the link (for a fresh cookie) and posts the form; `form` overrides what is sent. */
export async function submit(baseUrl: string, token: string, form: Submission): Promise<Answer> {
  const opened =
    form.csrf !== undefined && form.cookie !== undefined
      ? undefined
      : await openLink(baseUrl, token, form.ip);
  const password = form.password ?? '';
  const body = new URLSearchParams({
    token,
    csrf: form.csrf ?? opened?.csrf ?? '',
    pin: form.pin ?? '',
    password,
    confirm_password: form.confirm ?? password,
  });
  return post(baseUrl, body.toString(), {
    'content-type': 'application/x-www-form-urlencoded',
    cookie: form.cookie ?? opened?.cookie ?? '',
    ...forwarded(form.ip),
  });
}

export async function post(
  baseUrl: string,
  body: string | Uint8Array,
  headers: Record<string, string>,
): Promise<Answer> {
  const response = await fetch(`${baseUrl}/`, { method: 'POST', headers, body });
  return { status: response.status, html: await response.text(), headers: response.headers };
}

/** The token of a link URL. */
export const tokenOf = (url: string): string => new URL(url).searchParams.get('token') ?? '';

/** The <h1> of a page. */
export function heading(html: string): string | undefined {
  return html.match(/<h1>([^<]*)<\/h1>/)?.[1];
}

/** The messages in a page's alert box. */
export function alerts(html: string): string[] {
  const box = html.match(/<div class="alert" role="alert">([\s\S]*?)<\/div>/)?.[1] ?? '';
  return [...box.matchAll(/<li>([^<]*)<\/li>/g)].map((m) => m[1]!);
}

/** Whether Keystone takes this password for the user right now. */
export async function passwordWorks(
  keystone: KeystoneClient,
  userId: string,
  password: string,
): Promise<boolean> {
  try {
    await keystone.passwordLogin({ userId, password, scope: 'unscoped' });
    return true;
  } catch (error) {
    if (error instanceof KaizenError && error.kind === 'unauthorized') return false;
    throw error;
  }
}

export const EXPECTED_CSP =
  "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

export function expectPageHeaders(headers: Headers): void {
  expect(headers.get('content-security-policy')).toBe(EXPECTED_CSP);
  expect(headers.get('referrer-policy')).toBe('no-referrer');
  expect(headers.get('cache-control')).toBe('no-store');
  expect(headers.get('x-frame-options')).toBe('DENY');
  expect(headers.get('x-content-type-options')).toBe('nosniff');
  expect(headers.get('content-type')).toBe('text/html; charset=utf-8');
}

/** Passwords that pass the default policy, one per use. */
let passphraseCount = 0;
export function strongPassword(): string {
  passphraseCount += 1;
  const words = ['quartz', 'lantern', 'pickle', 'orbit', 'meadow', 'copper', 'violin', 'glacier', 'tundra'];
  return `${words[passphraseCount % words.length]}-Harbor-${words[(passphraseCount * 5) % words.length]}-${1000 + passphraseCount * 37}`;
}

/** `GET /forgot` as a browser would, for its anti-forgery field and cookie. */
export async function openForgot(baseUrl: string, ip?: string): Promise<OpenedForm> {
  const response = await fetch(`${baseUrl}/forgot`, { headers: forwarded(ip) });
  const html = await response.text();
  return {
    status: response.status,
    html,
    headers: response.headers,
    csrf: html.match(/name="csrf" value="([^"]+)"/)?.[1],
    cookie: response.headers.get('set-cookie')?.split(';')[0],
  };
}

/** Opens `/forgot` and posts its form with this name and PIN. */
export async function askForgot(
  baseUrl: string,
  form: { name: string; pin: string; ip?: string },
): Promise<Answer> {
  const opened = await openForgot(baseUrl, form.ip);
  const body = new URLSearchParams({ csrf: opened.csrf ?? '', name: form.name, pin: form.pin });
  const response = await fetch(`${baseUrl}/forgot`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      cookie: opened.cookie ?? '',
      ...forwarded(form.ip),
    },
    body: body.toString(),
  });
  return { status: response.status, html: await response.text(), headers: response.headers };
}
