import type { Config } from '../platform/config/config.js';
import { KeystoneClient } from './client.js';
import type { KeystoneObserver } from './http.js';
import { keystoneFetch } from './tls.js';

/**
 * The Keystone client for these settings: with admin credentials on the bot side, without any in
 * the `setpass` role (it only checks callers' tokens and changes users' own passwords).
 * Undefined when OS_AUTH_URL is not set.
 */
export function keystoneFromConfig(
  config: Config,
  options: { timeoutMs?: number; observe?: KeystoneObserver } = {},
): KeystoneClient | undefined {
  const { keystone } = config;
  if (!keystone.authUrl) return undefined;
  return new KeystoneClient({
    authUrl: keystone.authUrl,
    auth: config.role === 'setpass' ? undefined : keystone.auth,
    region: keystone.region,
    interface: keystone.interface,
    timeoutMs: options.timeoutMs,
    observe: options.observe,
    fetch: keystoneFetch({ caFile: keystone.caFile, insecure: keystone.insecure }),
    adminProject: {
      name: keystone.adminProjectName,
      domainId: keystone.adminProjectDomainId,
      role: keystone.adminRole,
    },
  });
}
