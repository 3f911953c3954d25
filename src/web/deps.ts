/** What the web routes are built with, and the limits and headers they share. */
import type { SiteInfo } from '../../views/setpass-page.js';
import type { ProtectionPolicy } from '../domain/accounts/protection.js';
import type { Audit } from '../domain/audit/audit.js';
import type { Setpass } from '../domain/setpass/service.js';
import type { Logger } from '../platform/log.js';
import type { Metrics } from '../platform/metrics.js';

export interface SetpassRouteDeps {
  setpass: Setpass;
  site: SiteInfo;
  trustedProxies: readonly string[];
  audit: Audit;
  log: Logger;
  metrics?: Metrics;
  /** Which accounts PUT /token refuses (src/domain/accounts/protection.ts). */
  protection: ProtectionPolicy;
}

/** Form posts are a few hundred bytes; anything near this is not a person typing a password. */
export const BODY_LIMIT_BYTES = 8 * 1024;

export const PAGE_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy':
    "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
  'cross-origin-opener-policy': 'same-origin',
};

/**
 * Every `POST /forgot` answer leaves no sooner than this after the request came in, so a name that
 * exists (more Redis work, a PIN check, an event) is not told apart from one that does not.
 */
export const FORGOT_FLOOR_MS = 400;
