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

/** Starts redis-server and resolves once it logs `ready` (the data node, or the Sentinel's monitor). */
function startRedis(args: string[], ready: RegExp): Promise<ChildProcess> {
  const child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    let output = '';
    const onData = (chunk: Buffer) => {
      output += String(chunk);
      if (ready.test(output)) {
        child.stdout?.off('data', onData);
        child.stdout?.resume();
        resolve(child);
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.resume();
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`redis-server exited with ${code}:\n${output}`)));
  });
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
