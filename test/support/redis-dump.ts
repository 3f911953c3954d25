/** Reading everything a bot keeps in Redis, for tests that look at what is stored at rest. */
import type { Redis } from 'ioredis';

/**
 * Every key under `prefix` with everything it holds, as JSON text. `redis` must have no key prefix
 * of its own: keys are read as stored.
 */
export async function dumpRedis(redis: Redis, prefix: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  let cursor = '0';
  do {
    const [next, found] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
    cursor = next;
    for (const key of found) {
      const type = await redis.type(key);
      let values: unknown;
      if (type === 'string') values = await redis.get(key);
      else if (type === 'hash') values = await redis.hgetall(key);
      else if (type === 'stream') values = await redis.xrange(key, '-', '+');
      else if (type === 'zset') values = await redis.zrange(key, 0, -1, 'WITHSCORES');
      else if (type === 'list') values = await redis.lrange(key, 0, -1);
      else if (type === 'set') values = (await redis.smembers(key)).sort();
      else if (type === 'none') continue;
      else values = `(${type})`;
      out.set(key, JSON.stringify(values));
    }
  } while (cursor !== '0');
  return out;
}
