import type { z } from 'zod';
import type { AccountReader } from '../domain/accounts/protection.js';
import { KaizenError } from '../platform/errors.js';
import { type AdminProject, type AdminVerdict, adminScopedToken, checkAdminCaller } from './admin-caller.js';
import {
  authProjects,
  type CreatedApplicationCredential,
  createApplicationCredential,
  type NewApplicationCredential,
} from './app-credentials.js';
import {
  describeCatalog,
  type EndpointInterface,
  type EndpointQuery,
  type FoundEndpoint,
  findEndpoint,
} from './catalog.js';
import { type Ensured, getOrCreate } from './ensure.js';
import { missingAdminCredentials } from './errors.js';
import {
  type FederationProtocol,
  federationProtocolBodySchema,
  type IdentityProvider,
  identityProviderBodySchema,
  type Mapping,
  mappingBodySchema,
} from './federation.js';
import {
  type FetchLike,
  KeystoneHttp,
  type KeystoneObserver,
  type KeystoneRequest,
  type KeystoneResponse,
  type KeystoneStats,
} from './http.js';
import { changeOwnPassword, type PasswordLoginInput, passwordLogin } from './login.js';
import { pickByName, pickOne, sameName } from './names.js';
import {
  type Catalog,
  type FederatedIdentity,
  type Project,
  projectBodySchema,
  projectListSchema,
  type Role,
  type RoleAssignment,
  roleAssignmentListSchema,
  roleListSchema,
  type User,
  userBodySchema,
  userListSchema,
} from './schemas.js';
import { AdminSession, type IssuedToken, type KeystoneAuth } from './session.js';

export interface KeystoneClientOptions {
  authUrl: string;
  /** Absent for the setpass role, which only validates callers' tokens and changes users' own passwords. */
  auth?: KeystoneAuth;
  /** Region for catalog lookups; absent means any. */
  region?: string;
  interface?: EndpointInterface;
  timeoutMs?: number;
  fetch?: FetchLike;
  /** Where the `admin` role makes a cloud admin; default project `admin` in domain `default`. */
  adminProject?: Partial<AdminProject>;
  /** Told about every request once it ended (metrics, the debug log). */
  observe?: KeystoneObserver;
}

export interface NewProject {
  name: string;
  description: string;
  domainId: string;
  /** Keystone project tags: up to 255 characters each, no `/` or `,`. */
  tags?: string[];
}

export interface NewUser {
  name: string;
  email: string;
  description: string;
  /** Absent for a federated user: they sign in through their identity provider, never here. */
  password?: string;
  /** Keystone's `federated` attribute: the identity provider, protocol and unique id it maps from. */
  federated?: FederatedIdentity[];
  defaultProjectId: string;
  domainId: string;
}

export interface RoleAssignmentFilter {
  userId?: string;
  projectId?: string;
  /** Include roles a user holds through groups and implied roles. */
  effective?: boolean;
}

const ROLE_CACHE_MS = 10 * 60_000;

/** Keystone's spelling of the `federated` attribute. */
function federatedBody(federated: FederatedIdentity[]) {
  return federated.map((f) => ({
    idp_id: f.idpId,
    protocols: f.protocols.map((p) => ({ protocol_id: p.protocolId, unique_id: p.uniqueId })),
  }));
}
const path = (...parts: string[]): string => parts.map((part) => `/${encodeURIComponent(part)}`).join('');

function roleAssignmentsRequest(filter: RoleAssignmentFilter): KeystoneRequest {
  const query = {
    'user.id': filter.userId,
    'scope.project.id': filter.projectId,
    include_names: '',
    ...(filter.effective === true ? { effective: '' } : {}),
  };
  return { method: 'GET', path: '/role_assignments', query };
}

export class KeystoneClient {
  readonly stats: KeystoneStats;
  /** The fetch of every call, with the CA settings: the quota services in the catalog use it too. */
  readonly fetch: FetchLike;
  private readonly http: KeystoneHttp;
  private readonly session: AdminSession | undefined;
  private readonly endpointQuery: EndpointQuery;
  private readonly adminProject: AdminProject;
  private readonly roles = new Map<string, { role: Role; until: number }>();

