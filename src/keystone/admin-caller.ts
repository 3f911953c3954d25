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
  if (callerToken.trim() === '') return 'not_admin';
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
    if (isAdminOf(info, adminProject)) return 'admin';

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
    if (response.status !== 201) return 'not_admin';
    return isAdminOf(issuedToken(http, response, rescope).info, adminProject) ? 'admin' : 'not_admin';
  } catch {
    return 'not_admin';
  }
}
