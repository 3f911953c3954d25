/**
 * The Bolt app: HTTP mode (Bolt's receiver mounted on our listener at /slack/events) or Socket
 * Mode when SLACK_APP_TOKEN is set. Listeners do not care which receiver runs.
 */

import type { IncomingMessage, RequestListener } from 'node:http';
import { parse as parseQuery } from 'node:querystring';
import { App, type Logger as BoltLogger, HTTPReceiver, LogLevel, SocketModeReceiver } from '@slack/bolt';
import { WebClient } from '@slack/web-api';
import type { Config } from '../platform/config/config.js';
import type { Logger } from '../platform/log.js';
import { refuseReplays, type SeenRequests, SIGNATURE_WINDOW_S, signedRequestOf } from './replay.js';

export type { App } from '@slack/bolt';

export interface SlackApp {
  app: App;
  /** Mounted at /slack/events in HTTP mode; undefined in Socket Mode. */
  httpListener: RequestListener | undefined;
  mode: 'http' | 'socket';
  /** Connects the Socket Mode websocket; a no-op in HTTP mode. */
  start(): Promise<void>;
  stop(): Promise<void>;
}

export interface SlackAppOptions {
  /** Web API retries; production keeps a few with a timeout, tests turn them off. */
  retries?: number;
  timeoutMs?: number;
  /** The fetch every Web API client uses; the composition root passes one that feeds the metrics. */
  fetch?: typeof fetch;
}

/**
 * `seen` remembers the signatures of handled requests (HTTP mode), so that a replayed request is
 * acknowledged and not acted on again.
 */
export async function createSlackApp(
  config: Config,
  log: Logger,
  seen: SeenRequests,
  options: SlackAppOptions = {},
): Promise<SlackApp> {
  const { botToken, signingSecret, appToken, apiUrl } = config.slack;
  const logger = boltLogger(log.child({ component: 'bolt' }));
  const clientOptions = {
    slackApiUrl: apiUrl,
    timeout: options.timeoutMs ?? 10_000,
    retryConfig: { retries: options.retries ?? 3, factor: 2, minTimeout: 500, maxTimeout: 5_000 },
    ...(options.fetch ? { fetch: options.fetch } : {}),
  };
  const identity = await botIdentity(botToken, apiUrl, log, { logger, fetch: options.fetch });
  const appOptions = {
    token: botToken,
    logger,
    clientOptions,
    // No listener keeps conversation state; Bolt's default in-memory store would look every event
    // up and build an Error (with its stack) for each miss.
    convoStore: false as const,
    ...(identity ?? { tokenVerificationEnabled: false }),
  };
  if (appToken) {
    // Bolt hands the socket client only `installerOptions.clientOptions`: without them its
    // apps.connections.open would ignore SLACK_API_URL, the timeout and the metrics' fetch.
    const receiver = new SocketModeReceiver({
      appToken,
      logger,
      logLevel: LogLevel.INFO,
      installerOptions: { clientOptions },
    });
    const app = new App({ ...appOptions, receiver });
    return {
      app,
      httpListener: undefined,
      mode: 'socket',
      start: async () => {
        await app.start();
      },
      stop: async () => {
        await app.stop();
      },
    };
  }
  const receiver = new HTTPReceiver({
    signingSecret: signingSecret ?? '',
    endpoints: '/slack/events',
    // Every listener finishes (and its Web API calls with it) before Slack gets the HTTP answer;
    // long work such as provisioning is handed to the background by the listener itself.
    processBeforeResponse: true,
    logger,
    unhandledRequestTimeoutMillis: 2_900,
    // Called only after the signature verified: the replay check trusts what it hands on.
    customPropertiesExtractor: (req) => ({ ...signedRequestOf(req) }),
    // Listener errors end in app.error; what reaches here is a signed payload Bolt itself could not
    // route (a view submission without its user, say). Bolt's default answers 500; it is a bad request.
    processEventErrorHandler: async ({ error, response }) => {
      log.warn({ err: error }, 'bad request: a signed Slack payload that could not be processed');
      if (!response.headersSent) response.writeHead(400).end();
      return false;
    },
  });
  const app = new App({ ...appOptions, receiver });
  // First in the chain, before any listener or other middleware can act on a repeat.
  app.use(refuseReplays(seen, log));
  return {
    app,
    httpListener: refuseFutureTimestamps(refuseNullBodies(receiver.requestListener, log), log),
    mode: 'http',
    start: async () => {},
    stop: async () => {},
  };
}

