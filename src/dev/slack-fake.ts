/**
 * A fake Slack Web API on 127.0.0.1, for tests that run the real `@slack/web-api` client (or Bolt)
 * against it with `slackApiUrl: fake.url + '/api/'`. It answers in Slack's shapes (HTTP 200 with
 * `{ ok: false, error }` for API errors, 429 with `Retry-After` for rate limits), keeps the messages
 * it was sent so a test can read a card's latest version, and records every call.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { webApiRefusal } from './block-kit.js';
import { closeNow, isRecord, listenLocally, readBody } from './local-http.js';

/** Every Web API call, whether it succeeded or was failed on purpose. */
export interface SlackCall {
  method: string;
  args: Record<string, unknown>;
  /** The bearer token from Authorization, or the `token` argument when a client sends it in the body. */
  token: string | undefined;
  at: Date;
  /** Set when `failNext` made this call fail. */
  injectedFailure?: SlackFailure;
  /** The `error` the fake answered with, when it refused the call itself. */
  error?: string;
  /** Slack's `response_metadata.messages` for a refused call: each problem with its JSON pointer. */
  problems?: string[];
}

/** A POST to one of the fake's response URLs (Bolt's `respond()`). */
export interface SlackResponsePost {
  id: string;
  body: unknown;
  at: Date;
}

export interface SlackStoredMessage {
  channel: string;
  ts: string;
  text: string | undefined;
  blocks: unknown[] | undefined;
  attachments: unknown[] | undefined;
  threadTs: string | undefined;
  metadata: unknown;
  /** How many times `chat.update` (or a `replace_original` response) changed it. */
  updates: number;
  deleted: boolean;
}

export interface SlackEphemeral {
  channel: string;
  user: string;
  text: string | undefined;
  blocks: unknown[] | undefined;
  messageTs: string;
}

export interface SlackStoredView {
  id: string;
  hash: string;
  /** `modal` (views.open / views.update) or `home` (views.publish). */
  type: string;
  /** The view as the app last sent it. */
  view: Record<string, unknown>;
  userId: string | undefined;
}

export interface SlackUser {
  id: string;
  name: string;
  realName?: string;
  email?: string;
  isBot?: boolean;
  isAdmin?: boolean;
  deleted?: boolean;
  /** A multi-channel guest. */
  isRestricted?: boolean;
  /** A single-channel guest. */
  isUltraRestricted?: boolean;
  tz?: string;
}

/** What `conversations.info` tells of a channel; unset fields answer a private, unshared channel. */
export interface SlackChannelInfo {
  isPrivate?: boolean;
  isShared?: boolean;
  isExtShared?: boolean;
  isPendingExtShared?: boolean;
}

/**
 * What `failNext` makes a call answer: an HTTP status (429 carries `Retry-After`, in seconds), or
 * a Slack API error, which Slack sends as HTTP 200 with `{ ok: false, error }`.
 */
export type SlackFailure = { status: 429; retryAfter?: number } | { status: number } | { error: string };

export interface SlackFakeOptions {
  /** When set, calls with another token fail with `invalid_auth`; any non-empty token is accepted otherwise. */
  token?: string;
  teamId?: string;
  teamDomain?: string;
  botUserId?: string;
  botId?: string;
  appId?: string;
  /**
   * How long a trigger id opens a view, counted from the time written in its first segment (the
   * senders in slack-sign.ts write `Date.now()` there); Slack's last about 3 s.
   */
  triggerIdLifetimeMs?: number;
}

/** Slack answers `expired_trigger_id` about 3 s after the interaction. */
export const TRIGGER_ID_LIFETIME_MS = 3_000;

type Predicate<T> = (calls: readonly SlackCall[]) => T | undefined | null | false;

/** Fields the Web API client turns into JSON strings inside a form body. */
const JSON_FORM_FIELDS = new Set(['blocks', 'attachments', 'view', 'metadata', 'user_auth_blocks']);

/** Answers that mean the request itself was malformed, whatever the workspace holds. */
const ARGUMENT_ERRORS = new Set([
  'invalid_blocks',
  'invalid_blocks_format',
  'invalid_arguments',
  'msg_too_long',
  'unknown_method',
]);

