import type { IncomingMessage, ServerResponse } from 'node:http';
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
import type { PasswordChangeOutcome } from '../domain/setpass/service.js';
import { isKaizenError } from '../platform/errors.js';
import { isHttps } from '../platform/http/client-ip.js';
import { mediaType, type RequestContext, readBody, send } from '../platform/http/router.js';
import { CSRF_FIELD, newCsrfValue, readCookie, sameCsrf } from './csrf.js';
import { BODY_LIMIT_BYTES, FORGOT_FLOOR_MS, PAGE_HEADERS, type SetpassRouteDeps } from './deps.js';

export class PasswordPage {
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
    const value = newCsrfValue();
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
      this.deps.log.error(
        { err: error, method: ctx.req.method, requestId: ctx.requestId },
        'the password page failed',
      );
      this.html(ctx.res, 503, unavailablePage(this.site), { 'retry-after': '120' });
    }
  }

  private get site(): SiteInfo {
    return this.deps.site;
  }
}
