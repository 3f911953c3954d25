import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type CliIo, runCli } from '../../src/app/cli.js';
import { keystoneEnv, TEST_ADMIN_CHANNEL, testEnv } from '../support/bot.js';
import { type SheetsFake, startSheetsFake } from '../support/sheets-fake.js';
import { type SlackFake, startSlackFake } from '../support/slack-fake.js';

function capture(): CliIo & { text: () => string } {
  const lines: string[] = [];
  return { out: (t) => lines.push(t), err: (t) => lines.push(t), text: () => lines.join('\n') };
}

describe('kaizen doctor', () => {
  let slack: SlackFake;
  beforeAll(async () => {
    slack = await startSlackFake();
    slack.setChannelInfo(TEST_ADMIN_CHANNEL, { isPrivate: true });
  });
  afterAll(() => slack?.close());

  it('reports each configured part as ok after talking to it, and the others as off', async () => {
    const io = capture();
    const env = testEnv({ SLACK_API_URL: `${slack.url}/api/`, ...keystoneEnv(inject('keystone')) });
    const code = await runCli(['doctor', '--json'], env, io);
    const lines = JSON.parse(io.text()) as { name: string; status: string; detail: string }[];
    const byName = Object.fromEntries(lines.map((line) => [line.name, line]));
    expect(code).toBe(0);
    expect(byName.redis?.status).toBe('ok');
    expect(byName.slack).toMatchObject({ status: 'ok' });
    expect(byName.slack?.detail).toContain('HTTP mode');
    expect(byName.keystone?.status).toBe('ok');
    expect(byName.keystone?.detail).toMatch(/admin token issued; catalog lists \d+ services/);
    expect(byName.mail).toMatchObject({ status: 'off', detail: 'not configured: set SMTP_URL, MAIL_FROM' });
    expect(slack.calls('auth.test')).toHaveLength(1);
  });

  it('reads the sheet header row and names missing columns', async () => {
    const sheets: SheetsFake = await startSheetsFake();
    try {
      const env = testEnv({
        GOOGLE_APPLICATION_CREDENTIALS: sheets.keyFile,
        GOOGLE_SHEET_ID: sheets.spreadsheetId,
        GOOGLE_SHEETS_API_URL: `${sheets.url}/`,
        SLACK_API_URL: `${slack.url}/api/`,
      });
      sheets.setTab('Form Responses 1', [
        ['Timestamp', 'Email', 'First name', 'Last name', 'PIN', 'New project name'],
      ]);
      let io = capture();
      await runCli(['doctor'], env, io);
      expect(io.text()).toMatch(/sheets\s+ok\s+header row read: 6 columns, all required ones found/);
      expect(io.text()).toContain('no Quota Requests tab (quota requests off)');
      sheets.setTab('Quota Requests', [['Timestamp', 'Email', 'Preset', 'Justification']]);
      io = capture();
      expect(await runCli(['doctor'], env, io)).toBe(2);
      expect(io.text()).toContain('The quota requests tab "Quota Requests" has no column for Project.');
      sheets.setTab('Quota Requests', [
        ['Timestamp', 'Email', 'Project', 'Preset', 'instances', 'Justification'],
      ]);
      io = capture();
      expect(await runCli(['doctor'], env, io)).toBe(0);
      expect(io.text()).toContain('Quota Requests tab: the columns of a request found');
      sheets.setTab('Form Responses 1', [['Timestamp', 'E-mail']]);
      io = capture();
      expect(await runCli(['doctor'], env, io)).toBe(2);
      expect(io.text()).toMatch(
        /sheets\s+failing\s+The applications tab "Form Responses 1" has no column for Email/,
      );
    } finally {
      await sheets.close();
    }
  });

  it('fails the Slack check when, without SLACK_ADMINS, the admin channel is public or shared', async () => {
    const channel = 'C0DOCTORPUBLIC';
    const env = testEnv({ SLACK_API_URL: `${slack.url}/api/`, SLACK_ADMIN_CHANNEL: channel });
    const cases = [
      [{ isPrivate: false }, `SLACK_ADMIN_CHANNEL ${channel} is a public channel`],
      [{ isPrivate: true, isExtShared: true }, 'is shared with another organisation'],
      [{ isPrivate: true, isPendingExtShared: true }, 'is shared with another organisation'],
    ] as const;
    for (const [info, message] of cases) {
      slack.setChannelInfo(channel, info);
      const io = capture();
      expect(await runCli(['doctor'], env, io)).toBe(2);
      expect(io.text()).toMatch(/slack\s+failing/);
      expect(io.text()).toContain(message);
    }
    slack.setChannelInfo(channel, { isPrivate: true });
    const io = capture();
    await runCli(['doctor'], env, io);
    expect(io.text()).toMatch(/slack\s+ok\s+.*admins: the members of the private channel C0DOCTORPUBLIC/);
    const named = capture();
    await runCli(['doctor'], { ...env, SLACK_ADMINS: 'U0ONE,U0TWO' }, named);
    expect(named.text()).toMatch(/slack\s+ok\s+.*2 admins named in SLACK_ADMINS/);
  });

  it('says why a part is failing and exits 2', async () => {
    const io = capture();
    const env = testEnv({
      SLACK_API_URL: `${slack.url}/api/`,
      ...keystoneEnv(inject('keystone')),
      OS_AUTH_URL: 'http://127.0.0.1:9/v3',
    });
    const code = await runCli(['doctor'], env, io);
    expect(code).toBe(2);
    expect(io.text()).toMatch(/keystone\s+failing\s+.*127\.0\.0\.1:9/);
    expect(io.text()).not.toContain(inject('keystone').password);
  });

  it('names the wrong setting instead of checking anything', async () => {
    const io = capture();
    const code = await runCli(['doctor'], { SETPASS_MAX_PIN_ATTEMPTS: 'abc' }, io);
    expect(code).toBe(2);
    expect(io.text()).toContain('SETPASS_MAX_PIN_ATTEMPTS: expected a whole number');
  });

  it('prints a wrong URL setting with its password masked, and `kaizen config` never echoes one', async () => {
    const env = { REDIS_URL: 'redis://:doctor-redis-pw@redis.example.org:notaport' };
    const doctor = capture();
    expect(await runCli(['doctor'], env, doctor)).toBe(2);
    expect(doctor.text()).toContain('REDIS_URL: expected a redis:// or rediss:// URL');
    expect(doctor.text()).toContain('redis://:[redacted]@redis.example.org:notaport');
    const listing = capture();
    // The settings in effect, then what does not load: the same URL, masked, in both.
    expect(
      await runCli(['config'], { ...env, SMTP_URL: 'smtp://mailer:doctor-smtp-pw@relay:587' }, listing),
    ).toBe(2);
    expect(listing.text()).toMatch(/^REDIS_URL +redis:\/\/:\[redacted\]@redis\.example\.org:notaport$/m);
    expect(listing.text()).toMatch(/^SMTP_URL +\(set, hidden\)$/m);
    for (const io of [doctor, listing]) expect(io.text()).not.toMatch(/doctor-(redis|smtp)-pw/);
  });

  it('masks a password in a URL setting it quotes in a detail', async () => {
    const io = capture();
    const env = {
      KAIZEN_ROLE: 'setpass',
      SETPASS_SECRET: Buffer.alloc(32, 3).toString('base64'),
      PUBLIC_URL: 'https://pages:doctor-public-pw@register.example.org',
      OS_AUTH_URL: inject('keystone').authUrl,
    };
    expect(await runCli(['doctor'], env, io)).toBe(0);
    expect(io.text()).toContain('links point at https://pages:[redacted]@register.example.org/');
    expect(io.text()).not.toContain('doctor-public-pw');
  });

  it('answers an unknown command with the usage and exit 1', async () => {
    const io = capture();
    expect(await runCli(['frobnicate'], {}, io)).toBe(1);
    expect(io.text()).toContain('usage: kaizen');
  });
});
