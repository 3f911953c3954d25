/**
 * `reset` and `resend` end to end: signed Slack requests to the real bot, the real Keystone, the
 * real SMTP server, and the password page. The temporary password is set when the admin confirms,
 * so the old password stops working at once; the emailed link then sets a working password.
 */
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { type CliIo, runCli } from '../../src/app/cli.js';
import { SetpassCrypto } from '../../src/domain/setpass/crypto.js';
import { TokenStore } from '../../src/domain/setpass/store.js';
import type { KeystoneClient } from '../../src/keystone/index.js';
import type { Env } from '../../src/platform/config/config.js';
import { KaizenError } from '../../src/platform/errors.js';
import { adminClient, afterRevocationTick, DOMAIN_ID, newMember, unique } from '../keystone/fixtures.js';
import {
  mailWorldEnv,
  startTestBot,
  TEST_ADMIN_CHANNEL,
  TEST_SIGNING_SECRET,
  type TestBot,
} from '../support/bot.js';
import { type SlackFake, startSlackFake } from '../support/slack-fake.js';
import { sendViewSubmission } from '../support/slack-sign.js';
import { type ReceivedMail, type SmtpTestServer, startSmtpServer } from '../support/smtp.js';
import { ADMIN, expectReadable, kaizen, OUTSIDER, press, responseMatching } from './helpers.js';

const PUBLIC_URL = 'https://register.kaizen.test';
const NEW_PASSWORD = 'Violet-Harbor-Stencil-42';
const SERVICE_PROJECT = unique('service');

