import { readFileSync } from 'node:fs';
import nodemailer from 'nodemailer';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type SmtpTestServer, startSmtpServer } from './support/smtp.js';

describe('SmtpTestServer with nodemailer over STARTTLS', () => {
  let smtp: SmtpTestServer;

  /** The transport the app builds from SMTP_URL and SMTP_CA_FILE: STARTTLS required, the test CA trusted. */
  function transport(overrides: { password?: string; ca?: boolean } = {}) {
    const url = new URL(smtp.url);
    return nodemailer.createTransport({
      host: url.hostname,
      port: Number(url.port),
      secure: false,
      requireTLS: true,
      auth: {
        user: decodeURIComponent(url.username),
        pass: overrides.password ?? decodeURIComponent(url.password),
      },
      tls: overrides.ca === false ? {} : { ca: [readFileSync(smtp.caFile)] },
      connectionTimeout: 2000,
    });
  }

  beforeAll(async () => {
    smtp = await startSmtpServer();
  });
  afterEach(() => smtp.reset());
  afterAll(() => smtp.close());

  it('exposes smtp:// URL with the test credentials', () => {
    expect(smtp.url).toBe(`smtp://kaizen:smtp-test-password@127.0.0.1:${smtp.port}`);
    expect(readFileSync(smtp.caFile, 'utf8')).toMatch(/^-----BEGIN CERTIFICATE-----/);
  });

  it('receives a message sent with STARTTLS and AUTH, parsed into from, to, subject, text and html', async () => {
    const info = await transport().sendMail({
      from: 'Kaizen <kaizen@example.org>',
      to: 'ada@example.org',
      bcc: 'audit@example.org',
      subject: 'Your account is ready',
      text: 'Set your password: https://kaizen.example.org/?token=abc',
      html: '<p>Set your password: <a href="https://kaizen.example.org/?token=abc">link</a></p>',
    });
    expect(info.accepted).toEqual(['ada@example.org', 'audit@example.org']);
    const [mail] = await smtp.waitForMessages(1);
    expect(mail).toMatchObject({
      from: 'kaizen@example.org',
      to: ['ada@example.org', 'audit@example.org'],
      subject: 'Your account is ready',
      text: 'Set your password: https://kaizen.example.org/?token=abc',
      envelopeFrom: 'kaizen@example.org',
      user: 'kaizen',
      secure: true,
    });
    expect(mail?.html).toContain('<a href="https://kaizen.example.org/?token=abc">');
    expect(mail?.raw).toContain('Subject: Your account is ready');
  });

  it('refuses a wrong password and a client that does not trust the test CA', async () => {
    await expect(transport({ password: 'wrong' }).sendMail(simpleMail())).rejects.toMatchObject({
      code: 'EAUTH',
    });
    await expect(transport({ ca: false }).sendMail(simpleMail())).rejects.toThrow(
      /self[- ]signed certificate/i,
    );
    expect(smtp.messages).toHaveLength(0);
  });

  it('answers 451 to the next n messages when told to', async () => {
    smtp.failNext(1);
    await expect(transport().sendMail(simpleMail())).rejects.toMatchObject({ responseCode: 451 });
    await transport().sendMail(simpleMail());
    expect(await smtp.waitForMessages(1)).toHaveLength(1);
  });

  it('goes away on stop() and comes back on the same port on start()', async () => {
    const port = smtp.port;
    await smtp.stop();
    await expect(transport().sendMail(simpleMail())).rejects.toMatchObject({ code: 'ESOCKET' });
    await smtp.start();
    expect(smtp.port).toBe(port);
    await transport().sendMail(simpleMail());
    expect(await smtp.waitForMessages(1)).toHaveLength(1);
  });

  it('waitForMessages rejects with a readable message on timeout', async () => {
    await expect(smtp.waitForMessages(1, 50)).rejects.toThrow(
      'SmtpTestServer.waitForMessages: expected 1 message(s) within 50 ms, got 0 (subjects: none)',
    );
  });
});

function simpleMail() {
  return { from: 'kaizen@example.org', to: 'ada@example.org', subject: 'Hello', text: 'Hello' };
}
