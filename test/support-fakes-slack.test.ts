import type { Server } from 'node:http';
import { App } from '@slack/bolt';
import {
  type ConversationsMembersResponse,
  ErrorCode,
  LogLevel,
  WebClient,
  WebClientEvent,
  type WebClientOptions,
} from '@slack/web-api';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type SlackFake, startSlackFake } from './support/slack-fake.js';
import {
  sendBlockAction,
  sendEvent,
  sendSlashCommand,
  sendUrlVerification,
  sendViewSubmission,
  signedHeaders,
  slackSignature,
} from './support/slack-sign.js';

const TOKEN = 'xoxb-fake-test';
/** Quiet clients: the failures these tests provoke would otherwise be logged as warnings. */
const QUIET: WebClientOptions = { logLevel: LogLevel.ERROR };

/** The error fields @slack/web-api puts on what it throws. */
interface WebApiError {
  code?: string;
  data?: { error?: string };
  statusCode?: number;
  retryAfter?: number;
}

async function failureOf(promise: Promise<unknown>): Promise<WebApiError> {
  try {
    await promise;
  } catch (error) {
    return error as WebApiError;
  }
  throw new Error('expected the call to fail');
}

describe('SlackFake with the real WebClient', () => {
  let slack: SlackFake;
  let client: WebClient;

  beforeAll(async () => {
    slack = await startSlackFake();
    client = new WebClient(TOKEN, {
      ...QUIET,
      slackApiUrl: `${slack.url}/api/`,
      retryConfig: { retries: 0 },
    });
  });
  afterEach(() => slack.reset());
  afterAll(() => slack.close());

  it('answers auth.test and records the method, the arguments and the bearer token', async () => {
    const result = await client.auth.test();
    expect(result).toMatchObject({ ok: true, user_id: slack.botUserId, team_id: slack.teamId });
    expect(slack.calls('auth.test')).toEqual([
      { method: 'auth.test', args: {}, token: TOKEN, at: expect.any(Date) },
    ]);
  });

  it('stores posted messages with increasing ts, parses blocks back from the form body, and updates them', async () => {
    const blocks = [{ type: 'section', text: { type: 'mrkdwn', text: '*Ada Lovelace* applied' } }];
    const first = await client.chat.postMessage({ channel: 'C0ADMINS', text: 'Ada applied', blocks });
    const second = await client.chat.postMessage({ channel: 'C0ADMINS', text: 'Alan applied' });
    expect(first).toMatchObject({ ok: true, channel: 'C0ADMINS' });
    expect(Number(second.ts)).toBeGreaterThan(Number(first.ts));
    expect(slack.calls('chat.postMessage')[0]?.args.blocks).toEqual(blocks);
    expect(slack.lastMessage('C0ADMINS')?.text).toBe('Alan applied');

    const approved = [{ type: 'context', elements: [{ type: 'mrkdwn', text: 'Approved by <@U1>' }] }];
    await client.chat.update({
      channel: 'C0ADMINS',
      ts: first.ts ?? '',
      text: 'Ada approved',
      blocks: approved,
    });
    expect(slack.message('C0ADMINS', first.ts ?? '')).toMatchObject({
      text: 'Ada approved',
      blocks: approved,
      updates: 1,
    });

    const missing = await failureOf(client.chat.update({ channel: 'C0ADMINS', ts: '1.000001', text: 'x' }));
    expect(missing.code).toBe(ErrorCode.PlatformError);
    expect(missing.data?.error).toBe('message_not_found');
  });

  it('opens a DM channel for a message to a user id and reads it back by user id', async () => {
    const posted = await client.chat.postMessage({ channel: 'U0ADA', text: 'Welcome' });
    expect(posted.channel).toMatch(/^D/);
    expect(slack.lastMessage('U0ADA')?.text).toBe('Welcome');
    expect(slack.lastMessage(posted.channel ?? '')?.text).toBe('Welcome');
  });

  it('answers postEphemeral, getPermalink and refuses a message with no content', async () => {
    const posted = await client.chat.postMessage({ channel: 'C0ADMINS', text: 'card' });
    const ephemeral = await client.chat.postEphemeral({
      channel: 'C0ADMINS',
      user: 'U0ADMIN',
      text: 'only you',
    });
    expect(ephemeral.message_ts).toMatch(/^\d+\.\d{6}$/);
    expect(slack.ephemerals('U0ADMIN')).toMatchObject([{ channel: 'C0ADMINS', text: 'only you' }]);

    const link = await client.chat.getPermalink({ channel: 'C0ADMINS', message_ts: posted.ts ?? '' });
    expect(link.permalink).toBe(
      `https://kaizen-test.slack.com/archives/C0ADMINS/p${(posted.ts ?? '').replace('.', '')}`,
    );

    const empty = await failureOf(client.apiCall('chat.postMessage', { channel: 'C0ADMINS' }));
    expect(empty.data?.error).toBe('no_text');
  });

  it('opens, updates and publishes views, one views.open per trigger id', async () => {
    const view = {
      type: 'modal' as const,
      callback_id: 'reject',
      private_metadata: 'app-1',
      title: { type: 'plain_text' as const, text: 'Reject' },
      blocks: [],
    };
    const opened = await client.views.open({ trigger_id: 'trigger-1', view });
    expect(opened.view).toMatchObject({ type: 'modal', callback_id: 'reject', private_metadata: 'app-1' });
    expect(slack.calls('views.open')[0]?.args.view).toEqual(view);

    const reused = await failureOf(client.views.open({ trigger_id: 'trigger-1', view }));
    expect(reused.data?.error).toBe('exchanged_trigger_id');

    const viewId = opened.view?.id ?? '';
    const updated = await client.views.update({
      view_id: viewId,
      view: { ...view, private_metadata: 'app-2' },
    });
    expect(updated.view?.private_metadata).toBe('app-2');
    expect(slack.view(viewId)?.view.private_metadata).toBe('app-2');
    const stale = await failureOf(client.views.update({ view_id: viewId, hash: 'old', view }));
    expect(stale.data?.error).toBe('hash_conflict');
    const unknown = await failureOf(client.views.update({ view_id: 'V404', view }));
    expect(unknown.data?.error).toBe('not_found');

    await client.views.publish({ user_id: 'U0ADMIN', view: { type: 'home', blocks: [] } });
    expect(slack.homeView('U0ADMIN')?.view).toEqual({ type: 'home', blocks: [] });
  });

  it('pages conversations.members with cursors the client follows', async () => {
    const members = Array.from({ length: 7 }, (_, index) => `U0M${index}`);
    slack.setChannelMembers('C0ADMINS', members);
    const seen: string[] = [];
    for await (const page of client.paginate('conversations.members', { channel: 'C0ADMINS', limit: 3 })) {
      seen.push(...((page as ConversationsMembersResponse).members ?? []));
    }
    expect(seen).toEqual(members);
    expect(slack.calls('conversations.members')).toHaveLength(3);
    const unknown = await failureOf(client.conversations.members({ channel: 'C0NOPE' }));
    expect(unknown.data?.error).toBe('channel_not_found');
  });

  it('answers users.info and users.lookupByEmail from configured users', async () => {
    slack.addUser({ id: 'U0ADA', name: 'ada', realName: 'Ada Lovelace', email: 'Ada@example.org' });
    const info = await client.users.info({ user: 'U0ADA' });
    expect(info.user).toMatchObject({ id: 'U0ADA', name: 'ada', profile: { email: 'Ada@example.org' } });
    const found = await client.users.lookupByEmail({ email: 'ada@example.org' });
    expect(found.user?.id).toBe('U0ADA');
    // Slack knows every member of its workspace: an id never added is an ordinary member.
    expect((await client.users.info({ user: 'U0NOBODY' })).user).toMatchObject({
      id: 'U0NOBODY',
      deleted: false,
      is_restricted: false,
    });
    expect((await failureOf(client.users.info({ user: 'not-an-id' }))).data?.error).toBe('user_not_found');
    expect((await failureOf(client.users.lookupByEmail({ email: 'x@example.org' }))).data?.error).toBe(
      'users_not_found',
    );
  });

  it('answers a method it does not implement with unknown_method, as Slack does, and records it', async () => {
    const failure = await failureOf(
      client.apiCall('reactions.add', { channel: 'C1', timestamp: '1.2', name: 'tada' }),
    );
    expect(failure.data?.error).toBe('unknown_method');
    expect(slack.calls('reactions.add')[0]).toMatchObject({
      args: { name: 'tada' },
      error: 'unknown_method',
    });
    expect(slack.refusedCalls().map((call) => call.method)).toEqual(['reactions.add']);
  });

  it('refuses an ephemeral message to a user who is not in the channel', async () => {
    slack.setChannelMembers('C0ADMINS', ['U0ADMIN']);
    await client.chat.postEphemeral({ channel: 'C0ADMINS', user: 'U0ADMIN', text: 'only you' });
    const outsider = await failureOf(
      client.chat.postEphemeral({ channel: 'C0ADMINS', user: 'U0OUTSIDER', text: 'only you' }),
    );
    expect(outsider.data?.error).toBe('user_not_in_channel');
    expect(slack.ephemerals('U0OUTSIDER')).toEqual([]);
  });

  it('lets a trigger id open a view for its lifetime only', async () => {
    const view = { type: 'modal' as const, title: { type: 'plain_text' as const, text: 'Late' }, blocks: [] };
    const old = `${Date.now() - 3_500}.1234.abcdef`;
    expect((await failureOf(client.views.open({ trigger_id: old, view }))).data?.error).toBe(
      'expired_trigger_id',
    );
    slack.setTriggerIdLifetime(10_000);
    const opened = await client.views.open({ trigger_id: `${Date.now() - 3_500}.1234.fedcba`, view });
    expect(opened.ok).toBe(true);
  });

  it('pushes a view onto an open one, with a trigger id of its own, and lists both modals', async () => {
    const view = (title: string) => ({
      type: 'modal' as const,
      callback_id: title.toLowerCase(),
      title: { type: 'plain_text' as const, text: title },
      blocks: [],
    });
    const opened = await client.views.open({ trigger_id: `${Date.now()}.1.open`, view: view('First') });
    const pushTrigger = `${Date.now()}.2.push`;
    const pushed = await client.views.push({ trigger_id: pushTrigger, view: view('Second') });
    expect(pushed.view?.id).not.toBe(opened.view?.id);
    const titles = slack.modals().map((modal) => (modal.view.title as { text: string }).text);
    expect(titles.slice(-2)).toEqual(['First', 'Second']);
    const again = await failureOf(client.views.push({ trigger_id: pushTrigger, view: view('Third') }));
    expect(again.data?.error).toBe('exchanged_trigger_id');
  });

  it('updates a view by external_id, and refuses an unknown one or a call with neither id', async () => {
    const view = {
      type: 'modal' as const,
      external_id: 'quota:app-1',
      title: { type: 'plain_text' as const, text: 'Quota' },
      blocks: [],
    };
    await client.views.open({ trigger_id: `${Date.now()}.1.first`, view });
    await client.views.open({
      trigger_id: `${Date.now()}.2.second`,
      view: { ...view, external_id: 'quota:app-2' },
    });
    const updated = await client.views.update({
      external_id: 'quota:app-2',
      view: { ...view, external_id: 'quota:app-2', private_metadata: 'second' },
    });
    expect(updated.view?.private_metadata).toBe('second');
    expect((await failureOf(client.views.update({ external_id: 'quota:nope', view }))).data?.error).toBe(
      'not_found',
    );
    expect((await failureOf(client.apiCall('views.update', { view }))).data?.error).toBe('invalid_arguments');
    expect(slack.view()?.view.private_metadata).toBe('second');
  });

  it('refuses blocks over Block Kit limits with invalid_blocks and the JSON pointer of each problem', async () => {
    const blocks = [
      { type: 'header', text: { type: 'plain_text', text: 'h'.repeat(151) } },
      { type: 'section', text: { type: 'mrkdwn', text: 's'.repeat(3001) } },
    ];
    const refused = await failureOf(client.chat.postMessage({ channel: 'C0ADMINS', text: 'x', blocks }));
    const data = refused.data as {
      error?: string;
      errors?: string[];
      response_metadata?: { messages?: string[] };
    };
    expect(data.error).toBe('invalid_blocks');
    expect(data.errors).toEqual([
      'must be less than 151 characters [json-pointer:/blocks/0/text/text]',
      'must be less than 3001 characters [json-pointer:/blocks/1/text/text]',
    ]);
    expect(data.response_metadata?.messages?.[0]).toBe(
      '[ERROR] must be less than 151 characters [json-pointer:/blocks/0/text/text]',
    );
    expect(slack.lastMessage('C0ADMINS')).toBeUndefined();

    const long = await failureOf(client.chat.postMessage({ channel: 'C0ADMINS', text: 't'.repeat(40_001) }));
    expect(long.data?.error).toBe('msg_too_long');
  });

  it('refuses a view over the modal limits with invalid_arguments and the pointer', async () => {
    const view = {
      type: 'modal' as const,
      title: { type: 'plain_text' as const, text: 'A title that is far too long' },
      private_metadata: 'm'.repeat(3001),
      blocks: [],
    };
    const refused = await failureOf(client.views.open({ trigger_id: `${Date.now()}.3.third`, view }));
    expect(refused.data?.error).toBe('invalid_arguments');
    expect(
      (refused.data as { response_metadata?: { messages?: string[] } }).response_metadata?.messages,
    ).toEqual([
      '[ERROR] must be less than 25 characters [json-pointer:/view/title/text]',
      '[ERROR] must be less than 3001 characters [json-pointer:/view/private_metadata]',
    ]);
    const home = await failureOf(
      client.views.publish({
        user_id: 'U0ADMIN',
        view: { type: 'home', blocks: Array(101).fill({ type: 'divider' }) },
      }),
    );
    expect(home.data?.error).toBe('invalid_arguments');
  });

  it('accepts JSON bodies and refuses calls without a token, or with the wrong one', async () => {
    const response = await fetch(`${slack.url}/api/chat.postMessage`, {
      method: 'POST',
      headers: { 'content-type': 'application/json; charset=utf-8', authorization: `Bearer ${TOKEN}` },
      body: JSON.stringify({ channel: 'C0ADMINS', text: 'json', blocks: [{ type: 'divider' }] }),
    });
    expect(await response.json()).toMatchObject({ ok: true });
    expect(slack.lastMessage('C0ADMINS')?.blocks).toEqual([{ type: 'divider' }]);

    const anonymous = new WebClient(undefined, {
      ...QUIET,
      slackApiUrl: `${slack.url}/api/`,
      retryConfig: { retries: 0 },
    });
    expect((await failureOf(anonymous.auth.test())).data?.error).toBe('not_authed');

    const strict = await startSlackFake({ token: TOKEN });
    try {
      const wrong = new WebClient('xoxb-wrong', {
        ...QUIET,
        slackApiUrl: `${strict.url}/api/`,
        retryConfig: { retries: 0 },
      });
      expect((await failureOf(wrong.auth.test())).data?.error).toBe('invalid_auth');
    } finally {
      await strict.close();
    }
  });

  it('injects API errors and HTTP 500s for a number of calls', async () => {
    slack.failNext('chat.postMessage', { error: 'channel_not_found' }, 2);
    slack.failNext('chat.update', { status: 500 });
    for (let attempt = 0; attempt < 2; attempt++) {
      const failure = await failureOf(client.chat.postMessage({ channel: 'C0ADMINS', text: 'x' }));
      expect(failure.data?.error).toBe('channel_not_found');
    }
    const posted = await client.chat.postMessage({ channel: 'C0ADMINS', text: 'third time' });
    const serverError = await failureOf(
      client.chat.update({ channel: 'C0ADMINS', ts: posted.ts ?? '', text: 'y' }),
    );
    expect(serverError.code).toBe(ErrorCode.HTTPError);
    expect(serverError.statusCode).toBe(500);
    expect(slack.calls('chat.postMessage').map((call) => call.injectedFailure)).toEqual([
      { error: 'channel_not_found' },
      { error: 'channel_not_found' },
      undefined,
    ]);
  });

  it('sends 429 with Retry-After, which the client reports and honours', async () => {
    const rejecting = new WebClient(TOKEN, {
      ...QUIET,
      slackApiUrl: `${slack.url}/api/`,
      retryConfig: { retries: 0 },
      rejectRateLimitedCalls: true,
    });
    slack.failNext('chat.postMessage', { status: 429, retryAfter: 7 });
    const limited = await failureOf(rejecting.chat.postMessage({ channel: 'C0ADMINS', text: 'x' }));
    expect(limited.code).toBe(ErrorCode.RateLimitedError);
    expect(limited.retryAfter).toBe(7);

    const patient = new WebClient(TOKEN, {
      ...QUIET,
      slackApiUrl: `${slack.url}/api/`,
      retryConfig: { retries: 1, minTimeout: 0, maxTimeout: 0 },
    });
    const pauses: number[] = [];
    patient.on(WebClientEvent.RATE_LIMITED, (seconds: number) => pauses.push(seconds));
    slack.failNext('chat.postMessage', { status: 429, retryAfter: 1 });
    const started = Date.now();
    const posted = await patient.chat.postMessage({ channel: 'C0ADMINS', text: 'after the pause' });
    expect(posted.ok).toBe(true);
    expect(pauses).toEqual([1]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    expect(slack.calls('chat.postMessage')).toHaveLength(3);
  });

  it('records response_url posts and applies replace_original to the message it belongs to', async () => {
    const card = await client.chat.postMessage({
      channel: 'C0ADMINS',
      text: 'card',
      blocks: [{ type: 'divider' }],
    });
    const url = slack.responseUrl('action-1', { channel: 'C0ADMINS', ts: card.ts ?? '' });
    expect(url).toBe(`${slack.url}/response/action-1`);
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ replace_original: true, text: 'Approved by <@U0ADMIN>' }),
    });
    expect(response.status).toBe(200);
    expect(slack.responses).toEqual([
      {
        id: 'action-1',
        body: { replace_original: true, text: 'Approved by <@U0ADMIN>' },
        at: expect.any(Date),
      },
    ]);
    expect(slack.message('C0ADMINS', card.ts ?? '')).toMatchObject({
      text: 'Approved by <@U0ADMIN>',
      blocks: undefined,
    });
  });

  it('waitFor resolves on background calls and rejects with what it saw on timeout', async () => {
    setTimeout(() => void client.chat.postMessage({ channel: 'C0ADMINS', text: 'later' }), 50);
    const call = await slack.waitFor((calls) => calls.find((one) => one.method === 'chat.postMessage'), 2000);
    expect(call.args.text).toBe('later');
    await client.auth.test();
    await expect(
      slack.waitFor((calls) => calls.some((one) => one.method === 'views.open'), 100, 'views.open call'),
    ).rejects.toThrow(/no views\.open call within 100 ms; calls seen: chat\.postMessage, auth\.test/);
  });
});

