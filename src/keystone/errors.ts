import { type ErrorKind, KaizenError } from '../platform/errors.js';

const SERVICE = 'keystone';

/** The auth URL as it may be shown to a person: any user:password@ part is dropped. */
export function displayUrl(url: string): string {
  try {
    const parsed = new URL(url);
    parsed.username = '';
    parsed.password = '';
    return parsed.toString().replace(/\/$/, '');
  } catch {
    return '(an invalid URL)';
  }
}

/**
 * Keystone echoes rejected input in its validation messages (`12345 is not of type 'string'`), so every
 * secret sent with a request is scrubbed from whatever text of Keystone's we pass on.
 */
export function redact(text: string, secrets: readonly string[]): string {
  let result = text;
  for (const secret of secrets) {
    if (secret === '') continue;
    for (const form of new Set([secret, JSON.stringify(secret).slice(1, -1)])) {
      result = result.split(form).join('***');
    }
  }
  return result;
}

/** Keystone's own explanation from an `{"error": {"message": …}}` body, when there is one. */
export function keystoneMessage(body: unknown): string | undefined {
  if (typeof body !== 'object' || body === null || !('error' in body)) return undefined;
  const error = body.error;
  if (typeof error !== 'object' || error === null || !('message' in error)) return undefined;
  return typeof error.message === 'string' ? error.message.trim() : undefined;
}

export function kindForStatus(status: number): ErrorKind {
  switch (status) {
    case 400:
    case 413:
    case 422:
      return 'invalid';
    case 401:
      return 'unauthorized';
    case 403:
      return 'forbidden';
    case 404:
      return 'not_found';
    case 409:
      return 'conflict';
    default:
      return 'upstream';
  }
}

export interface RequestContext {
  authUrl: string;
  method: string;
  path: string;
  secrets: readonly string[];
}

const HINTS: Partial<Record<ErrorKind, string>> = {
  unauthorized: 'check the credentials',
  forbidden: 'the account lacks the role this needs',
  upstream: 'Keystone may be failing; its log has the details',
};

export function errorFromResponse(status: number, body: unknown, context: RequestContext): KaizenError {
  const kind = kindForStatus(status);
  const said = keystoneMessage(body);
  const reason = said === undefined ? '' : `: ${redact(said, context.secrets)}`;
  const hint = HINTS[kind] === undefined ? '' : ` (${HINTS[kind]})`;
  return new KaizenError(
    kind,
    `Keystone at ${displayUrl(context.authUrl)} answered HTTP ${status} to ${context.method} ${context.path}${reason}${hint}`,
    { service: SERVICE, status },
  );
}

const NETWORK_REASONS: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  ENOTFOUND: 'host name not found',
  EAI_AGAIN: 'host name lookup failed',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ETIMEDOUT: 'connection timed out',
  UND_ERR_SOCKET: 'connection closed',
  ...Object.fromEntries(
    [
      'DEPTH_ZERO_SELF_SIGNED_CERT',
      'SELF_SIGNED_CERT_IN_CHAIN',
      'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
      'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
    ].map((code) => [
      code,
      'its TLS certificate is from a CA this host does not trust; name the CA in OS_CACERT',
    ]),
  ),
  CERT_HAS_EXPIRED: 'its TLS certificate has expired',
  ERR_TLS_CERT_ALTNAME_INVALID: 'its TLS certificate is for another host name',
};

function networkCode(error: unknown): string | undefined {
  const cause = error instanceof Error ? error.cause : undefined;
  if (typeof cause === 'object' && cause !== null && 'code' in cause && typeof cause.code === 'string') {
    return cause.code;
  }
  return undefined;
}

/** Turns whatever `fetch` threw into an error that says what to check, without echoing header values. */
export function errorFromFailure(error: unknown, context: RequestContext, timeoutMs: number): KaizenError {
  const where = `Keystone at ${displayUrl(context.authUrl)}`;
  if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) {
    return new KaizenError(
      'unreachable',
      `${where} did not answer ${context.method} ${context.path} within ${timeoutMs / 1000} s: is it running and reachable?`,
      { service: SERVICE },
    );
  }
  if (error instanceof TypeError && error.message === 'fetch failed') {
    const code = networkCode(error);
    const reason =
      code !== undefined
        ? (NETWORK_REASONS[code] ?? code)
        : error.cause instanceof Error && error.cause.message === 'bad port'
          ? 'fetch refuses that port'
          : 'network error';
    return new KaizenError('unreachable', `${where} did not answer (${reason}): is it running?`, {
      service: SERVICE,
    });
  }
  // Anything else fetch throws comes from the request itself (a malformed header, say); its text may
  // quote the header value, which can be a token.
  return new KaizenError(
    'invalid',
    `The request ${context.method} ${context.path} to ${where} could not be sent`,
    {
      service: SERVICE,
    },
  );
}

export function missingAdminCredentials(method: string, path: string): KaizenError {
  return new KaizenError(
    'config',
    `Keystone ${method} ${path} needs admin credentials, and none are configured (set OS_USERNAME/OS_PASSWORD or an application credential)`,
    { service: SERVICE },
  );
}
