/**
 * A Redis started with cluster mode on and every slot assigned to itself: one process, but it
 * refuses what a real cluster refuses (CROSSSLOT for a script, transaction or command whose keys
 * hash to different slots), so the bot's real flows can run against it.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort } from '../support/local-http.js';

export interface SingleNodeCluster {
  url: string;
  stop(): Promise<void>;
}

function started(child: ChildProcess): Promise<void> {
  return new Promise((resolve, reject) => {
    let output = '';
    const onData = (chunk: Buffer) => {
      output += String(chunk);
      if (output.includes('Ready to accept connections')) {
        child.stdout?.off('data', onData);
        child.stdout?.resume();
        resolve();
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.resume();
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`redis-server exited with ${code}:\n${output}`)));
  });
}

export async function startSingleNodeCluster(): Promise<SingleNodeCluster> {
  const dir = await mkdtemp(join(tmpdir(), 'kaizen-cluster-'));
  const port = await freePort();
  const child = spawn(
    'redis-server',
    [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--cluster-enabled',
      'yes',
      '--cluster-config-file',
      join(dir, 'nodes.conf'),
      '--dir',
      dir,
      '--save',
      '',
      '--appendonly',
      'no',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  await started(child);
  const admin = new Redis({ port, host: '127.0.0.1' });
  try {
    await admin.call('CLUSTER', 'ADDSLOTSRANGE', '0', '16383');
    // The node marks itself ok asynchronously after taking the slots.
    let ready = false;
    for (let attempt = 0; attempt < 250 && !ready; attempt++) {
      ready = String(await admin.call('CLUSTER', 'INFO')).includes('cluster_state:ok');
      if (!ready) await new Promise((resolve) => setTimeout(resolve, 20));
    }
    if (!ready) throw new Error('the cluster-mode Redis did not reach cluster_state:ok');
  } finally {
    admin.disconnect();
  }
  return {
    url: `redis://127.0.0.1:${port}`,
    async stop() {
      child.kill('SIGTERM');
      await rm(dir, { recursive: true, force: true });
    },
  };
}
