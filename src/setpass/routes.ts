/**
 * HTTP for password links: the page (`GET /?token=`, `POST /`), its two assets, and the
 * setpass-compatible `PUT /token/:user_id`. Handlers translate between HTTP and the Setpass story
 * and choose what the person sees; they never log a query string, a token or a form field.
 */
import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { protectedAccountText } from '../../views/protection.js';
import { SETPASS_CSS, SETPASS_JS } from '../../views/setpass-assets.js';
import {
  accountProblemPage,
  deadLinkPage,
  type FormErrors,
  forgotAnswerPage,
  forgotFormPage,
  lockedOutPage,
  missingTokenPage,
  passwordFormPage,
  requestProblemPage,
  type SiteInfo,
  successPage,
  tooManyAttemptsPage,
  unavailablePage,
} from '../../views/setpass-page.js';
import type { Audit } from '../audit.js';
import type { Config } from '../config.js';
import { describeError, isKaizenError } from '../errors.js';
import { isHttps } from '../http/client-ip.js';
import { RandomPool } from '../http/random-pool.js';
import { mediaType, type RequestContext, type Route, readBody, send, sendText } from '../http/router.js';
import {
  AccountGuard,
  type AccountProtection,
  type AccountReader,
  type ProtectionPolicy,
  type User,
  type Verdict,
} from '../keystone/index.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import { issueTokenForApi, type TokenRequest } from './issue.js';
import { FORGOT_PATH } from './paths.js';
import { isValidPin } from './pin.js';
import type { PasswordChangeOutcome, Setpass } from './service.js';

export interface SetpassRouteDeps {
  setpass: Setpass;
  site: SiteInfo;
  trustedProxies: readonly string[];
  audit: Audit;
  log: Logger;
  metrics?: Metrics;
  /** Which accounts PUT /token refuses (src/keystone/protection.ts). */
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

const API_HEADERS: Readonly<Record<string, string>> = {
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
};

const CSRF_FIELD = 'csrf';
const csrfValues = new RandomPool();
/**
 * Every `POST /forgot` answer leaves no sooner than this after the request came in, so a name that
 * exists (more Redis work, a PIN check, an event) is not told apart from one that does not.
 */
export const FORGOT_FLOOR_MS = 400;
/** Keystone's SQL ids are hex; LDAP-backed ids can be names. Either way: one safe path segment. */
const USER_ID = /^[A-Za-z0-9._@-]{1,255}$/;

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

class PasswordPage {
  constructor(private readonly deps: SetpassRouteDeps) {}

  async show(ctx: RequestContext): Promise<void> {
    await this.guard(ctx, async () => {
      const token = ctx.url.searchParams.get('token')?.trim() ?? '';
      if (token === '') return this.html(ctx.res, 200, missingTokenPage(this.site));
      await this.showForm(ctx, token, 200, undefined);
    });
  }

  async submit(ctx: RequestContext): Promise<void> {
    await this.guard(ctx, async () => {
      if (mediaType(ctx.req) !== 'application/x-www-form-urlencoded') {
        return this.html(
          ctx.res,
          415,
          requestProblemPage(this.site, {
            title: 'This form could not be read',
            message: 'The page accepts only what its own form sends.',
          }),
        );
      }
      const form = new URLSearchParams(await readBody(ctx.req, BODY_LIMIT_BYTES));
      const token = form.get('token')?.trim() ?? '';
      if (!sameCsrf(form.get(CSRF_FIELD), readCookie(ctx.req, this.cookieName(ctx.req)))) {
        this.count('csrf_failed');
        return this.showForm(ctx, token, 403, {
          form: 'This page had expired or your browser did not send back its security cookie. Please enter your PIN and new password again.',
        });
      }
      const createAppCredential = form.get('create_app_credential') === '1';
      const outcome = await this.deps.setpass.changePassword({
        token,
        pin: form.get('pin') ?? '',
        password: form.get('password') ?? '',
        confirmPassword: form.get('confirm_password') ?? '',
        clientIp: ctx.clientIp,
        createAppCredential,
      });
      this.count(outcome.kind);
      this.answer(ctx, token, outcome, createAppCredential);
    });
  }

