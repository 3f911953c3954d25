/**
 * Credentials for the command line from the password page, in the public `setpass` role (no admin
 * settings) against the real Keystone; a bot replica sharing its Redis issues the links and posts
 * the page's events to the Slack fake. The clouds.yaml shown must work, and its secret must be
 * nowhere else.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { parse } from 'yaml';
import { type RunningKaizen, startKaizen } from '../../../src/app/start.js';
import type { KeystoneClient } from '../../../src/keystone/index.js';
import { type Env, loadConfig } from '../../../src/platform/config/config.js';
import { adminClient, newMember } from '../../keystone/fixtures.js';
import { keystoneEnv, startTestBot, type TestBot, testEnv, uniquePrefix } from '../../support/bot.js';
import { type CapturedLog, captureLogs } from '../../support/log-capture.js';
import { dumpRedis } from '../../support/redis-dump.js';
import { type SlackFake, startSlackFake } from '../../support/slack-fake.js';
import { heading, passwordWorks, post, strongPassword, tokenOf } from './helpers.js';

const PIN = '4821';
const PUBLIC_URL = 'https://register.kaizen.test';
const LOGIN_URL = 'https://cloud.kaizen.test/dashboard';
const NOT_MADE = 'The credentials for the command line could not be made';
const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

interface CloudsYaml {
  clouds: {
    openstack: {
      auth_type: string;
      auth: { auth_url: string; application_credential_id: string; application_credential_secret: string };
      region_name?: string;
      interface: string;
    };
  };
}

const unescapeHtml = (html: string): string =>
  html.replace(/&#(\d+);/g, (_, code: string) => String.fromCharCode(Number(code)));

/** The clouds.yaml in a success page, parsed, or undefined when the page shows none. */
function shownCloudsYaml(html: string): CloudsYaml | undefined {
  const pre = html.match(/<pre class="clouds-yaml" id="clouds-yaml">([\s\S]*?)<\/pre>/)?.[1];
  return pre === undefined ? undefined : (parse(unescapeHtml(pre)) as CloudsYaml);
}

/** Opens a link on `page` and posts its form, with or without the box ticked. */
async function submitForm(
  page: RunningKaizen,
  token: string,
  password: string,
  tick: boolean,
  confirm = password,
) {
  const opened = await fetch(`${page.url}/?token=${encodeURIComponent(token)}`);
  const html = await opened.text();
  expect(html).toContain('name="create_app_credential" type="checkbox" value="1"');
  const form = new URLSearchParams({
    token,
    csrf: html.match(/name="csrf" value="([^"]+)"/)?.[1] ?? '',
    pin: PIN,
    password,
    confirm_password: confirm,
    ...(tick ? { create_app_credential: '1' } : {}),
  });
  return post(page.url, form.toString(), {
    'content-type': 'application/x-www-form-urlencoded',
    cookie: opened.headers.get('set-cookie')?.split(';')[0] ?? '',
  });
}

