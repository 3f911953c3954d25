import { KaizenError } from '../platform/errors.js';
import { errorFromResponse, keystoneMessage, redact } from './errors.js';
import type { KeystoneHttp, KeystoneRequest } from './http.js';
import { type IssuedToken, issuedToken } from './session.js';

export type LoginUser =
  | { userId: string }
  | { username: string; userDomainId?: string; userDomainName?: string };

export type LoginScope =
  | { projectId: string }
  | { projectName: string; domainId?: string; domainName?: string };

export type PasswordLoginInput = LoginUser & {
  password: string;
  /**
   * Absent: Keystone's choice, which is the user's default project when they have a role there.
   * `unscoped` insists on a token scoped to nothing.
   */
  scope?: LoginScope | 'unscoped';
  /** The catalog is left out unless asked for: checking a password does not need it. */
  withCatalog?: boolean;
};

function userReference(input: LoginUser): Record<string, unknown> {
  if ('userId' in input) return { id: input.userId };
  const domain =
    input.userDomainId !== undefined
      ? { id: input.userDomainId }
      : input.userDomainName !== undefined
        ? { name: input.userDomainName }
        : { id: 'default' };
  return { name: input.username, domain };
}

function scopeReference(scope: LoginScope | 'unscoped'): unknown {
  if (scope === 'unscoped') return 'unscoped';
  if ('projectId' in scope) return { project: { id: scope.projectId } };
  const domain =
    scope.domainId !== undefined
      ? { id: scope.domainId }
      : scope.domainName !== undefined
        ? { name: scope.domainName }
        : { id: 'default' };
  return { project: { name: scope.projectName, domain } };
}

const describeUser = (input: LoginUser): string =>
  'userId' in input ? `user ${input.userId}` : `user "${input.username}"`;

/** Logs a user in with a password; used to prove a password works, and by the password page. */
export async function passwordLogin(http: KeystoneHttp, input: PasswordLoginInput): Promise<IssuedToken> {
  const request: KeystoneRequest = {
    method: 'POST',
    path: '/auth/tokens',
    query: input.withCatalog === true ? {} : { nocatalog: '' },
    body: {
      auth: {
        identity: {
          methods: ['password'],
          password: { user: { ...userReference(input), password: input.password } },
        },
        ...(input.scope === undefined ? {} : { scope: scopeReference(input.scope) }),
      },
    },
    secrets: [input.password],
  };
  const response = await http.send(request);
  if (response.status === 401) {
    throw new KaizenError(
      'unauthorized',
      `Keystone did not accept the password for ${describeUser(input)} (wrong password, or the account is disabled or locked)`,
      { service: 'keystone', status: 401 },
    );
  }
  return issuedToken(http, response, request);
}

/**
 * A user's own password change, authorised by the current password alone: the setpass role has no
 * admin credentials. Keystone's password-policy text (a 400) is safe to show and tells the user what to fix.
 */
export async function changeOwnPassword(
  http: KeystoneHttp,
  userId: string,
  originalPassword: string,
  newPassword: string,
): Promise<void> {
  const secrets = [originalPassword, newPassword];
  const request: KeystoneRequest = {
    method: 'POST',
    path: `/users/${encodeURIComponent(userId)}/password`,
    body: { user: { original_password: originalPassword, password: newPassword } },
    secrets,
  };
  const response = await http.send(request);
  if (response.status === 204) return;
  if (response.status === 401) {
    throw new KaizenError(
      'unauthorized',
      'Keystone did not accept the current password (it is wrong, or the account is disabled or locked)',
      { service: 'keystone', status: 401 },
    );
  }
  if (response.status === 400) {
    const said = keystoneMessage(response.body);
    throw new KaizenError(
      'invalid',
      said === undefined ? 'Keystone refused the new password' : redact(said, secrets),
      { service: 'keystone', status: 400 },
    );
  }
  throw errorFromResponse(response.status, response.body, http.context(request));
}