  async showForgot(ctx: RequestContext): Promise<void> {
    await this.guard(ctx, async () => this.forgotForm(ctx, 200, undefined));
  }

  /** The same page, status and headers (no cookie) whatever was typed, after the same floor. */
  async submitForgot(ctx: RequestContext): Promise<void> {
    const started = performance.now();
    await this.guard(ctx, async () => {
      if (mediaType(ctx.req) !== 'application/x-www-form-urlencoded') {
        return this.forgotForm(ctx, 415, 'The page accepts only what its own form sends.');
      }
      const form = new URLSearchParams(await readBody(ctx.req, BODY_LIMIT_BYTES));
      if (!sameCsrf(form.get(CSRF_FIELD), readCookie(ctx.req, this.cookieName(ctx.req)))) {
        this.count('forgot_csrf_failed');
        return this.forgotForm(
          ctx,
          403,
          'This page had expired or your browser did not send back its security cookie. Please fill it in again.',
        );
      }
      const outcome = await this.deps.setpass.forgot.request({
        name: form.get('name') ?? '',
        pin: form.get('pin') ?? '',
        clientIp: ctx.clientIp,
      });
      this.count(`forgot_${outcome}`);
      const wait = FORGOT_FLOOR_MS - (performance.now() - started);
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      this.html(ctx.res, 200, forgotAnswerPage(this.site));
    });
  }

  private forgotForm(ctx: RequestContext, status: number, error: string | undefined): void {
    const csrf = this.csrfCookie(ctx);
    this.html(ctx.res, status, forgotFormPage(this.site, { csrf: csrf.value, error }), {
      'set-cookie': csrf.cookie,
    });
  }

  /** A fresh anti-forgery value, for a hidden field and the cookie that must come back with it. */
  private csrfCookie(ctx: RequestContext): { value: string; cookie: string } {
    const value = csrfValues.base64url(32);
    const secure = isHttps(ctx.req, this.deps.trustedProxies);
    const cookie = `${this.cookieName(ctx.req)}=${value}; Path=/; HttpOnly; SameSite=Strict${secure ? '; Secure' : ''}`;
    return { value, cookie };
  }

  private answer(
    ctx: RequestContext,
    token: string,
    outcome: PasswordChangeOutcome,
    createAppCredential: boolean,
  ): void {
    const { res } = ctx;
    switch (outcome.kind) {
      case 'done':
        this.html(
          res,
          200,
          successPage(this.site, { username: outcome.username, cliCredential: outcome.cliCredential }),
        );
        return;
      case 'dead':
        this.html(res, 404, deadLinkPage(this.site));
        return;
      case 'rate_limited':
        this.tooMany(res, outcome.retryAfterMs);
        return;
      case 'locked_out':
        this.html(res, 403, lockedOutPage(this.site, { attempts: outcome.attempts }));
        return;
      case 'account_changed':
        this.html(res, 409, accountProblemPage(this.site));
        return;
      case 'unavailable':
        this.html(res, 503, unavailablePage(this.site), { 'retry-after': '120' });
        return;
      case 'wrong_pin': {
        const left = outcome.attemptsLeft;
        const errors = {
          pin: `That PIN is not the one on file. ${left} ${left === 1 ? 'attempt' : 'attempts'} left before this link is disabled.`,
        };
        this.form(ctx, 400, token, { ...outcome, attemptsLeft: undefined, errors, createAppCredential });
        return;
      }
      case 'fix':
        this.form(ctx, 400, token, { ...outcome, errors: outcome.problems, createAppCredential });
        return;
    }
  }

