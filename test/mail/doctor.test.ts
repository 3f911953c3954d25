import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { liveChecks, runDoctor } from '../../src/ops/doctor.js';
import { loadConfig } from '../../src/platform/config/config.js';
import { testEnv } from '../support/bot.js';
import { type SmtpTestServer, startSmtpServer } from '../support/smtp.js';

describe('kaizen doctor: mail', () => {
  let smtp: SmtpTestServer;
  beforeAll(async () => {
    smtp = await startSmtpServer();
  });
  afterAll(() => smtp?.close());

  const mailOnly = { mail: liveChecks.mail! };
  const mailLine = async (env: Record<string, string>) =>
    (await runDoctor(loadConfig(testEnv({ MAIL_FROM: 'k@example.org', ...env })), mailOnly)).find(
      (line) => line.name === 'mail',
    );

  it('connects, starts TLS and logs in without sending anything', async () => {
    expect(await mailLine({ SMTP_URL: smtp.url, SMTP_CA_FILE: smtp.caFile })).toEqual({
      name: 'mail',
      status: 'ok',
      detail: 'relay accepted the connection and the login (STARTTLS)',
    });
    expect(smtp.messages).toEqual([]);
  });

  it('says what to fix, without the password in SMTP_URL', async () => {
    const untrusted = await mailLine({ SMTP_URL: smtp.url });
    expect(untrusted?.status).toBe('failing');
    expect(untrusted?.detail).toContain('set SMTP_CA_FILE to its CA');

    await smtp.stop();
    try {
      const down = await mailLine({ SMTP_URL: smtp.url, SMTP_CA_FILE: smtp.caFile });
      expect(down).toEqual({
        name: 'mail',
        status: 'failing',
        detail: `The mail relay at 127.0.0.1:${smtp.port} did not answer (connection refused): is it running?`,
      });
      expect(down?.detail).not.toContain(smtp.password);
    } finally {
      await smtp.start();
    }
  });
});
