import { Setpass } from '../../domain/setpass/service.js';
import type { KeystoneClient } from '../../keystone/index.js';
import { type Config, isEnabled } from '../../platform/config/config.js';
import type { Logger } from '../../platform/log.js';
import type { Metrics } from '../../platform/metrics.js';
import type { Redis } from '../../platform/redis.js';

/**
 * The password-link feature for these settings, or undefined when it is off (SETPASS_SECRET,
 * PUBLIC_URL or OS_AUTH_URL missing). `keystone` is the admin client on the bot side and a
 * credential-less one in the setpass role: the page itself needs no admin rights.
 */
export function setpassFromConfig(
  config: Config,
  deps: { redis: Redis; keystone: KeystoneClient | undefined; log: Logger; metrics?: Metrics },
): Setpass | undefined {
  const { secret } = config.setpass;
  const publicUrl = config.http.publicUrl;
  if (!isEnabled(config, 'setpass') || !secret || !publicUrl || !deps.keystone) return undefined;
  return new Setpass({
    redis: deps.redis,
    keystone: deps.keystone,
    log: deps.log.child({ component: 'setpass' }),
    secret,
    publicUrl,
    tokenTtlMs: config.setpass.tokenTtlMs,
    maxPinAttempts: config.setpass.maxPinAttempts,
    passwordMinLength: config.setpass.passwordMinLength,
    passwordMinScore: config.setpass.passwordMinScore,
    metrics: deps.metrics,
    cliCredentials: config.keystone.authUrl
      ? {
          authUrl: config.keystone.authUrl,
          region: config.keystone.region,
          interface: config.keystone.interface,
          memberRole: config.keystone.memberRole,
          ttlMs: config.setpass.appCredentialTtlMs,
        }
      : undefined,
  });
}
