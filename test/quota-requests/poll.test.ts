import { Redis } from 'ioredis';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { headerNames } from '../../src/domain/intake/columns.js';
import type { IntakeNotice } from '../../src/domain/intake/poll.js';
import { pollQuotaRequests, type QuotaIntakeDeps } from '../../src/domain/intake/quota-poll.js';
import { QuotaRequestsSheet } from '../../src/domain/intake/quota-sheet.js';
import type { Membership } from '../../src/domain/quotas/membership.js';
import { BUILT_IN_PRESETS } from '../../src/domain/quotas/presets.js';
import { type QuotaRequestRecord, QuotaRequestStore } from '../../src/domain/quotas/request-store.js';
import { silentLogger } from '../../src/platform/log.js';
import { SheetsClient } from '../../src/sheets/sheets.js';
import { uniquePrefix } from '../support/bot.js';
import { type SheetsFake, startSheetsFake } from '../support/sheets-fake.js';

const TAB = 'Quota Requests';
const names = headerNames();
const HEADER = [
  'Timestamp',
  'Email',
  'Project',
  'Preset',
  'instances',
  'cores',
  'RAM (GiB)',
  'port',
  'Justification',
];

let fake: SheetsFake;
const connections: Redis[] = [];
let clock = 0;

function redisWith(prefix: string): Redis {
  const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', { keyPrefix: prefix });
  connections.push(redis);
  return redis;
}

function poller(membership: Membership = { kind: 'member', projectId: 'p1', userId: 'u1' }) {
  const redis = redisWith(uniquePrefix('quota-poll'));
  const store = new QuotaRequestStore(redis);
  const announced: QuotaRequestRecord[] = [];
  const notices: IntakeNotice[] = [];
  const client = new SheetsClient({
    credentialsFile: fake.keyFile,
    spreadsheetId: fake.spreadsheetId,
    apiUrl: `${fake.url}/`,
    log: silentLogger,
    retryBaseMs: 5,
  });
  const deps: QuotaIntakeDeps = {
    sheet: new QuotaRequestsSheet(client, TAB, names, () => clock),
    store,
    redis,
    log: silentLogger,
    names,
    tab: TAB,
    presets: BUILT_IN_PRESETS,
    membership: async () => membership,
    announce: async (record) => {
      announced.push(record);
      await store.update(record.id, ['pending'], {
        card: { channel: 'C0ADMINS', ts: `${announced.length}.0` },
      });
    },
    notify: async (notice) => {
      notices.push(notice);
    },
  };
  return { deps, store, announced, notices };
}

const reads = () => fake.calls.filter((call) => call.operation === 'values.get').length;

beforeAll(async () => {
  fake = await startSheetsFake();
});
afterAll(async () => {
  await Promise.all(connections.map((redis) => redis.quit()));
  await fake?.close();
});
beforeEach(() => {
  fake.reset();
  clock = 0;
});

