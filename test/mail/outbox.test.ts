import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { MailMessage } from '../../src/mail/message.js';
import { MailOutbox, type OutboxOptions } from '../../src/mail/outbox.js';
import { type SmtpTransport, transportFromConfig } from '../../src/mail/transport.js';
import { loadConfig } from '../../src/platform/config/config.js';
import { Sealer } from '../../src/platform/crypto/sealer.js';
import { silentLogger } from '../../src/platform/log.js';
import { testEnv, uniquePrefix } from '../support/bot.js';
import { type SmtpTestServer, startSmtpServer } from '../support/smtp.js';

const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const prefix = uniquePrefix('mail');
const redis = new Redis(redisUrl, { keyPrefix: prefix });
/** Without the prefix, to look at everything this file stored. */
const inspector = new Redis(redisUrl);
const secret = randomBytes(32);

let smtp: SmtpTestServer;
const outboxes: MailOutbox[] = [];
const transports: SmtpTransport[] = [];

function transport(): SmtpTransport {
  const config = loadConfig(
    testEnv({ SMTP_URL: smtp.url, SMTP_CA_FILE: smtp.caFile, MAIL_FROM: 'Kaizen <kaizen@example.org>' }),
  );
  const made = transportFromConfig(config.mail, { timeoutMs: 2_000 }) as SmtpTransport;
  transports.push(made);
  return made;
}

/** A worker as each replica runs one: its own transport, the shared Redis and SETPASS_SECRET. */
function outbox(options: OutboxOptions = {}): MailOutbox {
  const made = new MailOutbox(redis, transport(), new Sealer(secret, 'kaizen mail outbox'), silentLogger, {
    retryBaseMs: 20,
    retryMaxMs: 200,
    pollMs: 10,
    ...options,
  });
  outboxes.push(made);
  return made;
}

const message = (
  n: number | string,
  link = 'https://register.example.org/?token=SECRET-LINK',
): MailMessage => ({
  to: 'ada@example.org',
  subject: `Welcome ${n}`,
  text: `Set your password: ${link}`,
  html: `<p><a href="${link}">Set your password</a></p>`,
});

/** Every value this file holds in Redis, as one string. */
async function everythingStored(): Promise<string> {
  const found = await inspector.keys(`${prefix}*`);
  const values = await Promise.all(
    found.map(async (key) => {
      const type = await inspector.type(key);
      if (type === 'string') return `${key}=${await inspector.get(key)}`;
      if (type === 'hash') return `${key}=${JSON.stringify(await inspector.hgetall(key))}`;
      if (type === 'zset') return `${key}=${(await inspector.zrange(key, 0, -1)).join(',')}`;
      return key;
    }),
  );
  return values.join('\n');
}

beforeAll(async () => {
  smtp = await startSmtpServer();
});

afterEach(async () => {
  await Promise.all(outboxes.splice(0).map((o) => o.stop()));
  for (const t of transports.splice(0)) t.close();
  await smtp.start();
  smtp.reset();
});

afterAll(async () => {
  await smtp.close();
  const leftover = await inspector.keys(`${prefix}*`);
  if (leftover.length > 0) await inspector.del(...leftover);
  await Promise.all([redis.quit(), inspector.quit()]);
});

