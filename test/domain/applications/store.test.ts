import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { ApplicationStore } from '../../../src/domain/applications/store.js';
import type { Applicant } from '../../../src/domain/intake/applicant.js';
import { keys } from '../../../src/platform/keys.js';
import { sampleApplicant } from '../../support/applicants.js';
import { uniquePrefix } from '../../support/bot.js';

const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', {
  keyPrefix: uniquePrefix('apps'),
});
const store = new ApplicationStore(redis);
afterAll(() => redis.quit());

function applicant(id: string): Applicant {
  return sampleApplicant({ id, project: { kind: 'new', name: 'lab', description: 'x' } });
}

describe('application records', () => {
  it('creates a record once and reads it back with its arrays intact', async () => {
    expect(
      await store.create({
        applicant: applicant('a1'),
        pinHash: 'h',
        quota: { kind: 'preset', preset: 'small' },
      }),
    ).toBe(true);
    expect(
      await store.create({
        applicant: applicant('a1'),
        pinHash: 'h',
        quota: { kind: 'preset', preset: 'small' },
      }),
    ).toBe(false);
    const record = await store.get('a1');
    expect(record).toMatchObject({ id: 'a1', state: 'pending', notes: [], checkpoints: {} });
    expect(record?.applicant.extraUsers).toEqual([]);
  });

  it('lets exactly one of many concurrent transitions win', async () => {
    await store.create({
      applicant: applicant('a2'),
      pinHash: undefined,
      quota: { kind: 'preset', preset: 'small' },
    });
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        store.transition('a2', ['pending', 'failed'], 'approving', { decidedBy: `U${i}` }),
      ),
    );
    const winners = results.filter((r) => r.ok);
    expect(winners).toHaveLength(1);
    const record = await store.get('a2');
    expect(record?.state).toBe('approving');
    expect(record?.decidedBy).toBe(winners[0]?.record?.decidedBy);
    expect(results.filter((r) => !r.ok).every((r) => r.record?.state === 'approving')).toBe(true);
  });

  it('merges checkpoints and removes a field patched to undefined', async () => {
    await store.create({
      applicant: applicant('a3'),
      pinHash: undefined,
      quota: { kind: 'preset', preset: 'small' },
    });
    await store.transition('a3', ['pending'], 'failed', { failure: { step: 'user', message: 'down' } });
    await store.checkpoint('a3', 'project', 'p-1');
    await store.checkpoint('a3', 'user', 'u-1');
    const retried = await store.transition('a3', ['failed'], 'approving', { failure: undefined });
    expect(retried.ok).toBe(true);
    const record = await store.get('a3');
    expect(record?.checkpoints).toEqual({ project: 'p-1', user: 'u-1' });
    expect(record?.failure).toBeUndefined();
  });

  it('lists by state, oldest first, and finds by email', async () => {
    const pending = await store.list(['pending']);
    expect(pending.map((r) => r.id)).toEqual(['a1']);
    expect((await store.findByEmail('A3@Example.org')).map((r) => r.id)).toEqual(['a3']);
  });

  it('lists pending records from the pending set, filled once from records made before it existed', async () => {
    const own = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', {
      keyPrefix: uniquePrefix('apps-pending'),
    });
    try {
      const apps = new ApplicationStore(own);
      const quota = { kind: 'preset', preset: 'small' } as const;
      for (const id of ['p1', 'p2', 'p3', 'p4']) {
        await apps.create({ applicant: applicant(id), pinHash: undefined, quota });
      }
      await apps.transition('p2', ['pending'], 'approving');
      expect((await apps.list(['pending'])).map((r) => r.id)).toEqual(['p1', 'p3', 'p4']);
      // An update that keeps the state keeps the record listed; a rejection takes it out.
      await apps.update('p3', ['pending'], { notes: [{ code: 'legacy', text: 'looked at' }] });
      await apps.transition('p4', ['pending'], 'rejected', { rejectReason: 'no' });
      expect((await apps.list(['pending'])).map((r) => r.id)).toEqual(['p1', 'p3']);
      expect(await own.zrange(keys.applicationPending(), 0, -1)).toEqual(['p1', 'p3']);

      // A deployment from before the set: records only. The first listing fills it, and an id
      // left in it whose record has moved on is dropped.
      await own.del(keys.applicationPending(), keys.applicationPendingBuilt());
      expect((await apps.list(['pending'])).map((r) => r.id)).toEqual(['p1', 'p3']);
      expect(await own.zrange(keys.applicationPending(), 0, -1)).toEqual(['p1', 'p3']);
      await own.zadd(keys.applicationPending(), 1, 'p2');
      expect((await apps.list(['pending'])).map((r) => r.id)).toEqual(['p1', 'p3']);
      expect(await own.zrange(keys.applicationPending(), 0, -1)).toEqual(['p1', 'p3']);
      // Every other listing still reads the records themselves.
      expect((await apps.list(['pending', 'approving'])).map((r) => r.id)).toEqual(['p1', 'p2', 'p3']);
    } finally {
      await own.quit();
    }
  });
});
