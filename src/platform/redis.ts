import { Cluster, type RedisOptions, Redis as RedisServer } from 'ioredis';
import type { Config } from './config/config.js';
import { KaizenError } from './errors.js';
import type { Logger } from './log.js';

/**
 * The one client a process holds: a single server (or one found through Sentinel), or a Redis
 * Cluster. Every key carries a hash tag (src/platform/keys.ts), so what runs together shares a slot.
 */
export type Redis = RedisServer | Cluster;

/**
 * One client per process: a Redis Cluster when REDIS_CLUSTER_NODES is set, Sentinel when
 * REDIS_SENTINELS is, otherwise REDIS_URL. With either of the first two, REDIS_URL still gives the
 * user name and password of the data nodes (and, for Sentinel, the database).
 */
export function createRedis(config: Config['redis'], extra: RedisOptions = {}): Redis {
  const common: RedisOptions = {
    keyPrefix: config.keyPrefix || undefined,
    // Fail a command after a few reconnect attempts instead of queueing forever while Redis is down.
    maxRetriesPerRequest: 2,
    connectTimeout: 5_000,
    retryStrategy: (attempt) => Math.min(attempt * 200, 2_000),
    lazyConnect: false,
    // Commands issued in the same turn of the event loop (the password page under load, a burst of
    // Slack clicks) go out in one write: one system call where there were one per command. (Not in
    // a Redis Cluster: see below.)
    enableAutoPipelining: true,
    ...extra,
  };
  if (config.clusterNodes) {
    // No auto-pipelining in a cluster: ioredis groups a turn's commands by the slot of their first
    // argument, which for EVALSHA is the script's hash, not a key, so a batch can hold keys of
    // several slots and come back MOVED (test/deploy/redis-cluster.test.ts saw it).
    const { keyPrefix, lazyConnect, retryStrategy, enableAutoPipelining: _, ...perNode } = common;
    const url = new URL(config.url);
    return new Cluster(config.clusterNodes.map(hostPort(6379)), {
      keyPrefix,
      lazyConnect,
      enableAutoPipelining: false,
      clusterRetryStrategy: retryStrategy,
      redisOptions: {
        ...perNode,
        ...sentinelAuth(config.url),
        // A cluster has one database; the rest of REDIS_URL gives the nodes' user, password and TLS.
        db: 0,
        tls: url.protocol === 'rediss:' ? {} : undefined,
      },
    });
  }
  if (config.sentinels) {
    const sentinels = config.sentinels.map(hostPort(26379));
    return new RedisServer({ ...sentinelAuth(config.url), ...common, sentinels, name: config.sentinelName });
  }
  return new RedisServer(config.url, common);
}

/** `host:port` (or `[v6]:port`) as ioredis takes it; the port defaults to the given one. */
function hostPort(defaultPort: number): (entry: string) => { host: string; port: number } {
  return (entry) => {
    const match = /^\[?([^\]]*?)\]?(?::(\d+))?$/.exec(entry.trim());
    return { host: match?.[1] || '127.0.0.1', port: Number(match?.[2] ?? defaultPort) };
  };
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

/** SCAN walks one server's keys: in a cluster, each master's in turn. */
export function scanTargets(redis: Redis): RedisServer[] {
  return redis instanceof Cluster ? redis.nodes('master') : [redis];
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
