/**
 * `PUT /token/:user_id`, compatible with CCI-MOC/setpass, on a public `setpass` host: only Redis,
 * SETPASS_SECRET, PUBLIC_URL and OS_AUTH_URL, no admin credentials. Callers are checked by the
 * real Keystone; the links it makes are then used on the same host.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type RunningKaizen, startKaizen } from '../../src/app/start.js';
import type { KeystoneClient } from '../../src/keystone/index.js';
import { type Env, loadConfig } from '../../src/platform/config/config.js';
import { createLogger } from '../../src/platform/log.js';
import {
  alerts,
  heading,
  openLink,
  passwordWorks,
  strongPassword,
  submit,
} from '../domain/setpass/helpers.js';
import {
  adminClient,
  afterRevocationTick,
  anonymousClient,
  DOMAIN_ID,
  newMember,
  unique,
} from '../keystone/fixtures.js';
import { uniquePrefix } from '../support/bot.js';

describe('PUT /token/:user_id on the setpass role', () => {
  let env: Env;
  let page: RunningKaizen;
  let admin: KeystoneClient;
  let adminToken: string;
  let unscopedAdminToken: string;
  const serviceProject = unique('service');

  async function put(
    userId: string,
    body: string | undefined,
    headers: Record<string, string> = {},
  ): Promise<{ status: number; text: string; headers: Headers }> {
    const response = await fetch(`${page.url}/token/${userId}`, {
      method: 'PUT',
      headers: {
        'x-auth-token': adminToken,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...headers,
      },
      body,
    });
    return { status: response.status, text: await response.text(), headers: response.headers };
  }

  beforeAll(async () => {
    const keystone = inject('keystone');
    env = {
      KAIZEN_ROLE: 'setpass',
      PORT: '0',
      HOST: '127.0.0.1',
      REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
      REDIS_KEY_PREFIX: uniquePrefix('setpass-api'),
      SETPASS_SECRET: randomBytes(32).toString('base64'),
      PUBLIC_URL: 'https://register.kaizen.test',
      OS_AUTH_URL: keystone.authUrl,
      KAIZEN_SERVICE_PROJECT: serviceProject,
    };
    page = await startKaizen(loadConfig(env), { log: createLogger({ level: 'silent', pretty: false }) });
    admin = adminClient();
    adminToken = await admin.getAdminToken();
    const unscoped = await anonymousClient().passwordLogin({
      username: keystone.username,
      userDomainName: keystone.userDomainName,
      password: keystone.password,
      scope: 'unscoped',
    });
    expect(unscoped.info.project).toBeUndefined();
    unscopedAdminToken = unscoped.token;
  });
  afterAll(async () => {
    await page?.stop();
  });

  it('needs an X-Auth-Token header: 401 without one', async () => {
    const member = await newMember(admin);
    const response = await fetch(`${page.url}/token/${member.user.id}`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ password: member.password, pin: '1234' }),
    });
    expect(response.status).toBe(401);
    expect(await response.text()).toContain('X-Auth-Token');
    expect((await put(member.user.id, '{}', { 'x-auth-token': '' })).status).toBe(401);
  });

  it('refuses with 403 anyone but an admin of the admin project: a member, unscoped or scoped, or garbage', async () => {
    const member = await newMember(admin);
    const client = anonymousClient();
    const scoped = await client.passwordLogin({
      userId: member.user.id,
      password: member.password,
      scope: { projectId: member.project.id },
    });
    const unscoped = await client.passwordLogin({
      userId: member.user.id,
      password: member.password,
      scope: 'unscoped',
    });
    const body = JSON.stringify({ password: member.password, pin: '1234' });
    for (const token of [scoped.token, unscoped.token, 'gAAAAA-not-a-token']) {
      const answer = await put(member.user.id, body, { 'x-auth-token': token });
      expect(answer.status).toBe(403);
      expect(answer.text).toBe('This token does not belong to an admin of the admin project.\n');
    }
    expect(await passwordWorks(admin, member.user.id, member.password)).toBe(true);
  });

  it('refuses a protected account with 403 and the reason, read on the caller’s authority: an operator, a service-project member, the caller itself', async () => {
    const operator = await newMember(admin);
    const adminRole = await admin.findRole('admin');
    await admin.assignProjectRole(operator.project.id, operator.user.id, adminRole!.id);
    const serviceAccount = await newMember(admin);
    const service = await admin.createProject({
      name: serviceProject,
      description: 'test',
      domainId: DOMAIN_ID,
    });
    await admin.assignProjectRole(service.id, serviceAccount.user.id, serviceAccount.role.id);
    const self = await anonymousClient().passwordLogin({
      username: inject('keystone').username,
      userDomainName: inject('keystone').userDomainName,
      password: inject('keystone').password,
      scope: 'unscoped',
    });

    const cases = [
      [operator, 'it holds the cloud admin role (KAIZEN_ADMIN_ROLE)'],
      [serviceAccount, 'it is a member of the service project (KAIZEN_SERVICE_PROJECT)'],
    ] as const;
    for (const [member, reason] of cases) {
      for (const token of [adminToken, unscopedAdminToken]) {
        const answer = await put(member.user.id, JSON.stringify({ password: member.password, pin: '1234' }), {
          'x-auth-token': token,
        });
        expect(answer.status).toBe(403);
        expect(answer.text).toContain(`A password link refused for ${member.user.name}: ${reason}.`);
      }
      expect(await page.services.setpass!.tokens.current(member.user.id)).toBeUndefined();
      const [audit] = await page.services.audit.read({ subject: member.user.id, limit: 1 });
      expect(audit).toMatchObject({ action: 'setpass.token_issued', outcome: 'denied' });
    }
    const own = await put(self.info.user.id, JSON.stringify({ password: inject('keystone').password }));
    expect(own.status).toBe(403);
    expect(own.text).toContain('it holds the cloud admin role');
  });

  it('issues a link for a password set in Keystone: the token as text/plain, the page then works without admin credentials', async () => {
    const member = await newMember(admin);
    const answer = await put(member.user.id, JSON.stringify({ password: member.password, pin: '2468' }));
    expect(answer.status).toBe(200);
    expect(answer.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect(answer.headers.get('cache-control')).toBe('no-store');
    expect(answer.text).toMatch(/^[A-Za-z0-9_-]{43}$/);

    const opened = await openLink(page.url, answer.text);
    expect(opened.status).toBe(200);
    expect(opened.html).toContain(`value="${member.user.name}"`);
    const chosen = strongPassword();
    const done = await submit(page.url, answer.text, { pin: '2468', password: chosen });
    expect(done.status).toBe(200);
    expect(heading(done.html)).toBe('Your password is set');
    await afterRevocationTick();
    expect(await passwordWorks(admin, member.user.id, chosen)).toBe(true);
    expect(await passwordWorks(admin, member.user.id, member.password)).toBe(false);

    const audit = await page.services.audit.read({ subject: member.user.id });
    expect(audit[0]).toMatchObject({
      action: 'setpass.token_issued',
      outcome: 'ok',
      detail: 'issued through PUT /token',
    });
  });

  it('accepts an unscoped token of an admin, as the original clients send', async () => {
    const member = await newMember(admin);
    const answer = await put(member.user.id, JSON.stringify({ password: member.password, pin: '1357' }), {
      'x-auth-token': unscopedAdminToken,
    });
    expect(answer.status).toBe(200);
    expect(answer.text).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('renews with an empty body: a new token replaces the old one, keeping the PIN and temporary password', async () => {
    const member = await newMember(admin);
    const first = await put(member.user.id, JSON.stringify({ password: member.password, pin: '8642' }));
    expect(first.status).toBe(200);
    const renewed = await put(member.user.id, '{}');
    expect(renewed.status).toBe(200);
    expect(renewed.text).not.toBe(first.text);
    const noBody = await put(member.user.id, undefined);
    expect(noBody.status).toBe(200);

    for (const old of [first.text, renewed.text]) expect((await openLink(page.url, old)).status).toBe(404);
    const chosen = strongPassword();
    expect((await submit(page.url, noBody.text, { pin: '8642', password: chosen })).status).toBe(200);
    await afterRevocationTick();
    expect(await passwordWorks(admin, member.user.id, chosen)).toBe(true);
  });

  it('renews with a new PIN: the old PIN no longer opens the link', async () => {
    const member = await newMember(admin);
    expect(
      (await put(member.user.id, JSON.stringify({ password: member.password, pin: '1111' }))).status,
    ).toBe(200);
    const renewed = await put(member.user.id, JSON.stringify({ pin: '2222' }));
    expect(renewed.status).toBe(200);
    const old = await submit(page.url, renewed.text, { pin: '1111', password: strongPassword() });
    expect(alerts(old.html)).toEqual([
      'That PIN is not the one on file. 2 attempts left before this link is disabled.',
    ]);
    expect((await submit(page.url, renewed.text, { pin: '2222', password: strongPassword() })).status).toBe(
      200,
    );
  });

  it('answers 400 with a reason for bad requests', async () => {
    const member = await newMember(admin);
    const cases: [string, string][] = [
      ['{"password": ', 'The body is not valid JSON.\n'],
      ['["x"]', 'The body must be a JSON object: {"password": "...", "pin": "1234"}.\n'],
      ['{"password": "x", "pin": "123"}', '"pin" must be exactly 4 digits, as a string such as "1234".\n'],
      ['{"password": "x", "pin": 1234}', '"pin" must be exactly 4 digits, as a string such as "1234".\n'],
      ['{"password": "", "pin": "1234"}', '"password" must be a non-empty string.\n'],
      [
        '{"pin": "1234"}',
        `User ${member.user.id} has no live link to renew: send "password" (the password just set in Keystone)\n`,
      ],
      [
        '{"password": "not-the-password", "pin": "1234"}',
        `Keystone does not accept this password for user ${member.user.id}: set the user's password first, then ask for a token\n`,
      ],
      ['{"password": "x"}', `User ${member.user.id} has no PIN on file: send "pin" (4 digits)\n`],
    ];
    for (const [body, message] of cases) {
      const answer = await put(member.user.id, body);
      expect([answer.status, answer.text]).toEqual([400, message]);
    }
    const badId = await put('a%20b', JSON.stringify({ password: 'x', pin: '1234' }));
    expect([badId.status, badId.text]).toEqual([400, 'The user id in the path is not a Keystone user id.\n']);
  });

  it('answers 415 for a body that is not JSON and 413 for one that is far too large', async () => {
    const member = await newMember(admin);
    const form = await put(member.user.id, 'password=x&pin=1234', {
      'content-type': 'application/x-www-form-urlencoded',
    });
    expect(form.status).toBe(415);
    const huge = await put(
      member.user.id,
      JSON.stringify({ password: 'x'.repeat(1024 * 1024), pin: '1234' }),
    );
    expect(huge.status).toBe(413);
  });
});
