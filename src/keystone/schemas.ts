import { z } from 'zod';

/**
 * Keystone's answers, parsed at the edge and turned into camelCase values; only the fields the bot
 * uses are kept. Optional text fields arrive as absent, null or "" depending on the release, so they
 * all become `undefined` or a string.
 */

const optionalText = z
  .string()
  .nullish()
  .transform((value) => value ?? undefined);

const reference = z.object({ id: z.string(), name: z.string().optional() });

const domainReference = reference.transform((d) => ({ id: d.id, name: d.name }));

export const projectSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    domain_id: z.string(),
    description: optionalText,
    enabled: z.boolean().default(true),
    parent_id: optionalText,
    tags: z.array(z.string()).nullish(),
  })
  .transform((p) => ({
    id: p.id,
    name: p.name,
    domainId: p.domain_id,
    description: p.description,
    enabled: p.enabled,
    parentId: p.parent_id,
    tags: p.tags ?? [],
  }));
export type Project = z.output<typeof projectSchema>;

/** One of a user's federated identities: `[{idp_id, protocols: [{protocol_id, unique_id}]}]`. */
const federatedIdentitySchema = z
  .object({
    idp_id: z.string(),
    protocols: z.array(z.object({ protocol_id: z.string(), unique_id: z.string() })),
  })
  .transform((f) => ({
    idpId: f.idp_id,
    protocols: f.protocols.map((p) => ({ protocolId: p.protocol_id, uniqueId: p.unique_id })),
  }));
export type FederatedIdentity = z.output<typeof federatedIdentitySchema>;

export const userSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    domain_id: z.string(),
    enabled: z.boolean().default(true),
    email: optionalText,
    description: optionalText,
    default_project_id: optionalText,
    /** Present on users who sign in through an identity provider (a shadow user). */
    federated: z.array(federatedIdentitySchema).optional(),
  })
  .transform((u) => ({
    id: u.id,
    name: u.name,
    domainId: u.domain_id,
    enabled: u.enabled,
    email: u.email,
    description: u.description,
    defaultProjectId: u.default_project_id,
    federated: u.federated,
  }));
export type User = z.output<typeof userSchema>;

export const roleSchema = z
  .object({ id: z.string(), name: z.string(), domain_id: optionalText })
  .transform((r) => ({ id: r.id, name: r.name, domainId: r.domain_id }));
export type Role = z.output<typeof roleSchema>;

const endpointSchema = z
  .object({
    interface: z.enum(['public', 'internal', 'admin']),
    url: z.string(),
    region_id: optionalText,
    region: optionalText,
  })
  .transform((e) => ({ interface: e.interface, url: e.url, region: e.region_id ?? e.region }));
export type CatalogEndpoint = z.output<typeof endpointSchema>;

export const catalogSchema = z.array(
  z.object({
    type: z.string(),
    name: optionalText,
    endpoints: z.array(endpointSchema),
  }),
);
export type Catalog = z.output<typeof catalogSchema>;

const scopedProjectSchema = z
  .object({ id: z.string(), name: z.string(), domain: domainReference })
  .transform((p) => ({ id: p.id, name: p.name, domainId: p.domain.id, domainName: p.domain.name }));

export const tokenBodySchema = z
  .object({
    token: z.object({
      expires_at: z.string(),
      issued_at: optionalText,
      methods: z.array(z.string()),
      user: z.object({ id: z.string(), name: z.string(), domain: domainReference }),
      project: scopedProjectSchema.optional(),
      domain: domainReference.optional(),
      roles: z.array(reference).default([]),
      catalog: catalogSchema.default([]),
    }),
  })
  .transform(({ token: t }) => ({
    expiresAt: new Date(t.expires_at),
    issuedAt: t.issued_at === undefined ? undefined : new Date(t.issued_at),
    methods: t.methods,
    user: { id: t.user.id, name: t.user.name, domainId: t.user.domain.id, domainName: t.user.domain.name },
    project: t.project,
    domain: t.domain,
    roles: t.roles.map((r) => ({ id: r.id, name: r.name ?? '' })),
    catalog: t.catalog,
  }));
/** What a token is: who, scoped to what, with which roles, until when; the token itself is never in here. */
export type TokenInfo = z.output<typeof tokenBodySchema>;

export const roleAssignmentSchema = z
  .object({
    role: reference,
    user: reference.optional(),
    group: reference.optional(),
    scope: z.object({
      project: reference.optional(),
      domain: reference.optional(),
      system: z.unknown().optional(),
      'OS-INHERIT:inherited_to': z.string().optional(),
    }),
  })
  .transform((a) => ({
    roleId: a.role.id,
    roleName: a.role.name,
    userId: a.user?.id,
    userName: a.user?.name,
    groupId: a.group?.id,
    projectId: a.scope.project?.id,
    projectName: a.scope.project?.name,
    domainId: a.scope.domain?.id,
    system: a.scope.system !== undefined,
    inherited: a.scope['OS-INHERIT:inherited_to'] !== undefined,
  }));
export type RoleAssignment = z.output<typeof roleAssignmentSchema>;

export const projectBodySchema = z.object({ project: projectSchema }).transform((b) => b.project);
export const projectListSchema = z.object({ projects: z.array(projectSchema) }).transform((b) => b.projects);
export const userBodySchema = z.object({ user: userSchema }).transform((b) => b.user);
/**
 * Keystone lists a user once per way it is known: a local user turned federated (a password row and
 * a federated row) comes twice, with the same id. One entry per id, so it is not taken for two users.
 */
export const userListSchema = z
  .object({ users: z.array(userSchema) })
  .transform((b) => [...new Map(b.users.map((user) => [user.id, user])).values()]);
export const roleListSchema = z.object({ roles: z.array(roleSchema) }).transform((b) => b.roles);
export const roleAssignmentListSchema = z
  .object({ role_assignments: z.array(roleAssignmentSchema) })
  .transform((b) => b.role_assignments);
