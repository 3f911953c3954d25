/**
 * The outbox's hook for a message given up for good: called once with the reason, whether the relay
 * refused the message (5xx) or the attempts ran out; never for a message that went out.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { outboxFromConfig } from '../../src/mail/from-config.js';
import type { MailMessage } from '../../src/mail/message.js';
import type { MailOutbox, OutboxOptions } from '../../src/mail/outbox.js';
import { loadConfig } from '../../src/platform/config/config.js';
import { silentLogger } from '../../src/platform/log.js';
import { testEnv, uniquePrefix } from '../support/bot.js';
import { type SmtpTestServer, startSmtpServer } from '../support/smtp.js';

const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const prefix = uniquePrefix('mail-hooks');
const redis = new Redis(redisUrl, { keyPrefix: prefix });
/** Without the prefix, to clean up everything this file stored. */
const inspector = new Redis(redisUrl);
const secret = randomBytes(32).toString('base64');
const HOOK = 'application_notified';

let smtp: SmtpTestServer;
const outboxes: MailOutbox[] = [];

/** An outbox as the bot builds it, with retries fast enough for a test, and what its hooks heard. */
function outbox(options: OutboxOptions = {}) {
  const config = loadConfig(
    testEnv({
      SMTP_URL: smtp.url,
      SMTP_CA_FILE: smtp.caFile,
      MAIL_FROM: 'Kaizen <kaizen@example.org>',
      SETPASS_SECRET: secret,
    }),
  );
  const mail = outboxFromConfig(config, redis, silentLogger, {
    retryBaseMs: 1,
    retryMaxMs: 1,
    pollMs: 10,
    ...options,
  })!;
  outboxes.push(mail);
  const heard: string[] = [];
  mail.onDelivered(HOOK, async (ref) => {
    heard.push(`delivered ${ref}`);
  });
  mail.onGivenUp(HOOK, async (ref, reason) => {
    heard.push(`given up ${ref}: ${reason}`);
  });
  return { mail, heard };
}

const message = (n: number): MailMessage => ({
  to: 'ada@example.org',
  subject: `Welcome ${n}`,
  text: 'Set your password: https://register.example.org/?token=SECRET-LINK',
});

const send = (mail: MailOutbox, n: number) =>
  mail.enqueue(message(n), { idempotencyKey: `welcome:h${n}`, onDelivered: { kind: HOOK, ref: `h${n}` } });

beforeAll(async () => {
  smtp = await startSmtpServer();
});
beforeEach(async () => {
  await Promise.all(outboxes.splice(0).map((mail) => mail.stop()));
  await smtp.start();
  smtp.reset();
});
afterAll(async () => {
  await Promise.all(outboxes.map((mail) => mail.stop()));
  await smtp.close();
  const left = await inspector.keys(`${prefix}*`);
  if (left.length > 0) await inspector.del(...left);
  await Promise.all([redis.quit(), inspector.quit()]);
});

describe('the give-up hook', () => {
  it('hears a message the relay refused for good, at once, with the reason', async () => {
    const { mail, heard } = outbox();
    smtp.refuseNext(1);
    expect(await send(mail, 1)).toMatchObject({ status: 'queued' });
    expect(await mail.status('welcome:h1')).toBe('failed');
    expect(heard).toEqual([
      `given up h1: The mail relay at 127.0.0.1:${smtp.port} refused the message (SMTP 550) (after 1 attempt)`,
    ]);
  });

  it('hears a message whose attempts ran out, once, from the worker', async () => {
    const { mail, heard } = outbox({ maxAttempts: 3 });
    await smtp.stop();
    expect(await send(mail, 2)).toMatchObject({ status: 'queued' });
    expect(heard).toEqual([]);
    while ((await mail.status('welcome:h2')) !== 'failed') await mail.runOnce();
    expect(heard).toEqual([
      `given up h2: The mail relay at 127.0.0.1:${smtp.port} did not answer (connection refused): is it running? (after 3 attempts)`,
    ]);
    expect(await mail.runOnce()).toBe(0);
    expect(heard).toHaveLength(1);
  });

  it('stays silent for a message that went out after a retry', async () => {
    const { mail, heard } = outbox();
    smtp.failNext(1);
    expect(await send(mail, 3)).toMatchObject({ status: 'queued' });
    while ((await mail.status('welcome:h3')) !== 'delivered') await mail.runOnce();
    expect(heard).toEqual(['delivered h3']);
  });
});
