/**
 * Redis servers of a test's own, for tests that must stop, crash or restart Redis without touching
 * the shared one on 6379 that other test files use at the same time.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { freePort } from './local-http.js';

const run = promisify(execFile);

/** Starts redis-server and resolves once it logs `ready` (the data node, or a Sentinel's monitor). */
export function startRedis(args: string[], ready: RegExp): Promise<ChildProcess> {
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

/**
 * One redis-server on a free port with its files in a temporary directory and no automatic
 * snapshots (`--save ""`). It can be crashed (SIGKILL: what was not saved is lost), shut down
 * keeping its data (SHUTDOWN SAVE, as a service restart does), and started again on the same port.
 */
export class PrivateRedis {
  private child: ChildProcess | undefined;

  private constructor(
    readonly port: number,
    private readonly dir: string,
    private readonly extraArgs: string[],
  ) {}

  /** `extraArgs` go to redis-server as they are, e.g. `['--aclfile', path]`. */
  static async start(extraArgs: string[] = []): Promise<PrivateRedis> {
    const dir = await mkdtemp(join(tmpdir(), 'kaizen-private-redis-'));
    const redis = new PrivateRedis(await freePort(), dir, extraArgs);
    await redis.up();
    return redis;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  get running(): boolean {
    return this.child !== undefined;
  }

  /** Starts the server again on its port, loading what the last SHUTDOWN SAVE wrote. */
  async up(): Promise<void> {
    if (this.child !== undefined) return;
    const args = [
      '--port',
      String(this.port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--dir',
      this.dir,
      ...this.extraArgs,
    ];
    const child = await startRedis(args, /Ready to accept connections/);
    // The test process may end without afterAll (a crash): the server must not outlive it.
    const reap = () => child.kill('SIGKILL');
    process.once('exit', reap);
    child.once('exit', () => process.off('exit', reap));
    this.child = child;
  }

  /** A graceful stop that writes the data to disk first, so `up()` brings it back. */
  async shutdownKeepingData(): Promise<void> {
    const child = this.child;
    if (child === undefined) return;
    const exited = once(child, 'exit');
    const client = new Redis(this.url, { maxRetriesPerRequest: 0, retryStrategy: () => null });
    client.on('error', () => {});
    // SHUTDOWN closes the connection instead of answering.
    await client.call('SHUTDOWN', 'SAVE').catch(() => undefined);
    client.disconnect();
    await exited;
    this.child = undefined;
  }

  /** Kills the server as a crash would: no goodbye to clients, nothing saved. */
  async crash(): Promise<void> {
    const child = this.child;
    if (child === undefined) return;
    const exited = once(child, 'exit');
    child.kill('SIGKILL');
    await exited;
    this.child = undefined;
  }

  /** Stops the server (if running) and removes its directory. */
  async close(): Promise<void> {
    await this.crash();
    await rm(this.dir, { recursive: true, force: true });
  }
}

/** A Redis Cluster of a test's own: `nodes` masters on loopback, every slot assigned, no replicas. */
export interface RedisClusterNodes {
  /** `127.0.0.1:port` of each node, as REDIS_CLUSTER_NODES takes them. */
  nodes: string[];
  close(): Promise<void>;
}

export async function startRedisCluster(nodes = 3): Promise<RedisClusterNodes> {
  const dir = await mkdtemp(join(tmpdir(), 'kaizen-redis-cluster-'));
  const children: ChildProcess[] = [];
  const reap = () => {
    for (const child of children) child.kill('SIGKILL');
  };
  process.once('exit', reap);
  const close = async () => {
    process.off('exit', reap);
    await Promise.all(
      children.map(async (child) => {
        if (child.exitCode !== null) return;
        const exited = once(child, 'exit');
        child.kill('SIGKILL');
        await exited;
      }),
    );
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const ports: number[] = [];
    for (let i = 0; i < nodes; i++) {
      const port = await freePort();
      const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'];
      args.push(
        '--cluster-enabled',
        'yes',
        '--cluster-config-file',
        join(dir, `nodes-${port}.conf`),
        '--dir',
        dir,
      );
      children.push(await startRedis(args, /Ready to accept connections/));
      ports.push(port);
    }
    const addresses = ports.map((port) => `127.0.0.1:${port}`);
    await run('redis-cli', ['--cluster', 'create', ...addresses, '--cluster-replicas', '0', '--cluster-yes']);
    // Each node learns the others' slots through the cluster bus, a moment after create returns.
    for (const port of ports) {
      const client = new Redis({ port, host: '127.0.0.1', maxRetriesPerRequest: 0 });
      try {
        let ok = false;
        for (let attempt = 0; attempt < 500 && !ok; attempt++) {
          ok = String(await client.call('CLUSTER', 'INFO')).includes('cluster_state:ok');
          if (!ok) await new Promise((resolve) => setTimeout(resolve, 20));
        }
        if (!ok) throw new Error(`cluster node ${port} did not reach cluster_state:ok`);
      } finally {
        client.disconnect();
      }
    }
    return { nodes: addresses, close };
  } catch (error) {
    await close();
    throw error;
  }
}
