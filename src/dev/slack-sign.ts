/**
 * Builds requests the way Slack sends them to an app's HTTP endpoint (Bolt's `POST /slack/events`):
 * signed with the signing secret, slash commands and interactivity form-encoded, events as JSON.
 * Payload shapes follow Slack's documented examples so Bolt routes them as it would in production.
 */
import { createHmac, randomBytes } from 'node:crypto';

export const TEST_TEAM_ID = 'T0KAIZEN';
export const TEST_TEAM_DOMAIN = 'kaizen-test';
export const TEST_APP_ID = 'A0KAIZEN';
/** The deprecated verification token Slack still puts in payloads; Bolt does not check it. */
export const TEST_VERIFICATION_TOKEN = 'verification-token';

export interface SlackHttpResult {
  status: number;
  text: string;
  /** The body parsed as JSON, when it is JSON. */
  json?: unknown;
}

/** For bad-signature tests: replace the timestamp or the signature, or add headers. */
export interface SignatureOverrides {
  /** Seconds since the epoch put in `x-slack-request-timestamp` and signed, unless `signature` is set. */
  timestamp?: number;
  /** Sent as `x-slack-signature` instead of the correct one. */
  signature?: string;
  headers?: Record<string, string>;
}

export interface SlackActor {
  id: string;
  username?: string;
  name?: string;
}

export interface SlashCommandInput {
  command?: string;
  text: string;
  user_id: string;
  user_name?: string;
  channel_id?: string;
  channel_name?: string;
  response_url?: string;
  trigger_id?: string;
}

export interface BlockActionInput {
  /** A user id, or the user with a name. */
  user: string | SlackActor;
  actionId: string;
  value: string;
  blockId?: string;
  /** The message holding the button; its blocks and text go into the payload when given. */
  message?: { ts: string; channel: string; text?: string; blocks?: unknown[] };
  trigger_id?: string;
  response_url?: string;
}

/** A value in `view.state.values`: a plain string becomes a `plain_text_input` value. */
export type ViewStateValue = string | ({ type: string } & Record<string, unknown>);

export interface ViewSubmissionInput {
  user: string | SlackActor;
  callbackId: string;
  privateMetadata?: string;
  /** `values[blockId][actionId]`, as in Slack's `view.state.values`. */
  values: Record<string, Record<string, ViewStateValue>>;
  viewId?: string;
  trigger_id?: string;
}

/** `v0=` + hex HMAC-SHA256 of `v0:<timestamp>:<raw body>`, as Slack signs requests. */
export function slackSignature(secret: string, rawBody: string, timestamp: number): string {
  return `v0=${createHmac('sha256', secret).update(`v0:${timestamp}:${rawBody}`).digest('hex')}`;
}

/** The two headers Bolt verifies. */
export function signedHeaders(
  secret: string,
  rawBody: string,
  timestamp: number = Math.floor(Date.now() / 1000),
): Record<string, string> {
  return {
    'x-slack-request-timestamp': String(timestamp),
    'x-slack-signature': slackSignature(secret, rawBody, timestamp),
  };
}

/** POSTs a signed raw body; the other senders build on this. */
export async function sendSigned(
  url: string,
  secret: string,
  rawBody: string,
  contentType: string,
  overrides: SignatureOverrides = {},
): Promise<SlackHttpResult> {
  const timestamp = overrides.timestamp ?? Math.floor(Date.now() / 1000);
  const headers: Record<string, string> = {
    'content-type': contentType,
    ...signedHeaders(secret, rawBody, timestamp),
    ...(overrides.signature !== undefined ? { 'x-slack-signature': overrides.signature } : {}),
    ...overrides.headers,
  };
  const response = await fetch(url, { method: 'POST', headers, body: rawBody });
  const text = await response.text();
  const result: SlackHttpResult = { status: response.status, text };
  try {
    result.json = JSON.parse(text);
  } catch {
    // Acks are often empty or plain text.
  }
  return result;
}

export function sendSlashCommand(
  url: string,
  secret: string,
  input: SlashCommandInput,
  overrides?: SignatureOverrides,
): Promise<SlackHttpResult> {
  return sendSigned(url, secret, slashCommandBody(input), 'application/x-www-form-urlencoded', overrides);
}

