import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VERSION } from '../../src/platform/version.js';
import { startTestBot, TEST_SIGNING_SECRET, type TestBot, testEnv } from '../support/bot.js';
import { metricValue } from '../support/metrics.js';
import { type SlackFake, startSlackFake } from '../support/slack-fake.js';
import { sendSlashCommand } from '../support/slack-sign.js';

describe('the Slack endpoint in HTTP mode', () => {
  let slack: SlackFake;
  let running: TestBot;

  beforeAll(async () => {
    slack = await startSlackFake();
    running = await startTestBot(testEnv({ SLACK_API_URL: `${slack.url}/api/` }));
  });
  afterAll(async () => {
    await running?.stop();
    await slack?.close();
  });
  const refused = (reason: string) =>
    metricValue(running.bot.services.metrics, 'kaizen_refused_requests_total', { reason });

  it('answers a signed /kaizen help with the help text, ephemeral', async () => {
    const reply = await sendSlashCommand(running.eventsUrl, TEST_SIGNING_SECRET, {
      text: 'help',
      user_id: 'U0ANYONE',
    });
    expect(reply.status).toBe(200);
    expect(reply.json).toMatchObject({ response_type: 'ephemeral' });
    expect((reply.json as { text: string }).text).toContain('/kaizen reset');
  });

  it('answers an unknown subcommand with the help text and says which word it did not know', async () => {
    const reply = await sendSlashCommand(running.eventsUrl, TEST_SIGNING_SECRET, {
      text: 'FROBNICATE x',
      user_id: 'U0ANYONE',
    });
    expect(reply.status).toBe(200);
    expect((reply.json as { text: string }).text).toMatch(/don't know `FROBNICATE`[\s\S]*\/kaizen pending/);
  });

  it('refuses a request with a bad signature with 401, counted as bad_signature', async () => {
    const before = await refused('bad_signature');
    const reply = await sendSlashCommand(running.eventsUrl, 'not-the-secret', {
      text: 'help',
      user_id: 'U0ANYONE',
    });
    expect(reply.status).toBe(401);
    expect(await refused('bad_signature')).toBe(before + 1);
  });

  it('refuses a stale timestamp with 401', async () => {
    const reply = await sendSlashCommand(
      running.eventsUrl,
      TEST_SIGNING_SECRET,
      { text: 'help', user_id: 'U0ANYONE' },
      { timestamp: Math.floor(Date.now() / 1000) - 600 },
    );
    expect(reply.status).toBe(401);
    expect(await refused('replay')).toBe(1);
  });

  it('serves /healthz with the Redis check', async () => {
    const response = await fetch(`${running.url}/healthz`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'ok', checks: { redis: 'ok' }, version: VERSION });
  });
});

describe('a bot whose Keystone settings are incomplete', () => {
  let slack: SlackFake;
  let running: TestBot;

  beforeAll(async () => {
    slack = await startSlackFake();
    // OS_AUTH_URL alone (a dead port, no credentials): the start-up log calls Keystone off.
    running = await startTestBot(
      testEnv({
        SLACK_API_URL: `${slack.url}/api/`,
        SLACK_ADMINS: 'U0ADMIN',
        OS_AUTH_URL: 'http://127.0.0.1:9/v3',
      }),
    );
  });
  afterAll(async () => {
    await running?.stop();
    await slack?.close();
  });

  it('checks on /healthz only what is on: no Keystone probe', async () => {
    const response = await fetch(`${running.url}/healthz`);
    expect(await response.json()).toEqual({ status: 'ok', checks: { redis: 'ok' }, version: VERSION });
    expect(response.status).toBe(200);
  });

  it('answers /kaizen status that Keystone is not configured, not that the user does not exist', async () => {
    const reply = await sendSlashCommand(running.eventsUrl, TEST_SIGNING_SECRET, {
      text: 'status nobody@example.org',
      user_id: 'U0ADMIN',
    });
    expect(reply.status).toBe(200);
    const text = (reply.json as { text: string }).text;
    expect(text).toContain('Keystone is not configured');
    expect(text).not.toMatch(/No user/i);
  });
});
