export type { AdminProject, AdminVerdict } from './admin-caller.js';
export type { CreatedApplicationCredential, NewApplicationCredential } from './app-credentials.js';
export {
  describeCatalog,
  type EndpointInterface,
  type EndpointQuery,
  type FoundEndpoint,
  findEndpoint,
} from './catalog.js';
export {
  KeystoneClient,
  type KeystoneClientOptions,
  type NewProject,
  type NewUser,
  type RoleAssignmentFilter,
} from './client.js';
export { type Ensured, getOrCreate } from './ensure.js';
export { displayUrl } from './errors.js';
export type { FetchLike, KeystoneCall, KeystoneObserver, KeystoneStats } from './http.js';
export type { LoginScope, LoginUser, PasswordLoginInput } from './login.js';
export type {
  Catalog,
  CatalogEndpoint,
  FederatedIdentity,
  Project,
  Role,
  RoleAssignment,
  TokenInfo,
  User,
} from './schemas.js';
export type { IssuedToken, KeystoneAuth } from './session.js';
