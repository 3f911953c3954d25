import { describe, expect, it } from 'vitest';
import { addedToProjectEmail } from '../../views/emails/added-to-project.js';
import { describeLifetime, escapeHtml } from '../../views/emails/html.js';
import { rejectionEmail } from '../../views/emails/rejection.js';
import { welcomeEmail } from '../../views/emails/welcome.js';

const signposts = {
  loginUrl: 'https://cloud.example.org/dashboard',
  gettingStartedUrl: 'https://docs.example.org/start?x=1&y=2',
  supportEmail: 'help@example.org',
  forgotUrl: 'https://register.example.org/forgot',
};

describe('welcome email', () => {
  const email = welcomeEmail({
    name: 'Ada <Lovelace>',
    username: 'ada@example.org',
    projectName: 'Engines & "Notes"',
    link: 'https://register.example.org/?token=abc_DEF-123',
    lifetimeMs: 7 * 86_400_000,
    ...signposts,
  });

  it('tells the user name, the link, the PIN rule and the lifetime, in text', () => {
    expect(email.subject).toBe('Your OpenStack account for Engines & "Notes" is ready');
    expect(email.text).toBe(
      [
        'Hello Ada <Lovelace>,',
        '',
        'Your OpenStack account has been created with access to the project "Engines & "Notes"".',
        'Your user name is: ada@example.org',
        '',
        'Choose your password here:',
        'https://register.example.org/?token=abc_DEF-123',
        '',
        'You will need the 4-digit PIN you chose on the form.',
        'The link works once and expires in 7 days.',
        '',
        'Log in at https://cloud.example.org/dashboard',
        'New here? Start with https://docs.example.org/start?x=1&y=2',
        'Forgot your password later? Ask for a new link with your PIN at https://register.example.org/forgot',
        'Questions? Write to help@example.org',
      ].join('\n'),
    );
  });

  it('escapes every value in the HTML part', () => {
    expect(email.html).toContain('Hello Ada &lt;Lovelace&gt;,');
    expect(email.html).toContain('the project “Engines &amp; &quot;Notes&quot;”');
    expect(email.html).toContain(
      '<a href="https://register.example.org/?token=abc_DEF-123">Choose your password</a>',
    );
    expect(email.html).toContain(
      '<a href="https://docs.example.org/start?x=1&amp;y=2">https://docs.example.org/start?x=1&amp;y=2</a>',
    );
    expect(email.html).toContain('<a href="mailto:help@example.org">help@example.org</a>');
    expect(email.html).toContain(
      '<a href="https://register.example.org/forgot">https://register.example.org/forgot</a>',
    );
    expect(email.html).toContain('You will need the 4-digit PIN you chose on the form.');
    expect(email.html).not.toContain('<Lovelace>');
  });

  it('leaves out the signposts that are not configured', () => {
    const bare = welcomeEmail({
      name: 'Ann',
      username: 'ann@example.org',
      projectName: 'p',
      link: 'https://r/?token=t',
      lifetimeMs: 86_400_000,
    });
    expect(bare.text.endsWith('The link works once and expires in 1 day.\n')).toBe(true);
    expect(bare.html).not.toContain('Log in at');
  });

  it('keeps a subject on one line', () => {
    const email = welcomeEmail({
      name: 'A',
      username: 'a@x.org',
      projectName: 'evil\r\nBcc: victim@x.org',
      link: 'https://r/?token=t',
      lifetimeMs: 3_600_000,
    });
    expect(email.subject).toBe('Your OpenStack account for evil Bcc: victim@x.org is ready');
  });
});

describe('added-to-project email', () => {
  it('tells an existing user which project they can now use, escaped', () => {
    const email = addedToProjectEmail({
      name: 'Bo',
      username: 'bo@example.org',
      projectName: '<Physics>',
      ...signposts,
    });
    expect(email.subject).toBe('You have been added to the OpenStack project <Physics>');
    expect(email.text).toContain(
      'Your existing OpenStack account (bo@example.org) now has access to the project "<Physics>".',
    );
    expect(email.text).toContain('Log in with the password you already use');
    expect(email.text).not.toContain('token');
    expect(email.html).toContain('the project “&lt;Physics&gt;”');
    expect(email.html).toContain('<a href="https://cloud.example.org/dashboard">');
  });
});

describe('rejection email', () => {
  it('gives the reason, escaped, with line breaks kept', () => {
    const email = rejectionEmail({
      name: 'Cy',
      reason: 'Please apply through your <b>PI</b>.\nThey sponsor accounts.',
      supportEmail: 'help@example.org',
    });
    expect(email.subject).toBe('Your OpenStack access request');
    expect(email.text).toBe(
      [
        'Hello Cy,',
        '',
        'Your request for access to OpenStack was not approved.',
        '',
        'The reason given:',
        'Please apply through your <b>PI</b>.\nThey sponsor accounts.',
        '',
        'If you have questions, or your situation changes, write to help@example.org.',
      ].join('\n'),
    );
    expect(email.html).toContain(
      'Please apply through your &lt;b&gt;PI&lt;/b&gt;.<br>They sponsor accounts.',
    );
  });

  it('reads well without a reason or a support address', () => {
    const email = rejectionEmail({ name: 'Cy', reason: '  ' });
    expect(email.text).not.toContain('The reason given');
    expect(email.text).toContain('reply to this email');
  });
});

describe('email helpers', () => {
  it('escape the five HTML special characters', () => {
    expect(escapeHtml(`<a href="x">&'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&amp;&#39;&lt;/a&gt;');
  });

  it('word a link lifetime', () => {
    expect(describeLifetime(7 * 86_400_000)).toBe('7 days');
    expect(describeLifetime(36 * 3_600_000)).toBe('36 hours');
    expect(describeLifetime(90 * 60_000)).toBe('90 minutes');
    expect(describeLifetime(60_000)).toBe('1 minute');
  });
});