  constructor(options: KeystoneClientOptions) {
    this.fetch = options.fetch ?? fetch;
    this.http = new KeystoneHttp(options.authUrl, options.timeoutMs ?? 10_000, this.fetch, options.observe);
    this.stats = this.http.stats;
    this.session = options.auth === undefined ? undefined : new AdminSession(this.http, options.auth);
    this.endpointQuery = { interface: options.interface ?? 'public', region: options.region };
    this.adminProject = {
      name: options.adminProject?.name ?? 'admin',
      domainId: options.adminProject?.domainId ?? 'default',
      role: options.adminProject?.role ?? 'admin',
    };
  }

  /** Resolves when Keystone answers its version document; throws `unreachable` or `upstream` otherwise. */
  async ping(): Promise<void> {
    await this.http.empty({ method: 'GET', path: '' }, [200]);
  }

  async getAdminToken(): Promise<string> {
    return (await this.requireSession('POST', '/auth/tokens').get()).token;
  }

  /** The catalog that came with the admin token. */
  async getCatalog(): Promise<Catalog> {
    return (await this.requireSession('GET', '/auth/catalog').get()).info.catalog;
  }

  /** The first endpoint for `types` in the configured interface and region; `not_found` names what exists. */
  async endpointFor(types: readonly string[], query: EndpointQuery = {}): Promise<FoundEndpoint> {
    const catalog = await this.getCatalog();
    const wanted = { ...this.endpointQuery, ...query };
    const found = findEndpoint(catalog, types, wanted);
    if (found !== undefined) return found;
    throw new KaizenError(
      'not_found',
      `The Keystone catalog has no ${wanted.interface} endpoint for ${types.join(' or ')}${wanted.region === undefined ? '' : ` in region ${wanted.region}`}; it offers: ${describeCatalog(catalog)}`,
      { service: 'keystone' },
    );
  }

  // Projects

  /** Case-insensitive; Keystone's `name` filter is exact, so a substring search narrows and we compare. */
  async findProjectByName(name: string, domainId: string): Promise<Project | undefined> {
    const projects = await this.adminJson(
      { method: 'GET', path: '/projects', query: { domain_id: domainId, name__icontains: name.trim() } },
      projectListSchema,
    );
    return pickByName(projects, name, `projects named like "${name.trim()}" in domain ${domainId}`);
  }

  async getProject(id: string): Promise<Project> {
    return this.adminJson(
      { method: 'GET', path: path('projects', id) },
      projectBodySchema,
      [200],
      `project ${id}`,
    );
  }

  async createProject(input: NewProject): Promise<Project> {
    const body = {
      project: {
        name: input.name,
        description: input.description,
        domain_id: input.domainId,
        enabled: true,
        ...(input.tags && input.tags.length > 0 ? { tags: input.tags } : {}),
      },
    };
    return this.adminJson({ method: 'POST', path: '/projects', body }, projectBodySchema, [201]);
  }

  async ensureProject(input: NewProject): Promise<Ensured<Project>> {
    return getOrCreate(
      () => this.findProjectByName(input.name, input.domainId),
      () => this.createProject(input),
    );
  }

  // Users

  /** Case-insensitive match on the user name only: one request. */
  async findUserByName(name: string, domainId: string): Promise<User | undefined> {
    const users = await this.adminJson(
      { method: 'GET', path: '/users', query: { domain_id: domainId, name__icontains: name.trim() } },
      userListSchema,
    );
    return pickByName(users, name, `users named like "${name.trim()}" in domain ${domainId}`);
  }

  /**
   * By name, then by the `email` attribute, both ignoring case. Keystone cannot filter on email, so a
   * miss on the name lists the domain's users.
   */
  async findUser(nameOrEmail: string, domainId: string): Promise<User | undefined> {
    const byName = await this.findUserByName(nameOrEmail, domainId);
    if (byName !== undefined) return byName;
    const users = await this.adminJson(
      { method: 'GET', path: '/users', query: { domain_id: domainId } },
      userListSchema,
    );
    const wanted = nameOrEmail.trim();
    return pickOne(
      users.filter((user) => user.email !== undefined && sameName(user.email, wanted)),
      (user) => user.email === wanted,
      `users with the email "${wanted}" in domain ${domainId}`,
    );
  }

