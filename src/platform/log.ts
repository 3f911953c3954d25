/**
 * Logging with pino. Secrets are removed twice: by key (any field named like a password, token,
 * PIN or auth header, at any depth we log) and by pattern inside strings (a token in a URL, a
 * Slack token, a Bearer header), because error messages and URLs can carry them by accident.
 */
import { createRequire } from 'node:module';
import { type Logger, pino, stdSerializers } from 'pino';
import { currentRequestId } from './request-context.js';

export type { Logger } from 'pino';

const SECRET_KEYS = [
  'password',
  'original_password',
  'confirm_password',
  'new_password',
  'temporaryPassword',
  'pin',
  'token',
  'secret',
  'authorization',
  'x-auth-token',
  'x-subject-token',
  'cookie',
  'set-cookie',
  'signingSecret',
  'botToken',
  'appToken',
  'smtpUrl',
];

const REDACT_PATHS = SECRET_KEYS.flatMap((key) => {
  const path = /^[A-Za-z_$][\w$]*$/.test(key) ? key : `["${key}"]`;
  const dot = path.startsWith('[') ? path : `.${path}`;
  return [path, `*${dot}`, `*.*${dot}`, `req.headers${dot}`, `res.headers${dot}`];
});

const SECRET_PATTERNS: [RegExp, string][] = [
  [/([?&](?:token|pin|password)=)[^&\s"']+/gi, '$1[redacted]'],
  [/\bxox[abprs]-[\w-]+/g, 'xox?-[redacted]'],
  [/\bxapp-[\w-]+/g, 'xapp-[redacted]'],
  [/(bearer\s+)[\w.~+/=-]+/gi, '$1[redacted]'],
  [/((?:x-auth-token|x-subject-token|authorization)["']?\s*[:=]\s*["']?)[^\s"',}]+/gi, '$1[redacted]'],
  // scheme://user:password@ and scheme://:password@ (Redis URLs name no user): the user stays.
  [/(\/\/[^:/\s@]*:)[^@\s/]+@/g, '$1[redacted]@'],
  [/(\/token\/)[\w-]{20,}/g, '$1[redacted]'],
];

/** Removes token-, password- and credential-looking parts from a string. */
export function scrubSecrets(text: string): string {
  return SECRET_PATTERNS.reduce((acc, [pattern, replacement]) => acc.replace(pattern, replacement), text);
}

/**
 * `text` scrubbed, and the password of any `user:password@` or `:password@` part masked, with or
 * without a scheme in front (a Sentinel list is `host:port`, not a URL). For echoing settings
 * back, where a false alarm costs nothing; log lines use the narrower URL pattern of `scrubSecrets`.
 */
export function maskCredentials(text: string): string {
  return scrubSecrets(text).replace(/(^|[\s,;/])([^\s,;/:@]*:)[^\s,;/@]+@/g, '$1$2[redacted]@');
}

function scrubDeep(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return scrubSecrets(value);
  if (depth > 4 || value === null || typeof value !== 'object') return value;
  if (value instanceof Error) return serializeError(value);
  if (Array.isArray(value)) return value.map((item) => scrubDeep(item, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) out[key] = scrubDeep(item, depth + 1);
  return out;
}

/**
 * An error as a log field: pino's serializer (type, message, stack, cause chain and own fields such
 * as `kind`, `service`, `status`), with secrets scrubbed from every string in it.
 */
export function serializeError(error: Error): Record<string, unknown> {
  return scrubDeep({ ...stdSerializers.err(error) }, 0) as Record<string, unknown>;
}

/**
 * The `err` serializer. The log formatter above runs first and has turned errors into plain objects
 * already; pino's own serializer would then call them `Object` with an empty stack.
 */
const errField = (value: unknown): unknown => (value instanceof Error ? serializeError(value) : value);

/** Adds the current request's id to every line logged while its work runs. */
const requestMixin = (): Record<string, unknown> => {
  const requestId = currentRequestId();
  return requestId === undefined ? {} : { requestId };
};

export interface LogOptions {
  level?: string;
  /** Human-readable lines (pino-pretty) instead of JSON; default: when stdout is a terminal outside production. */
  pretty?: boolean;
  production?: boolean;
  destination?: NodeJS.WritableStream;
}

function prettyAvailable(): boolean {
  try {
    createRequire(import.meta.url).resolve('pino-pretty');
    return true;
  } catch {
    return false;
  }
}

export function createLogger(options: LogOptions = {}): Logger {
  const pretty =
    options.pretty ?? (!options.production && process.stdout.isTTY === true && prettyAvailable());
  const base = {
    level: options.level ?? 'info',
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    serializers: { err: errField },
    mixin: requestMixin,
    formatters: {
      log: (object: Record<string, unknown>) => scrubDeep(object) as Record<string, unknown>,
    },
    hooks: {
      logMethod(this: Logger, args: Parameters<Logger['info']>, method: (...a: unknown[]) => void) {
        method.apply(
          this,
          args.map((arg) => (typeof arg === 'string' ? scrubSecrets(arg) : arg)),
        );
      },
    },
  };
  if (pretty) {
    return pino({
      ...base,
      transport: { target: 'pino-pretty', options: { colorize: true, translateTime: 'SYS:HH:MM:ss' } },
    });
  }
  return options.destination ? pino(base, options.destination) : pino(base);
}

/** A logger that writes nothing, for tests and CLI runs that print their own output. */
export const silentLogger: Logger = pino({ level: 'silent' });