/** How many posts Slack accepts on one response_url. */
const RESPONSE_URL_MAX_POSTS = 5;

export class SlackFake {
  readonly teamId: string;
  readonly teamDomain: string;
  readonly botUserId: string;
  readonly botId: string;
  readonly appId: string;
  /** Every POST to a response URL, in order. */
  readonly responses: SlackResponsePost[] = [];
  /**
   * How long each Web API call takes to be answered: 0 here, where a test wants answers at once;
   * a benchmark sets Slack's own round trip (about 100 ms from a data centre) to see what waits on it.
   */
  latencyMs = 0;

  private readonly requiredToken: string | undefined;
  private server: Server | undefined;
  private baseUrl: string | undefined;
  private readonly recorded: SlackCall[] = [];
  private readonly messagesByChannel = new Map<string, SlackStoredMessage[]>();
  private readonly ephemeralMessages: SlackEphemeral[] = [];
  private readonly views = new Map<string, SlackStoredView>();
  private readonly homeViews = new Map<string, SlackStoredView>();
  private readonly usedTriggerIds = new Set<string>();
  private readonly channelMembers = new Map<string, string[]>();
  private readonly channelInfo = new Map<string, SlackChannelInfo>();
  private readonly users = new Map<string, SlackUser>();
  /** The DM channel id Slack opens when a message is posted to a user id. */
  private readonly dmChannels = new Map<string, string>();
  private readonly responseUrls = new Map<
    string,
    { message?: { channel: string; ts: string }; posts: number }
  >();
  private readonly failures: { method: string; failure: SlackFailure; remaining: number }[] = [];
  private lastTsMicros = 0;
  private idCounter = 0;
  private triggerIdLifetimeMs: number;
  private socketModeUrl: (() => string) | undefined;

  constructor(options: SlackFakeOptions = {}) {
    this.requiredToken = options.token;
    this.teamId = options.teamId ?? 'T0KAIZEN';
    this.teamDomain = options.teamDomain ?? 'kaizen-test';
    this.botUserId = options.botUserId ?? 'U0KAIZENBOT';
    this.botId = options.botId ?? 'B0KAIZENBOT';
    this.appId = options.appId ?? 'A0KAIZEN';
    this.triggerIdLifetimeMs = options.triggerIdLifetimeMs ?? TRIGGER_ID_LIFETIME_MS;
  }

  /**
   * Lets `apps.connections.open` answer with a WebSocket URL (see socket-mode-fake.ts); without it
   * the call fails as it does for an app whose Socket Mode is off.
   */
  enableSocketMode(url: () => string): void {
    this.socketModeUrl = url;
  }

  /** Changes how long a trigger id stays good; for tests of a modal that opens late. */
  setTriggerIdLifetime(ms: number): void {
    this.triggerIdLifetimeMs = ms;
  }

  /** Listens on 127.0.0.1 on a free port; resolves to this fake, whose `url` is then set. */
  async start(): Promise<this> {
    const server = createServer((request, response) => {
      this.handle(request, response).catch((error: unknown) => {
        sendJson(response, 500, { ok: false, error: 'fatal_error', detail: String(error) });
      });
    });
    this.baseUrl = await listenLocally(server);
    this.server = server;
    return this;
  }

  /** `http://127.0.0.1:PORT`, without a trailing slash. */
  get url(): string {
    if (this.baseUrl === undefined) throw new Error('SlackFake: call start() before reading url');
    return this.baseUrl;
  }

  async close(): Promise<void> {
    const server = this.server;
    if (server === undefined) return;
    this.server = undefined;
    await closeNow(server);
  }

  /** Members listed by `conversations.members`; a channel never set answers `channel_not_found`. */
  setChannelMembers(channel: string, members: readonly string[]): void {
    this.channelMembers.set(channel, [...members]);
  }

  /**
   * What `conversations.info` answers for the channel. A channel with members set and no info is
   * private and unshared; a channel with neither answers `channel_not_found`.
   */
  setChannelInfo(channel: string, info: SlackChannelInfo): void {
    this.channelInfo.set(channel, { ...info });
  }

