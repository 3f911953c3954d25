/**
 * A user's own application credential, made with the user's own token: no admin rights are
 * involved, so the public `setpass` role can do it. The secret is in Keystone's answer only once;
 * it is handed back to the caller and never kept, logged or put in an error message.
 */
import { z } from 'zod';
import type { KeystoneHttp, KeystoneRequest } from './http.js';
import { type Project, projectListSchema } from './schemas.js';

export interface NewApplicationCredential {
  name: string;
  description?: string;
  /** Role names the credential carries; each must be among the token's roles. */
  roles: readonly string[];
  /** Undefined: it never expires. */
  expiresAt?: Date | undefined;
}

export interface CreatedApplicationCredential {
  id: string;
  /** Shown once; Keystone keeps only a hash of it. */
  secret: string;
  projectId: string;
}

const createdSchema = z
  .object({
    application_credential: z.object({
      id: z.string().min(1),
      secret: z.string().min(1),
      project_id: z.string().min(1),
    }),
  })
  .transform((b) => ({
    id: b.application_credential.id,
    secret: b.application_credential.secret,
    projectId: b.application_credential.project_id,
  }));

/** The projects a token's user may scope to (GET /v3/auth/projects), with any token of theirs. */
export async function authProjects(http: KeystoneHttp, token: string): Promise<Project[]> {
  return http.json({ method: 'GET', path: '/auth/projects', token }, projectListSchema);
}

/** POST /v3/users/{id}/application_credentials with the user's own project-scoped token. */
export async function createApplicationCredential(
  http: KeystoneHttp,
  token: string,
  userId: string,
  input: NewApplicationCredential,
): Promise<CreatedApplicationCredential> {
  const request: KeystoneRequest = {
    method: 'POST',
    path: `/users/${encodeURIComponent(userId)}/application_credentials`,
    token,
    body: {
      application_credential: {
        name: input.name,
        ...(input.description === undefined ? {} : { description: input.description }),
        roles: input.roles.map((name) => ({ name })),
        ...(input.expiresAt === undefined ? {} : { expires_at: input.expiresAt.toISOString() }),
      },
    },
  };
  const response = await http.send(request);
  http.check(response, request, [201]);
  // The body carries the secret: only the fields are named if it does not parse (http.parse).
  return http.parse(response, request, createdSchema);
}
