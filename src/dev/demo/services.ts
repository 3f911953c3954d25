/**
 * The two real services the demo needs, reused when they already answer: Redis (Debian's
 * redis-server started when nothing answers, as .ci/run does) and Keystone (the shared one the
 * TEST_OS_* or OS_* settings name, else test/keystone/start.sh, which reuses a running one).
 * Whatever is started here is stopped by its pid.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';

export interface KeystoneAccess {
  authUrl: string;
  username: string;
  password: string;
  projectName: string;
  userDomainName: string;
  projectDomainName: string;
}

/** A service the demo uses; `pid` is set only when the demo started it (and so must stop it). */
export interface UsedService {
  description: string;
  pid: number | undefined;
}

export async function redisAnswers(url: string): Promise<boolean> {
  const redis = new Redis(url, {
    lazyConnect: true,
    connectTimeout: 1500,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    return (await redis.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    redis.disconnect();
  }
}

/** Reuses the Redis at `url`, or starts redis-server there when the URL is local and nothing answers. */
export async function ensureRedis(url: string, stateDir: string): Promise<UsedService> {
  if (await redisAnswers(url)) return { description: `reusing Redis at ${url}`, pid: undefined };
  const parsed = new URL(url);
  if (!['127.0.0.1', 'localhost'].includes(parsed.hostname)) {
    throw new Error(`Redis at ${parsed.host} does not answer, and it is not on this machine to start it`);
  }
  const port = parsed.port || '6379';
  const log = openSync(join(stateDir, 'redis.log'), 'a');
  const child = spawn(
    'redis-server',
    ['--bind', '127.0.0.1', '--port', port, '--save', '', '--appendonly', 'no', '--dir', stateDir],
    { detached: true, stdio: ['ignore', log, log] },
  );
  const failed = new Promise<never>((_, reject) => {
    child.once('error', (error) =>
      reject(
        new Error(
          `could not run redis-server (${error.message}); install it: sudo apt-get install redis-server`,
        ),
      ),
    );
    child.once('exit', (code) =>
      reject(new Error(`redis-server exited with ${code}; see ${stateDir}/redis.log`)),
    );
  });
  failed.catch(() => undefined);
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    await Promise.race([failed, new Promise((resolve) => setTimeout(resolve, 100))]);
    if (await redisAnswers(url)) {
      child.removeAllListeners('exit');
      child.unref();
      return { description: `started redis-server on port ${port} (pid ${child.pid})`, pid: child.pid };
    }
  }
  if (child.pid !== undefined) await stopPid(child.pid);
  throw new Error(`redis-server did not answer on port ${port} within 10 s`);
}

/** The Keystone named by TEST_OS_* (as the tests' global setup reads them) or OS_*, if any. */
export function configuredKeystone(env: NodeJS.ProcessEnv): KeystoneAccess | undefined {
  for (const prefix of ['TEST_OS_', 'OS_']) {
    const authUrl = env[`${prefix}AUTH_URL`];
    const username = env[`${prefix}USERNAME`];
    const password = env[`${prefix}PASSWORD`];
    if (!authUrl) continue;
    if (!username || !password)
      throw new Error(`${prefix}AUTH_URL is set, so ${prefix}USERNAME and ${prefix}PASSWORD must be too`);
    return {
      authUrl,
      username,
      password,
      projectName: env[`${prefix}PROJECT_NAME`] || 'admin',
      userDomainName: env[`${prefix}USER_DOMAIN_NAME`] || 'Default',
      projectDomainName: env[`${prefix}PROJECT_DOMAIN_NAME`] || 'Default',
    };
  }
  return undefined;
}

async function answers(url: string): Promise<boolean> {
  try {
    return (await fetch(url, { signal: AbortSignal.timeout(3000) })).status === 200;
  } catch {
    return false;
  }
}

/**
 * The Keystone of the settings, or the local one of test/keystone/start.sh (started when it is not
 * running: a minute or two the first time, while Debian's packages install).
 */
export async function ensureKeystone(
  repoRoot: string,
  env: NodeJS.ProcessEnv,
  progress: (line: string) => void,
): Promise<{ access: KeystoneAccess; service: UsedService }> {
  const configured = configuredKeystone(env);
  if (configured) {
    return {
      access: configured,
      service: { description: `using Keystone at ${configured.authUrl}`, pid: undefined },
    };
  }
  const port = env.KEYSTONE_PORT || '5391';
  const password = env.KEYSTONE_ADMIN_PASSWORD || 'kaizen-test-admin';
  const stateDir = join(repoRoot, env.KEYSTONE_DIR || '.keystone');
  const wasRunning = await answers(`http://127.0.0.1:${port}/v3`);
  if (!wasRunning) progress('starting Keystone (test/keystone/start.sh)…');
  const authUrl = await startKeystone(join(repoRoot, 'test', 'keystone', 'start.sh'), {
    ...env,
    KEYSTONE_PORT: port,
    KEYSTONE_ADMIN_PASSWORD: password,
    KEYSTONE_DIR: stateDir,
  });
  const access = {
    authUrl,
    username: 'admin',
    password,
    projectName: 'admin',
    userDomainName: 'Default',
    projectDomainName: 'Default',
  };
  if (wasRunning)
    return { access, service: { description: `reusing Keystone at ${authUrl}`, pid: undefined } };
  const pid = Number(readFileSync(join(stateDir, 'uwsgi.pid'), 'utf8').trim());
  return { access, service: { description: `started Keystone at ${authUrl} (pid ${pid})`, pid } };
}

/**
 * Runs start.sh with its progress (package installs, bootstrap) shown as it happens: a first start
 * takes minutes. Answers the auth URL it prints last on stdout.
 */
async function startKeystone(script: string, env: NodeJS.ProcessEnv): Promise<string> {
  const child = spawn('bash', [script], { env, stdio: ['ignore', 'pipe', 'inherit'] });
  const chunks: string[] = [];
  child.stdout.on('data', (chunk) => chunks.push(String(chunk)));
  const [code] = (await once(child, 'exit')) as [number | null];
  if (code !== 0) throw new Error(`test/keystone/start.sh failed (exit ${code}); its output is above`);
  return chunks.join('').trim().split('\n').at(-1) ?? '';
}

export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** SIGTERM to a process the demo started; resolves once it is gone (SIGKILL after 15 s). */
export async function stopPid(pid: number): Promise<void> {
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return;
  }
  const deadline = Date.now() + 15_000;
  while (pidAlive(pid) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
  if (pidAlive(pid)) {
    try {
      // Both redis-server and Keystone's uwsgi lead a process group of their own.
      process.kill(-pid, 'SIGKILL');
    } catch {
      process.kill(pid, 'SIGKILL');
    }
  }
}

/** Deletes the keys under the demo run's prefix, so a stopped demo leaves nothing in Redis. */
export async function deleteKeys(url: string, prefix: string): Promise<void> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
      if (keys.length > 0) await redis.del(...keys);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}
