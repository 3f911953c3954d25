/**
 * Requests that once ended the process or answered 500: a malformed percent-escape in a route
 * parameter, targets that are not a path (absolute-, authority- and asterisk-form), a GET to
 * Bolt's endpoint, a request line that is not HTTP, a signed Slack payload Bolt cannot route. Each
 * is sent to the bot running as a child process, in the `all` and the `setpass` role (raw bytes
 * for the malformed ones); each gets a 4xx without a stack trace, and the process stays up and
 * healthy.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { keystoneEnv, TEST_SIGNING_SECRET, testEnv } from '../support/bot.js';
import { type BotProcess, BotProcesses } from '../support/bot-process.js';
import { payloadBody, sendSigned, viewSubmissionPayload } from '../support/slack-sign.js';
import { LEAK, rawRequest, sendRaw } from './raw-http.js';

const processes = new BotProcesses();
const bots = new Map<string, BotProcess>();

/** Request lines, each with the Host header HTTP/1.1 requires and nothing else. */
const CRASHERS: [string, string][] = [
  ['a malformed escape in /token/:user_id', 'PUT /token/%FF HTTP/1.1'],
  ['a cut-off escape in /token/:user_id', 'PUT /token/%E0%A4%A HTTP/1.1'],
  ['a bare % as the path', 'GET /% HTTP/1.1'],
  ['an absolute-form target with a bad escape', 'GET http://x/%ZZ HTTP/1.1'],
  ['an absolute-form PUT /token with a bad escape', 'PUT http://x/token/%FF HTTP/1.1'],
  ['an absolute-form target that is no URL', 'GET http://[ HTTP/1.1'],
  ['an absolute-form target of another scheme', 'GET file:///etc/passwd HTTP/1.1'],
  ['a scheme-relative target with a bad port', 'GET //x:y/ HTTP/1.1'],
  ['the asterisk-form target', 'OPTIONS * HTTP/1.1'],
  ['an asterisk-form GET', 'GET * HTTP/1.1'],
  ['an authority-form GET', 'GET kaizen.test:443 HTTP/1.1'],
  ['an authority-form CONNECT', 'CONNECT kaizen.test:443 HTTP/1.1'],
  ["a GET to Bolt's endpoint", 'GET /slack/events HTTP/1.1'],
  ["a PUT to Bolt's endpoint with a bad escape", 'PUT /slack/events%FF HTTP/1.1'],
  ['a request line that is not HTTP', 'HELLO'],
  ['a target with a control byte', 'GET /\u0001 HTTP/1.1'],
];

beforeAll(async () => {
  const keystone = keystoneEnv(inject('keystone'));
  const common = { LOG_LEVEL: 'info', PUBLIC_URL: 'https://register.kaizen.test' };
  const [all, setpass] = await Promise.all([
    processes.start(
      testEnv({ ...common, ...keystone, SLACK_API_URL: 'http://127.0.0.1:9/api/' }) as Record<string, string>,
    ),
    processes.start(
      testEnv({
        ...common,
        KAIZEN_ROLE: 'setpass',
        OS_AUTH_URL: keystone.OS_AUTH_URL,
        SLACK_BOT_TOKEN: undefined,
        SLACK_SIGNING_SECRET: undefined,
        SLACK_ADMIN_CHANNEL: undefined,
      }) as Record<string, string>,
    ),
  ]);
  bots.set('all', all);
  bots.set('setpass', setpass);
}, 60_000);

afterAll(async () => {
  await processes.killAll();
});

describe.each(['all', 'setpass'])('the %s role', (role) => {
  it.each(CRASHERS)('answers %s with a 4xx and stays up', async (_name, line) => {
    const bot = bots.get(role)!;
    const port = Number(new URL(bot.url).port);
    const answer = await sendRaw(
      port,
      rawRequest(
        line,
        [
          ['Host', 'kaizen.test'],
          ['Content-Length', '2'],
        ],
        '{}',
      ),
    );
    expect(answer.status, answer.text).toBeGreaterThanOrEqual(400);
    expect(answer.status, answer.text).toBeLessThan(500);
    expect(answer.text).not.toMatch(LEAK);
    // The process is still there and still answers.
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(bot.alive, bot.output()).toBe(true);
    expect((await fetch(`${bot.url}/healthz`)).status).toBe(200);
  });

  // Only the roles that serve /slack/events take Slack requests: the setpass role answers them 404.
  if (role === 'all') {
    it('answers a signed view submission without its user with 400', async () => {
      const bot = bots.get(role)!;
      const payload = viewSubmissionPayload({
        user: 'U0ADMIN',
        callbackId: 'applicant_reject_modal',
        values: {},
      });
      const answer = await sendSigned(
        bot.eventsUrl,
        TEST_SIGNING_SECRET,
        payloadBody({ ...payload, user: null }),
        'application/x-www-form-urlencoded',
      );
      expect(answer.status).toBe(400);
      expect(bot.alive).toBe(true);
    });

    it.each([
      ['application/json', 'null'],
      ['application/x-www-form-urlencoded', 'payload=null'],
    ])('answers a signed %s body of null with 400', async (contentType, body) => {
      const bot = bots.get(role)!;
      const answer = await sendSigned(bot.eventsUrl, TEST_SIGNING_SECRET, body, contentType);
      expect(answer.status).toBe(400);
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(bot.alive, bot.output()).toBe(true);
      expect((await fetch(`${bot.url}/healthz`)).status).toBe(200);
    });
  }

  it('logged each malformed request on one line, without a stack trace', () => {
    const output = bots.get(role)!.output();
    expect(output).not.toMatch(/\n\s+at /);
    expect(output).toContain('bad request');
  });
});