describe('signed requests against a real Bolt app', () => {
  const secret = 'bolt-signing-secret';
  let slack: SlackFake;
  let app: App;
  let eventsUrl: string;

  beforeAll(async () => {
    slack = await startSlackFake();
    app = new App({
      token: TOKEN,
      signingSecret: secret,
      processBeforeResponse: true,
      logLevel: LogLevel.ERROR,
      clientOptions: { ...QUIET, slackApiUrl: `${slack.url}/api/`, retryConfig: { retries: 0 } },
    });
    app.command('/kaizen', async ({ command, ack, client }) => {
      await client.chat.postMessage({
        channel: 'C0ADMINS',
        text: `${command.user_id} asked: ${command.text}`,
      });
      await ack({ response_type: 'ephemeral', text: `you said ${command.text}` });
    });
    app.action('approve', async ({ ack, body, action, respond, client }) => {
      await ack();
      if (body.type !== 'block_actions' || action.type !== 'button') throw new Error('unexpected payload');
      await respond({ replace_original: true, text: `approved ${action.value} by ${body.user.id}` });
      await client.views.open({
        trigger_id: body.trigger_id,
        view: {
          type: 'modal',
          callback_id: 'confirm',
          title: { type: 'plain_text', text: 'Done' },
          blocks: [],
        },
      });
      await client.chat.postMessage({
        channel: body.channel?.id ?? '',
        thread_ts: body.message?.ts ?? '',
        text: `block ${'block_id' in action ? action.block_id : ''}`,
      });
    });
    app.view('reject', async ({ ack, view }) => {
      const reason = view.state.values.reason?.text?.value ?? '';
      if (reason.trim() === '') {
        await ack({ response_action: 'errors', errors: { reason: 'Give a reason' } });
        return;
      }
      await ack();
      await app.client.chat.postMessage({
        channel: 'C0ADMINS',
        text: `${view.private_metadata} rejected: ${reason} (${view.state.values.notify?.choice?.selected_option?.value})`,
      });
    });
    app.event('app_home_opened', async ({ event, client }) => {
      await client.views.publish({ user_id: event.user, view: { type: 'home', blocks: [] } });
    });
    const server = (await app.start(0)) as unknown as Server;
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('Bolt did not listen on a port');
    eventsUrl = `http://127.0.0.1:${address.port}/slack/events`;
  });
  afterAll(async () => {
    await app?.stop();
    await slack?.close();
  });

  it('signs like Slack: v0= and an HMAC-SHA256 of v0:ts:body', () => {
    // The example from Slack's "Verifying requests from Slack" guide.
    const body =
      'token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c';
    expect(slackSignature('8f742231b10e8888abcd99yyyzzz85a5', body, 1531420618)).toBe(
      'v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503',
    );
    expect(signedHeaders('8f742231b10e8888abcd99yyyzzz85a5', body, 1531420618)).toEqual({
      'x-slack-request-timestamp': '1531420618',
      'x-slack-signature': 'v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503',
    });
  });

  it('delivers a slash command; the ack body is the HTTP response', async () => {
    const reply = await sendSlashCommand(eventsUrl, secret, { text: 'status ada', user_id: 'U0ADMIN' });
    expect(reply.status).toBe(200);
    expect(reply.json).toEqual({ response_type: 'ephemeral', text: 'you said status ada' });
    expect(slack.lastMessage('C0ADMINS')?.text).toBe('U0ADMIN asked: status ada');
  });

  it('refuses a wrong secret, a replaced signature and an old timestamp with 401', async () => {
    const input = { text: 'help', user_id: 'U0ADMIN' };
    expect((await sendSlashCommand(eventsUrl, 'wrong-secret', input)).status).toBe(401);
    expect((await sendSlashCommand(eventsUrl, secret, input, { signature: 'v0=00' })).status).toBe(401);
    const old = Math.floor(Date.now() / 1000) - 10 * 60;
    expect((await sendSlashCommand(eventsUrl, secret, input, { timestamp: old })).status).toBe(401);
  });

  it('delivers a button click with message, channel, trigger id and response_url', async () => {
    const card = await app.client.chat.postMessage({ channel: 'C0ADMINS', text: 'card' });
    const ts = card.ts ?? '';
    const reply = await sendBlockAction(eventsUrl, secret, {
      user: { id: 'U0ADMIN', username: 'grace' },
      actionId: 'approve',
      value: 'app-42',
      blockId: 'decision',
      message: { ts, channel: 'C0ADMINS' },
      response_url: slack.responseUrl('click-1', { channel: 'C0ADMINS', ts }),
    });
    expect(reply.status).toBe(200);
    expect(slack.message('C0ADMINS', ts)?.text).toBe('approved app-42 by U0ADMIN');
    expect(slack.calls('views.open')).toHaveLength(1);
    expect(slack.lastMessage('C0ADMINS')).toMatchObject({ text: 'block decision', threadTs: ts });
  });

  it('delivers a view submission; response_action errors come back in the HTTP response', async () => {
    const empty = await sendViewSubmission(eventsUrl, secret, {
      user: 'U0ADMIN',
      callbackId: 'reject',
      privateMetadata: 'app-7',
      values: { reason: { text: '  ' } },
    });
    expect(empty.status).toBe(200);
    expect(empty.json).toEqual({ response_action: 'errors', errors: { reason: 'Give a reason' } });

    const done = await sendViewSubmission(eventsUrl, secret, {
      user: 'U0ADMIN',
      callbackId: 'reject',
      privateMetadata: 'app-7',
      values: {
        reason: { text: 'duplicate' },
        notify: { choice: { type: 'radio_buttons', selected_option: { value: 'email' } } },
      },
    });
    expect(done.status).toBe(200);
    expect(done.text).toBe('');
    expect(slack.lastMessage('C0ADMINS')?.text).toBe('app-7 rejected: duplicate (email)');
  });

  it('delivers events and answers the url_verification challenge', async () => {
    const reply = await sendEvent(eventsUrl, secret, {
      type: 'app_home_opened',
      user: 'U0ADMIN',
      tab: 'home',
    });
    expect(reply.status).toBe(200);
    expect(slack.homeView('U0ADMIN')).toBeDefined();

    const challenge = await sendUrlVerification(eventsUrl, secret, 'challenge-123');
    expect(challenge.status).toBe(200);
    expect(challenge.json).toEqual({ challenge: 'challenge-123' });
  });
});
