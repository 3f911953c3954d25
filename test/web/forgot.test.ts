/**
 * `/forgot` end to end: the real bot (page and event consumer in one process), the real Keystone,
 * Redis and SMTP server. The page answers the same whatever was typed; a right name and PIN get a
 * reset exactly as `/kaizen reset` does, to the address Keystone holds.
 */
import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { publishSetpassEvent } from '../../src/domain/setpass/events.js';
import type { Setpass } from '../../src/domain/setpass/service.js';
import type { KeystoneClient } from '../../src/keystone/index.js';
import { KaizenError } from '../../src/platform/errors.js';
import { keys } from '../../src/platform/keys.js';
import { FORGOT_FLOOR_MS } from '../../src/web/deps.js';
import { type Answer, askForgot, openForgot, submit, tokenOf } from '../domain/setpass/helpers.js';
import { adminClient, afterRevocationTick, DOMAIN_ID, newMember, unique } from '../keystone/fixtures.js';
import { mailWorldEnv, startTestBot, TEST_ADMIN_CHANNEL, type TestBot } from '../support/bot.js';
import { type SlackFake, startSlackFake } from '../support/slack-fake.js';
import { type ReceivedMail, type SmtpTestServer, startSmtpServer } from '../support/smtp.js';

const PUBLIC_URL = 'https://register.kaizen.test';
const PIN = '4821';
const NEW_PASSWORD = 'Copper-Lantern-Meadow-73';
/** Every request from an address of its own, so the per-address limit is not what a test sees. */
const freshIp = (): string => {
  const [a, b] = [randomBytes(2).toString('hex'), randomBytes(2).toString('hex')];
  return `2001:db8:${a}:${b}::1`;
};