  private async showForm(
    ctx: RequestContext,
    token: string,
    status: number,
    errors: FormErrors | undefined,
  ): Promise<void> {
    const view = await this.deps.setpass.openLink(token, ctx.clientIp);
    if (view.kind === 'dead') return this.html(ctx.res, 404, deadLinkPage(this.site));
    if (view.kind === 'rate_limited') return this.tooMany(ctx.res, view.retryAfterMs);
    this.form(ctx, status, token, { ...view, errors });
  }

  /** Every form gets a fresh anti-forgery value, in a cookie and in a hidden field. */
  private form(
    ctx: RequestContext,
    status: number,
    token: string,
    view: {
      username: string;
      expiresAt: Date;
      attemptsLeft: number | undefined;
      errors?: FormErrors | undefined;
      createAppCredential?: boolean | undefined;
    },
  ): void {
    const { value: csrf, cookie } = this.csrfCookie(ctx);
    const html = passwordFormPage(this.site, {
      token,
      csrf,
      username: view.username,
      expiresAt: view.expiresAt,
      minLength: this.deps.setpass.policy.minLength,
      attemptsLeft: view.attemptsLeft,
      errors: view.errors,
      createAppCredential: view.createAppCredential,
    });
    this.html(ctx.res, status, html, { 'set-cookie': cookie });
  }

  private tooMany(res: ServerResponse, retryAfterMs: number): void {
    const seconds = String(Math.ceil(retryAfterMs / 1000));
    this.html(res, 429, tooManyAttemptsPage(this.site, { retryAfterMs }), { 'retry-after': seconds });
  }

  /** The `__Host-` prefix pins the cookie to this host and HTTPS; browsers refuse it on plain HTTP. */
  private cookieName(req: IncomingMessage): string {
    return isHttps(req, this.deps.trustedProxies) ? '__Host-kaizen-csrf' : 'kaizen-csrf';
  }

  private html(
    res: ServerResponse,
    status: number,
    body: string,
    headers: Record<string, string> = {},
  ): void {
    send(res, status, body, 'text/html; charset=utf-8', { ...PAGE_HEADERS, ...headers });
  }

  private count(outcome: string): void {
    this.deps.metrics?.setpassSubmission(outcome);
  }

  /** A page answers with a page, whatever went wrong; the details go to the log only. */
  private async guard(ctx: RequestContext, work: () => Promise<void>): Promise<void> {
    try {
      await work();
    } catch (error) {
      if (isKaizenError(error) && error.status === 413) {
        return this.html(
          ctx.res,
          413,
          requestProblemPage(this.site, {
            title: 'That was too much to send',
            message: 'The form sent more data than a password needs.',
          }),
        );
      }
      this.deps.log.error({ err: error, method: ctx.req.method }, 'the password page failed');
      this.html(ctx.res, 503, unavailablePage(this.site), { 'retry-after': '120' });
    }
  }

  private get site(): SiteInfo {
    return this.deps.site;
  }
}

function readCookie(req: IncomingMessage, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const index = part.indexOf('=');
    if (index > 0 && part.slice(0, index).trim() === name) return part.slice(index + 1).trim();
  }
  return undefined;
}

function sameCsrf(field: string | null, cookie: string | undefined): boolean {
  if (!field || !cookie) return false;
  const a = Buffer.from(field);
  const b = Buffer.from(cookie);
  return a.length === b.length && timingSafeEqual(a, b);
}

