/**
 * The password page as HTML: pure functions from data to markup. Every value is escaped; nothing
 * here ever receives a PIN or a password, so the form can never be refilled with one. The page
 * needs no script and no inline style (the Content-Security-Policy forbids both).
 */

import { FORGOT_PATH } from '../src/domain/setpass/paths.js';

export interface SiteInfo {
  /** The cloud's name as users know it, e.g. "OpenStack" or "MOC". */
  siteName: string;
  supportEmail?: string | undefined;
  loginUrl?: string | undefined;
  gettingStartedUrl?: string | undefined;
  termsUrl?: string | undefined;
}

export interface FormErrors {
  pin?: string;
  password?: string[];
  confirm?: string;
  /** About the whole form rather than one field. */
  form?: string;
}

export interface PasswordForm {
  token: string;
  csrf: string;
  username: string;
  expiresAt: Date;
  minLength: number;
  /** Shown once a wrong PIN has been entered. */
  attemptsLeft?: number | undefined;
  errors?: FormErrors;
  /** The box for command-line credentials stays as the user left it when the form comes back. */
  createAppCredential?: boolean | undefined;
}

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const attemptsText = (n: number): string => `${n} ${n === 1 ? 'attempt' : 'attempts'}`;

// Built once: `toLocaleString` with options builds a formatter per call, a quarter of a page's CPU time.
const EXPIRY_FORMAT = new Intl.DateTimeFormat('en-GB', {
  dateStyle: 'long',
  timeStyle: 'short',
  timeZone: 'UTC',
});

/** The last few expiries formatted: the format shows minutes, and links made together share them. */
const EXPIRIES_KEPT = 256;
const formattedExpiries = new Map<number, string>();

/** When a link expires, in words that do not depend on the server's locale. */
export function formatExpiry(at: Date): string {
  const minute = Math.floor(at.getTime() / 60_000);
  let text = formattedExpiries.get(minute);
  if (text === undefined) {
    text = `${EXPIRY_FORMAT.format(at)} UTC`;
    if (formattedExpiries.size >= EXPIRIES_KEPT) formattedExpiries.clear();
    formattedExpiries.set(minute, text);
  }
  return text;
}

/** Who to ask, as a sentence ending: "write to help@x.org" or "ask the administrators …". */
function whomToAsk(site: SiteInfo): string {
  return site.supportEmail
    ? `write to <a href="mailto:${escapeHtml(site.supportEmail)}">${escapeHtml(site.supportEmail)}</a>`
    : 'ask the administrators who approved your account';
}

const LOCK_ICON =
  '<svg class="mark" viewBox="0 0 24 24" width="28" height="28" aria-hidden="true" focusable="false">' +
  '<path fill="currentColor" d="M12 2a5 5 0 0 0-5 5v3H6a2 2 0 0 0-2 2v8a2 2 0 0 0 2 2h12a2 2 0 0 0 2-2v-8a2 2 ' +
  '0 0 0-2-2h-1V7a5 5 0 0 0-5-5zm-3 5a3 3 0 1 1 6 0v3H9V7zm3 7a2 2 0 0 1 1 3.73V19h-2v-1.27A2 2 0 0 1 12 14z"/></svg>';