describe('reset and resend', () => {
  let slack: SlackFake;
  let smtp: SmtpTestServer;
  let env: Env;
  let running: TestBot;
  let keystone: KeystoneClient;
  let tokens: TokenStore;

  /** Whether Keystone takes this password for the user right now. */
  async function passwordWorks(userId: string, password: string): Promise<boolean> {
    try {
      await keystone.passwordLogin({ userId, password, scope: 'unscoped' });
      return true;
    } catch (error) {
      if (error instanceof KaizenError && error.kind === 'unauthorized') return false;
      throw error;
    }
  }

  function linkIn(mail: ReceivedMail): string {
    const found = mail.text.match(/https:\/\/register\.kaizen\.test\/\?token=[A-Za-z0-9_%-]+/);
    if (!found) throw new Error(`no password link in the email "${mail.subject}"`);
    return found[0];
  }

  async function nextMail(count: number): Promise<ReceivedMail> {
    const all = await smtp.waitForMessages(count, 10_000);
    return all[count - 1]!;
  }

  /** Opens the emailed link on the bot and submits the form, as a browser would. */
  async function completeLink(
    link: string,
    pin: string,
    password: string,
  ): Promise<{ status: number; body: string }> {
    const pageUrl = link.replace(PUBLIC_URL, running.url);
    const page = await fetch(pageUrl);
    const html = await page.text();
    expect(page.status).toBe(200);
    const csrf = html.match(/name="csrf" value="([^"]+)"/)?.[1];
    const cookie = page.headers.get('set-cookie')?.split(';')[0];
    expect(csrf && cookie).toBeTruthy();
    const token = new URL(link).searchParams.get('token') ?? '';
    const response = await fetch(`${running.url}/`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: cookie ?? '' },
      body: new URLSearchParams({
        token,
        csrf: csrf ?? '',
        pin,
        password,
        confirm_password: password,
      }).toString(),
    });
    return { status: response.status, body: await response.text() };
  }

  beforeAll(async () => {
    slack = await startSlackFake();
    smtp = await startSmtpServer();
    env = mailWorldEnv({ slack, smtp }, inject('keystone'), {
      SLACK_ADMINS: ADMIN,
      PUBLIC_URL,
      ALLOW_INSECURE_PUBLIC_URL: 'true',
      KAIZEN_SERVICE_PROJECT: SERVICE_PROJECT,
    });
    running = await startTestBot(env);
    keystone = adminClient();
    const config = running.bot.services.config;
    tokens = new TokenStore(
      running.bot.services.redis,
      new SetpassCrypto(config.setpass.secret!),
      config.setpass.tokenTtlMs,
    );
  });
  // Slack refuses what breaks Block Kit's limits; so does the fake.
  afterEach(() => slack?.assertNothingRefused());
  afterAll(async () => {
    await running?.stop();
    await Promise.allSettled([slack?.close(), smtp?.close()]);
  });

  it('confirms first, then resets: the old password dies at once, the email goes to Keystone’s address, the link sets a new password', async () => {
    const member = await newMember(keystone);
    await tokens.storePinHash(member.user.id, running.bot.services.setpass!.hashPin('2468'));
    const mailsBefore = smtp.messages.length;

    const confirm = await kaizen(running, slack, `reset ${member.user.name.toUpperCase()}`);
    expect(confirm.blocksText).toContain(`Reset the password of *${member.user.name}*?`);
    expect(confirm.blocksText).toContain(`${member.project.name} (member`);
    expect(confirm.blocksText).toContain('The old password stops working at once');
    expect(confirm.blocksText).toContain('keeps the PIN on file');
    expectReadable(confirm.blocksText);
    const button = confirm.buttons.find((b) => b.text === 'Reset');
    expect(button).toBeDefined();
    // Asking changes nothing.
    expect(await passwordWorks(member.user.id, member.password)).toBe(true);
    expect(smtp.messages).toHaveLength(mailsBefore);

    const pressed = await press(running, slack, button!);
    expect(pressed.status).toBe(200);
    const done = await responseMatching(slack, pressed.responseId, /Password reset for/);
    expect(done.text).toContain('the old password no longer works');
    expect(await passwordWorks(member.user.id, member.password)).toBe(false);

    const mail = await nextMail(mailsBefore + 1);
    expect(mail.to).toEqual([member.user.name]);
    expect(mail.subject).toBe('Your OpenStack password was reset: choose a new one');
    const link = linkIn(mail);
    expect(JSON.stringify(slack.calls()) + JSON.stringify(slack.responses)).not.toContain(
      new URL(link).searchParams.get('token'),
    );

    const note = slack.messages(TEST_ADMIN_CHANNEL).at(-1);
    expect(note?.text).toBe(`password reset for ${member.user.name} by <@${ADMIN}>`);
    const [audit] = await running.bot.services.audit.read({ subject: member.user.name, limit: 1 });
    expect(audit).toMatchObject({ actor: ADMIN, action: 'password_reset', outcome: 'ok' });

    // The same button again does nothing: the confirmation was used.
    const again = await press(running, slack, button!);
    await responseMatching(slack, again.responseId, /already done or its confirmation expired/);
    expect(smtp.messages).toHaveLength(mailsBefore + 1);

    const completed = await completeLink(link, '2468', NEW_PASSWORD);
    expect(completed.status).toBe(200);
    await afterRevocationTick();
    expect(await passwordWorks(member.user.id, NEW_PASSWORD)).toBe(true);
  });

  it('asks for a PIN in a modal when none is on file, refuses a bad one, and never echoes it', async () => {
    const member = await newMember(keystone);
    const mailsBefore = smtp.messages.length;
    const confirm = await kaizen(running, slack, `reset <mailto:${member.user.name}|${member.user.name}>`);
    expect(confirm.blocksText).toContain('you will be asked for one (4 digits)');
    const button = confirm.buttons.find((b) => b.text === 'Reset')!;

    const pressed = await press(running, slack, button);
    expect(pressed.status).toBe(200);
    const opened = await slack.waitFor(
      (calls) => calls.find((c) => c.method === 'views.open'),
      5_000,
      'the PIN modal',
    );
    const view = opened.args.view as { callback_id: string; private_metadata: string };
    expect(view.callback_id).toBe('kaizen_reset_pin');
    expect(await passwordWorks(member.user.id, member.password)).toBe(true);

    const submit = (pin: string) =>
      sendViewSubmission(running.eventsUrl, TEST_SIGNING_SECRET, {
        user: ADMIN,
        callbackId: view.callback_id,
        privateMetadata: view.private_metadata,
        values: { reset_pin: { pin } },
      });
    const refused = await submit('12a4');
    expect(refused.status).toBe(200);
    expect(refused.json).toEqual({
      response_action: 'errors',
      errors: { reset_pin: 'Enter exactly 4 digits.' },
    });
    expect(await passwordWorks(member.user.id, member.password)).toBe(true);

    const accepted = await submit('1357');
    expect(accepted.status).toBe(200);
    const done = await responseMatching(slack, pressed.responseId, /Password reset for/);
    expectReadable(done.text ?? '');
    expect(await passwordWorks(member.user.id, member.password)).toBe(false);
    const mail = await nextMail(mailsBefore + 1);
    expect(mail.to).toEqual([member.user.name]);
    expect(JSON.stringify(slack.calls()) + JSON.stringify(slack.responses)).not.toContain('1357');

    const completed = await completeLink(linkIn(mail), '1357', NEW_PASSWORD);
    expect(completed.status).toBe(200);
  });

  it('lets only admins press Reset, and changes nothing for anyone else', async () => {
    const member = await newMember(keystone);
    await tokens.storePinHash(member.user.id, running.bot.services.setpass!.hashPin('2468'));
    const confirm = await kaizen(running, slack, `reset ${member.user.name}`);
    const button = confirm.buttons.find((b) => b.text === 'Reset')!;
    const pressed = await press(running, slack, button, OUTSIDER);
    await responseMatching(slack, pressed.responseId, /not allowed/);
    expect(await passwordWorks(member.user.id, member.password)).toBe(true);
    const cancel = confirm.buttons.find((b) => b.text === 'Cancel')!;
    const cancelled = await press(running, slack, cancel);
    await responseMatching(slack, cancelled.responseId, /Reset cancelled: nothing was changed/);
    const late = await press(running, slack, button);
    await responseMatching(slack, late.responseId, /already done or its confirmation expired/);
    expect(await passwordWorks(member.user.id, member.password)).toBe(true);
  });

  it('lets only admins press Cancel: anyone else is refused and the confirmation still works', async () => {
    const member = await newMember(keystone);
    await tokens.storePinHash(member.user.id, running.bot.services.setpass!.hashPin('2468'));
    const confirm = await kaizen(running, slack, `reset ${member.user.name}`);
    const cancel = confirm.buttons.find((b) => b.text === 'Cancel')!;
    const refused = await press(running, slack, cancel, OUTSIDER);
    await responseMatching(slack, refused.responseId, /not allowed/);

    const reset = confirm.buttons.find((b) => b.text === 'Reset')!;
    const pressed = await press(running, slack, reset);
    await responseMatching(slack, pressed.responseId, /Password reset for/);
    expect(await passwordWorks(member.user.id, member.password)).toBe(false);
  });

  it('answers an unknown user with close matches and changes nothing', async () => {
    const member = await newMember(keystone);
    const local = member.user.name.split('@')[0]!;
    const reply = await kaizen(running, slack, `reset ${local}@typo.example`);
    expect(reply.text).toContain(`No user *${local}@typo.example* in Keystone.`);
    expect(reply.text).toContain(member.user.name);
    expect(reply.buttons).toEqual([]);
  });

  it('resends the live link, and a new one with the same PIN once the old one is dead', async () => {
    const member = await newMember(keystone);
    await tokens.storePinHash(member.user.id, running.bot.services.setpass!.hashPin('9753'));
    const confirm = await kaizen(running, slack, `reset ${member.user.name}`);
    const pressed = await press(running, slack, confirm.buttons.find((b) => b.text === 'Reset')!);
    await responseMatching(slack, pressed.responseId, /Password reset for/);
    const resetMail = await nextMail(smtp.messages.length);
    const first = linkIn(resetMail);

    const count = smtp.messages.length;
    const resent = await kaizen(running, slack, `resend ${member.user.name}`);
    expect(resent.text).toMatch(
      new RegExp(`The link of \\*${member.user.name.replace('.', '\\.')}\\* was emailed to .* again`),
    );
    const again = await nextMail(count + 1);
    expect(linkIn(again)).toBe(first);
    expect(again.subject).toBe('Your link to choose your OpenStack password');

    await tokens.revoke(member.user.id);
    const renewed = await kaizen(running, slack, `resend ${member.user.name}`);
    expect(renewed.text).toContain('had expired: a new one (same PIN)');
    const fresh = await nextMail(count + 2);
    const second = linkIn(fresh);
    expect(second).not.toBe(first);
    const deadPage = await fetch(first.replace(PUBLIC_URL, running.url));
    expect(deadPage.status).toBe(404);
    expect((await completeLink(second, '9753', NEW_PASSWORD)).status).toBe(200);

    const used = await kaizen(running, slack, `resend ${member.user.name}`);
    expect(used.text).toMatch(/set a password on .* and has no live link; use `reset/);
    expectReadable(used.text);
    expect(smtp.messages).toHaveLength(count + 2);
  });

  it('resets from the shell with --yes, naming the operator in the audit and the admin channel', async () => {
    const member = await newMember(keystone);
    const out: string[] = [];
    const err: string[] = [];
    const io: CliIo = {
      out: (t) => out.push(t),
      err: (t) => err.push(t),
      readSecret: async () => '8642',
    };
    const count = smtp.messages.length;

    const preview = await runCli(['reset', member.user.name, '--as', 'alice'], env, io);
    expect(preview).toBe(0);
    expect(out.join('\n')).toContain('Nothing changed: run again with --yes to reset.');
    expect(await passwordWorks(member.user.id, member.password)).toBe(true);

    const noPin = await runCli(['reset', member.user.name, '--yes', '--as', 'alice', '--json'], env, {
      out: (t) => out.push(t),
      err: (t) => err.push(t),
    });
    expect(noPin).toBe(1);
    expect(JSON.parse(out.at(-1)!)).toMatchObject({ kind: 'reset_needs_pin' });
    expect(await passwordWorks(member.user.id, member.password)).toBe(true);

    out.length = 0;
    const code = await runCli(
      ['reset', member.user.name, '--yes', '--pin-stdin', '--as', 'alice', '--json'],
      env,
      io,
    );
    expect(err.join('\n')).toBe('');
    expect(code).toBe(0);
    expect(JSON.parse(out.join('\n'))).toMatchObject({
      kind: 'reset_done',
      user: { id: member.user.id },
      emailedTo: member.user.name,
      mail: 'sent',
    });
    expect(await passwordWorks(member.user.id, member.password)).toBe(false);
    const mail = await nextMail(count + 1);
    expect(mail.to).toEqual([member.user.name]);
    expect(out.join('\n')).not.toContain('8642');
    const [audit] = await running.bot.services.audit.read({ subject: member.user.name, limit: 1 });
    expect(audit).toMatchObject({ actor: 'cli:alice', action: 'password_reset', outcome: 'ok' });
    expect(slack.messages(TEST_ADMIN_CHANNEL).at(-1)?.text).toBe(
      `password reset for ${member.user.name} by alice (kaizen CLI)`,
    );
    expect((await completeLink(linkIn(mail), '8642', NEW_PASSWORD)).status).toBe(200);

    out.length = 0;
    expect(await runCli(['audit', '--user', member.user.name, '--since', '1h', '--json'], env, io)).toBe(0);
    const trail = JSON.parse(out.join('\n')) as { entries: { actor: string; action: string }[] };
    expect(trail.entries.map((e) => `${e.actor} ${e.action}`)).toEqual(
      expect.arrayContaining([`user:${member.user.id} setpass.password_changed`, 'cli:alice password_reset']),
    );

    out.length = 0;
    const resend = await runCli(['resend', member.user.name, '--json'], env, io);
    expect(resend).toBe(1);
    expect(JSON.parse(out.join('\n'))).toMatchObject({ kind: 'failed', errorKind: 'conflict' });
  });
  it('refuses to reset or resend an operator, the bot’s own account and a service-project member, saying why; nothing changes', async () => {
    const operator = await newMember(keystone);
    const adminRole = await keystone.findRole('admin');
    await keystone.assignProjectRole(operator.project.id, operator.user.id, adminRole!.id);
    const serviceAccount = await newMember(keystone);
    const service = await keystone.createProject({
      name: SERVICE_PROJECT,
      description: 'test',
      domainId: DOMAIN_ID,
    });
    await keystone.assignProjectRole(service.id, serviceAccount.user.id, serviceAccount.role.id);
    for (const member of [operator, serviceAccount])
      await tokens.storePinHash(member.user.id, running.bot.services.setpass!.hashPin('1234'));
    const mailsBefore = smtp.messages.length;

    const cases = [
      [operator.user.name, 'it holds the cloud admin role (KAIZEN_ADMIN_ROLE)'],
      [inject('keystone').username, "it is the bot's own Keystone account"],
      [serviceAccount.user.name, 'it is a member of the service project (KAIZEN_SERVICE_PROJECT)'],
    ] as const;
    for (const [name, reason] of cases) {
      for (const command of ['reset', 'resend']) {
        const reply = await kaizen(running, slack, `${command} ${name}`);
        expect(reply.text).toContain(`\`/kaizen ${command}\` refused for ${name}: ${reason}.`);
        expect(reply.buttons).toEqual([]);
        expectReadable(reply.text);
      }
    }
    expect(await passwordWorks(operator.user.id, operator.password)).toBe(true);
    expect(await passwordWorks(serviceAccount.user.id, serviceAccount.password)).toBe(true);
    expect(smtp.messages).toHaveLength(mailsBefore);

    // The shell gets the same refusal, also with --yes.
    const out: string[] = [];
    const io: CliIo = { out: (line) => out.push(line), err: (line) => out.push(line) };
    const code = await runCli(['reset', operator.user.name, '--yes', '--as', 'alice'], env, io);
    expect(code).toBe(1);
    expect(out.join('\n')).toContain(
      `kaizen reset refused for ${operator.user.name}: it holds the cloud admin role`,
    );
    expect(await passwordWorks(operator.user.id, operator.password)).toBe(true);
  });

  it('refuses a confirmed reset when the user became an operator after it was asked for', async () => {
    const member = await newMember(keystone);
    await tokens.storePinHash(member.user.id, running.bot.services.setpass!.hashPin('1234'));
    const confirm = await kaizen(running, slack, `reset ${member.user.name}`);
    const button = confirm.buttons.find((b) => b.text === 'Reset')!;
    const adminRole = await keystone.findRole('admin');
    await keystone.assignProjectRole(member.project.id, member.user.id, adminRole!.id);

    const pressed = await press(running, slack, button);
    const refused = await responseMatching(slack, pressed.responseId, /refused for/);
    expect(refused.text).toContain('it holds the cloud admin role');
    expect(await passwordWorks(member.user.id, member.password)).toBe(true);
    const [audit] = await running.bot.services.audit.read({ subject: member.user.name, limit: 1 });
    expect(audit).toMatchObject({ action: 'password_reset', outcome: 'denied' });
  });
});
