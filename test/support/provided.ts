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

declare module 'vitest' {
  export interface ProvidedContext {
    keystone: ProvidedKeystone;
    redisUrl: string;
  }
}