/**
 * Bolt refuses a signed request dated more than five minutes ago but accepts one dated any time in
 * the future, which would stay replayable for as long as its date says. Such a request is refused
 * here, before Bolt reads it, with the same bare 401 Bolt gives a bad signature.
 */
function refuseFutureTimestamps(listener: RequestListener, log: Logger): RequestListener {
  return (req, res) => {
    const sentAt = Number(req.headers['x-slack-request-timestamp']);
    if (Number.isFinite(sentAt) && sentAt - Date.now() / 1000 > SIGNATURE_WINDOW_S) {
      log.warn(
        { aheadSeconds: Math.round(sentAt - Date.now() / 1000) },
        'refused a Slack request dated in the future',
      );
      req.resume();
      res.writeHead(401).end();
      return;
    }
    listener(req, res);
  };
}

/** Bolt's own limit on a request body. */
const BODY_LIMIT_BYTES = 4 * 1024 * 1024;

/**
 * Bolt reads `body.ssl_check` from whatever the JSON body (or a form's `payload` field) parses to,
 * outside any catch: a body of `null` would reject a promise nothing awaits and leave the request
 * unanswered. The body is read here first, such a body refused with 400, and the rest handed on
 * already read (Bolt takes a request's `rawBody` when it is there).
 */
function refuseNullBodies(listener: RequestListener, log: Logger): RequestListener {
  return (req, res) => {
    readRawBody(req)
      .then((raw) => {
        if (raw === undefined) {
          log.warn('refused a Slack request: the body is over the size limit');
          res.writeHead(413, { connection: 'close' }).end();
          return;
        }
        if (decodesToNull(raw.toString('utf8'), req.headers['content-type'])) {
          log.warn('bad request: a Slack request whose body is null');
          res.writeHead(400).end();
          return;
        }
        Object.assign(req, { rawBody: raw });
        listener(req, res);
      })
      .catch((error: unknown) => {
        log.info({ err: error }, 'a Slack request could not be read; the client went away');
        if (!res.headersSent) res.writeHead(400).end();
      });
  };
}

async function readRawBody(req: IncomingMessage): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > BODY_LIMIT_BYTES) {
      req.resume();
      return undefined;
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/** JSON text that parses to `null`: the literal with JSON's own whitespace (RFC 8259) around it. */
const JSON_NULL = /^[ \t\n\r]*null[ \t\n\r]*$/;

/**
 * Whether the body parses, the way Bolt parses it, to `null`. Told from the text, not by parsing
 * it: a click's payload carries the whole card, and Bolt parses it once anyway.
 */
function decodesToNull(text: string, contentType: string | undefined): boolean {
  if (contentType === 'application/x-www-form-urlencoded') {
    const { payload } = parseQuery(text);
    return typeof payload === 'string' && JSON_NULL.test(payload);
  }
  return JSON_NULL.test(text);
}

/**
 * Bolt asks Slack who the bot is (auth.test) in its constructor and crashes the process with an
 * unhandled rejection when Slack cannot be reached. Asking first, with a deadline, lets the bot
 * start anyway: without an answer Bolt asks again per request until Slack is back.
 */
async function botIdentity(
  token: string | undefined,
  apiUrl: string,
  log: Logger,
  client: { logger: BoltLogger; fetch?: typeof fetch },
): Promise<{ botId: string; botUserId: string } | undefined> {
  try {
    const auth = await new WebClient(token, {
      logger: client.logger,
      ...(client.fetch ? { fetch: client.fetch } : {}),
      slackApiUrl: apiUrl,
      retryConfig: { retries: 0 },
      timeout: 5_000,
    }).auth.test();
    if (auth.bot_id && auth.user_id) return { botId: auth.bot_id, botUserId: auth.user_id };
  } catch (error) {
    log.warn({ err: error }, 'Slack did not answer auth.test; starting anyway and asking again per request');
  }
  return undefined;
}

/** Bolt logs through pino, so its lines get the same format and redaction as ours. */
function boltLogger(log: Logger): BoltLogger {
  let level: LogLevel = LogLevel.INFO;
  const text = (parts: unknown[]) =>
    parts.map((p) => (typeof p === 'string' ? p : JSON.stringify(p))).join(' ');
  return {
    debug: (...parts) => log.debug(text(parts)),
    info: (...parts) => log.info(text(parts)),
    warn: (...parts) => log.warn(text(parts)),
    error: (...parts) => log.error(text(parts)),
    setLevel: (next) => {
      level = next;
    },
    getLevel: () => level,
    setName: () => {},
  };
}
