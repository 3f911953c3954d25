import { KeystoneClient, type KeystoneClientOptions } from '../../src/keystone/index.js';

/** Connection facts the global setup hands to every test file through vitest's `inject`. */
export interface ProvidedKeystone {
  authUrl: string;
  username: string;
  password: string;
  projectName: string;
  userDomainName: string;
  projectDomainName: string;
  region: string;
}

/** A client holding the admin credentials of `keystone`, in its region unless overridden. */
export function keystoneAdmin(
  keystone: ProvidedKeystone,
  overrides: Partial<KeystoneClientOptions> = {},
): KeystoneClient {
  return new KeystoneClient({
    authUrl: keystone.authUrl,
    auth: {
      kind: 'password',
      username: keystone.username,
      password: keystone.password,
      userDomainName: keystone.userDomainName,
      projectName: keystone.projectName,
      projectDomainName: keystone.projectDomainName,
    },
    region: keystone.region,
    ...overrides,
  });
}

declare module 'vitest' {
  export interface ProvidedContext {
    keystone: ProvidedKeystone;
    redisUrl: string;
  }
}
