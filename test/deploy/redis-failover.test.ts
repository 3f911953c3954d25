/**
 * A Sentinel failover under a running bot: a primary with one replica and a Sentinel watching them,
 * all started here on free ports. The bot finds the primary through the Sentinel, records an
 * application, then `SENTINEL FAILOVER` promotes the replica and turns the old primary into a
 * replica (which answers writes with READONLY). The bot must carry on against the promoted node.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keys } from '../../src/platform/keys.js';
import { sampleApplicant } from '../support/applicants.js';
import { startTestBot, type TestBot, testEnv } from '../support/bot.js';
import { freePort } from '../support/local-http.js';
import { startRedis } from '../support/redis-server.js';
import { type SlackFake, startSlackFake } from '../support/slack-fake.js';

const NAME = 'kaizen';

/** Polls `probe` every 50 ms until it answers true, up to `limitMs`. */
async function until(what: string, limitMs: number, probe: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('a Sentinel failover under a running bot', () => {
  let dir: string;
  const children: ChildProcess[] = [];
  let primaryPort: number;
  let replicaPort: number;
  let sentinel: Redis;
  let slack: SlackFake;
  let running: TestBot;

  const role = async (port: number): Promise<string> => {
    const client = new Redis({ port, host: '127.0.0.1', maxRetriesPerRequest: 0 });
    try {
      return String(((await client.call('ROLE')) as unknown[])[0]);
    } finally {
      client.disconnect();
    }
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kaizen-failover-'));
    [primaryPort, replicaPort] = [await freePort(), await freePort()];
    const sentinelPort = await freePort();
    const node = (port: number) => [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--dir',
      dir,
    ];
    children.push(await startRedis(node(primaryPort), /Ready to accept connections/));
    children.push(
      await startRedis(
        [...node(replicaPort), '--replicaof', '127.0.0.1', String(primaryPort)],
        /MASTER <-> REPLICA sync: Finished with success/,
      ),
    );
    const sentinelConf = join(dir, 'sentinel.conf');
    await writeFile(
      sentinelConf,
      [
        `port ${sentinelPort}`,
        'bind 127.0.0.1',
        `dir ${dir}`,
        `sentinel monitor ${NAME} 127.0.0.1 ${primaryPort} 1`,
        '',
      ].join('\n'),
    );
    children.push(await startRedis([sentinelConf, '--sentinel'], /\+monitor master kaizen/));
    sentinel = new Redis({ port: sentinelPort, host: '127.0.0.1' });
    // The Sentinel learns of the replica from the primary's INFO, sent every 10 s at first.
    await until('the Sentinel to know the replica', 30_000, async () => {
      const replicas = (await sentinel.call('SENTINEL', 'REPLICAS', NAME)) as string[][];
      return replicas.some((fields) => fields.includes(String(replicaPort)));
    });
    slack = await startSlackFake();
    running = await startTestBot(
      testEnv({
        SLACK_API_URL: `${slack.url}/api/`,
        REDIS_URL: 'redis://ignored.invalid:6379/0',
        REDIS_SENTINELS: `127.0.0.1:${sentinelPort}`,
        REDIS_SENTINEL_NAME: NAME,
      }),
    );
  }, 60_000);

  afterAll(async () => {
    await running?.stop();
    await slack?.close();
    sentinel?.disconnect();
    for (const child of children) child.kill('SIGTERM');
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('keeps writing on the promoted replica, with what was written before still there', async () => {
    const { applications, redis } = running.bot.services;
    if (applications === undefined) throw new Error('the bot runs without an application store');
    const applicant = sampleApplicant({ id: 'failover-1', email: 'failover@example.org' });
    const quota = { kind: 'preset', preset: 'small' } as const;
    expect(await applications.create({ applicant, pinHash: undefined, quota })).toBe(true);
    // Replication is asynchronous: a write the primary has taken but not yet passed on is lost when
    // the replica is promoted (Redis promises no more). This test is about the bot following the
    // promotion, so it waits, on the bot's own connection, until the replica has the record.
    expect(await redis.call('WAIT', 1, 10_000)).toBe(1);

    // A Sentinel that has just learnt of the replica has not had its INFO yet and answers
    // NOGOODSLAVE for a few seconds: ask until it takes the failover on.
    await until('the Sentinel to start the failover', 30_000, async () => {
      try {
        await sentinel.call('SENTINEL', 'FAILOVER', NAME);
        return true;
      } catch (error) {
        if (String(error).includes('NOGOODSLAVE')) return false;
        throw error;
      }
    });
    await until('the Sentinel to name the replica as primary', 30_000, async () => {
      const address = (await sentinel.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', NAME)) as string[];
      return address[1] === String(replicaPort);
    });
    // The old primary is now a replica: a client still on it would get READONLY for every write.
    await until(
      'the old primary to become a replica',
      30_000,
      async () => (await role(primaryPort)) === 'slave',
    );
    expect(await role(replicaPort)).toBe('master');

    const moved = await applications.transition('failover-1', ['pending'], 'approving', {
      decidedBy: 'U0ADMIN',
    });
    expect(moved.ok, `the record on the promoted node: ${JSON.stringify(moved.record?.state)}`).toBe(true);
    await applications.checkpoint('failover-1', 'project', 'p-1');
    await redis.set('after-failover', 'written');

    const promoted = new Redis({ port: replicaPort, host: '127.0.0.1' });
    try {
      const stored = JSON.parse(
        (await promoted.get(`${running.env.REDIS_KEY_PREFIX}${keys.application('failover-1')}`)) ?? '{}',
      );
      expect(stored).toMatchObject({
        state: 'approving',
        decidedBy: 'U0ADMIN',
        checkpoints: { project: 'p-1' },
      });
      expect(stored.applicant).toMatchObject({ email: 'failover@example.org' });
      expect(await promoted.get(`${running.env.REDIS_KEY_PREFIX}after-failover`)).toBe('written');
    } finally {
      promoted.disconnect();
    }
  }, 90_000);
});