describe('forgot your password', () => {
  let slack: SlackFake;
  let smtp: SmtpTestServer;
  let running: TestBot;
  let keystone: KeystoneClient;
  let setpass: Setpass;

  async function passwordWorks(userId: string, password: string): Promise<boolean> {
    try {
      await keystone.passwordLogin({ userId, password, scope: 'unscoped' });
      return true;
    } catch (error) {
      if (error instanceof KaizenError && error.kind === 'unauthorized') return false;
      throw error;
    }
  }

  /** A member with a PIN on file and a live link, as the first approval leaves them. */
  async function memberWithLink() {
    return withLink(await newMember(keystone));
  }

  async function withLink<M extends { user: { id: string; name: string } }>(member: M) {
    const link = await setpass.issue(
      { userId: member.user.id, username: member.user.name },
      setpass.hashPin(PIN),
    );
    return { ...member, link: link.url };
  }

  /** The `forgot_requested` events the page put on the stream for this user. */
  async function requestsFor(userId: string): Promise<number> {
    const entries = await running.bot.services.redis.xrange(keys.events(), '-', '+');
    return entries.filter(([, fields]) => {
      const joined = fields.join('\n');
      return joined.includes('forgot_requested') && fields.includes(userId);
    }).length;
  }

  function mailTo(address: string): ReceivedMail[] {
    return smtp.messages.filter((mail) => mail.to.includes(address));
  }

  function linkIn(mail: ReceivedMail): string {
    const found = mail.text.match(/https:\/\/register\.kaizen\.test\/\?token=[A-Za-z0-9_%-]+/);
    if (!found) throw new Error(`no password link in the email "${mail.subject}"`);
    return found[0];
  }

  /** What must not differ between answers: status, body and every header but the date. */
  function shape(answer: Answer): unknown {
    const headers = [...answer.headers.entries()].filter(([name]) => name !== 'date');
    return { status: answer.status, html: answer.html, headers };
  }

  beforeAll(async () => {
    slack = await startSlackFake();
    smtp = await startSmtpServer();
    running = await startTestBot(
      mailWorldEnv({ slack, smtp }, inject('keystone'), {
        PUBLIC_URL,
        ALLOW_INSECURE_PUBLIC_URL: 'true',
        TRUSTED_PROXIES: '127.0.0.1',
      }),
    );
    keystone = adminClient();
    setpass = running.bot.services.setpass!;
  });
  afterEach(() => slack?.assertNothingRefused());
  afterAll(async () => {
    await running?.stop();
    await Promise.allSettled([slack?.close(), smtp?.close()]);
  });

  it('shows a form with the page’s anti-forgery field, cookie and headers', async () => {
    const opened = await openForgot(running.url);
    expect(opened.status).toBe(200);
    expect(opened.html).toContain('<form method="post" action="/forgot"');
    expect(opened.html).toContain('name="name"');
    expect(opened.html).toContain('name="pin"');
    expect(opened.csrf).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(opened.cookie).toBe(`kaizen-csrf=${opened.csrf}`);
    expect(opened.headers.get('content-security-policy')).toContain("form-action 'self'");
    expect(opened.headers.get('cache-control')).toBe('no-store');

    // Without the cookie that came with the form, nothing is asked for.
    const forged = await fetch(`${running.url}/forgot`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ csrf: opened.csrf!, name: 'x@example.org', pin: PIN }).toString(),
    });
    expect(forged.status).toBe(403);
  });

  it('emails a reset link to the address Keystone holds; the old link dies and the new password works', async () => {
    // The address on file is Keystone's; what was typed is only how the account is found.
    const name = `${unique('forgot')}@example.org`;
    const project = await keystone.createProject({
      name: unique('Kaizen Test'),
      description: 'test',
      domainId: DOMAIN_ID,
    });
    const user = await keystone.createUser({
      name,
      email: `stored-${name}`,
      description: 'Test Member',
      password: unique('Temp!pass'),
      defaultProjectId: project.id,
      domainId: DOMAIN_ID,
    });
    const member = await withLink({ user });
    const admin = await keystone.getUser(member.user.id);
    const before = slack.messages(TEST_ADMIN_CHANNEL).length;

    const answer = await askForgot(running.url, { name: member.user.name, pin: PIN, ip: freshIp() });
    expect(answer.status).toBe(200);
    expect(answer.html).toContain('If these match an account, a link is on its way to the address on file.');

    await vi.waitFor(() => expect(mailTo(`stored-${member.user.name}`)).toHaveLength(1), { timeout: 10_000 });
    expect(mailTo(member.user.name)).toHaveLength(0);
    const dead = await fetch(member.link.replace(PUBLIC_URL, running.url));
    expect(dead.status).toBe(404);
    expect(await dead.text()).toContain('<a href="/forgot">');
    await vi.waitFor(
      () =>
        expect(
          slack
            .messages(TEST_ADMIN_CHANNEL)
            .slice(before)
            .map((m) => m.text),
        ).toContain(`self-service reset by ${admin.name}`),
      { timeout: 10_000 },
    );

    const link = linkIn(mailTo(`stored-${member.user.name}`)[0]!);
    const done = await submit(running.url, tokenOf(link), { pin: PIN, password: NEW_PASSWORD });
    expect(done.status).toBe(200);
    expect(done.html).toContain('<a href="/forgot">');
    expect(mailTo(`stored-${member.user.name}`)[0]!.text).toContain(`${PUBLIC_URL}/forgot`);
    await afterRevocationTick();
    expect(await passwordWorks(member.user.id, NEW_PASSWORD)).toBe(true);
  });

  it('answers byte for byte the same for an unknown name, a wrong PIN, a protected account and a mixed-case email', async () => {
    const member = await memberWithLink();
    const operator = await memberWithLink();
    const adminRole = await keystone.findRole('admin');
    await keystone.assignProjectRole(operator.project.id, operator.user.id, adminRole!.id);

    const answers = {
      unknown: await askForgot(running.url, {
        name: `nobody-${randomBytes(4).toString('hex')}@example.org`,
        pin: PIN,
        ip: freshIp(),
      }),
      wrongPin: await askForgot(running.url, { name: member.user.name, pin: '0000', ip: freshIp() }),
      protected: await askForgot(running.url, { name: operator.user.name, pin: PIN, ip: freshIp() }),
      mixedCase: await askForgot(running.url, {
        name: ` ${member.user.name.toUpperCase()} `,
        pin: PIN,
        ip: freshIp(),
      }),
    };
    const expected = shape(answers.unknown);
    for (const answer of Object.values(answers)) expect(shape(answer)).toEqual(expected);
    expect(answers.unknown.headers.get('set-cookie')).toBeNull();

    // Behind the same page: the mixed-case email was the member's and got a link; the protected
    // account got nothing but an audit line.
    await vi.waitFor(() => expect(mailTo(member.user.name)).toHaveLength(1), { timeout: 10_000 });
    await vi.waitFor(
      async () => {
        const audit = await running.bot.services.audit.read({ subject: operator.user.name, limit: 5 });
        expect(audit.find((entry) => entry.action === 'password_reset')).toMatchObject({ outcome: 'denied' });
      },
      { timeout: 10_000 },
    );
    expect(mailTo(operator.user.name)).toHaveLength(0);
    const operatorLink = await fetch(operator.link.replace(PUBLIC_URL, running.url));
    expect(operatorLink.status).toBe(200);
  });

  it('takes the same time for a name that exists and one that does not (compared over many tries)', async () => {
    // Accounts the page knows, each asked once with a wrong PIN: the longest path the page takes.
    const known = await Promise.all(
      Array.from({ length: 12 }, async (_, i) => {
        const userId = `timing-${randomBytes(6).toString('hex')}-${i}`;
        const name = `${userId}@example.org`;
        await setpass.storePinHash(userId, setpass.hashPin(PIN));
        await setpass.forgot.remember(name, userId, 60_000);
        return name;
      }),
    );
    const timed = async (name: string, pin: string): Promise<number> => {
      const opened = await openForgot(running.url);
      const started = performance.now();
      const response = await fetch(`${running.url}/forgot`, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          cookie: opened.cookie ?? '',
          'x-forwarded-for': freshIp(),
        },
        body: new URLSearchParams({ csrf: opened.csrf ?? '', name, pin }).toString(),
      });
      await response.text();
      expect(response.status).toBe(200);
      return performance.now() - started;
    };
    const existing: number[] = [];
    const missing: number[] = [];
    for (const name of known) {
      existing.push(await timed(name, '0000'));
      missing.push(await timed(`x${name}`, '0000'));
    }
    const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
    // Both sit on the floor; the difference between them is noise, far below the floor itself.
    for (const ms of [...existing, ...missing]) expect(ms).toBeGreaterThanOrEqual(FORGOT_FLOOR_MS - 5);
    expect(Math.abs(median(existing) - median(missing))).toBeLessThan(FORGOT_FLOOR_MS / 4);
  });

  it('locks out after the maximum of wrong PINs across the link and /forgot together, until an admin acts', async () => {
    const member = await memberWithLink();
    const token = tokenOf(member.link);
    const ip = freshIp();
    const onLink = await submit(running.url, token, { pin: '1111', password: NEW_PASSWORD, ip });
    expect(onLink.status).toBe(400);
    await askForgot(running.url, { name: member.user.name, pin: '2222', ip: freshIp() });
    expect((await setpass.status(member.user.id)).lockedOut).toBeUndefined();
    await askForgot(running.url, { name: member.user.name, pin: '3333', ip: freshIp() });

    // The third wrong PIN (SETPASS_MAX_PIN_ATTEMPTS) burned the link.
    expect((await setpass.status(member.user.id)).lockedOut).toMatchObject({ attempts: 3 });
    expect((await fetch(member.link.replace(PUBLIC_URL, running.url))).status).toBe(404);
    await vi.waitFor(
      () =>
        expect(
          slack
            .messages(TEST_ADMIN_CHANNEL)
            .map((m) => m.text)
            .join('\n'),
        ).toContain(`${member.user.name} was locked out`),
      { timeout: 10_000 },
    );

    // The right PIN now asks for nothing: the lockout stands.
    const answer = await askForgot(running.url, { name: member.user.name, pin: PIN, ip: freshIp() });
    expect(answer.status).toBe(200);
    expect(await requestsFor(member.user.id)).toBe(0);

    // A request already on its way when the lockout came is refused by the bot side, audited.
    await publishSetpassEvent(running.bot.services.redis, {
      type: 'forgot_requested',
      userId: member.user.id,
      username: member.user.name,
      at: new Date(),
      clientIp: '2001:db8::9',
    });
    await vi.waitFor(
      async () => {
        const audit = await running.bot.services.audit.read({ subject: member.user.name, limit: 10 });
        expect(audit.find((entry) => entry.action === 'password_reset')).toMatchObject({
          outcome: 'denied',
          detail: expect.stringContaining('locked out'),
        });
      },
      { timeout: 10_000 },
    );
    expect(mailTo(member.user.name)).toHaveLength(0);
  });

  it('locks out after the maximum of wrong PINs on /forgot when there is no live link', async () => {
    const member = await memberWithLink();
    await setpass.revoke(member.user.id);
    for (const pin of ['1111', '2222'])
      await askForgot(running.url, { name: member.user.name, pin, ip: freshIp() });
    expect((await setpass.status(member.user.id)).lockedOut).toBeUndefined();
    await askForgot(running.url, { name: member.user.name, pin: '3333', ip: freshIp() });
    expect((await setpass.status(member.user.id)).lockedOut).toMatchObject({ attempts: 3 });
    await askForgot(running.url, { name: member.user.name, pin: PIN, ip: freshIp() });
    expect(await requestsFor(member.user.id)).toBe(0);
  });

  it('answers any typed name and PIN with the same page, and sends nothing for them (property)', async () => {
    const reference = shape(
      await askForgot(running.url, { name: 'nobody@example.org', pin: PIN, ip: freshIp() }),
    );
    const mailsBefore = smtp.messages.length;
    const typed = fc.oneof(
      fc.string({ maxLength: 80 }),
      fc.string({ maxLength: 40, unit: 'binary' }),
      fc.emailAddress(),
      fc.constantFrom('', ' ', '%', '\u0000', '=cmd|x', '<script>', 'admin', 'ADMIN', '*', "' OR 1=1"),
    );
    let tried = 0;
    await fc.assert(
      fc.asyncProperty(
        typed,
        fc.oneof(fc.string({ maxLength: 8 }), fc.stringMatching(/^\d{4}$/)),
        async (name, pin) => {
          tried += 1;
          const answer = await askForgot(running.url, { name, pin, ip: freshIp() });
          expect(shape(answer)).toEqual(reference);
        },
      ),
      { numRuns: 15, seed: 20261206 },
    );
    console.log(`fuzz: /forgot names and PINs: ${tried} cases tried, one answer`);
    expect(smtp.messages).toHaveLength(mailsBefore);
  });

  it('sends at most one self-service link per user an hour', async () => {
    const member = await memberWithLink();
    for (let i = 0; i < 3; i++) {
      const answer = await askForgot(running.url, { name: member.user.name, pin: PIN, ip: freshIp() });
      expect(answer.status).toBe(200);
    }
    expect(await requestsFor(member.user.id)).toBe(1);
    await vi.waitFor(() => expect(mailTo(member.user.name)).toHaveLength(1), { timeout: 10_000 });
  });

  it('limits requests per address, whatever they name', async () => {
    const member = await memberWithLink();
    const ip = freshIp();
    for (let i = 0; i < 10; i++) {
      await askForgot(running.url, { name: `nobody-${i}@example.org`, pin: PIN, ip });
    }
    const answer = await askForgot(running.url, { name: member.user.name, pin: PIN, ip });
    expect(answer.status).toBe(200);
    expect(await requestsFor(member.user.id)).toBe(0);
    await askForgot(running.url, { name: member.user.name, pin: PIN, ip: freshIp() });
    expect(await requestsFor(member.user.id)).toBe(1);
  });
});