async function putToken(deps: SetpassRouteDeps, ctx: RequestContext): Promise<void> {
  const { req, res } = ctx;
  const reply = (status: number, text: string) => sendText(res, status, text, API_HEADERS);
  const callerToken = req.headers['x-auth-token'];
  if (typeof callerToken !== 'string' || callerToken.trim() === '') {
    return reply(401, 'An X-Auth-Token header with a Keystone token of a cloud admin is required.\n');
  }
  const type = mediaType(req);
  const declared = Number(req.headers['content-length'] ?? 0);
  if (type !== 'application/json' && !(type === '' && declared === 0)) {
    return reply(415, 'Send the body as application/json: {"password": "...", "pin": "1234"}.\n');
  }
  const body = await readBody(req, BODY_LIMIT_BYTES);
  // This role holds no admin credentials: the caller's own token, scoped to the admin project,
  // reads the target's role assignments for the protected-account rule.
  const caller = await deps.setpass.keystone.asAdminCaller(callerToken.trim());
  if (caller === undefined) {
    return reply(403, 'This token does not belong to an admin of the admin project.\n');
  }
  const userId = ctx.params.user_id ?? '';
  if (!USER_ID.test(userId)) return reply(400, 'The user id in the path is not a Keystone user id.\n');
  const parsed = parseTokenRequest(body);
  if (typeof parsed === 'string') return reply(400, `${parsed}\n`);
  const refusal = await protectedTarget(deps, caller, userId);
  if (refusal !== undefined) return reply(refusal.status, `${refusal.text}\n`);

  try {
    const token = await issueTokenForApi(deps.setpass, userId, parsed);
    deps.log.info(
      { userId, renewal: parsed.password === undefined },
      'password link issued through PUT /token',
    );
    await deps.audit.record({
      actor: 'keystone-admin',
      action: 'setpass.token_issued',
      subject: userId,
      outcome: 'ok',
      detail: parsed.password === undefined ? 'renewed through PUT /token' : 'issued through PUT /token',
    });
    return reply(200, token);
  } catch (error) {
    if (isKaizenError(error, 'invalid')) return reply(400, `${error.message}\n`);
    // The user's link is being redeemed or issued right now: nothing was done.
    if (isKaizenError(error, 'conflict')) return reply(409, `${error.message}\n`);
    if (isKaizenError(error, 'unreachable')) {
      return reply(503, 'Keystone is not reachable right now; try again shortly.\n');
    }
    throw error;
  }
}

/**
 * Why PUT /token must not touch this user, or undefined (also for a user Keystone does not know:
 * the rest refuses those). A user who cannot be checked is refused: the rule fails closed.
 */
async function protectedTarget(
  deps: SetpassRouteDeps,
  caller: AccountReader,
  userId: string,
): Promise<{ status: number; text: string } | undefined> {
  let user: User;
  let verdict: Verdict<AccountProtection>;
  try {
    user = await caller.getUser(userId);
    verdict = await new AccountGuard(caller, deps.protection).check(user);
  } catch (error) {
    if (isKaizenError(error, 'not_found')) return undefined;
    deps.log.warn(
      { err: error, userId },
      'PUT /token: could not check the user against the protected accounts',
    );
    return isKaizenError(error, 'unreachable')
      ? { status: 503, text: 'Keystone is not reachable right now; try again shortly.' }
      : {
          status: 403,
          text: `User ${userId} could not be checked against the protected accounts (${describeError(error)}); nothing was done.`,
        };
  }
  if (!verdict.protected) return undefined;
  deps.log.warn({ userId, reason: verdict.reason }, 'PUT /token refused for a protected account');
  await deps.audit.record({
    actor: 'keystone-admin',
    action: 'setpass.token_issued',
    subject: userId,
    outcome: 'denied',
    detail: `protected account: ${verdict.reason}`,
  });
  return { status: 403, text: protectedAccountText('A password link', user.name, verdict.reason) };
}

/** The request, or what is wrong with it in words for the caller. */
export function parseTokenRequest(body: string): TokenRequest | string {
  if (body.trim() === '') return {};
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    return 'The body is not valid JSON.';
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return 'The body must be a JSON object: {"password": "...", "pin": "1234"}.';
  }
  const { password, pin } = value as Record<string, unknown>;
  if (password !== undefined && (typeof password !== 'string' || password === '')) {
    return '"password" must be a non-empty string.';
  }
  if (pin !== undefined && (typeof pin !== 'string' || !isValidPin(pin))) {
    return '"pin" must be exactly 4 digits, as a string such as "1234".';
  }
  return { password, pin } as TokenRequest;
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
