import { KaizenError } from '../platform/errors.js';
import { displayUrl } from './errors.js';
import type { KeystoneHttp, KeystoneRequest, KeystoneResponse } from './http.js';
import { type TokenInfo, tokenBodySchema } from './schemas.js';

export type KeystoneAuth =
  | {
      kind: 'password';
      username: string;
      password: string;
      userDomainName: string;
      projectName: string;
      projectDomainName: string;
    }
  | { kind: 'application_credential'; id: string; secret: string };

export interface IssuedToken {
  token: string;
  info: TokenInfo;
}

export function authSecrets(auth: KeystoneAuth): string[] {
  return auth.kind === 'password' ? [auth.password] : [auth.secret];
}

function authBody(auth: KeystoneAuth): unknown {
  if (auth.kind === 'application_credential') {
    return {
      auth: {
        identity: {
          methods: ['application_credential'],
          application_credential: { id: auth.id, secret: auth.secret },
        },
      },
    };
  }
  return {
    auth: {
      identity: {
        methods: ['password'],
        password: {
          user: { name: auth.username, domain: { name: auth.userDomainName }, password: auth.password },
        },
      },
      scope: { project: { name: auth.projectName, domain: { name: auth.projectDomainName } } },
    },
  };
}

/** Reads the token out of a successful POST /v3/auth/tokens answer. */
export function issuedToken(
  http: KeystoneHttp,
  response: KeystoneResponse,
  request: KeystoneRequest,
): IssuedToken {
  http.check(response, request, [200, 201]);
  const token = response.headers.get('x-subject-token');
  if (token === null || token === '') {
    throw new KaizenError(
      'upstream',
      `Keystone at ${displayUrl(http.authUrl)} issued a token without an X-Subject-Token header: is a proxy dropping it?`,
      { service: 'keystone', status: response.status },
    );
  }
  return { token, info: http.parse(response, request, tokenBodySchema) };
}

/** Renew this long before expiry at most, so a token never expires between check and use. */
const RENEW_BEFORE_MS = 120_000;

/**
 * One admin token for the whole process. Callers that arrive while a token is being issued wait for
 * that same request instead of each issuing their own.
 */
export class AdminSession {
  private current: { issued: IssuedToken; renewAt: number } | undefined;
  private pending: Promise<IssuedToken> | undefined;

  constructor(
    private readonly http: KeystoneHttp,
    private readonly auth: KeystoneAuth,
    private readonly now: () => number = Date.now,
  ) {}

  async get(): Promise<IssuedToken> {
    if (this.current !== undefined && this.now() < this.current.renewAt) return this.current.issued;
    this.pending ??= this.issue().finally(() => {
      this.pending = undefined;
    });
    return this.pending;
  }

  /** Forgets `token` (after Keystone refused it) unless a newer one has already replaced it. */
  invalidate(token: string): void {
    if (this.current?.issued.token === token) this.current = undefined;
  }

  private async issue(): Promise<IssuedToken> {
    const request: KeystoneRequest = {
      method: 'POST',
      path: '/auth/tokens',
      body: authBody(this.auth),
      secrets: authSecrets(this.auth),
    };
    this.http.stats.tokenRequests += 1;
    const response = await this.http.send(request);
    if (response.status === 401) throw this.refused();
    const issued = issuedToken(this.http, response, request);
    const expiresAt = issued.info.expiresAt.getTime();
    const issuedAt = issued.info.issuedAt?.getTime() ?? this.now();
    const margin = Math.min(RENEW_BEFORE_MS, Math.max(0, (expiresAt - issuedAt) / 2));
    this.current = { issued, renewAt: expiresAt - margin };
    return issued;
  }

  private refused(): KaizenError {
    const who =
      this.auth.kind === 'password'
        ? `user "${this.auth.username}" in domain "${this.auth.userDomainName}", project "${this.auth.projectName}"`
        : `application credential ${this.auth.id}`;
    return new KaizenError(
      'unauthorized',
      `Keystone at ${displayUrl(this.http.authUrl)} refused the admin credentials (${who}): check the password or secret, and that the user has a role on that project`,
      { service: 'keystone', status: 401 },
    );
  }
}