/** The form body `sendSlashCommand` sends, for tests that sign it themselves. */
export function slashCommandBody(input: SlashCommandInput): string {
  const fields: Record<string, string> = {
    token: TEST_VERIFICATION_TOKEN,
    team_id: TEST_TEAM_ID,
    team_domain: TEST_TEAM_DOMAIN,
    channel_id: input.channel_id ?? 'C0KAIZENGEN',
    channel_name: input.channel_name ?? 'general',
    user_id: input.user_id,
    user_name: input.user_name ?? input.user_id.toLowerCase(),
    command: input.command ?? '/kaizen',
    text: input.text,
    api_app_id: TEST_APP_ID,
    is_enterprise_install: 'false',
    response_url: input.response_url ?? `https://hooks.slack.com/commands/${TEST_TEAM_ID}/1/${randomId()}`,
    trigger_id: input.trigger_id ?? triggerId(),
  };
  return new URLSearchParams(fields).toString();
}

/** A button click on a message, in Slack's `block_actions` shape. */
export function sendBlockAction(
  url: string,
  secret: string,
  input: BlockActionInput,
  overrides?: SignatureOverrides,
): Promise<SlackHttpResult> {
  return sendPayload(url, secret, blockActionPayload(input), overrides);
}

/** The `block_actions` payload `sendBlockAction` sends; with `payloadBody`, for sending the same bytes twice. */
export function blockActionPayload(input: BlockActionInput): Record<string, unknown> {
  const user = actor(input.user);
  const blockId = input.blockId ?? 'actions';
  const actionTs = slackTs();
  const payload: Record<string, unknown> = {
    type: 'block_actions',
    user: { id: user.id, username: user.username, name: user.name, team_id: TEST_TEAM_ID },
    api_app_id: TEST_APP_ID,
    token: TEST_VERIFICATION_TOKEN,
    trigger_id: input.trigger_id ?? triggerId(),
    team: { id: TEST_TEAM_ID, domain: TEST_TEAM_DOMAIN },
    enterprise: null,
    is_enterprise_install: false,
    state: { values: {} },
    actions: [
      {
        type: 'button',
        action_id: input.actionId,
        block_id: blockId,
        text: { type: 'plain_text', text: input.actionId, emoji: true },
        value: input.value,
        action_ts: actionTs,
      },
    ],
  };
  if (input.message !== undefined) {
    payload.container = {
      type: 'message',
      message_ts: input.message.ts,
      channel_id: input.message.channel,
      is_ephemeral: false,
    };
    payload.channel = { id: input.message.channel, name: 'kaizen-admins' };
    payload.message = {
      type: 'message',
      user: 'U0KAIZENBOT',
      bot_id: 'B0KAIZENBOT',
      app_id: TEST_APP_ID,
      team: TEST_TEAM_ID,
      ts: input.message.ts,
      text: input.message.text ?? '',
      blocks: input.message.blocks ?? [],
    };
  }
  payload.response_url =
    input.response_url ?? `https://hooks.slack.com/actions/${TEST_TEAM_ID}/1/${randomId()}`;
  return payload;
}

/** A modal's submit, in Slack's `view_submission` shape. */
export function sendViewSubmission(
  url: string,
  secret: string,
  input: ViewSubmissionInput,
  overrides?: SignatureOverrides,
): Promise<SlackHttpResult> {
  return sendPayload(url, secret, viewSubmissionPayload(input), overrides);
}