describe('mail outbox', () => {
  it('sends at once over STARTTLS, keeps no body, and sends one email per purpose', async () => {
    const mail = outbox();
    const first = await mail.enqueue(message(1), { idempotencyKey: 'welcome:a1' });
    expect(first.status).toBe('sent');
    const [received] = await smtp.waitForMessages(1);
    expect(received).toMatchObject({
      from: 'kaizen@example.org',
      to: ['ada@example.org'],
      subject: 'Welcome 1',
      secure: true,
      user: 'kaizen',
    });

    const again = await mail.enqueue(message('1 again'), { idempotencyKey: 'welcome:a1' });
    expect(again).toEqual({ status: 'duplicate', id: 'delivered', delivered: true });
    expect(await mail.status('welcome:a1')).toBe('delivered');
    expect(await mail.pending()).toBe(0);
    expect(await everythingStored()).not.toContain('mail:msg:');
    expect(smtp.messages).toHaveLength(1);
  });

  it('queues while the relay is down, sealed, and delivers exactly once when it is back', async () => {
    const mail = outbox();
    await smtp.stop();
    const result = await mail.enqueue(message(2), { idempotencyKey: 'welcome:a2' });
    expect(result).toMatchObject({ status: 'queued', reason: expect.stringMatching(/did not answer/) });
    expect(await mail.status('welcome:a2')).toBe('queued');
    // A second enqueue while queued adds nothing.
    expect(await mail.enqueue(message(2), { idempotencyKey: 'welcome:a2' })).toMatchObject({
      status: 'duplicate',
      delivered: false,
    });
    const stored = await everythingStored();
    expect(stored).toContain('mail:msg:');
    expect(stored).not.toContain('SECRET-LINK');
    expect(stored).not.toContain('Welcome 2');

    await smtp.start();
    mail.start();
    await smtp.waitForMessages(1);
    await mail.stop();
    expect(await mail.status('welcome:a2')).toBe('delivered');
    expect(await mail.pending()).toBe(0);
    expect(await mail.runOnce()).toBe(0);
    expect(smtp.messages.map((m) => m.subject)).toEqual(['Welcome 2']);
    expect(smtp.messages[0]?.text).toContain('SECRET-LINK');
    expect(await everythingStored()).not.toContain('SECRET-LINK');
  });

  it('retries a message the relay deferred (451)', async () => {
    const mail = outbox();
    smtp.failNext(1);
    expect((await mail.enqueue(message(3), { idempotencyKey: 'welcome:a3' })).status).toBe('queued');
    mail.start();
    await smtp.waitForMessages(1);
    await mail.stop();
    expect(smtp.messages.map((m) => m.subject)).toEqual(['Welcome 3']);
  });

  it('sends each message once with two workers on one Redis', async () => {
    const first = outbox();
    const second = outbox();
    await smtp.stop();
    for (let n = 0; n < 8; n += 1) {
      expect((await first.enqueue(message(`w${n}`), { idempotencyKey: `welcome:w${n}` })).status).toBe(
        'queued',
      );
    }
    await smtp.start();
    first.start();
    second.start();
    await smtp.waitForMessages(8);
    await Promise.all([first.stop(), second.stop()]);
    expect(await first.pending()).toBe(0);
    expect(await Promise.all([first.runOnce(), second.runOnce()])).toEqual([0, 0]);
    const subjects = smtp.messages.map((m) => m.subject).sort();
    expect(subjects).toEqual(['w0', 'w1', 'w2', 'w3', 'w4', 'w5', 'w6', 'w7'].map((w) => `Welcome ${w}`));
  });

  it('hands pending mail to the next worker after a restart', async () => {
    const before = outbox();
    await smtp.stop();
    expect((await before.enqueue(message(4), { idempotencyKey: 'welcome:a4' })).status).toBe('queued');
    await before.stop();

    await smtp.start();
    const after = outbox();
    after.start();
    await smtp.waitForMessages(1);
    await after.stop();
    expect(smtp.messages.map((m) => m.subject)).toEqual(['Welcome 4']);
    expect(await after.status('welcome:a4')).toBe('delivered');
  });

  it('runs the delivery hook registered for the message, also after a restart', async () => {
    const delivered: string[] = [];
    const now = outbox();
    now.onDelivered('application_notified', async (ref) => {
      delivered.push(`now:${ref}`);
    });
    await now.enqueue(message(5), {
      idempotencyKey: 'welcome:a5',
      onDelivered: { kind: 'application_notified', ref: 'a5' },
    });
    expect(delivered).toEqual(['now:a5']);

    await smtp.stop();
    await now.enqueue(message(6), {
      idempotencyKey: 'welcome:a6',
      onDelivered: { kind: 'application_notified', ref: 'a6' },
    });
    await smtp.start();
    const later = outbox();
    later.onDelivered('application_notified', async (ref) => {
      delivered.push(`later:${ref}`);
    });
    later.start();
    await smtp.waitForMessages(2);
    await later.stop();
    expect(delivered).toEqual(['now:a5', 'later:a6']);
  });

  it('gives up after the last attempt, deletes the body, and lets a new enqueue try again', async () => {
    const mail = outbox({ maxAttempts: 2, retryBaseMs: 1, retryMaxMs: 1 });
    await smtp.stop();
    await mail.enqueue(message(7), { idempotencyKey: 'welcome:a7' });
    while ((await mail.status('welcome:a7')) !== 'failed') await mail.runOnce();
    expect(await mail.pending()).toBe(0);
    expect(await everythingStored()).not.toContain('mail:msg:');

    await smtp.start();
    expect((await mail.enqueue(message(7), { idempotencyKey: 'welcome:a7' })).status).toBe('sent');
    expect(smtp.messages.map((m) => m.subject)).toEqual(['Welcome 7']);
  });

  it('drops a message it cannot decrypt instead of sending garbage', async () => {
    const mail = outbox();
    await smtp.stop();
    await mail.enqueue(message(8), { idempotencyKey: 'welcome:a8' });
    await smtp.start();
    const otherSecret = new MailOutbox(
      redis,
      transport(),
      Sealer.ephemeral('kaizen mail outbox'),
      silentLogger,
      {
        retryBaseMs: 1,
        pollMs: 10,
      },
    );
    outboxes.push(otherSecret);
    while ((await otherSecret.status('welcome:a8')) === 'queued') await otherSecret.runOnce();
    expect(await otherSecret.status('welcome:a8')).toBe('failed');
    expect(smtp.messages).toHaveLength(0);
  });
});

describe('SMTP transport', () => {
  it('verifies the relay, and says what to do when its certificate is not trusted', async () => {
    await expect(transport().verify()).resolves.toBeUndefined();
    const untrusted = transportFromConfig(
      loadConfig(testEnv({ SMTP_URL: smtp.url, MAIL_FROM: 'k@example.org' })).mail,
      { timeoutMs: 2_000 },
    )!;
    await expect(untrusted.verify()).rejects.toMatchObject({
      kind: 'config',
      message: expect.stringContaining('set SMTP_CA_FILE to its CA'),
    });
    untrusted.close();
  });

  it('names a wrong password without repeating it', async () => {
    const url = smtp.url.replace(encodeURIComponent(smtp.password), 'wrong-password-123');
    const wrong = transportFromConfig(
      loadConfig(testEnv({ SMTP_URL: url, SMTP_CA_FILE: smtp.caFile, MAIL_FROM: 'k@example.org' })).mail,
    )!;
    const error = (await wrong.send(message(9)).catch((e: unknown) => e)) as Error;
    expect(error).toMatchObject({ kind: 'unauthorized', permanent: false });
    expect(error.message).toBe(
      `The mail relay at 127.0.0.1:${smtp.port} refused the user name and password in SMTP_URL`,
    );
    wrong.close();
  });

  it('is off without SMTP_URL or MAIL_FROM', () => {
    expect(transportFromConfig(loadConfig(testEnv({ SMTP_URL: smtp.url })).mail)).toBeUndefined();
  });
});
