import type { KeystoneHttp, KeystoneRequest } from './http.js';
import { type TokenInfo, tokenBodySchema } from './schemas.js';
import { issuedToken } from './session.js';

/** The project whose `admin` role makes a caller an operator of the whole cloud. */
export interface AdminProject {
  name: string;
  domainId: string;
  /** The role that makes a caller an admin there (KAIZEN_ADMIN_ROLE). */
  role: string;
}

export type AdminVerdict = 'admin' | 'not_admin';

function isAdminOf(info: TokenInfo, project: AdminProject): boolean {
  return (
    info.project?.name === project.name &&
    info.project.domainId === project.domainId &&
    info.roles.some((role) => role.name === project.role)
  );
}

/**
 * Decides whether `callerToken` belongs to a cloud admin using only the caller's own token, so the
 * internet-facing setpass role holds no admin credentials. The original setpass clients send an
 * unscoped token, hence the second step: scoping it to the admin project succeeds only for a user
 * with a role there. Every failure, Keystone being down included, denies.
 */
export async function checkAdminCaller(
  http: KeystoneHttp,
  callerToken: string,
  adminProject: AdminProject,
): Promise<AdminVerdict> {
  return (await adminScopedToken(http, callerToken, adminProject)) === undefined ? 'not_admin' : 'admin';
}

/**
 * The caller's token scoped to the admin project with the admin role there (the token itself when
 * it already is), or undefined when the caller is no cloud admin. With it, the setpass role reads
 * what it must know about a user (their role assignments) on the caller's authority.
 */
export async function adminScopedToken(
  http: KeystoneHttp,
  callerToken: string,
  adminProject: AdminProject,
): Promise<string | undefined> {
  if (callerToken.trim() === '') return undefined;
  try {
    const validate: KeystoneRequest = {
      method: 'GET',
      path: '/auth/tokens',
      query: { nocatalog: '' },
      token: callerToken,
      headers: { 'x-subject-token': callerToken },
      secrets: [callerToken],
    };
    const info = await http.json(validate, tokenBodySchema);
    if (isAdminOf(info, adminProject)) return callerToken;

    const rescope: KeystoneRequest = {
      method: 'POST',
      path: '/auth/tokens',
      query: { nocatalog: '' },
      body: {
        auth: {
          identity: { methods: ['token'], token: { id: callerToken } },
          scope: { project: { name: adminProject.name, domain: { id: adminProject.domainId } } },
        },
      },
      secrets: [callerToken],
    };
    const response = await http.send(rescope);
    if (response.status !== 201) return undefined;
    const scoped = issuedToken(http, response, rescope);
    return isAdminOf(scoped.info, adminProject) ? scoped.token : undefined;
  } catch {
    return undefined;
  }
}