  /** Every user of a domain (for close-match suggestions when a name is not found). */
  async listUsers(domainId: string): Promise<User[]> {
    return this.adminJson({ method: 'GET', path: '/users', query: { domain_id: domainId } }, userListSchema);
  }

  async getUser(id: string): Promise<User> {
    return this.adminJson({ method: 'GET', path: path('users', id) }, userBodySchema, [200], `user ${id}`);
  }

  async createUser(input: NewUser): Promise<User> {
    const body = {
      user: {
        name: input.name,
        email: input.email,
        description: input.description,
        ...(input.password === undefined ? {} : { password: input.password }),
        ...(input.federated === undefined ? {} : { federated: federatedBody(input.federated) }),
        default_project_id: input.defaultProjectId,
        domain_id: input.domainId,
        enabled: true,
      },
    };
    return this.adminJson(
      { method: 'POST', path: '/users', body, secrets: input.password === undefined ? [] : [input.password] },
      userBodySchema,
      [201],
    );
  }

  /** Get-or-create by user name (ignoring case), the name being what Keystone's 409 is about. */
  /** With `knownMissing`, the caller just looked the name up and found nothing: no second look first. */
  async ensureUser(input: NewUser, options: { knownMissing?: boolean } = {}): Promise<Ensured<User>> {
    return getOrCreate(
      () => this.findUserByName(input.name, input.domainId),
      () => this.createUser(input),
      options.knownMissing ?? false,
    );
  }

  /**
   * Turns a local user federated: the identities are added and the password removed (Keystone takes
   * `password: null`), so the account signs in through its identity provider only.
   */
  async makeFederated(userId: string, federated: FederatedIdentity[]): Promise<User> {
    const body = { user: { federated: federatedBody(federated), password: null } };
    return this.adminJson(
      { method: 'PATCH', path: path('users', userId), body },
      userBodySchema,
      [200],
      `user ${userId}`,
    );
  }

  async setUserPassword(userId: string, password: string): Promise<void> {
    const request = {
      method: 'PATCH',
      path: path('users', userId),
      body: { user: { password } },
      secrets: [password],
    } as const;
    await this.adminJson(request, userBodySchema, [200], `user ${userId}`);
  }

  async changeOwnPassword(userId: string, originalPassword: string, newPassword: string): Promise<void> {
    await changeOwnPassword(this.http, userId, originalPassword, newPassword);
  }

  /** The projects the user behind `token` may scope to; any token of theirs will do. */
  async authProjects(token: string): Promise<Project[]> {
    return authProjects(this.http, token);
  }

  /** An application credential for the user behind `token`, a project-scoped token of their own. */
  async createApplicationCredential(
    token: string,
    userId: string,
    input: NewApplicationCredential,
  ): Promise<CreatedApplicationCredential> {
    return createApplicationCredential(this.http, token, userId, input);
  }

  async listUserProjects(userId: string): Promise<Project[]> {
    return this.adminJson(
      { method: 'GET', path: `${path('users', userId)}/projects` },
      projectListSchema,
      [200],
      `user ${userId}`,
    );
  }

  // Federation (read only: the operator registers these)

  async getIdentityProvider(id: string): Promise<IdentityProvider> {
    const request = { method: 'GET', path: `/OS-FEDERATION${path('identity_providers', id)}` } as const;
    return this.adminJson(request, identityProviderBodySchema, [200], `identity provider ${id}`);
  }

  async getFederationProtocol(idpId: string, protocolId: string): Promise<FederationProtocol> {
    const request = {
      method: 'GET',
      path: `/OS-FEDERATION${path('identity_providers', idpId, 'protocols', protocolId)}`,
    } as const;
    return this.adminJson(
      request,
      federationProtocolBodySchema,
      [200],
      `protocol ${protocolId} for the identity provider ${idpId}`,
    );
  }

  async getMapping(id: string): Promise<Mapping> {
    const request = { method: 'GET', path: `/OS-FEDERATION${path('mappings', id)}` } as const;
    return this.adminJson(request, mappingBodySchema, [200], `mapping ${id}`);
  }

  // Roles