  /**
   * Users known to `users.info` and `users.lookupByEmail`. Slack answers `users.info` for every
   * member of the workspace, so a user id never added answers an ordinary member without an email.
   */
  addUser(user: SlackUser): void {
    this.users.set(user.id, user);
  }

  /**
   * A response URL on this fake. Posts to it are recorded in `responses`; when `message` is given,
   * `replace_original` and `delete_original` act on that stored message as Slack does.
   */
  responseUrl(id: string, message?: { channel: string; ts: string }): string {
    if (!this.responseUrls.has(id)) this.responseUrls.set(id, { ...(message ? { message } : {}), posts: 0 });
    return `${this.url}/response/${encodeURIComponent(id)}`;
  }

  /** Makes the next `times` calls of `method` fail as described. */
  failNext(method: string, failure: SlackFailure, times = 1): void {
    this.failures.push({ method, failure, remaining: times });
  }

  /** Recorded calls, oldest first, optionally only those of one method. */
  calls(method?: string): SlackCall[] {
    return method === undefined ? [...this.recorded] : this.recorded.filter((call) => call.method === method);
  }

  /**
   * Calls refused because Slack would refuse their arguments (`invalid_blocks`, `invalid_arguments`,
   * `msg_too_long`, …), not because a test injected a failure; a harness checks it stays empty.
   */
  refusedCalls(): SlackCall[] {
    return this.recorded.filter((call) => call.error !== undefined && ARGUMENT_ERRORS.has(call.error));
  }

  /** Throws, naming each call and Slack's reasons, when the fake refused any call's arguments. */
  assertNothingRefused(): void {
    const refused = this.refusedCalls();
    if (refused.length === 0) return;
    const lines = refused.map(
      (call) => `${call.method}: ${call.error}${call.problems ? `\n  ${call.problems.join('\n  ')}` : ''}`,
    );
    throw new Error(`Slack would have refused ${refused.length} call(s):\n${lines.join('\n')}`);
  }

  /** The newest message in a channel (a user id reads that user's DM), thread replies included. */
  lastMessage(channel: string): SlackStoredMessage | undefined {
    const list = this.messagesByChannel.get(this.resolveChannel(channel)) ?? [];
    return list.filter((message) => !message.deleted).at(-1);
  }

  /** The latest version of one message. */
  message(channel: string, ts: string): SlackStoredMessage | undefined {
    return this.findMessage(this.resolveChannel(channel), ts);
  }

  /** All messages posted to a channel, oldest first. */
  messages(channel: string): SlackStoredMessage[] {
    return [...(this.messagesByChannel.get(this.resolveChannel(channel)) ?? [])];
  }

  /** Ephemeral messages, optionally only those shown to one user. */
  ephemerals(user?: string): SlackEphemeral[] {
    return this.ephemeralMessages.filter((message) => user === undefined || message.user === user);
  }

  /** The modal last opened or updated with this id, or the newest modal when no id is given. */
  view(viewId?: string): SlackStoredView | undefined {
    if (viewId !== undefined) return this.views.get(viewId);
    return [...this.views.values()].at(-1);
  }

  /** Every modal opened or pushed, oldest first, each in its latest version. */
  modals(): SlackStoredView[] {
    return [...this.views.values()];
  }

  /** The App Home view last published for a user. */
  homeView(userId: string): SlackStoredView | undefined {
    return this.homeViews.get(userId);
  }

  /** Forgets calls, messages, views, responses and pending failures; keeps users and channel members. */
  reset(): void {
    this.recorded.length = 0;
    this.responses.length = 0;
    this.messagesByChannel.clear();
    this.ephemeralMessages.length = 0;
    this.views.clear();
    this.homeViews.clear();
    this.usedTriggerIds.clear();
    this.responseUrls.clear();
    this.failures.length = 0;
  }

