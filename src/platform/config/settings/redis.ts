/** Where state lives: one server, Sentinel or Cluster, and the key prefix. */
import { z } from 'zod';
import { list, setting, text } from '../setting.js';

export const redisSettings = {
  redisUrl: setting(
    'REDIS_URL',
    'Redis',
    'Redis server',
    z.url({ protocol: /^rediss?$/ }),
    'a redis:// or rediss:// URL',
    {
      fallback: 'redis://127.0.0.1:6379',
    },
  ),
  redisSentinels: setting(
    'REDIS_SENTINELS',
    'Redis',
    'comma list of host:port Sentinels (instead of REDIS_URL)',
    list,
    'a comma-separated list of host:port',
  ),
  redisClusterNodes: setting(
    'REDIS_CLUSTER_NODES',
    'Redis',
    'comma list of host:port nodes of a Redis Cluster (instead of REDIS_URL, whose user and password still apply)',
    list,
    'a comma-separated list of host:port',
  ),
  redisSentinelName: setting('REDIS_SENTINEL_NAME', 'Redis', 'master name for Sentinel', text, 'a name', {
    fallback: 'mymaster',
  }),
  redisKeyPrefix: setting(
    'REDIS_KEY_PREFIX',
    'Redis',
    'prefix for every key, to share one Redis',
    z.string(),
    'a short text such as kaizen:',
    { fallback: '' },
  ),
} as const;
