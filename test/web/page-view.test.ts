/** The password page's HTML, by value: pure functions, no server. */
import { describe, expect, it } from 'vitest';
import {
  accountProblemPage,
  deadLinkPage,
  escapeHtml,
  formatExpiry,
  lockedOutPage,
  missingTokenPage,
  passwordFormPage,
  requestProblemPage,
  type SiteInfo,
  successPage,
  tooManyAttemptsPage,
  unavailablePage,
} from '../../views/setpass-page.js';

const site: SiteInfo = {
  siteName: 'MOC OpenStack',
  supportEmail: 'help@example.org',
  loginUrl: 'https://cloud.example.org/dashboard',
  gettingStartedUrl: 'https://docs.example.org/start',
  termsUrl: 'https://example.org/terms',
};
const bare: SiteInfo = { siteName: 'OpenStack' };
const token = 'T'.repeat(43);
const form = {
  token,
  csrf: 'csrf-value',
  username: 'ann@example.org',
  expiresAt: new Date('2026-12-05T09:30:00Z'),
  minLength: 12,
};

/** The attributes of the one <input> with this name. */
function input(html: string, name: string): string {
  const found = html.match(new RegExp(`<input[^>]*name="${name}"[^>]*>`, 'g')) ?? [];
  expect(found).toHaveLength(1);
  return found[0]!;
}

describe('the password form', () => {
  const html = passwordFormPage(site, form);

  it('posts the fixed field names to / with the token and the anti-forgery value hidden', () => {
    expect(html).toContain('<form method="post" action="/"');
    expect(input(html, 'token')).toBe(`<input type="hidden" name="token" value="${token}">`);
    expect(input(html, 'csrf')).toBe('<input type="hidden" name="csrf" value="csrf-value">');
    expect(input(html, 'pin')).toContain('inputmode="numeric"');
    expect(input(html, 'pin')).toContain('type="password"');
    expect(input(html, 'pin')).toContain('autocomplete="off"');
    expect(input(html, 'password')).toContain('autocomplete="new-password"');
    expect(input(html, 'password')).toContain('minlength="12"');
    expect(input(html, 'confirm_password')).toContain('autocomplete="new-password"');
    expect(input(html, 'username')).toContain('value="ann@example.org"');
    expect(input(html, 'username')).toContain('autocomplete="username"');
  });

  it('labels every visible field and never fills in a PIN or password', () => {
    for (const id of ['username', 'pin', 'password', 'confirm_password']) {
      expect(html).toContain(`<label for="${id}">`);
      expect(html).toContain(`id="${id}"`);
    }
    for (const name of ['pin', 'password', 'confirm_password'])
      expect(input(html, name)).not.toContain('value=');
  });

  it('loads only its own stylesheet and script, with no inline style or script', () => {
    expect(html).toContain('<link rel="stylesheet" href="/assets/setpass.css">');
    expect(html).toContain('<script src="/assets/setpass.js" defer></script>');
    expect(html).not.toMatch(/<style|style="|<script>|\son[a-z]+="/);
    expect(html).toContain('<meta name="viewport" content="width=device-width, initial-scale=1">');
  });

  it('says when the link expires and whom to ask', () => {
    expect(formatExpiry(form.expiresAt)).toBe('5 December 2026 at 09:30 UTC');
    expect(html).toContain('expires on 5 December 2026 at 09:30 UTC');
    expect(html).toContain(
      '<footer class="site-footer">Questions? Write to <a href="mailto:help@example.org">help@example.org</a>.</footer>',
    );
    expect(passwordFormPage(bare, form)).toContain(
      '<footer class="site-footer">Questions? Ask the administrators who approved your account.</footer>',
    );
  });

  it('lists each problem in an alert and next to its field, and marks the field invalid', () => {
    const withErrors = passwordFormPage(site, {
      ...form,
      errors: {
        pin: 'The PIN is exactly 4 digits (0–9).',
        password: ['Use at least 12 characters (this one has 5).', 'Add more words.'],
        confirm: 'The two passwords do not match.',
      },
    });
    expect(withErrors).toContain(
      '<div class="alert" role="alert"><p class="alert-title">Your password was not changed</p><ul><li>The PIN is exactly 4 digits (0–9).</li><li>Use at least 12 characters (this one has 5).</li><li>Add more words.</li><li>The two passwords do not match.</li></ul></div>',
    );
    expect(withErrors).toContain(
      '<p class="field-error" id="pin-error">The PIN is exactly 4 digits (0–9).</p>',
    );
    expect(withErrors).toContain('<p class="field-error" id="password-error-1">Add more words.</p>');
    expect(input(withErrors, 'pin')).toContain('aria-invalid="true"');
    expect(input(withErrors, 'pin')).toContain('aria-describedby="pin-hint pin-error"');
    expect(input(withErrors, 'confirm_password')).toContain('aria-invalid="true"');
    expect(html).not.toContain('role="alert"');
  });

  it('shows the attempts left once a PIN was wrong', () => {
    expect(passwordFormPage(site, { ...form, attemptsLeft: 1 })).toContain(
      '<p class="hint warn" id="pin-attempts">1 attempt left before this link is disabled.</p>',
    );
    expect(passwordFormPage(site, { ...form, attemptsLeft: 2 })).toContain('2 attempts left');
    expect(html).not.toContain('pin-attempts');
  });

  it('escapes everything it is given', () => {
    const hostile = passwordFormPage(
      { siteName: '<b>x</b>', supportEmail: 'a"b@example.org' },
      {
        ...form,
        token: '"><script>alert(1)</script>',
        username: '<img src=x onerror=alert(1)>',
        errors: { form: '<i>' },
      },
    );
    expect(hostile).not.toContain('<script>alert');
    expect(hostile).not.toContain('<img');
    expect(hostile).not.toContain('<b>x</b>');
    expect(hostile).not.toContain('<i>');
    expect(hostile).toContain('&#60;img src=x onerror=alert(1)&#62;');
    expect(escapeHtml(`<>&"'`)).toBe('&#60;&#62;&#38;&#34;&#39;');
  });
});