describe('polling the quota requests tab', () => {
  it('turns each new row into one stored request, found by header text in any order', async () => {
    const p = poller();
    fake.setTab(TAB, [
      HEADER,
      ['12/01/2026 10:00:00', 'Ann@Example.org', 'atlas', 'medium', '40', '', '', '', 'More runs'],
      ['12/01/2026 11:00:00', 'bob@example.org', 'zeus', '', '', '64', '128', '', ''],
    ]);
    const first = await pollQuotaRequests(p.deps);
    expect(first).toEqual({ tab: true, read: 2, new: 2, invalid: 0 });
    expect(reads()).toBe(1);
    const [ann, bob] = p.announced;
    expect(ann?.request).toMatchObject({
      email: 'ann@example.org',
      project: 'atlas',
      preset: 'medium',
      values: { instances: 40 },
      justification: 'More runs',
    });
    // The row's own values go over the preset's.
    expect(ann?.toApply).toEqual({ ...BUILT_IN_PRESETS.medium, instances: 40 });
    expect(bob?.request.values).toEqual({ cores: 64, ram: 128 * 1024 });
    expect(bob?.toApply).toEqual({ cores: 64, ram: 131072 });
    expect(ann?.membership).toEqual({ kind: 'member', projectId: 'p1', userId: 'u1' });
    expect(ann?.state).toBe('pending');

    expect(await pollQuotaRequests(p.deps)).toMatchObject({ read: 2, new: 0 });
    expect(p.announced).toHaveLength(2);

    // Columns moved: the same rows are the same requests.
    fake.setTab(TAB, [
      ['Justification', 'Project', 'Email', 'Timestamp', 'instances'],
      ['More runs', 'atlas', 'ann@example.org', '12/01/2026 10:00:00', '40'],
    ]);
    expect(await pollQuotaRequests(p.deps)).toMatchObject({ read: 1, new: 0, invalid: 0 });
  });

  it('notices each invalid row once, with reasons an admin can act on', async () => {
    const p = poller();
    fake.setTab(TAB, [
      HEADER,
      ['12/01/2026 10:00:00', 'not-an-email', 'atlas', 'huge', 'many', '', '', '', ''],
      ['12/01/2026 10:05:00', 'cid@example.org', '', '', '', '', '', '', ''],
      ['12/01/2026 10:06:00', 'dan@example.org', 'atlas', '', '', '', '', '', 'please'],
    ]);
    const counts = await pollQuotaRequests(p.deps);
    expect(counts).toMatchObject({ new: 0, invalid: 3 });
    expect(p.notices).toHaveLength(1);
    const notice = p.notices[0];
    expect(notice?.kind === 'rows' && notice.tab).toBe(TAB);
    const rows = notice?.kind === 'rows' ? notice.rows : [];
    expect(rows.map((row) => [row.rowNumber, row.reasons])).toEqual([
      [
        2,
        [
          'Email is not a valid email address',
          'Preset "huge" is not a preset; the presets are small, medium, large',
          'instances: Enter a whole number, or -1 for unlimited',
        ],
      ],
      [3, ['Project is empty']],
      [4, ['no quota asked: fill in Preset or at least one quota column']],
    ]);
    await pollQuotaRequests(p.deps);
    expect(p.notices).toHaveLength(1);
    // An edited row that is still wrong is noticed again; a fixed one becomes a request.
    fake.setTab(TAB, [
      HEADER,
      ['12/01/2026 10:00:00', 'ann@example.org', 'atlas', 'small', '', '', '', '', ''],
      ['12/01/2026 10:05:00', 'cid@example.org', '', 'small', '', '', '', '', ''],
      ['12/01/2026 10:06:00', 'dan@example.org', 'atlas', '', '', '', '', '', 'please'],
    ]);
    expect(await pollQuotaRequests(p.deps)).toMatchObject({ new: 1, invalid: 2 });
    expect(p.notices).toHaveLength(2);
    expect(p.notices[1]?.kind === 'rows' && p.notices[1].rows.map((row) => row.rowNumber)).toEqual([3]);
  });

  it('a missing tab costs no read of cells, and one look at the tab titles an hour; missing headers get one notice', async () => {
    const p = poller();
    const looks = () => fake.calls.filter((call) => call.operation === 'spreadsheets.get').length;
    expect(await pollQuotaRequests(p.deps)).toEqual({ tab: false, read: 0, new: 0, invalid: 0 });
    expect([reads(), looks()]).toEqual([0, 1]);
    fake.setTab(TAB, [['Timestamp', 'Email', 'instances']]);
    await pollQuotaRequests(p.deps);
    expect([reads(), looks()]).toEqual([0, 1]);
    clock += 61 * 60_000;
    const counts = await pollQuotaRequests(p.deps);
    expect([reads(), looks()]).toEqual([1, 2]);
    expect(counts.problem).toBe(
      'The quota requests tab "Quota Requests" has no column for Project. Columns are found by their header text (case and spaces do not matter).',
    );
    await pollQuotaRequests(p.deps);
    // Found once, the tab is read at each poll without looking at the titles again.
    expect([reads(), looks()]).toEqual([2, 2]);
    expect(p.notices).toEqual([
      { kind: 'sheet', tab: TAB, message: counts.problem, about: 'quota_requests' },
    ]);
  });

  it('leaves a row for the next poll when Keystone cannot be asked about the requester', async () => {
    const p = poller();
    let down = true;
    p.deps.membership = async () => {
      if (down) throw new Error('Keystone did not answer');
      return { kind: 'not_member', projectId: 'p1', userId: 'u9' };
    };
    fake.setTab(TAB, [
      HEADER,
      ['12/01/2026 10:00:00', 'eve@example.org', 'atlas', 'small', '', '', '', '', ''],
    ]);
    expect(await pollQuotaRequests(p.deps)).toMatchObject({ new: 0 });
    down = false;
    expect(await pollQuotaRequests(p.deps)).toMatchObject({ new: 1 });
    expect(p.announced[0]?.membership.kind).toBe('not_member');
  });

  it('posts a card a failed first post missed, on a later poll', async () => {
    const p = poller();
    const announce = p.deps.announce;
    let fail = true;
    p.deps.announce = async (record) => {
      if (fail) throw new Error('Slack is down');
      await announce(record);
    };
    fake.setTab(TAB, [
      HEADER,
      ['12/01/2026 10:00:00', 'fay@example.org', 'atlas', 'small', '', '', '', '', ''],
    ]);
    await pollQuotaRequests(p.deps);
    expect(p.announced).toHaveLength(0);
    fail = false;
    // The card lock of the failed post holds for a minute; a later poll after it posts the card.
    await p.deps.redis.del(`lock:quota-card:${(await p.store.list())[0]?.id}`);
    await pollQuotaRequests(p.deps);
    expect(p.announced).toHaveLength(1);
    expect((await p.store.list())[0]?.card).toEqual({ channel: 'C0ADMINS', ts: '1.0' });
  });
});
