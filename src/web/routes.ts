/**
 * The password page's HTTP routes: the page (`GET /?token=`, `POST /`), `/forgot`, its two assets,
 * and the setpass-compatible `PUT /token/:user_id`. The page is in ./page.ts, its anti-forgery
 * cookie in ./csrf.ts, the token API in ./token-api.ts; handlers never log a query string, a token
 * or a form field.
 */
import type { ServerResponse } from 'node:http';
import { SETPASS_CSS, SETPASS_JS } from '../../views/setpass-assets.js';
import type { SiteInfo } from '../../views/setpass-page.js';
import { FORGOT_PATH } from '../domain/setpass/paths.js';
import type { Config } from '../platform/config/config.js';
import { type Route, send } from '../platform/http/router.js';
import type { SetpassRouteDeps } from './deps.js';
import { PasswordPage } from './page.js';
import { putToken } from './token-api.js';

export function setpassRoutes(deps: SetpassRouteDeps): Route[] {
  const page = new PasswordPage(deps);
  return [
    { method: 'GET', path: '/', handler: (ctx) => page.show(ctx) },
    { method: 'POST', path: '/', handler: (ctx) => page.submit(ctx) },
    { method: 'GET', path: FORGOT_PATH, handler: (ctx) => page.showForgot(ctx) },
    { method: 'POST', path: FORGOT_PATH, handler: (ctx) => page.submitForgot(ctx) },
    {
      method: 'GET',
      path: '/assets/setpass.css',
      handler: ({ res }) => sendAsset(res, SETPASS_CSS, 'text/css; charset=utf-8'),
    },
    {
      method: 'GET',
      path: '/assets/setpass.js',
      handler: ({ res }) => sendAsset(res, SETPASS_JS, 'text/javascript; charset=utf-8'),
    },
    { method: 'PUT', path: '/token/:user_id', handler: (ctx) => putToken(deps, ctx) },
  ];
}

function sendAsset(res: ServerResponse, body: string, contentType: string): void {
  send(res, 200, body, contentType, {
    'cache-control': 'public, max-age=3600',
    'x-content-type-options': 'nosniff',
  });
}

/** What the pages say about the site, from the settings. */
export function setpassSite(config: Config): SiteInfo {
  return {
    siteName: config.setpass.siteName,
    supportEmail: config.mail.supportEmail,
    loginUrl: config.web.loginUrl,
    gettingStartedUrl: config.web.gettingStartedUrl,
    termsUrl: config.web.termsUrl,
  };
}
