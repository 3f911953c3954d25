import { execFile } from 'node:child_process';
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import type { TestProject } from 'vitest/node';
import type { ProvidedKeystone } from './support/provided.js';

const run = promisify(execFile);
const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const scripts = join(repoRoot, 'test', 'keystone');
const DEFAULT_ADMIN_PASSWORD = 'kaizen-test-admin';

/** For messages: a Redis URL may carry a password. */
function withoutCredentials(url: string): string {
  try {
    const parsed = new URL(url);
    parsed.username = '';
    parsed.password = '';
    return parsed.toString();
  } catch {
    return '(an invalid URL)';
  }
}

async function checkRedis(url: string): Promise<void> {
  const redis = new Redis(url, {
    lazyConnect: true,
    connectTimeout: 2000,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  // The socket's own error (ECONNREFUSED…) says more than the "Connection is closed" that connect()
  // rejects with; listening also stops ioredis from printing every attempt.
  let socketError: Error | undefined;
  redis.on('error', (error: Error) => {
    socketError = error;
  });
  try {
    await redis.connect();
    await redis.ping();
  } catch (error) {
    const reason = (socketError ?? (error instanceof Error ? error : new Error(String(error)))).message;
    throw new Error(
      `The tests need Redis at ${withoutCredentials(url)}, which did not answer PING (${reason}). ` +
        'Start one (e.g. `redis-server --daemonize yes`) or point REDIS_URL at one.',
    );
  } finally {
    redis.disconnect();
  }
}

function existingKeystone(env: NodeJS.ProcessEnv): ProvidedKeystone | undefined {
  const authUrl = env.TEST_OS_AUTH_URL;
  if (authUrl === undefined || authUrl === '') return undefined;
  const { TEST_OS_USERNAME: username, TEST_OS_PASSWORD: password } = env;
  if (!username || !password) {
    throw new Error('TEST_OS_AUTH_URL is set, so TEST_OS_USERNAME and TEST_OS_PASSWORD must be set too.');
  }
  return {
    authUrl,
    username,
    password,
    projectName: env.TEST_OS_PROJECT_NAME || 'admin',
    userDomainName: env.TEST_OS_USER_DOMAIN_NAME || 'Default',
    projectDomainName: env.TEST_OS_PROJECT_DOMAIN_NAME || 'Default',
    region: env.TEST_OS_REGION_NAME || 'RegionOne',
  };
}

async function answers(url: string): Promise<boolean> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(3000) });
    return response.status === 200;
  } catch {
    return false;
  }
}

/**
 * Several test runs may share one local Keystone (two terminals, an editor's runner). Each run leaves a
 * lease file named by its pid; the run that started Keystone stops it only when no other live run
 * still holds a lease.
 */
class Leases {
  private readonly dir: string;
  private readonly mine: string;

  constructor(stateDir: string) {
    this.dir = join(stateDir, 'leases');
    this.mine = join(this.dir, String(process.pid));
  }

  async take(): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    await writeFile(this.mine, '');
  }

  async release(): Promise<void> {
    await rm(this.mine, { force: true });
  }

  async othersAlive(): Promise<boolean> {
    const names = await readdir(this.dir).catch(() => []);
    return names.some((name) => {
      const pid = Number(name);
      if (!Number.isInteger(pid) || pid === process.pid) return false;
      try {
        process.kill(pid, 0);
        return true;
      } catch {
        return false;
      }
    });
  }
}

async function startLocalKeystone(): Promise<{ keystone: ProvidedKeystone; stop: () => Promise<void> }> {
  const port = process.env.KEYSTONE_PORT || '5391';
  const password = process.env.KEYSTONE_ADMIN_PASSWORD || DEFAULT_ADMIN_PASSWORD;
  const stateDir = resolve(repoRoot, process.env.KEYSTONE_DIR || '.keystone');
  const env = {
    ...process.env,
    KEYSTONE_PORT: port,
    KEYSTONE_ADMIN_PASSWORD: password,
    KEYSTONE_DIR: stateDir,
  };
  const leases = new Leases(stateDir);
  await leases.take();

  const wasRunning = await answers(`http://127.0.0.1:${port}/v3`);
  const started = Date.now();
  let authUrl: string;
  try {
    const { stdout, stderr } = await run('bash', [join(scripts, 'start.sh')], { env, timeout: 175_000 });
    process.stderr.write(stderr);
    authUrl = stdout.trim().split('\n').at(-1) ?? '';
  } catch (error) {
    await leases.release();
    const stderr =
      typeof error === 'object' && error !== null && 'stderr' in error ? String(error.stderr) : '';
    throw new Error(`test/keystone/start.sh could not start Keystone:\n${stderr}`);
  }
  process.stderr.write(`keystone: ${wasRunning ? 'reused' : 'started'} in ${Date.now() - started} ms\n`);

  const stop = async (): Promise<void> => {
    await leases.release();
    if (wasRunning || process.env.KEEP_KEYSTONE || (await leases.othersAlive())) return;
    await run('bash', [join(scripts, 'stop.sh')], { env, timeout: 60_000 });
  };
  const keystone: ProvidedKeystone = {
    authUrl,
    username: 'admin',
    password,
    projectName: 'admin',
    userDomainName: 'Default',
    projectDomainName: 'Default',
    region: 'RegionOne',
  };
  return { keystone, stop };
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const redisUrl = process.env.REDIS_URL || 'redis://127.0.0.1:6379';
  await checkRedis(redisUrl);
  project.provide('redisUrl', redisUrl);

  const existing = existingKeystone(process.env);
  if (existing !== undefined) {
    project.provide('keystone', existing);
    return async () => {};
  }
  const { keystone, stop } = await startLocalKeystone();
  project.provide('keystone', keystone);
  return stop;
}