  /** Roles rarely change, so a found role is remembered for a while; a miss is always asked again. */
  async findRole(name: string): Promise<Role | undefined> {
    const key = name.trim().toLowerCase();
    const cached = this.roles.get(key);
    if (cached !== undefined && Date.now() < cached.until) return cached.role;
    const roles = await this.adminJson({ method: 'GET', path: '/roles' }, roleListSchema);
    const role = pickByName(roles, name, `roles named like "${name.trim()}"`);
    if (role !== undefined) this.roles.set(key, { role, until: Date.now() + ROLE_CACHE_MS });
    return role;
  }

  /** Idempotent: assigning a role the user already holds is a no-op in Keystone. */
  async assignProjectRole(projectId: string, userId: string, roleId: string): Promise<void> {
    const request = {
      method: 'PUT',
      path: path('projects', projectId, 'users', userId, 'roles', roleId),
    } as const;
    this.http.check(await this.adminSend(request), request, [200, 201, 204]);
  }

  async listRoleAssignments(filter: RoleAssignmentFilter): Promise<RoleAssignment[]> {
    return this.adminJson(roleAssignmentsRequest(filter), roleAssignmentListSchema);
  }

  /** The user behind the bot's own admin token: the one account the bot must never reset. */
  async ownUserId(): Promise<string> {
    return (await this.requireSession('POST', '/auth/tokens').get()).info.user.id;
  }

  // Tokens

  async passwordLogin(input: PasswordLoginInput): Promise<IssuedToken> {
    return passwordLogin(this.http, input);
  }

  /** Needs no admin credentials: see admin-caller.ts. */
  async checkAdminCaller(callerToken: string): Promise<AdminVerdict> {
    return checkAdminCaller(this.http, callerToken, this.adminProject);
  }

  /**
   * Reads users and their role assignments on an admin caller's authority (their token scoped to
   * the admin project), for the setpass role, which holds no admin credentials of its own.
   * Undefined when the caller is no cloud admin.
   */
  async asAdminCaller(callerToken: string): Promise<AccountReader | undefined> {
    const token = await adminScopedToken(this.http, callerToken, this.adminProject);
    if (token === undefined) return undefined;
    const read = async <S extends z.ZodType>(request: KeystoneRequest, schema: S, missing?: string) => {
      const sent = { ...request, token, secrets: [token] };
      const response = await this.http.send(sent);
      if (response.status === 404 && missing !== undefined) {
        throw new KaizenError('not_found', `Keystone has no ${missing}`, {
          service: 'keystone',
          status: 404,
        });
      }
      this.http.check(response, sent, [200]);
      return this.http.parse(response, sent, schema);
    };
    return {
      getUser: (id) => read({ method: 'GET', path: path('users', id) }, userBodySchema, `user ${id}`),
      listRoleAssignments: (filter) => read(roleAssignmentsRequest(filter), roleAssignmentListSchema),
      // The caller is not the bot; the bot's own account holds the admin role, which the rule sees.
      ownUserId: async () => undefined,
    };
  }

  // Plumbing

  private requireSession(method: string, requestPath: string): AdminSession {
    if (this.session === undefined) throw missingAdminCredentials(method, requestPath);
    return this.session;
  }

  /** Sends with the admin token; a 401 means the token was revoked or expired early, so renew once. */
  private async adminSend(request: KeystoneRequest): Promise<KeystoneResponse> {
    const session = this.requireSession(request.method, request.path);
    const first = await session.get();
    const response = await this.http.send({ ...request, token: first.token });
    if (response.status !== 401) return response;
    session.invalidate(first.token);
    const renewed = await session.get();
    return this.http.send({ ...request, token: renewed.token });
  }

  /** `missing` names the object a 404 means is absent, for a message better than the path. */
  private async adminJson<S extends z.ZodType>(
    request: KeystoneRequest,
    schema: S,
    ok: readonly number[] = [200],
    missing?: string,
  ): Promise<z.output<S>> {
    const response = await this.adminSend(request);
    if (response.status === 404 && missing !== undefined) {
      throw new KaizenError('not_found', `Keystone has no ${missing}`, { service: 'keystone', status: 404 });
    }
    this.http.check(response, request, ok);
    return this.http.parse(response, request, schema);
  }
}