  /**
   * Resolves with the predicate's first truthy answer, checking the recorded calls every 10 ms; for
   * work that a handler leaves running after it answers.
   */
  async waitFor<T>(
    predicate: Predicate<T>,
    timeoutMs = 5000,
    description = 'the expected Slack calls',
  ): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const result = predicate(this.recorded);
      if (result !== undefined && result !== null && result !== false) return result;
      if (Date.now() >= deadline) {
        const seen = this.recorded.map((call) => call.method).join(', ') || 'none';
        throw new Error(`SlackFake.waitFor: no ${description} within ${timeoutMs} ms; calls seen: ${seen}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    const rawBody = await readBody(request);
    if (this.latencyMs > 0) await new Promise((resolve) => setTimeout(resolve, this.latencyMs));
    if (url.pathname.startsWith('/response/')) {
      this.handleResponseUrl(decodeURIComponent(url.pathname.slice('/response/'.length)), rawBody, response);
      return;
    }
    if (!url.pathname.startsWith('/api/')) {
      sendJson(response, 404, { ok: false, error: 'unknown_path' });
      return;
    }
    const method = url.pathname.slice('/api/'.length);
    let args: Record<string, unknown>;
    try {
      args = parseArgs(request.headers['content-type'], rawBody, url.searchParams);
    } catch {
      sendJson(response, 200, { ok: false, error: 'invalid_json' });
      return;
    }
    const token = bearerToken(request.headers.authorization) ?? stringArg(args.token);
    const call: SlackCall = { method, args, token, at: new Date() };
    this.recorded.push(call);

    const failure = this.takeFailure(method);
    if (failure !== undefined) {
      call.injectedFailure = failure;
      if ('error' in failure) {
        sendJson(response, 200, { ok: false, error: failure.error });
      } else if (failure.status === 429) {
        const retryAfter =
          'retryAfter' in failure && failure.retryAfter !== undefined ? failure.retryAfter : 1;
        response.setHeader('Retry-After', String(retryAfter));
        sendJson(response, 429, { ok: false, error: 'ratelimited' });
      } else {
        response.writeHead(failure.status, { 'content-type': 'text/plain' });
        response.end('Internal Server Error');
      }
      return;
    }
    if (token === undefined || token === '') {
      sendJson(response, 200, { ok: false, error: 'not_authed' });
      return;
    }
    if (this.requiredToken !== undefined && token !== this.requiredToken) {
      sendJson(response, 200, { ok: false, error: 'invalid_auth' });
      return;
    }
    // Slack checks the arguments (Block Kit limits included) before it acts on them.
    const answer: Record<string, unknown> = webApiRefusal(method, args) ?? this.answer(method, args, token);
    if (answer.ok === false && typeof answer.error === 'string') {
      call.error = answer.error;
      const metadata = answer.response_metadata;
      if (isRecord(metadata) && Array.isArray(metadata.messages))
        call.problems = metadata.messages.map(String);
    }
    sendJson(response, 200, answer);
  }

  private takeFailure(method: string): SlackFailure | undefined {
    const index = this.failures.findIndex((entry) => entry.method === method && entry.remaining > 0);
    const entry = this.failures[index];
    if (entry === undefined) return undefined;
    entry.remaining -= 1;
    if (entry.remaining === 0) this.failures.splice(index, 1);
    return entry.failure;
  }

  private answer(
    method: string,
    args: Record<string, unknown>,
    token: string | undefined,
  ): Record<string, unknown> {
    switch (method) {
      case 'auth.test':
        return {
          ok: true,
          url: `https://${this.teamDomain}.slack.com/`,
          team: 'Kaizen Test',
          user: 'kaizen',
          team_id: this.teamId,
          user_id: this.botUserId,
          bot_id: this.botId,
          is_enterprise_install: false,
        };
      case 'apps.connections.open':
        return this.openConnection(token);
      case 'chat.postMessage':
        return this.postMessage(args);
      case 'chat.update':
        return this.updateMessage(args);
      case 'chat.delete': {
        const message = this.findMessage(
          this.resolveChannel(stringArg(args.channel) ?? ''),
          stringArg(args.ts) ?? '',
        );
        if (message === undefined || message.deleted) return { ok: false, error: 'message_not_found' };
        message.deleted = true;
        return { ok: true, channel: message.channel, ts: message.ts };
      }
      case 'chat.postEphemeral':
        return this.postEphemeral(args);
      case 'chat.getPermalink': {
        const channel = this.resolveChannel(stringArg(args.channel) ?? '');
        const ts = stringArg(args.message_ts) ?? '';
        if (this.findMessage(channel, ts) === undefined) return { ok: false, error: 'message_not_found' };
        return {
          ok: true,
          channel,
          permalink: `https://${this.teamDomain}.slack.com/archives/${channel}/p${ts.replace('.', '')}`,
        };
      }
      case 'views.open':
        return this.openView(args);
      case 'views.update':
        return this.updateView(args);
      // A pushed view is one more modal on the stack; it takes a trigger id as views.open does.
      case 'views.push':
        return this.openView(args);
      case 'views.publish':
        return this.publishView(args);
      case 'conversations.members':
        return this.listMembers(args);
      case 'conversations.info':
        return this.conversationInfo(args);
      case 'users.info': {
        const id = stringArg(args.user) ?? '';
        const user =
          this.users.get(id) ?? (/^[UW][A-Z0-9]+$/.test(id) ? { id, name: id.toLowerCase() } : undefined);
        return user === undefined
          ? { ok: false, error: 'user_not_found' }
          : { ok: true, user: this.userObject(user) };
      }
      case 'users.lookupByEmail': {
        const email = (stringArg(args.email) ?? '').toLowerCase();
        const user = [...this.users.values()].find((candidate) => candidate.email?.toLowerCase() === email);
        return user === undefined
          ? { ok: false, error: 'users_not_found' }
          : { ok: true, user: this.userObject(user) };
      }
      default:
        // Slack answers a method it does not have this way; the fake has only the ones the app uses.
        return { ok: false, error: 'unknown_method', req_method: method };
    }
  }

  /** Only an app-level token (`xapp-…`) opens a Socket Mode connection. */
  private openConnection(token: string | undefined): Record<string, unknown> {
    if (!token?.startsWith('xapp-')) return { ok: false, error: 'not_allowed_token_type' };
    if (this.socketModeUrl === undefined) return { ok: false, error: 'not_allowed' };
    return { ok: true, url: this.socketModeUrl() };
  }

  private postMessage(args: Record<string, unknown>): Record<string, unknown> {
    const target = stringArg(args.channel);
    if (target === undefined || target === '') return { ok: false, error: 'channel_not_found' };
    const text = stringArg(args.text);
    const blocks = arrayArg(args.blocks);
    const attachments = arrayArg(args.attachments);
    if (text === undefined && blocks === undefined && attachments === undefined)
      return { ok: false, error: 'no_text' };
    const channel = this.resolveChannel(target);
    const message: SlackStoredMessage = {
      channel,
      ts: this.nextTs(),
      text,
      blocks,
      attachments,
      threadTs: stringArg(args.thread_ts),
      metadata: args.metadata,
      updates: 0,
      deleted: false,
    };
    const list = this.messagesByChannel.get(channel) ?? [];
    list.push(message);
    this.messagesByChannel.set(channel, list);
    return { ok: true, channel, ts: message.ts, message: this.messageObject(message) };
  }

  private updateMessage(args: Record<string, unknown>): Record<string, unknown> {
    const channel = this.resolveChannel(stringArg(args.channel) ?? '');
    const message = this.findMessage(channel, stringArg(args.ts) ?? '');
    if (message === undefined || message.deleted) return { ok: false, error: 'message_not_found' };
    // Slack keeps a field the update leaves out; an empty array removes blocks or attachments.
    this.applyEdit(message, {
      text: stringArg(args.text),
      blocks: arrayArg(args.blocks),
      attachments: arrayArg(args.attachments),
    });
    return {
      ok: true,
      channel,
      ts: message.ts,
      text: message.text ?? '',
      message: this.messageObject(message),
    };
  }

  private applyEdit(
    message: SlackStoredMessage,
    edit: { text: string | undefined; blocks: unknown[] | undefined; attachments: unknown[] | undefined },
  ): void {
    if (edit.text !== undefined) message.text = edit.text;
    if (edit.blocks !== undefined) message.blocks = edit.blocks;
    if (edit.attachments !== undefined) message.attachments = edit.attachments;
    message.updates += 1;
  }

  private postEphemeral(args: Record<string, unknown>): Record<string, unknown> {
    const channel = stringArg(args.channel);
    const user = stringArg(args.user);
    if (channel === undefined || channel === '') return { ok: false, error: 'channel_not_found' };
    if (user === undefined || user === '') return { ok: false, error: 'user_not_found' };
    const text = stringArg(args.text);
    const blocks = arrayArg(args.blocks);
    if (text === undefined && blocks === undefined && args.attachments === undefined) {
      return { ok: false, error: 'no_text' };
    }
    const members = this.channelMembers.get(channel);
    if (members !== undefined && !members.includes(user)) return { ok: false, error: 'user_not_in_channel' };
    const messageTs = this.nextTs();
    this.ephemeralMessages.push({ channel: this.resolveChannel(channel), user, text, blocks, messageTs });
    return { ok: true, message_ts: messageTs };
  }

  private openView(args: Record<string, unknown>): Record<string, unknown> {
    const triggerId = stringArg(args.trigger_id);
    const view = objectArg(args.view);
    if (triggerId === undefined || view === undefined) return { ok: false, error: 'invalid_arguments' };
    // A trigger id opens one view only.
    if (this.usedTriggerIds.has(triggerId)) return { ok: false, error: 'exchanged_trigger_id' };
    const issuedAt = triggerIdIssuedAt(triggerId);
    if (issuedAt !== undefined && Date.now() - issuedAt > this.triggerIdLifetimeMs) {
      return { ok: false, error: 'expired_trigger_id' };
    }
    this.usedTriggerIds.add(triggerId);
    const stored: SlackStoredView = {
      id: `V${this.nextId()}`,
      hash: this.nextHash(),
      type: stringArg(view.type) ?? 'modal',
      view,
      userId: undefined,
    };
    this.views.set(stored.id, stored);
    return { ok: true, view: this.viewObject(stored) };
  }

  private updateView(args: Record<string, unknown>): Record<string, unknown> {
    const view = objectArg(args.view);
    if (view === undefined) return { ok: false, error: 'invalid_arguments' };
    const viewId = stringArg(args.view_id);
    const externalId = stringArg(args.external_id);
    if (viewId === undefined && externalId === undefined) return { ok: false, error: 'invalid_arguments' };
    const stored =
      viewId !== undefined
        ? this.views.get(viewId)
        : [...this.views.values()].find((candidate) => candidate.view.external_id === externalId);
    if (stored === undefined) return { ok: false, error: 'not_found' };
    const hash = stringArg(args.hash);
    if (hash !== undefined && hash !== stored.hash) return { ok: false, error: 'hash_conflict' };
    stored.view = view;
    stored.hash = this.nextHash();
    return { ok: true, view: this.viewObject(stored) };
  }

  private publishView(args: Record<string, unknown>): Record<string, unknown> {
    const userId = stringArg(args.user_id);
    const view = objectArg(args.view);
    if (userId === undefined || view === undefined) return { ok: false, error: 'invalid_arguments' };
    if (view.type !== 'home') return { ok: false, error: 'invalid_arguments' };
    const existing = this.homeViews.get(userId);
    const hash = stringArg(args.hash);
    if (existing !== undefined && hash !== undefined && hash !== existing.hash) {
      return { ok: false, error: 'hash_conflict' };
    }
    const stored: SlackStoredView = {
      id: existing?.id ?? `V${this.nextId()}`,
      hash: this.nextHash(),
      type: 'home',
      view,
      userId,
    };
    this.homeViews.set(userId, stored);
    return { ok: true, view: this.viewObject(stored) };
  }

  private conversationInfo(args: Record<string, unknown>): Record<string, unknown> {
    const id = stringArg(args.channel) ?? '';
    const info = this.channelInfo.get(id) ?? (this.channelMembers.has(id) ? {} : undefined);
    if (info === undefined) return { ok: false, error: 'channel_not_found' };
    const isPrivate = info.isPrivate ?? true;
    return {
      ok: true,
      channel: {
        id,
        is_channel: !isPrivate,
        is_group: isPrivate,
        is_private: isPrivate,
        is_shared: info.isShared ?? false,
        is_ext_shared: info.isExtShared ?? false,
        is_pending_ext_shared: info.isPendingExtShared ?? false,
        is_org_shared: false,
      },
    };
  }

  private listMembers(args: Record<string, unknown>): Record<string, unknown> {
    const members = this.channelMembers.get(stringArg(args.channel) ?? '');
    if (members === undefined) return { ok: false, error: 'channel_not_found' };
    const limit = Math.max(1, Math.min(1000, Number(args.limit ?? 100) || 100));
    const cursor = stringArg(args.cursor);
    // Slack's cursors are opaque base64 strings; this one carries the offset of the next page.
    const offset = cursor ? Number(Buffer.from(cursor, 'base64').toString('utf8').replace('offset:', '')) : 0;
    if (!Number.isInteger(offset) || offset < 0) return { ok: false, error: 'invalid_cursor' };
    const page = members.slice(offset, offset + limit);
    const nextOffset = offset + page.length;
    const nextCursor =
      nextOffset < members.length ? Buffer.from(`offset:${nextOffset}`).toString('base64') : '';
    return { ok: true, members: page, response_metadata: { next_cursor: nextCursor } };
  }

  private handleResponseUrl(id: string, rawBody: string, response: ServerResponse): void {
    const entry = this.responseUrls.get(id);
    let body: unknown = rawBody;
    try {
      body = JSON.parse(rawBody);
    } catch {
      // Slack also accepts a plain-text body; it is recorded as sent.
    }
    this.responses.push({ id, body, at: new Date() });
    if (entry === undefined) {
      response.writeHead(404, { 'content-type': 'text/plain' });
      response.end('invalid_url');
      return;
    }
    entry.posts += 1;
    if (entry.posts > RESPONSE_URL_MAX_POSTS) {
      response.writeHead(404, { 'content-type': 'text/plain' });
      response.end('used_url');
      return;
    }
    const payload = isRecord(body) ? body : {};
    const original = entry.message ? this.findMessage(entry.message.channel, entry.message.ts) : undefined;
    if (original !== undefined && (payload.delete_original === true || payload.delete_original === 'true')) {
      original.deleted = true;
    } else if (
      original !== undefined &&
      (payload.replace_original === true || payload.replace_original === 'true')
    ) {
      // A replacement is a whole new message: fields it leaves out are gone.
      original.text = stringArg(payload.text);
      original.blocks = arrayArg(payload.blocks);
      original.attachments = arrayArg(payload.attachments);
      original.updates += 1;
    } else if (payload.response_type === 'in_channel' && entry.message !== undefined) {
      const message: SlackStoredMessage = {
        channel: entry.message.channel,
        ts: this.nextTs(),
        text: stringArg(payload.text),
        blocks: arrayArg(payload.blocks),
        attachments: arrayArg(payload.attachments),
        threadTs: undefined,
        metadata: undefined,
        updates: 0,
        deleted: false,
      };
      const list = this.messagesByChannel.get(message.channel) ?? [];
      list.push(message);
      this.messagesByChannel.set(message.channel, list);
    }
    sendJson(response, 200, { ok: true });
  }

  private resolveChannel(channel: string): string {
    // Posting to a user id opens (or reuses) a DM whose id starts with D.
    if (/^[UW][A-Z0-9]+$/.test(channel)) {
      const existing = this.dmChannels.get(channel);
      if (existing !== undefined) return existing;
      const dm = `D${this.nextId()}`;
      this.dmChannels.set(channel, dm);
      return dm;
    }
    return channel;
  }

  private findMessage(channel: string, ts: string): SlackStoredMessage | undefined {
    return this.messagesByChannel.get(channel)?.find((message) => message.ts === ts);
  }

  private messageObject(message: SlackStoredMessage): Record<string, unknown> {
    return {
      type: 'message',
      user: this.botUserId,
      bot_id: this.botId,
      app_id: this.appId,
      team: this.teamId,
      ts: message.ts,
      text: message.text ?? '',
      ...(message.blocks ? { blocks: message.blocks } : {}),
      ...(message.attachments ? { attachments: message.attachments } : {}),
      ...(message.threadTs ? { thread_ts: message.threadTs } : {}),
    };
  }

  private viewObject(stored: SlackStoredView): Record<string, unknown> {
    return {
      id: stored.id,
      team_id: this.teamId,
      type: stored.type,
      title: stored.view.title,
      submit: stored.view.submit ?? null,
      close: stored.view.close ?? null,
      blocks: stored.view.blocks ?? [],
      private_metadata: stored.view.private_metadata ?? '',
      callback_id: stored.view.callback_id ?? '',
      external_id: stored.view.external_id ?? '',
      state: { values: {} },
      hash: stored.hash,
      clear_on_close: stored.view.clear_on_close ?? false,
      notify_on_close: stored.view.notify_on_close ?? false,
      root_view_id: stored.id,
      previous_view_id: null,
      app_id: this.appId,
      app_installed_team_id: this.teamId,
      bot_id: this.botId,
    };
  }

  private userObject(user: SlackUser): Record<string, unknown> {
    const realName = user.realName ?? user.name;
    return {
      id: user.id,
      team_id: this.teamId,
      name: user.name,
      deleted: user.deleted ?? false,
      is_restricted: user.isRestricted ?? false,
      is_ultra_restricted: user.isUltraRestricted ?? false,
      real_name: realName,
      tz: user.tz ?? 'America/New_York',
      is_admin: user.isAdmin ?? false,
      is_bot: user.isBot ?? false,
      profile: {
        real_name: realName,
        display_name: user.name,
        ...(user.email !== undefined ? { email: user.email } : {}),
        team: this.teamId,
      },
    };
  }

  /** Message timestamps as Slack writes them ("seconds.micros"), strictly increasing. */
  private nextTs(): string {
    this.lastTsMicros = Math.max(Date.now() * 1000, this.lastTsMicros + 1);
    const seconds = Math.floor(this.lastTsMicros / 1_000_000);
    const micros = this.lastTsMicros % 1_000_000;
    return `${seconds}.${String(micros).padStart(6, '0')}`;
  }

  private nextId(): string {
    this.idCounter += 1;
    return `0KZ${String(this.idCounter).padStart(6, '0')}`;
  }

  private nextHash(): string {
    return `${Math.floor(Date.now() / 1000)}.${randomBytes(6).toString('hex')}`;
  }
}