/** The `view_submission` payload `sendViewSubmission` sends; with `payloadBody`, for sending the same bytes twice. */
export function viewSubmissionPayload(input: ViewSubmissionInput): Record<string, unknown> {
  const user = actor(input.user);
  const viewId = input.viewId ?? `V${randomId().slice(0, 10).toUpperCase()}`;
  const values: Record<string, Record<string, Record<string, unknown>>> = {};
  for (const [blockId, actions] of Object.entries(input.values)) {
    const block: Record<string, Record<string, unknown>> = {};
    for (const [actionId, value] of Object.entries(actions)) {
      block[actionId] = typeof value === 'string' ? { type: 'plain_text_input', value } : value;
    }
    values[blockId] = block;
  }
  const payload = {
    type: 'view_submission',
    team: { id: TEST_TEAM_ID, domain: TEST_TEAM_DOMAIN },
    user: { id: user.id, username: user.username, name: user.name, team_id: TEST_TEAM_ID },
    api_app_id: TEST_APP_ID,
    token: TEST_VERIFICATION_TOKEN,
    trigger_id: input.trigger_id ?? triggerId(),
    view: {
      id: viewId,
      team_id: TEST_TEAM_ID,
      type: 'modal',
      blocks: [],
      private_metadata: input.privateMetadata ?? '',
      callback_id: input.callbackId,
      state: { values },
      hash: `${Math.floor(Date.now() / 1000)}.${randomId().slice(0, 8)}`,
      title: { type: 'plain_text', text: 'Kaizen', emoji: true },
      clear_on_close: false,
      notify_on_close: false,
      close: null,
      submit: { type: 'plain_text', text: 'Submit', emoji: true },
      previous_view_id: null,
      root_view_id: viewId,
      app_id: TEST_APP_ID,
      external_id: '',
      app_installed_team_id: TEST_TEAM_ID,
      bot_id: 'B0KAIZENBOT',
    },
    response_urls: [],
    is_enterprise_install: false,
    enterprise: null,
  };
  return payload;
}

/** An Events API delivery (`event_callback` envelope); `event_ts` is filled in when absent. */
export function sendEvent(
  url: string,
  secret: string,
  event: { type: string } & Record<string, unknown>,
  overrides?: SignatureOverrides,
): Promise<SlackHttpResult> {
  const envelope = {
    token: TEST_VERIFICATION_TOKEN,
    team_id: TEST_TEAM_ID,
    api_app_id: TEST_APP_ID,
    event: { event_ts: slackTs(), ...event },
    type: 'event_callback',
    event_id: `Ev${randomId().slice(0, 10).toUpperCase()}`,
    event_time: Math.floor(Date.now() / 1000),
    authorizations: [
      {
        enterprise_id: null,
        team_id: TEST_TEAM_ID,
        user_id: 'U0KAIZENBOT',
        is_bot: true,
        is_enterprise_install: false,
      },
    ],
    is_ext_shared_channel: false,
  };
  return sendSigned(url, secret, JSON.stringify(envelope), 'application/json', overrides);
}

/** The challenge Slack sends when the events URL is saved. */
export function sendUrlVerification(
  url: string,
  secret: string,
  challenge: string,
  overrides?: SignatureOverrides,
): Promise<SlackHttpResult> {
  const body = JSON.stringify({ token: TEST_VERIFICATION_TOKEN, challenge, type: 'url_verification' });
  return sendSigned(url, secret, body, 'application/json', overrides);
}

/** An interactivity request body: one form field `payload` holding the JSON. */
export function payloadBody(payload: unknown): string {
  return new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
}

function sendPayload(
  url: string,
  secret: string,
  payload: unknown,
  overrides?: SignatureOverrides,
): Promise<SlackHttpResult> {
  return sendSigned(url, secret, payloadBody(payload), 'application/x-www-form-urlencoded', overrides);
}

function actor(user: string | SlackActor): Required<SlackActor> {
  if (typeof user === 'string') return { id: user, username: user.toLowerCase(), name: user.toLowerCase() };
  const username = user.username ?? user.name ?? user.id.toLowerCase();
  return { id: user.id, username, name: user.name ?? username };
}

function randomId(): string {
  return randomBytes(12).toString('hex');
}

/** Trigger ids look like `<digits>.<digits>.<hex>`; each one is unique so views.open accepts it. */
function triggerId(): string {
  return `${Date.now()}.${Math.floor(Math.random() * 1e12)}.${randomBytes(16).toString('hex')}`;
}

function slackTs(): string {
  const micros = Date.now() * 1000 + Math.floor(Math.random() * 1000);
  return `${Math.floor(micros / 1_000_000)}.${String(micros % 1_000_000).padStart(6, '0')}`;
}
