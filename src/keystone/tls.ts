/**
 * The fetch every Keystone, catalog and quota call goes through. A private CA (OS_CACERT, or
 * `cacert` in clouds.yaml) is trusted on top of the system's roots, since the catalog may list
 * endpoints under a public certificate; `verify: false` (refused in production) checks nothing.
 */
import { readFileSync } from 'node:fs';
import { rootCertificates } from 'node:tls';
import { Agent, fetch as undiciFetch } from 'undici';
import type { FetchLike } from './http.js';

export interface KeystoneTls {
  caFile: string | undefined;
  insecure: boolean;
}

export function keystoneFetch(tls: KeystoneTls): FetchLike {
  if (tls.caFile === undefined && !tls.insecure) return fetch;
  const agent = new Agent({
    connect: {
      ca: tls.caFile === undefined ? undefined : [...rootCertificates, readFileSync(tls.caFile, 'utf8')],
      rejectUnauthorized: !tls.insecure,
    },
  });
  // undici's fetch is the one Node's global fetch is built from; only the declared types differ.
  return (input, init) =>
    undiciFetch(input, {
      ...(init as Parameters<typeof undiciFetch>[1]),
      dispatcher: agent,
    }) as unknown as Promise<Response>;
}
