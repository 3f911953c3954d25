/**
 * `/kaizen reset`, `resend` and `status` for a federated user, end to end: signed Slack requests to
 * the real bot, the real Keystone (with an identity provider registered) and the SMTP server. A
 * federated user has no password here: reset and resend refuse with the reason and change nothing;
 * status shows how they sign in.
 */
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { selfServiceReset } from '../../commands/reset.js';
import { type CliIo, runCli } from '../../src/app/cli.js';
import { cliSurface } from '../../src/app/cli-commands.js';
import { commandDeps } from '../../src/app/wiring/commands.js';
import { keystoneUniqueId } from '../../src/keystone/federation.js';
import type { KeystoneClient } from '../../src/keystone/index.js';
import type { Env } from '../../src/platform/config/config.js';
import { type RegisteredFederation, registerFederation } from '../keystone/federation-fixtures.js';
import { adminClient, DOMAIN_ID, unique } from '../keystone/fixtures.js';
import { mailWorldEnv, startTestBot, type TestBot } from '../support/bot.js';
import { type SlackFake, startSlackFake } from '../support/slack-fake.js';
import { type SmtpTestServer, startSmtpServer } from '../support/smtp.js';
import { ADMIN, expectReadable, kaizen } from './helpers.js';

describe('commands for a federated user', () => {
  let slack: SlackFake;
  let smtp: SmtpTestServer;
  let env: Env;
  let running: TestBot;
  let keystone: KeystoneClient;
  let federation: RegisteredFederation;

  beforeAll(async () => {
    [slack, smtp, federation] = await Promise.all([
      startSlackFake(),
      startSmtpServer(),
      registerFederation(),
    ]);
    env = mailWorldEnv({ slack, smtp }, inject('keystone'), {
      SLACK_ADMINS: ADMIN,
      ALLOW_INSECURE_PUBLIC_URL: 'true',
      KAIZEN_IDENTITY: 'federated',
      LOGIN_URL: 'https://cloud.example.org/',
      KAIZEN_IDP_ID: federation.idpId,
      KAIZEN_IDP_PROTOCOL: federation.protocol,
    });
    running = await startTestBot(env);
    keystone = adminClient();
  });
  afterEach(() => slack?.assertNothingRefused());
  afterAll(async () => {
    await running?.stop();
    await Promise.allSettled([slack?.close(), smtp?.close(), federation?.remove()]);
  });

  async function federatedMember() {
    const name = `${unique('fed')}@example.org`;
    const project = await keystone.createProject({
      name: unique('Kaizen Fed'),
      description: 'test',
      domainId: DOMAIN_ID,
    });
    const user = await keystone.createUser({
      name,
      email: name,
      description: 'Federated Member',
      federated: [
        { idpId: federation.idpId, protocols: [{ protocolId: 'openid', uniqueId: keystoneUniqueId(name) }] },
      ],
      defaultProjectId: project.id,
      domainId: DOMAIN_ID,
    });
    const role = await keystone.findRole('member');
    await keystone.assignProjectRole(project.id, user.id, role!.id);
    return { user, project };
  }

  it('reset and resend refuse with the reason, change nothing and send nothing', async () => {
    const { user } = await federatedMember();
    const mailsBefore = smtp.messages.length;

    const reset = await kaizen(running, slack, `reset ${user.name}`);
    const resetText = reset.text + reset.blocksText;
    expect(resetText).toContain(
      `${user.name} signs in through their institution (${federation.idpId} (openid) as ${user.name})`,
    );
    expect(resetText).toContain('has no password here, so there is no password to reset');
    expect(resetText).toContain('Nothing was changed.');
    expect(reset.buttons).toEqual([]);
    expectReadable(resetText);

    const resend = await kaizen(running, slack, `resend ${user.name}`);
    const resendText = resend.text + resend.blocksText;
    expect(resendText).toContain('so there is no password link to resend');

    // The CLI's --yes goes straight to the reset, and is refused there too.
    const out: string[] = [];
    const io: CliIo = { out: (t) => out.push(t), err: (t) => out.push(t) };
    expect(await runCli(['reset', user.name, '--yes', '--as', 'alice', '--json'], env, io)).toBe(1);
    expect(JSON.parse(out.join('\n'))).toMatchObject({
      kind: 'federated_user',
      command: 'reset',
      user: {
        id: user.id,
        federated: [{ idpId: federation.idpId, protocolId: 'openid', uniqueId: keystoneUniqueId(user.name) }],
      },
    });

    const after = await keystone.getUser(user.id);
    expect(after.federated).toEqual(user.federated);
    await expect(
      keystone.passwordLogin({ userId: user.id, password: '', scope: 'unscoped' }),
    ).rejects.toThrow();
    expect(smtp.messages).toHaveLength(mailsBefore);
    out.length = 0;
    expect(await runCli(['audit', '--user', user.name, '--since', '1h', '--json'], env, io)).toBe(0);
    const trail = JSON.parse(out.join('\n')) as {
      entries: { action: string; outcome: string; detail?: string }[];
    };
    // Refused before anything was done: no reset and no resend on the audit trail.
    expect(trail.entries.filter((e) => e.outcome === 'ok').map((e) => e.action)).not.toEqual(
      expect.arrayContaining(['password_reset']),
    );
    expect(trail.entries.map((e) => e.action)).not.toContain('link_resent');
  });

  it('a reset asked for on /forgot is refused and audited as such, with nothing sent', async () => {
    const { user } = await federatedMember();
    const services = running.bot.services;
    const deps = commandDeps(services, cliSurface(undefined, services.config, services.log));
    const mailsBefore = smtp.messages.length;
    const result = await selfServiceReset(deps, user.id, { purpose: `forgot:${user.id}:test` });
    expect(result).toMatchObject({ kind: 'federated_user', command: 'reset', user: { id: user.id } });
    const entries = await services.audit.read({ subject: user.name, limit: 10 });
    expect(entries).toContainEqual(
      expect.objectContaining({
        actor: `user:${user.id}`,
        action: 'password_reset',
        outcome: 'denied',
        detail: 'federated account: no password here',
      }),
    );
    expect(smtp.messages).toHaveLength(mailsBefore);
  });

  it('status shows how a federated user signs in', async () => {
    const { user, project } = await federatedMember();
    const status = await kaizen(running, slack, `status ${user.name}`);
    expect(status.blocksText).toContain(
      `*Federated:* signs in through their institution: ${federation.idpId} (openid) as ${user.name}; no password here`,
    );
    expect(status.blocksText).toContain(project.name);

    const out: string[] = [];
    const io: CliIo = { out: (t) => out.push(t), err: (t) => out.push(t) };
    expect(await runCli(['status', user.name], env, io)).toBe(0);
    expect(out.join('\n')).toMatch(
      /federated: +signs in through their institution: .* as .*; no password here/,
    );
  });
});