function page(site: SiteInfo, title: string, body: string, options: { script?: boolean } = {}): string {
  const siteName = escapeHtml(site.siteName);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex, nofollow">
<meta name="referrer" content="no-referrer">
<title>${escapeHtml(title)} · ${siteName}</title>
<link rel="stylesheet" href="/assets/setpass.css">
</head>
<body>
<header class="site"><div class="site-inner">${LOCK_ICON}<span class="site-name">${siteName}</span><span class="site-sub">Account password</span></div></header>
<main class="card">
${body}
</main>
<footer class="site-footer">Questions? ${capitalize(whomToAsk(site))}.</footer>
${options.script ? '<script src="/assets/setpass.js" defer></script>\n' : ''}</body>
</html>
`;
}

function fieldError(id: string, message: string | undefined): string {
  return message ? `<p class="field-error" id="${id}-error">${escapeHtml(message)}</p>` : '';
}

function describedBy(...ids: (string | false | undefined)[]): string {
  const list = ids.filter((id): id is string => typeof id === 'string' && id !== '');
  return list.length > 0 ? ` aria-describedby="${list.join(' ')}"` : '';
}

export function passwordFormPage(site: SiteInfo, form: PasswordForm): string {
  const errors = form.errors ?? {};
  const summary = [errors.form, errors.pin, ...(errors.password ?? []), errors.confirm].filter(
    (line): line is string => typeof line === 'string' && line !== '',
  );
  const alert =
    summary.length > 0
      ? `<div class="alert" role="alert"><p class="alert-title">Your password was not changed</p><ul>${summary
          .map((line) => `<li>${escapeHtml(line)}</li>`)
          .join('')}</ul></div>`
      : '';
  const attempts =
    form.attemptsLeft !== undefined
      ? `<p class="hint warn" id="pin-attempts">${attemptsText(form.attemptsLeft)} left before this link is disabled.</p>`
      : '';
  const passwordErrors = errors.password ?? [];
  const body = `<h1>Choose your password</h1>
<p class="lead">Set the password for your ${escapeHtml(site.siteName)} account. You will use it to sign in from now on.</p>
${alert}
<form method="post" action="/" class="form" data-min-length="${form.minLength}" novalidate>
<input type="hidden" name="token" value="${escapeHtml(form.token)}">
<input type="hidden" name="csrf" value="${escapeHtml(form.csrf)}">
<div class="field">
<label for="username">User name</label>
<input id="username" name="username" type="text" value="${escapeHtml(form.username)}" autocomplete="username" readonly>
</div>
<div class="field${errors.pin ? ' has-error' : ''}">
<label for="pin">PIN</label>
<p class="hint" id="pin-hint">The 4-digit PIN you chose when you applied.</p>
${fieldError('pin', errors.pin)}${attempts}
<input id="pin" name="pin" type="password" inputmode="numeric" pattern="[0-9]*" maxlength="4" autocomplete="off" required${describedBy('pin-hint', errors.pin && 'pin-error', form.attemptsLeft !== undefined && 'pin-attempts')}${errors.pin ? ' aria-invalid="true" autofocus' : ''}>
</div>
<div class="field${passwordErrors.length > 0 ? ' has-error' : ''}">
<label for="password">New password</label>
<p class="hint" id="password-hint">At least ${form.minLength} characters. Several unrelated words make a strong password that is easy to remember.</p>
${passwordErrors.map((line, i) => `<p class="field-error" id="password-error-${i}">${escapeHtml(line)}</p>`).join('\n')}
<input id="password" name="password" type="password" autocomplete="new-password" minlength="${form.minLength}" required${describedBy('password-hint', ...passwordErrors.map((_, i) => `password-error-${i}`), 'password-meter')}${passwordErrors.length > 0 ? ' aria-invalid="true"' : ''}>
<p class="meter-text" id="password-meter" aria-live="polite"></p>
</div>
<div class="field${errors.confirm ? ' has-error' : ''}">
<label for="confirm_password">Type the new password again</label>
${fieldError('confirm', errors.confirm)}
<input id="confirm_password" name="confirm_password" type="password" autocomplete="new-password" required${describedBy(errors.confirm && 'confirm-error', 'confirm-meter')}${errors.confirm ? ' aria-invalid="true"' : ''}>
<p class="meter-text" id="confirm-meter" aria-live="polite"></p>
</div>
<div class="field checkbox">
<input id="create_app_credential" name="create_app_credential" type="checkbox" value="1"${describedBy('app-credential-hint')}${form.createAppCredential ? ' checked' : ''}>
<label for="create_app_credential">Also create credentials for the command line</label>
<p class="hint" id="app-credential-hint">An application credential and a ready <code>clouds.yaml</code> for the <code>openstack</code> command, shown once on the next page.</p>
</div>
<button type="submit" class="button">Set password</button>
</form>
<p class="small">This link works once and expires on ${escapeHtml(formatExpiry(form.expiresAt))}.</p>`;
  return page(site, 'Choose your password', body, { script: true });
}

export function deadLinkPage(site: SiteInfo): string {
  const body = `<h1>This link is no longer valid</h1>
<p class="lead">Password links work once and only for a limited time. This one has been used, has expired, has been replaced by a newer link, or was disabled after too many wrong PINs.</p>
<h2>What to do</h2>
<ul class="steps">
<li>If you have already set your password, you are done: sign in${site.loginUrl ? ` at <a href="${escapeHtml(site.loginUrl)}">${escapeHtml(site.loginUrl)}</a>` : ''}.</li>
<li>If you received a newer email with a link, use that one.</li>
<li>If you have forgotten your password, <a href="${FORGOT_PATH}">ask for a new link with your PIN</a>.</li>
<li>Otherwise, to get a new link, ${whomToAsk(site)}.</li>
</ul>`;
  return page(site, 'This link is no longer valid', body);
}

export function missingTokenPage(site: SiteInfo): string {
  const body = `<h1>Open the link from your email</h1>
<p class="lead">This page sets the password of a new ${escapeHtml(site.siteName)} account. It needs the personal link we emailed you when your account was approved: open that link, or copy all of it into the address bar.</p>
<p>No email? Check your spam folder, or ${whomToAsk(site)}.</p>`;
  return page(site, 'Open the link from your email', body);
}

/** What the success page shows about the credentials for the command line, when they were asked for. */
export type CliCredentialView =
  | {
      kind: 'created';
      credential: {
        authUrl: string;
        region: string | undefined;
        interface: string;
        id: string;
        secret: string;
        projectName: string;
        expiresAt: Date | undefined;
      };
    }
  | { kind: 'no_project' }
  | { kind: 'refused' };

/** A clouds.yaml for the `openstack` command; values are JSON strings, which YAML reads as they are. */
export function cloudsYaml(
  credential: Extract<CliCredentialView, { kind: 'created' }>['credential'],
): string {
  const q = (value: string) => JSON.stringify(value);
  return [
    'clouds:',
    '  openstack:',
    '    auth_type: v3applicationcredential',
    '    auth:',
    `      auth_url: ${q(credential.authUrl)}`,
    `      application_credential_id: ${q(credential.id)}`,
    `      application_credential_secret: ${q(credential.secret)}`,
    ...(credential.region === undefined ? [] : [`    region_name: ${q(credential.region)}`]),
    `    interface: ${q(credential.interface)}`,
    '    identity_api_version: 3',
    '',
  ].join('\n');
}

function cliCredentialSection(site: SiteInfo, view: CliCredentialView | undefined): string {
  if (view === undefined) return '';
  if (view.kind === 'created') {
    const { credential } = view;
    const expiry = credential.expiresAt
      ? ` It expires on ${escapeHtml(formatExpiry(credential.expiresAt))}.`
      : ' It does not expire; delete it in the dashboard when you no longer need it.';
    return `<h2>Credentials for the command line</h2>
<p>An application credential for the project <strong>${escapeHtml(credential.projectName)}</strong> has been made.${expiry} <strong>This is the only time its secret is shown:</strong> copy it now.</p>
<p>Save this as <code>~/.config/openstack/clouds.yaml</code>, then run <code>openstack --os-cloud openstack token issue</code> to check it works.</p>
<pre class="clouds-yaml" id="clouds-yaml">${escapeHtml(cloudsYaml(credential))}</pre>`;
  }
  const where = site.loginUrl
    ? `the dashboard at <a href="${escapeHtml(site.loginUrl)}">${escapeHtml(site.loginUrl)}</a>`
    : 'the dashboard';
  const why =
    view.kind === 'no_project'
      ? 'your account has no project to make them for yet'
      : 'the identity service did not allow it';
  return `<h2>Credentials for the command line</h2>
<div class="alert" role="alert"><p class="alert-title">The credentials for the command line could not be made</p><ul><li>Your password is set, but ${why}.</li></ul></div>
<p>You can make them yourself: sign in to ${where}, open <em>Identity → Application Credentials</em>, choose <em>Create Application Credential</em>, then <em>Download openrc file</em> or <em>Download clouds.yaml</em>. If that does not work either, ${whomToAsk(site)}.</p>`;
}

export function successPage(
  site: SiteInfo,
  account: { username: string; cliCredential?: CliCredentialView | undefined },
): string {
  const next = [
    site.loginUrl
      ? `<li>Sign in at <a href="${escapeHtml(site.loginUrl)}">${escapeHtml(site.loginUrl)}</a> with the user name <strong>${escapeHtml(account.username)}</strong> and your new password.</li>`
      : `<li>Sign in with the user name <strong>${escapeHtml(account.username)}</strong> and your new password.</li>`,
    site.gettingStartedUrl
      ? `<li>New here? Read the <a href="${escapeHtml(site.gettingStartedUrl)}">getting started guide</a>.</li>`
      : '',
    site.termsUrl
      ? `<li>Your use of the cloud follows the <a href="${escapeHtml(site.termsUrl)}">terms of use</a>.</li>`
      : '',
  ].filter(Boolean);
  const body = `<div class="success-mark" aria-hidden="true">✓</div>
<h1>Your password is set</h1>
<p class="lead">The password for <strong>${escapeHtml(account.username)}</strong> has been changed. This link no longer works; keep your password somewhere safe.</p>
<h2>Next steps</h2>
<ul class="steps">${next.join('\n')}</ul>
${cliCredentialSection(site, account.cliCredential)}
<p class="small">Forgot it later? <a href="${FORGOT_PATH}">Ask for a new link with your PIN</a>.</p>
${site.loginUrl ? `<p><a class="button" href="${escapeHtml(site.loginUrl)}">Go to sign in</a></p>` : ''}`;
  // The script only adds the clouds.yaml download button.
  return page(site, 'Your password is set', body, {
    script: account.cliCredential?.kind === 'created',
  });
}

export function lockedOutPage(site: SiteInfo, info: { attempts: number }): string {
  const body = `<h1>This link has been disabled</h1>
<p class="lead">The PIN was entered wrongly ${info.attempts} ${info.attempts === 1 ? 'time' : 'times'}, so this link has been disabled to protect your account. Your password has not been changed.</p>
<h2>What to do</h2>
<p>To get a new link, ${whomToAsk(site)}. The administrators have been told.</p>`;
  return page(site, 'This link has been disabled', body);
}

export function tooManyAttemptsPage(site: SiteInfo, info: { retryAfterMs: number }): string {
  const body = `<h1>Too many attempts</h1>
<p class="lead">There have been too many failed attempts recently, so this page is taking a break. Your password has not been changed.</p>
<p>Try again in ${escapeHtml(waitText(info.retryAfterMs))}, or ${whomToAsk(site)}.</p>`;
  return page(site, 'Too many attempts', body);
}

export function unavailablePage(site: SiteInfo): string {
  const body = `<h1>Please try again in a few minutes</h1>
<p class="lead">The identity service did not answer, so your password has not been changed. Your link still works: open it again in a few minutes.</p>
<p>If this keeps happening, ${whomToAsk(site)}.</p>`;
  return page(site, 'Please try again later', body);
}

export function accountProblemPage(site: SiteInfo): string {
  const body = `<h1>This link does not match your account any more</h1>
<p class="lead">Your account changed after this link was sent (it may have been disabled, or given a new link), so the password could not be set with it.</p>
<p>To get a new link, ${whomToAsk(site)}.</p>`;
  return page(site, 'The password could not be set', body);
}

/** For requests the page cannot take at all: too large, the wrong kind of body. */
export function requestProblemPage(site: SiteInfo, info: { title: string; message: string }): string {
  const body = `<h1>${escapeHtml(info.title)}</h1>
<p class="lead">${escapeHtml(info.message)}</p>
<p>Open the link from your email again and use the form on that page.</p>`;
  return page(site, info.title, body);
}

export interface ForgotForm {
  csrf: string;
  /** About the whole form (an expired page); never about the account. */
  error?: string | undefined;
}

export function forgotFormPage(site: SiteInfo, form: ForgotForm): string {
  const alert = form.error
    ? `<div class="alert" role="alert"><p class="alert-title">Nothing was sent</p><ul><li>${escapeHtml(form.error)}</li></ul></div>`
    : '';
  const body = `<h1>Forgot your password?</h1>
<p class="lead">Give the email address or user name of your ${escapeHtml(site.siteName)} account and the 4-digit PIN you chose when you applied. If they match, we email a new password link to the address on file.</p>
${alert}
<form method="post" action="${FORGOT_PATH}" class="form" novalidate>
<input type="hidden" name="csrf" value="${escapeHtml(form.csrf)}">
<div class="field">
<label for="name">Email or user name</label>
<input id="name" name="name" type="text" autocomplete="username" maxlength="255" required>
</div>
<div class="field">
<label for="pin">PIN</label>
<p class="hint" id="pin-hint">The 4-digit PIN you chose when you applied.</p>
<input id="pin" name="pin" type="password" inputmode="numeric" pattern="[0-9]*" maxlength="4" autocomplete="off" required aria-describedby="pin-hint">
</div>
<button type="submit" class="button">Send me a link</button>
</form>`;
  return page(site, 'Forgot your password?', body);
}

/** The one answer to every request, whatever was typed: it must not tell who has an account. */
export function forgotAnswerPage(site: SiteInfo): string {
  const body = `<h1>Check your email</h1>
<p class="lead">If these match an account, a link is on its way to the address on file. It may take a few minutes; check your spam folder too.</p>
<p>The link replaces any earlier one, and only one is sent an hour. Nothing arrived? ${capitalize(whomToAsk(site))}.</p>`;
  return page(site, 'Check your email', body);
}

function waitText(ms: number): string {
  const minutes = Math.ceil(ms / 60_000);
  if (minutes < 60) return `${minutes} ${minutes === 1 ? 'minute' : 'minutes'}`;
  const hours = Math.ceil(minutes / 60);
  return `${hours} ${hours === 1 ? 'hour' : 'hours'}`;
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
