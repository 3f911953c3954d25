/**
 * REDIS_SENTINELS + REDIS_SENTINEL_NAME against a real Sentinel: a password-protected Redis and one
 * Sentinel watching it, both started here on free ports. The data node's password comes from
 * REDIS_URL, as the deployment guide says.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { createRedis, pingRedis } from '../../src/redis.js';
import { uniquePrefix } from '../support/bot.js';

const PASSWORD = 'sentinel-test-password';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

/** Resolves once `redis-cli`-style PING answers on the port (Sentinel answers PING too). */
async function answersPing(port: number, password?: string): Promise<void> {
  const client = new Redis({ port, host: '127.0.0.1', password, lazyConnect: true, retryStrategy: () => 50 });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.ping();
  } finally {
    client.disconnect();
  }
}

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
    const options = { stdio: 'ignore' as const };
    const dataArgs = ['--port', String(dataPort), '--bind', '127.0.0.1', '--requirepass', PASSWORD];
    children.push(spawn('redis-server', [...dataArgs, '--save', '', '--dir', dir], options));
    children.push(spawn('redis-server', [sentinelConf, '--sentinel'], options));
    await answersPing(dataPort, PASSWORD);
    await answersPing(sentinelPort);
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
