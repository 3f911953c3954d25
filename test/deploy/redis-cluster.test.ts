/**
 * REDIS_CLUSTER_NODES: the bot on a real Redis Cluster (three masters on loopback, slots spread
 * over them by `redis-cli --cluster create`). Two admins approving at once provision once, and
 * the keys land on more than one node, so the hash tags are what keep each flow in one slot.
 */
import { Cluster } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runDoctor } from '../../src/ops/doctor.js';
import { loadConfig } from '../../src/platform/config/config.js';
import { keepHouse } from '../../src/platform/jobs/housekeeping.js';
import { keys } from '../../src/platform/keys.js';
import { silentLogger } from '../../src/platform/log.js';
import {
  ADMIN_1,
  ADMIN_2,
  applicantWithCard,
  click,
  footprint,
  type Harness,
  isApproved,
  ONE_OF_EVERYTHING,
  recordOf,
  startHarness,
  waitForCard,
} from '../approval/harness.js';
import { type TestBot, uniquePrefix } from '../support/bot.js';
import { type RedisClusterNodes, startRedisCluster } from '../support/redis-server.js';

let cluster: RedisClusterNodes;
let world: Harness;
let bot: TestBot;
const prefix = uniquePrefix('cluster');

beforeAll(async () => {
  cluster = await startRedisCluster(3);
  world = await startHarness('cluster');
  bot = await world.start(prefix, {
    REDIS_CLUSTER_NODES: cluster.nodes.join(','),
    REDIS_URL: `redis://${cluster.nodes[0]}`,
  });
});
afterAll(async () => {
  await world?.close();
  await cluster?.close();
});

describe('the bot on a Redis Cluster', () => {
  it('talks to the cluster, not to one server', () => {
    expect(bot.bot.services.redis).toBeInstanceOf(Cluster);
  });

  it('approves an applicant once when two admins click Approve at the same moment', async () => {
    const ann = await applicantWithCard(world, bot, 'cl');
    const replies = await Promise.all([
      click(bot, ann.card, ADMIN_1, 'applicant_approve'),
      click(bot, ann.card, ADMIN_2, 'applicant_approve'),
    ]);
    expect(replies.map((reply) => reply.status)).toEqual([200, 200]);
    await waitForCard(world.slack, ann.email, isApproved);
    await world.smtp.waitForMessages(1);
    expect(await footprint(world, ann)).toEqual(ONE_OF_EVERYTHING);
    const record = await recordOf(bot, ann.id);
    expect(['provisioned', 'notified']).toContain(record?.state);
  });

  it('spreads the keys over the nodes, and housekeeping scans every master', async () => {
    const redis = bot.bot.services.redis as Cluster;
    const holding = await Promise.all(
      redis.nodes('master').map(async (node) => (await node.keys(`${prefix}*`)).length),
    );
    expect(holding.filter((count) => count > 0).length).toBeGreaterThan(1);

    // A lock left without an expiry, wherever its slot lives, is found and released.
    await redis.set(keys.applicationLock('stuck'), 'x');
    const run = await keepHouse({ redis, keyPrefix: prefix, auditMaxLength: 1000, log: silentLogger });
    expect(run.locksReleased).toBe(1);
    expect(await redis.exists(keys.applicationLock('stuck'))).toBe(0);
  });

  it('is checked by doctor', async () => {
    const config = loadConfig({
      REDIS_CLUSTER_NODES: cluster.nodes.join(','),
      REDIS_URL: `redis://${cluster.nodes[0]}`,
    });
    const [line] = (await runDoctor(config)).filter((l) => l.name === 'redis');
    expect(line).toMatchObject({ status: 'ok' });
    expect(line?.detail).toContain('cluster');
  });
});