describe('credentials for the command line on the password page', () => {
  let slack: SlackFake;
  let bot: TestBot;
  let page: RunningKaizen;
  let pageLog: CapturedLog;
  let botLog: CapturedLog;
  let keystone: KeystoneClient;
  let shared: Env;
  let plain: Redis;

  /** Exactly what the setpass role needs, sharing Redis and the secret with the bot. */
  function setpassEnv(overrides: Env = {}): Env {
    return {
      KAIZEN_ROLE: 'setpass',
      PORT: '0',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'debug',
      REDIS_URL: redisUrl,
      REDIS_KEY_PREFIX: shared.REDIS_KEY_PREFIX!,
      SETPASS_SECRET: shared.SETPASS_SECRET!,
      PUBLIC_URL,
      LOGIN_URL,
      OS_AUTH_URL: inject('keystone').authUrl,
      OS_REGION_NAME: inject('keystone').region,
      APP_CREDENTIAL_TTL: '30d',
      ...overrides,
    };
  }

  async function memberWithLink() {
    const member = await newMember(keystone);
    const setpass = bot.bot.services.setpass!;
    const link = await setpass.issue(
      { userId: member.user.id, username: member.user.name },
      setpass.hashPin(PIN),
    );
    return { ...member, token: tokenOf(link.url) };
  }

  /** The user's application credentials, as an admin sees them. */
  async function credentialsOf(
    userId: string,
  ): Promise<{ name: string; expires_at: string | null; roles: { name: string }[] }[]> {
    const { username, password, projectName } = inject('keystone');
    const admin = await keystone.passwordLogin({ username, password, scope: { projectName } });
    const response = await fetch(`${inject('keystone').authUrl}/users/${userId}/application_credentials`, {
      headers: { 'x-auth-token': admin.token },
    });
    expect(response.status).toBe(200);
    return ((await response.json()) as { application_credentials: never[] }).application_credentials;
  }

  beforeAll(async () => {
    slack = await startSlackFake();
    shared = testEnv({ KAIZEN_ROLE: 'bot', LOG_LEVEL: 'debug', REDIS_KEY_PREFIX: uniquePrefix('appcred') });
    botLog = captureLogs();
    bot = await startTestBot(
      { ...shared, SLACK_API_URL: `${slack.url}/api/`, PUBLIC_URL, ...keystoneEnv(inject('keystone')) },
      botLog.log,
    );
    pageLog = captureLogs();
    page = await startKaizen(loadConfig(setpassEnv()), { log: pageLog.log });
    keystone = adminClient();
    plain = new Redis(redisUrl);
  });
  afterAll(async () => {
    await page?.stop();
    await bot?.stop();
    await slack?.close();
    plain?.disconnect();
  });

  it('box ticked: the clouds.yaml shown authenticates, and its secret is nowhere else', async () => {
    const member = await memberWithLink();
    const password = strongPassword();
    const answer = await submitForm(page, member.token, password, true);
    expect(answer.status).toBe(200);
    expect(heading(answer.html)).toBe('Your password is set');
    expect(answer.headers.get('cache-control')).toBe('no-store');
    expect(answer.html).toContain('~/.config/openstack/clouds.yaml');
    const clouds = shownCloudsYaml(answer.html);
    expect(clouds).toBeDefined();
    const cloud = clouds!.clouds.openstack;
    expect(cloud.auth_type).toBe('v3applicationcredential');
    expect(cloud.auth.auth_url).toBe(inject('keystone').authUrl);
    expect(cloud.region_name).toBe(inject('keystone').region);
    expect(cloud.interface).toBe('public');
    const { application_credential_id: id, application_credential_secret: secret } = cloud.auth;

    const login = await fetch(`${cloud.auth.auth_url}/auth/tokens?nocatalog`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        auth: { identity: { methods: ['application_credential'], application_credential: { id, secret } } },
      }),
    });
    expect(login.status).toBe(201);
    const token = (await login.json()) as { token: { user: { id: string }; project: { id: string } } };
    expect(token.token.user.id).toBe(member.user.id);
    expect(token.token.project.id).toBe(member.project.id);

    const [made, ...others] = await credentialsOf(member.user.id);
    expect(others).toEqual([]);
    expect(made!.name).toBe(`kaizen-cli-${new Date().toISOString().slice(0, 10)}`);
    expect(made!.roles.map((role) => role.name)).toEqual(['member']);
    const expires = Date.parse(`${made!.expires_at}Z`.replace(/ZZ$/, 'Z'));
    expect(Math.abs(expires - (Date.now() + 30 * 86_400_000))).toBeLessThan(3_600_000);
    expect(await passwordWorks(keystone, member.user.id, password)).toBe(true);

    // The admins are told the password was set (the events stream reached the bot) ...
    const deadline = Date.now() + 10_000;
    while (!slack.calls('chat.postMessage').some((c) => JSON.stringify(c.args).includes(member.user.name))) {
      if (Date.now() > deadline) throw new Error('the password change never reached Slack');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    // ... and nothing of the secret is in Redis, either log, or Slack.
    const dump = [...(await dumpRedis(plain, shared.REDIS_KEY_PREFIX!))].join('\n');
    expect(dump).not.toContain(secret);
    expect(pageLog.text()).toContain(id);
    expect(pageLog.text()).not.toContain(secret);
    expect(botLog.text()).not.toContain(secret);
    expect(JSON.stringify(slack.calls())).not.toContain(secret);

    // Reloading posts to a used link: the secret is not shown again.
    const again = await submitForm(page, member.token, password, true).catch(() => undefined);
    expect(again?.html ?? '').not.toContain(secret);
  });

  it('a form that comes back with a mistake keeps the box as it was', async () => {
    const member = await memberWithLink();
    const ticked = await submitForm(page, member.token, strongPassword(), true, 'something else');
    expect(ticked.status).toBe(400);
    expect(ticked.html).toMatch(/name="create_app_credential" type="checkbox" value="1"[^>]* checked>/);
    const unticked = await submitForm(page, member.token, strongPassword(), false, 'something else');
    expect(unticked.html).not.toMatch(/name="create_app_credential"[^>]* checked>/);
    expect(await credentialsOf(member.user.id)).toEqual([]);
  });

  it('box not ticked: no credential is made', async () => {
    const member = await memberWithLink();
    const password = strongPassword();
    const answer = await submitForm(page, member.token, password, false);
    expect(heading(answer.html)).toBe('Your password is set');
    expect(shownCloudsYaml(answer.html)).toBeUndefined();
    expect(answer.html).not.toContain(NOT_MADE);
    expect(await credentialsOf(member.user.id)).toEqual([]);
  });

  it('a user whose project role was removed after the link went out: password set, the page says why', async () => {
    const member = await memberWithLink();
    const { username, password: adminPassword, projectName } = inject('keystone');
    const admin = await keystone.passwordLogin({ username, password: adminPassword, scope: { projectName } });
    const removed = await fetch(
      `${inject('keystone').authUrl}/projects/${member.project.id}/users/${member.user.id}/roles/${member.role.id}`,
      { method: 'DELETE', headers: { 'x-auth-token': admin.token } },
    );
    expect(removed.status).toBe(204);
    const password = strongPassword();
    const answer = await submitForm(page, member.token, password, true);
    expect(answer.status).toBe(200);
    expect(heading(answer.html)).toBe('Your password is set');
    expect(answer.html).toContain(NOT_MADE);
    expect(answer.html).toContain('Identity → Application Credentials');
    expect(answer.html).toContain(LOGIN_URL);
    expect(shownCloudsYaml(answer.html)).toBeUndefined();
    expect(await passwordWorks(keystone, member.user.id, password)).toBe(true);
    expect(await credentialsOf(member.user.id)).toEqual([]);
  });

  it('Keystone refusing the credential (a role the user lacks): password set, the page says why', async () => {
    const refusing = await startKaizen(loadConfig(setpassEnv({ KAIZEN_MEMBER_ROLE: 'admin' })), {
      log: pageLog.log,
    });
    try {
      const member = await memberWithLink();
      const password = strongPassword();
      const answer = await submitForm(refusing, member.token, password, true);
      expect(answer.status).toBe(200);
      expect(heading(answer.html)).toBe('Your password is set');
      expect(answer.html).toContain(NOT_MADE);
      expect(answer.html).toContain('the identity service did not allow it');
      expect(await passwordWorks(keystone, member.user.id, password)).toBe(true);
      expect(await credentialsOf(member.user.id)).toEqual([]);
    } finally {
      await refusing.stop();
    }
  });
});
