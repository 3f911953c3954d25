import { Redis, type RedisOptions } from 'ioredis';
import type { Config } from './config.js';
import { KaizenError } from './errors.js';
import type { Logger } from './log.js';

export type { Redis } from 'ioredis';

/**
 * One client per process; Sentinel when REDIS_SENTINELS is set, otherwise REDIS_URL. With
 * Sentinel, REDIS_URL still gives the user name, password and database of the data nodes.
 */
export function createRedis(config: Config['redis'], extra: RedisOptions = {}): Redis {
  const common: RedisOptions = {
    keyPrefix: config.keyPrefix || undefined,
    // Fail a command after a few reconnect attempts instead of queueing forever while Redis is down.
    maxRetriesPerRequest: 2,
    connectTimeout: 5_000,
    retryStrategy: (attempt) => Math.min(attempt * 200, 2_000),
    lazyConnect: false,
    ...extra,
  };
  if (config.sentinels) {
    const sentinels = config.sentinels.map((entry) => {
      const [host, port] = entry.split(':');
      return { host: host ?? '127.0.0.1', port: Number(port ?? 26379) };
    });
    return new Redis({ ...sentinelAuth(config.url), ...common, sentinels, name: config.sentinelName });
  }
  return new Redis(config.url, common);
}

/**
 * ioredis has no logger of its own to hand (it writes to stderr only when nothing listens for
 * `error`): its connection events go to our log instead, as JSON like every other line.
 */
export function logRedisEvents(redis: Redis, log: Logger): void {
  const redisLog = log.child({ component: 'redis' });
  redis.on('error', (error: Error) => redisLog.warn({ err: error }, 'redis connection problem'));
  redis.on('reconnecting', (delayMs: number) => redisLog.debug({ delayMs }, 'reconnecting to redis'));
  redis.on('ready', () => redisLog.debug('redis connection ready'));
}

function sentinelAuth(url: string): Pick<RedisOptions, 'username' | 'password' | 'db'> {
  const parsed = new URL(url);
  return {
    username: decodeURIComponent(parsed.username) || undefined,
    password: decodeURIComponent(parsed.password) || undefined,
    db: Number(parsed.pathname.slice(1)) || 0,
  };
}

/** PING with a deadline, for /healthz and doctor. */
export async function pingRedis(redis: Redis, timeoutMs = 1_000): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(new KaizenError('unreachable', 'Redis did not answer a PING in time', { service: 'redis' })),
      timeoutMs,
    );
  });
  try {
    await Promise.race([redis.ping(), timeout]);
  } catch (error) {
    if (error instanceof KaizenError) throw error;
    throw new KaizenError('unreachable', 'Redis is not reachable: is it running, and is REDIS_URL right?', {
      service: 'redis',
      cause: error,
    });
  } finally {
    clearTimeout(timer);
  }
}
