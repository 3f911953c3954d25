/**
 * The connection to Redis drops after a transition script ran but before its reply came back. The
 * client resends the EVAL once it reconnects, and the script runs a second time against the state
 * its first run wrote. The approval must still start exactly once, and the admin whose click won
 * must be told so (not that someone, in fact they themselves, is already approving).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApplicationStore } from '../../../src/domain/applications/store.js';
import { Audit } from '../../../src/domain/audit/audit.js';
import { startApproval } from '../../../src/domain/provision/approve.js';
import { loadConfig } from '../../../src/platform/config/config.js';
import { keys } from '../../../src/platform/keys.js';
import { createRedis, type Redis } from '../../../src/platform/redis.js';
import { sampleApplicant } from '../../support/applicants.js';
import { uniquePrefix } from '../../support/bot.js';
import { FaultProxy } from '../../support/fault-proxy.js';
import { PrivateRedis } from '../../support/redis-server.js';

describe('a transition whose reply is lost on the way back', () => {
  let server: PrivateRedis;
  let proxy: FaultProxy;
  let redis: Redis;
  let direct: Redis;
  const prefix = uniquePrefix('resend');

  beforeAll(async () => {
    server = await PrivateRedis.start();
    proxy = await FaultProxy.start(server.url.replace('redis:', 'http:'));
    const config = (url: string) => loadConfig({ REDIS_URL: url, REDIS_KEY_PREFIX: prefix }).redis;
    redis = createRedis(config(`redis://127.0.0.1:${proxy.port}`));
    redis.on('error', () => {});
    direct = createRedis(config(server.url));
  });

  afterAll(async () => {
    redis?.disconnect();
    direct?.disconnect();
    await proxy?.cut();
    await server?.close();
  });

  it('starts the approval once and tells the admin who won that it started', async () => {
    const applications = new ApplicationStore(redis);
    const deps = { applications, audit: new Audit(redis, 1_000) };
    const applicant = sampleApplicant();
    await applications.create({ applicant, pinHash: undefined, quota: { kind: 'preset', preset: 'small' } });

    const held = proxy.hold(/\r\neval\r\n/i);
    const first = startApproval(deps, applicant.id, 'U0FIRST');
    await held;
    // The script reaches Redis and runs; the connection is gone before its reply gets back.
    proxy.release();
    await proxy.cut();
    const state = async () => JSON.parse((await direct.get(keys.application(applicant.id))) ?? '{}').state;
    for (let i = 0; i < 200 && (await state()) !== 'approving'; i++) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect(await state()).toBe('approving');
    await proxy.restore();

    const [won, second] = [await first, await startApproval(deps, applicant.id, 'U0SECOND')];
    expect(won).toMatchObject({ kind: 'started', record: { state: 'approving', decidedBy: 'U0FIRST' } });
    expect(second).toMatchObject({ kind: 'busy', by: 'U0FIRST' });
    const stored = await new ApplicationStore(direct).get(applicant.id);
    expect(stored).toMatchObject({ state: 'approving', decidedBy: 'U0FIRST' });
  });
});
