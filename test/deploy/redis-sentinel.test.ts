/**
 * REDIS_SENTINELS + REDIS_SENTINEL_NAME against a real Sentinel: a password-protected Redis and one
 * Sentinel watching it, both started here on free ports. The data node's password comes from
 * REDIS_URL, as the deployment guide says.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/platform/config/config.js';
import { createRedis, pingRedis } from '../../src/platform/redis.js';
import { uniquePrefix } from '../support/bot.js';
import { freePort } from '../support/local-http.js';
import { startRedis } from '../support/redis-server.js';

const PASSWORD = 'sentinel-test-password';

describe('Redis through Sentinel', () => {
  let dir: string;
  const children: ChildProcess[] = [];
  let sentinelPort: number;
  let dataPort: number;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kaizen-sentinel-'));
    [dataPort, sentinelPort] = [await freePort(), await freePort()];
    const sentinelConf = join(dir, 'sentinel.conf');
    await writeFile(
      sentinelConf,
      [
        `port ${sentinelPort}`,
        'bind 127.0.0.1',
        `dir ${dir}`,
        `sentinel monitor kaizen 127.0.0.1 ${dataPort} 1`,
        `sentinel auth-pass kaizen ${PASSWORD}`,
        '',
      ].join('\n'),
    );
    const dataArgs = ['--port', String(dataPort), '--bind', '127.0.0.1', '--requirepass', PASSWORD];
    const data = startRedis([...dataArgs, '--save', '', '--dir', dir], /Ready to accept connections/);
    children.push(await data);
    children.push(await startRedis([sentinelConf, '--sentinel'], /\+monitor master kaizen/));
  });

  afterAll(async () => {
    for (const child of children) child.kill('SIGTERM');
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const settings = (url: string) =>
    loadConfig({
      REDIS_URL: url,
      REDIS_SENTINELS: `127.0.0.1:${sentinelPort}`,
      REDIS_SENTINEL_NAME: 'kaizen',
      REDIS_KEY_PREFIX: uniquePrefix('sentinel'),
    }).redis;

  it('finds the primary through the Sentinel and logs in with the password from REDIS_URL', async () => {
    const config = settings(`redis://:${PASSWORD}@ignored.invalid:6379/0`);
    const redis = createRedis(config);
    try {
      await pingRedis(redis, 5_000);
      await redis.set('probe', 'through sentinel');
      const direct = new Redis({ port: dataPort, host: '127.0.0.1', password: PASSWORD });
      try {
        expect(await direct.get(`${config.keyPrefix}probe`)).toBe('through sentinel');
      } finally {
        direct.disconnect();
      }
    } finally {
      redis.disconnect();
    }
  });

  it('is refused by the primary without the password', async () => {
    const redis = createRedis(settings('redis://ignored.invalid:6379'), {
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    redis.on('error', () => {});
    try {
      await expect(redis.set('probe', 'x')).rejects.toThrow(/NOAUTH|Authentication|closed/i);
    } finally {
      redis.disconnect();
    }
  });
});
