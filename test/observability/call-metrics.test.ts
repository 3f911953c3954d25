/**
 * The labels the call metrics get: Slack Web API methods and outcomes (a 429 is `rate_limited`, an
 * `ok: false` is `error`), Keystone operations with every id and name collapsed, and refused Slack
 * requests by reason.
 */
import { WebClient } from '@slack/web-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keystoneOperation } from '../../src/keystone/http.js';
import { Metrics } from '../../src/platform/metrics.js';
import { observedFetch } from '../../src/slack/observe.js';
import { startTestBot, TEST_BOT_TOKEN, TEST_SIGNING_SECRET, type TestBot, testEnv } from '../support/bot.js';
import { metricValue } from '../support/metrics.js';
import { type SlackFake, startSlackFake } from '../support/slack-fake.js';
import { sendSigned } from '../support/slack-sign.js';

let slack: SlackFake;

beforeAll(async () => {
  slack = await startSlackFake();
});
afterAll(async () => {
  await slack?.close();
});

describe('Slack Web API calls', () => {
  it('are counted per HTTP attempt by method, with 429s as rate_limited and ok: false as error', async () => {
    const metrics = new Metrics({ defaults: false });
    const client = new WebClient(TEST_BOT_TOKEN, {
      slackApiUrl: `${slack.url}/api/`,
      fetch: observedFetch((method, outcome, seconds) => metrics.slackCall(method, outcome, seconds)),
      retryConfig: { retries: 2, factor: 1, minTimeout: 10, maxTimeout: 10 },
    });
    slack.failNext('chat.postMessage', { status: 429, retryAfter: 0 });
    await client.chat.postMessage({ channel: 'C0ADMINS', text: 'hello' });
    slack.failNext('chat.postMessage', { error: 'channel_not_found' });
    await expect(client.chat.postMessage({ channel: 'C0NOPE', text: 'x' })).rejects.toThrow();
    const count = (outcome: string) =>
      metricValue(metrics, 'kaizen_slack_api_request_duration_seconds_count', {
        method: 'chat.postMessage',
        outcome,
      });
    expect({
      limited: await count('rate_limited'),
      ok: await count('ok'),
      error: await count('error'),
    }).toEqual({
      limited: 1,
      ok: 1,
      error: 1,
    });
  });
});

describe('Keystone operations', () => {
  it('keep the API words and collapse ids, names and the query', () => {
    const id = 'c0ffee00c0ffee00c0ffee00c0ffee00';
    expect(keystoneOperation('PUT', `/projects/${id}/users/${id}/roles/${id}`)).toBe(
      'PUT /projects/:id/users/:id/roles/:id',
    );
    expect(keystoneOperation('GET', '/projects?name__icontains=ann@example.org')).toBe('GET /projects');
    expect(keystoneOperation('POST', `/users/${id}/password`)).toBe('POST /users/:id/password');
    expect(keystoneOperation('GET', '/domains/default')).toBe('GET /domains/:id');
    expect(keystoneOperation('GET', '')).toBe('GET /');
  });
});

describe('refused Slack requests', () => {
  let bot: TestBot;
  beforeAll(async () => {
    bot = await startTestBot(testEnv({ SLACK_API_URL: `${slack.url}/api/` }));
  });
  afterAll(async () => {
    await bot?.stop();
  });

  it('count an unparsable body as malformed and an unsigned one as a bad signature', async () => {
    const refused = (reason: string) =>
      metricValue(bot.bot.services.metrics, 'kaizen_refused_requests_total', { reason });
    const unsigned = await fetch(bot.eventsUrl, { method: 'POST', body: 'payload=%7B' });
    expect(unsigned.status).toBe(401);
    expect(await refused('bad_signature')).toBe(1);
    expect(await refused('malformed')).toBe(0);
    const garbled = await sendSigned(bot.eventsUrl, TEST_SIGNING_SECRET, '{not json', 'application/json');
    expect(garbled.status).toBe(400);
    expect(await refused('malformed')).toBe(1);
    expect(await refused('bad_signature')).toBe(1);
  });
});
