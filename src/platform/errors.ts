/**
 * Errors as typed values. `message` is written for the person who will read it (an admin in Slack,
 * an operator in a terminal, a user on the password page): it says what failed and what to do,
 * and never carries a secret. `kind` lets callers decide without parsing text.
 */
export type ErrorKind =
  | 'invalid' // the caller's input is wrong: fix it and try again
  | 'not_found'
  | 'conflict'
  | 'unauthorized' // missing or wrong credentials
  | 'forbidden' // authenticated, but not allowed
  | 'unreachable' // a service did not answer: try again later
  | 'upstream' // a service answered with an unexpected error
  | 'config'; // a setting is missing or wrong

export class KaizenError extends Error {
  readonly kind: ErrorKind;
  /** Which service or step the error belongs to, e.g. `keystone`, `sheets`, `smtp`. */
  readonly service: string | undefined;
  readonly status: number | undefined;

  constructor(
    kind: ErrorKind,
    message: string,
    options: { service?: string; status?: number; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'KaizenError';
    this.kind = kind;
    this.service = options.service;
    this.status = options.status;
  }
}

export function isKaizenError(error: unknown, kind?: ErrorKind): error is KaizenError {
  return error instanceof KaizenError && (kind === undefined || error.kind === kind);
}

/** A message safe to show a person: our own errors keep theirs, anything else becomes a generic line. */
export function describeError(error: unknown): string {
  if (error instanceof KaizenError) return error.message;
  if (isRedisOutage(error))
    return 'Redis is not reachable right now, so this could not be done; try again in a minute.';
  return 'An unexpected error occurred; the details are in the bot log.';
}

/**
 * ioredis's own errors while Redis is down: it gave up on a command after its reconnect attempts,
 * or the connection closed under it. Told by name, since every Redis call site can meet them.
 */
function isRedisOutage(error: unknown): boolean {
  return (
    error instanceof Error &&
    (error.name === 'MaxRetriesPerRequestError' || error.message === 'Connection is closed.')
  );
}