describe('the other pages', () => {
  it('a dead link says it is no longer valid and what to do', () => {
    const html = deadLinkPage(site);
    expect(html).toContain('<title>This link is no longer valid · MOC OpenStack</title>');
    expect(html).toContain('<h1>This link is no longer valid</h1>');
    expect(html).toContain(
      'to get a new link, write to <a href="mailto:help@example.org">help@example.org</a>',
    );
    expect(html).toContain('sign in at <a href="https://cloud.example.org/dashboard">');
    const plain = deadLinkPage(bare);
    expect(plain).toContain('to get a new link, ask the administrators who approved your account');
    expect(plain).not.toContain('mailto:');
  });

  it('no token: explains that the emailed link is needed', () => {
    const html = missingTokenPage(site);
    expect(html).toContain('<h1>Open the link from your email</h1>');
    expect(html).toContain('the personal link we emailed you');
    expect(html).not.toContain('<form');
  });

  it('success: names the user and the next steps, with the links that are set', () => {
    const html = successPage(site, { username: 'ann@example.org' });
    expect(html).toContain('<h1>Your password is set</h1>');
    expect(html).toContain(
      '<li>Sign in at <a href="https://cloud.example.org/dashboard">https://cloud.example.org/dashboard</a> with the user name <strong>ann@example.org</strong> and your new password.</li>',
    );
    expect(html).toContain('<a href="https://docs.example.org/start">getting started guide</a>');
    expect(html).toContain('<a href="https://example.org/terms">terms of use</a>');
    const plain = successPage(bare, { username: 'ann@example.org' });
    expect(plain).toContain(
      '<li>Sign in with the user name <strong>ann@example.org</strong> and your new password.</li>',
    );
    expect(plain).not.toMatch(/getting started|terms of use|Go to sign in/);
  });

  it('lockout, rate limit, outage, account change and refused requests each say what happened and what to do', () => {
    expect(lockedOutPage(site, { attempts: 3 })).toContain(
      'The PIN was entered wrongly 3 times, so this link has been disabled',
    );
    expect(lockedOutPage(site, { attempts: 3 })).toContain('To get a new link, write to');
    expect(tooManyAttemptsPage(site, { retryAfterMs: 90_000 })).toContain('Try again in 2 minutes');
    expect(tooManyAttemptsPage(site, { retryAfterMs: 5 * 3_600_000 })).toContain('Try again in 5 hours');
    expect(unavailablePage(site)).toContain('Your link still works');
    expect(accountProblemPage(site)).toContain('To get a new link, write to');
    expect(requestProblemPage(site, { title: 'Too <big>', message: 'm' })).toContain(
      '<h1>Too &#60;big&#62;</h1>',
    );
  });
});
