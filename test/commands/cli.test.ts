/**
 * `kaizen <command>` from a shell: the same handlers as /kaizen, against the same settings, with
 * `--json` for scripts and exit codes 0 (done), 1 (the input was wrong), 2 (a service failed).
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { CommandResult } from '../../commands/results.js';
import { type CliIo, runCli } from '../../src/app/cli.js';
import { ApplicationStore } from '../../src/domain/applications/store.js';
import type { Env } from '../../src/platform/config/config.js';
import { adminClient, newMember } from '../keystone/fixtures.js';
import { keystoneEnv, testEnv } from '../support/bot.js';
import { applicant } from './helpers.js';

interface Run {
  code: number;
  out: string;
  err: string;
  json: () => CommandResult;
}

async function kaizen(env: Env, ...argv: string[]): Promise<Run> {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIo = { out: (t) => out.push(t), err: (t) => err.push(t) };
  const code = await runCli(argv, env, io);
  return {
    code,
    out: out.join('\n'),
    err: err.join('\n'),
    json: () => JSON.parse(out.join('\n')) as CommandResult,
  };
}

describe('the kaizen CLI', () => {
  let env: Env;
  let redis: Redis;
  let member: Awaited<ReturnType<typeof newMember>>;

  beforeAll(async () => {
    env = testEnv({ ...keystoneEnv(inject('keystone')), SLACK_BOT_TOKEN: '', SLACK_SIGNING_SECRET: '' });
    redis = new Redis(env.REDIS_URL!, { keyPrefix: env.REDIS_KEY_PREFIX });
    member = await newMember(adminClient());
    const store = new ApplicationStore(redis);
    await store.create({
      applicant: applicant({ email: 'waiting@example.org', firstName: 'Wes', lastName: 'Waiting' }),
      pinHash: undefined,
      quota: { kind: 'preset', preset: 'small' },
    });
  });
  afterAll(() => redis?.quit());

  it('lists pending applicants as JSON', async () => {
    const run = await kaizen(env, 'pending', '--json');
    expect(run.code).toBe(0);
    const result = run.json();
    expect(result.kind).toBe('pending');
    if (result.kind !== 'pending') return;
    expect(result.applicants).toEqual([
      expect.objectContaining({ email: 'waiting@example.org', name: 'Wes Waiting', cardLink: null }),
    ]);
  });

  it('prints pending applicants as text by default', async () => {
    const run = await kaizen(env, 'pending');
    expect(run.code).toBe(0);
    expect(run.out).toMatch(/Wes Waiting {2}<waiting@example\.org> {2}project: Ann Lab {2}no card yet/);
  });

  it('shows the status of a Keystone user as JSON, with projects and roles', async () => {
    const run = await kaizen(env, 'status', member.user.name.toUpperCase(), '--json');
    expect(run.code).toBe(0);
    const result = run.json();
    expect(result).toMatchObject({
      kind: 'status',
      user: { id: member.user.id, name: member.user.name },
      projects: [
        expect.objectContaining({ projectId: member.project.id, roles: expect.arrayContaining(['member']) }),
      ],
      lastReminder: null,
    });
  });

  it('answers an unknown user with exit 1 and close matches', async () => {
    const local = member.user.name.split('@')[0]!;
    const run = await kaizen(env, 'status', `${local}@elsewhere.example`, '--json');
    expect(run.code).toBe(1);
    const result = run.json();
    expect(result).toMatchObject({ kind: 'no_user', query: `${local}@elsewhere.example` });
    // The same local part ranks first; users who merely start alike may follow.
    expect(result.kind === 'no_user' && result.suggestions[0]).toBe(member.user.name);
    const text = await kaizen(env, 'status', `${local}@elsewhere.example`);
    expect(text.code).toBe(1);
    expect(text.err).toMatch(
      new RegExp(
        `^No user ${local}@elsewhere\\.example in Keystone\\. Did you mean: ${member.user.name.replace('.', '\\.')}[,?]`,
      ),
    );
  });

  it.each([
    [['status'], 'usage: kaizen status <email|username> (missing user)'],
    [
      ['resend', 'a@example.org', 'b@example.org'],
      'usage: kaizen resend <email|username> (unexpected "b@example.org")',
    ],
    [['pending', '--all'], 'usage: kaizen pending (unknown option "--all")'],
    [['audit', '--since', 'forever'], '--since wants a duration such as 90m, 24h or 7d'],
    [['status', 'x', '--as'], 'kaizen: --as needs the name of the operator'],
    [['status', 'x', '--as', 'bad name!'], 'kaizen: name the operator with --as <name>'],
  ])('exits 1 with a message for %j', async (argv, message) => {
    const run = await kaizen(env, ...argv);
    expect(run.code).toBe(1);
    expect(run.err).toContain(message);
    expect(run.out).toBe('');
  });

  it('gives the usage line as JSON too', async () => {
    const run = await kaizen(env, 'reset', '--json');
    expect(run.code).toBe(1);
    expect(run.json()).toEqual({
      kind: 'usage',
      command: 'reset',
      problem: 'missing user',
      usage: 'reset <email|username>',
    });
  });

  it('reads the audit trail, newest first, for one user and a time window', async () => {
    const audit = await kaizen(env, 'audit', '--user', 'nobody@example.org', '--since', '7d', '--json');
    expect(audit.code).toBe(0);
    expect(audit.json()).toEqual({ kind: 'audit', subject: 'nobody@example.org', since: '7d', entries: [] });
  });

  it('exits 2 when a service it needs is switched off', async () => {
    const run = await kaizen(env, 'sync', '--json');
    expect(run.code).toBe(2);
    expect(run.json()).toMatchObject({ kind: 'failed', errorKind: 'config' });
  });

  it('exits 2 with a readable reason when Keystone does not answer', async () => {
    const run = await kaizen(
      { ...env, OS_AUTH_URL: 'http://127.0.0.1:9/v3' },
      'status',
      'anyone@example.org',
    );
    expect(run.code).toBe(2);
    expect(run.err).toMatch(/^kaizen status: .*127\.0\.0\.1:9/);
    expect(run.err).not.toContain(inject('keystone').password);
    expect(run.err).not.toMatch(/\n\s+at /);
  });

  it('exits 2 when the settings are wrong, naming the setting', async () => {
    const run = await kaizen({ ...env, SETPASS_MAX_PIN_ATTEMPTS: 'many' }, 'pending');
    expect(run.code).toBe(2);
    expect(run.err).toContain('SETPASS_MAX_PIN_ATTEMPTS');
  });
});
