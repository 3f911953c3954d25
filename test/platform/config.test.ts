import { describe, expect, it } from 'vitest';
import { ConfigError, capabilities, loadConfig, settingsTable } from '../../src/platform/config/config.js';

const secret = Buffer.alloc(32, 7).toString('base64');

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

describe('configuration', () => {
  it('gives the documented defaults with nothing set', () => {
    const config = loadConfig({});
    expect(config.http.port).toBe(3000);
    expect(config.role).toBe('all');
    expect(config.google.applicationsTab).toBe('Form Responses 1');
    expect(config.google.admittedTab).toBe('Current Users');
    expect(config.keystone.memberRole).toBe('member');
    expect(config.keystone.domain).toBe('default');
    expect(config.redis.url).toBe('redis://127.0.0.1:6379');
    expect(config.setpass.tokenTtlMs).toBe(7 * 86_400_000);
    expect(config.setpass.maxPinAttempts).toBe(3);
    expect(config.schedules.reminderAfterMs).toBe(2 * 86_400_000);
    expect(config.schedules.adminReminderAfterMs).toBe(86_400_000);
    expect(config.slack.apiUrl).toBe('https://slack.com/api/');
  });

  it('switches a capability off, naming what it needs, when its settings are absent', () => {
    const byName = new Map(capabilities(loadConfig({})).map((c) => [c.name, c]));
    expect(byName.get('slack')).toMatchObject({
      enabled: false,
      missing: ['SLACK_BOT_TOKEN', 'SLACK_SIGNING_SECRET', 'SLACK_ADMIN_CHANNEL'],
    });
    expect(byName.get('redis')?.enabled).toBe(true);
    const on = capabilities(
      loadConfig({ SLACK_BOT_TOKEN: 'xoxb-1', SLACK_SIGNING_SECRET: 's', SLACK_ADMIN_CHANNEL: 'C123' }),
    );
    expect(on.find((c) => c.name === 'slack')?.enabled).toBe(true);
  });

  it('lists every wrong setting at once, naming the variable and what is expected', () => {
    const problems = problemsOf({
      PORT: 'eighty',
      SETPASS_MAX_PIN_ATTEMPTS: 'abc',
      SETPASS_SECRET: 'c2hvcnQ=',
      PUBLIC_URL: 'not a url',
      SETPASS_TOKEN_TTL: '7 days',
      SLACK_ADMIN_CHANNEL: '#admins',
    });
    expect(problems).toHaveLength(6);
    expect(problems.join('\n')).toContain(
      'SETPASS_MAX_PIN_ATTEMPTS: expected a whole number from 1 to 20, got "abc"',
    );
    expect(problems.join('\n')).toContain('SETPASS_SECRET: expected at least 32 random bytes in base64');
    expect(problems.join('\n')).toContain('SLACK_ADMIN_CHANNEL: expected a channel id');
    expect(problems.join('\n')).toMatch(/PORT: .*"eighty"/);
  });

  it('never echoes a secret value in its problems', () => {
    const problems = problemsOf({
      SETPASS_SECRET: 'tooshort-secret-value',
      SLACK_APP_TOKEN: 'xoxb-wrong-kind',
    });
    expect(problems.join('\n')).not.toContain('tooshort-secret-value');
    expect(problems.join('\n')).not.toContain('xoxb-wrong-kind');
  });

  it('masks the password of a URL it echoes, with or without a user name', () => {
    const problems = problemsOf({
      REDIS_URL: 'redis://:pw-in-redis-url@redis.example.org:notaport',
      OS_AUTH_URL: 'ftp://keystone-user:pw-in-auth-url@keystone.example.org/v3',
      REDIS_SENTINEL_NAME: '',
      SLACK_API_URL: 'slack://:pw-in-slack-url@x',
    }).join('\n');
    expect(problems).toContain('REDIS_URL: expected a redis:// or rediss:// URL');
    expect(problems).toContain('"redis://:[redacted]@redis.example.org:notaport"');
    expect(problems).toContain('"ftp://keystone-user:[redacted]@keystone.example.org/v3"');
    expect(problems).not.toMatch(/pw-in-/);
  });

  it('accepts durations, six-field cron expressions and lists', () => {
    const config = loadConfig({
      SETPASS_TOKEN_TTL: '90s',
      REMINDER_INTERVAL: '15m',
      SHEET_POLL_CRON: '*/10 * * * * *',
      SLACK_ADMINS: 'U1, U2 ,U3',
      SETPASS_SECRET: secret,
    });
    expect(config.setpass.tokenTtlMs).toBe(90_000);
    expect(config.schedules.reminderIntervalMs).toBe(900_000);
    expect(config.slack.admins).toEqual(['U1', 'U2', 'U3']);
    expect(config.setpass.secret?.length).toBe(32);
  });

  it('keeps admin credentials and Slack tokens out of the setpass role', () => {
    const problems = problemsOf({
      KAIZEN_ROLE: 'setpass',
      SETPASS_SECRET: secret,
      PUBLIC_URL: 'https://register.example.org',
      OS_AUTH_URL: 'http://127.0.0.1:5000/v3',
      OS_USERNAME: 'admin',
      OS_PASSWORD: 'pw',
      SLACK_BOT_TOKEN: 'xoxb-1',
    });
    expect(problems.some((p) => p.startsWith('OS_PASSWORD: must not be set when KAIZEN_ROLE=setpass'))).toBe(
      true,
    );
    expect(problems.some((p) => p.startsWith('SLACK_BOT_TOKEN: must not be set'))).toBe(true);
    expect(
      loadConfig({
        KAIZEN_ROLE: 'setpass',
        SETPASS_SECRET: secret,
        PUBLIC_URL: 'https://register.example.org',
        OS_AUTH_URL: 'http://127.0.0.1:5000/v3',
      }).role,
    ).toBe('setpass');
  });

  it('refuses an http PUBLIC_URL in production unless allowed', () => {
    expect(problemsOf({ NODE_ENV: 'production', PUBLIC_URL: 'http://register.example.org' })[0]).toMatch(
      /^PUBLIC_URL: must be https/,
    );
    expect(
      problemsOf({ NODE_ENV: 'production', PUBLIC_URL: 'http://x.org', ALLOW_INSECURE_PUBLIC_URL: 'true' }),
    ).toEqual([]);
  });

  it('uses an application credential when one is given', () => {
    const config = loadConfig({
      OS_AUTH_URL: 'http://127.0.0.1:5000/v3/',
      OS_APPLICATION_CREDENTIAL_ID: 'id1',
      OS_APPLICATION_CREDENTIAL_SECRET: 's1',
    });
    expect(config.keystone.auth).toEqual({ kind: 'application_credential', id: 'id1', secret: 's1' });
    expect(config.keystone.authUrl).toBe('http://127.0.0.1:5000/v3');
  });

  it('documents every setting in one table', () => {
    const table = settingsTable();
    for (const name of [
      'SLACK_API_URL',
      'GOOGLE_SHEETS_API_URL',
      'SETPASS_TOKEN_TTL',
      'REMINDER_MAX',
      'TERMS_URL',
    ]) {
      expect(table).toContain(`\`${name}\``);
    }
  });
});
