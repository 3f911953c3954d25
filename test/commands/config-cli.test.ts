/**
 * `kaizen config` shows the settings in effect with every secret hidden, `--json` for scripts,
 * and `kaizen --version` the package's version.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../src/app/cli.js';
import type { EffectiveSetting } from '../../src/ops/effective-config.js';
import { type Env, settings } from '../../src/platform/config/config.js';

async function kaizen(env: Env, ...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(argv, env, { out: (t) => out.push(t), err: (t) => err.push(t) });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

/** A value per secret setting that no other text contains, so any leak is found by search. */
const secretValues: Env = {
  SLACK_BOT_TOKEN: 'xoxb-leak-bot-token-5150',
  SLACK_SIGNING_SECRET: 'leak-signing-secret-5150',
  SLACK_APP_TOKEN: 'xapp-leak-app-token-5150',
  OS_PASSWORD: 'leak-os-password-5150',
  OS_APPLICATION_CREDENTIAL_SECRET: 'leak-app-cred-secret-5150',
  SMTP_URL: 'smtp://mailer:leak-smtp-password-5150@mail.example.org:587',
  SETPASS_SECRET: Buffer.alloc(32, 51).toString('base64'),
};

const env: Env = {
  ...secretValues,
  OS_AUTH_URL: 'https://keystone.example.org:5000/v3',
  OS_USERNAME: 'kaizen-bot',
  OS_APPLICATION_CREDENTIAL_ID: 'app-cred-id',
  REDIS_URL: 'redis://kaizen:leak-redis-password-5150@10.0.0.5:6379/2',
  PUBLIC_URL: 'https://register.example.org',
  SETPASS_TOKEN_TTL: '3d',
};

describe('kaizen config', () => {
  it('covers a secret value for every secret setting in the table', () => {
    const secrets = Object.values(settings)
      .filter((s) => s.secret)
      .map((s) => s.env);
    expect(secrets.sort()).toEqual(Object.keys(secretValues).sort());
  });

  it('prints the values in effect and where each came from, every secret hidden', async () => {
    const run = await kaizen(env, 'config');
    expect(run.code).toBe(0);
    expect(run.out).toMatch(/^SETPASS_TOKEN_TTL +3d$/m);
    expect(run.out).toMatch(/^SETPASS_MAX_PIN_ATTEMPTS +3 +\(default\)$/m);
    expect(run.out).toMatch(/^OS_USERNAME +kaizen-bot$/m);
    expect(run.out).toMatch(/^OS_PASSWORD +\(set, hidden\)$/m);
    expect(run.out).toMatch(/^REDIS_URL +redis:\/\/kaizen:\[redacted\]@10\.0\.0\.5:6379\/2$/m);
    expect(run.out).toMatch(/^GOOGLE_SHEET_ID +- +\(unset\)$/m);
    const leaked = [...Object.values(secretValues), 'leak-redis-password-5150', 'leak-smtp-password-5150'];
    for (const secret of leaked) expect(run.out + run.err).not.toContain(secret!);
  });

  it('prints the same as JSON with --json, every secret hidden', async () => {
    const run = await kaizen(env, 'config', '--json');
    expect(run.code).toBe(0);
    const parsed = JSON.parse(run.out) as {
      valid: boolean;
      problems: string[];
      settings: EffectiveSetting[];
    };
    expect(parsed.valid).toBe(true);
    const byName = new Map(parsed.settings.map((row) => [row.env, row]));
    expect(byName.size).toBe(Object.keys(settings).length);
    expect(byName.get('SETPASS_TOKEN_TTL')).toMatchObject({ value: '3d', source: 'environment' });
    expect(byName.get('PORT')).toMatchObject({ value: '3000', source: 'default' });
    expect(byName.get('SLACK_ADMIN_CHANNEL')).toMatchObject({ value: null, source: 'unset' });
    for (const name of Object.keys(secretValues)) {
      expect(byName.get(name)).toMatchObject({ value: '(set, hidden)', secret: true });
    }
    expect(run.out).not.toContain('leak-');
  });

  it('lists what does not load, without echoing a secret, and exits 2', async () => {
    const run = await kaizen({ ...env, SETPASS_SECRET: 'leak-too-short', PORT: 'eighty' }, 'config');
    expect(run.code).toBe(2);
    expect(run.err).toContain('PORT: expected a port number');
    expect(run.err).toContain('SETPASS_SECRET: expected');
    expect(run.out + run.err).not.toContain('leak-');
  });

  it('prints the defaults table and the .env.example on request', async () => {
    expect((await kaizen({}, 'config', '--defaults')).out).toContain(
      '| `SETPASS_TOKEN_TTL` | Setpass | `7d` |',
    );
    expect((await kaizen({}, 'config', '--env-example')).out).toBe(
      readFileSync('.env.example', 'utf8').trimEnd(),
    );
  });
});

describe('kaizen --version', () => {
  it("prints package.json's version", async () => {
    const { version } = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };
    const run = await kaizen({}, '--version');
    expect(run).toEqual({ code: 0, out: `kaizen ${version}`, err: '' });
  });
});
