/**
 * The long-lived clients one process shares, built once by the composition root (src/app.ts)
 * and handed to every feature. A client is undefined when its capability is switched off.
 */
import { Audit } from './audit.js';
import type { Config } from './config.js';
import { InFlight } from './inflight.js';
import { keystoneFromConfig } from './keystone/from-config.js';
import type { KeystoneClient } from './keystone/index.js';
import type { Logger } from './log.js';
import { Metrics } from './metrics.js';
import { createRedis, type Redis } from './redis.js';

export interface Services {
  config: Config;
  log: Logger;
  redis: Redis;
  audit: Audit;
  metrics: Metrics;
  /** Background work (provisioning, mail) that shutdown waits for. */
  inflight: InFlight;
  /** Admin client on the bot side; a credential-less one in the setpass role; undefined without OS_AUTH_URL. */
  keystone: KeystoneClient | undefined;
}

/**
 * The shared clients for these settings, and no listener: `startKaizen` builds on them, and the
 * CLI uses them as they are (closing them with `closeServices` so the process can exit).
 */
export function createServices(config: Config, log: Logger): Services {
  const redis = createRedis(config.redis);
  redis.on('error', (error: Error) => log.warn({ err: error }, 'redis connection problem'));
  return {
    config,
    log,
    redis,
    audit: new Audit(redis, config.audit.maxLength),
    metrics: new Metrics(),
    inflight: new InFlight(log),
    keystone: keystoneFromConfig(config),
  };
}

/** Waits for background work (bounded), then closes the connections. */
export async function closeServices(services: Services, drainMs = 20_000): Promise<void> {
  await services.inflight.drain(drainMs);
  await services.redis.quit().catch(() => services.redis.disconnect());
}
