/**
 * The long-lived clients one process shares, built once by the composition root (src/app.ts)
 * and handed to every feature. A client is undefined when its capability is switched off.
 */
import type { Audit } from './audit.js';
import type { Config } from './config.js';
import type { InFlight } from './inflight.js';
import type { KeystoneClient } from './keystone/index.js';
import type { Logger } from './log.js';
import type { Metrics } from './metrics.js';
import type { Redis } from './redis.js';

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