/** Starts a fake Slack Web API; see `SlackFake`. */
export function startSlackFake(options: SlackFakeOptions = {}): Promise<SlackFake> {
  return new SlackFake(options).start();
}

function parseArgs(
  contentType: string | undefined,
  rawBody: string,
  query: URLSearchParams,
): Record<string, unknown> {
  const args: Record<string, unknown> = {};
  for (const [key, value] of query) args[key] = value;
  if (rawBody === '') return args;
  if (contentType?.includes('application/json')) {
    const parsed: unknown = JSON.parse(rawBody);
    if (isRecord(parsed)) Object.assign(args, parsed);
    return args;
  }
  for (const [key, value] of new URLSearchParams(rawBody)) {
    args[key] = JSON_FORM_FIELDS.has(key) ? parseJsonOrKeep(value) : value;
  }
  return args;
}

function parseJsonOrKeep(value: string): unknown {
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
}

/** The time in a trigger id's first segment when it is one (milliseconds since the epoch). */
function triggerIdIssuedAt(triggerId: string): number | undefined {
  const first = Number(triggerId.split('.')[0]);
  return Number.isSafeInteger(first) && first > 1e12 ? first : undefined;
}

function bearerToken(header: string | undefined): string | undefined {
  const match = header?.match(/^Bearer\s+(.+)$/i);
  return match?.[1];
}

function stringArg(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return undefined;
}

function arrayArg(value: unknown): unknown[] | undefined {
  return Array.isArray(value) ? value : undefined;
}

function objectArg(value: unknown): Record<string, unknown> | undefined {
  return isRecord(value) ? value : undefined;
}

function sendJson(response: ServerResponse, status: number, body: unknown): void {
  if (response.headersSent) return;
  response.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
  response.end(JSON.stringify(body));
}
