import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type ApplicationRecord, ApplicationStore } from '../../../src/domain/applications/store.js';
import { ApplicationsSheet } from '../../../src/domain/intake/applications-sheet.js';
import { headerNames } from '../../../src/domain/intake/columns.js';
import { type IntakeDeps, type IntakeNotice, pollApplications } from '../../../src/domain/intake/poll.js';
import { PinHasher } from '../../../src/domain/setpass/pin.js';
import { isKaizenError } from '../../../src/platform/errors.js';
import { keys } from '../../../src/platform/keys.js';
import { silentLogger } from '../../../src/platform/log.js';
import { SheetsClient } from '../../../src/sheets/sheets.js';
import { noteText } from '../../../views/notes.js';
import { uniquePrefix } from '../../support/bot.js';
import {
  type SheetsCell,
  type SheetsFake,
  sheetDateTime,
  startSheetsFake,
} from '../../support/sheets-fake.js';
import { HEADER, row } from './fixtures.js';

const TAB = 'Form Responses 1';
const ADMITTED = 'Current Users';
const names = headerNames();
const pins = new PinHasher(randomBytes(32));

let fake: SheetsFake;
const connections: Redis[] = [];

function redisWith(prefix: string): Redis {
  const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', { keyPrefix: prefix });
  connections.push(redis);
  return redis;
}

function sheetFor(options: { retryBaseMs?: number } = {}): ApplicationsSheet {
  const client = new SheetsClient({
    credentialsFile: fake.keyFile,
    spreadsheetId: fake.spreadsheetId,
    apiUrl: `${fake.url}/`,
    log: silentLogger,
    retryBaseMs: options.retryBaseMs ?? 5,
  });
  return new ApplicationsSheet(client, { applicationsTab: TAB, admittedTab: ADMITTED, names });
}

interface Poller {
  deps: IntakeDeps;
  store: ApplicationStore;
  announced: ApplicationRecord[];
  notices: IntakeNotice[];
}

function poller(prefix: string, options: { clearPin?: boolean } = {}): Poller {
  const redis = redisWith(prefix);
  const store = new ApplicationStore(redis);
  const announced: ApplicationRecord[] = [];
  const notices: IntakeNotice[] = [];
  const deps: IntakeDeps = {
    sheet: sheetFor(),
    store,
    redis,
    log: silentLogger,
    names,
    applicationsTab: TAB,
    clearPin: options.clearPin ?? false,
    pins,
    defaultQuota: { kind: 'preset', preset: 'small' },
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

const isRead = (operation: string) => operation === 'values.get' || operation === 'values.batchGet';
const reads = () => fake.calls.filter((call) => isRead(call.operation)).length;
/** The A1 ranges of every batchGet since the last reset, one list per call. */
const batchRanges = () =>
  fake.calls.filter((call) => call.operation === 'values.batchGet').map((call) => call.ranges);

beforeAll(async () => {
  fake = await startSheetsFake();
});
afterAll(async () => {
  await Promise.all(connections.map((redis) => redis.quit()));
  await fake?.close();
});
beforeEach(() => {
  fake.reset();
});

describe('polling the applications sheet', () => {
  it('reads the sheet at most twice per poll, and takes each new row in once', async () => {
    const p = poller(uniquePrefix('poll'));
    const ann = row();
    const bob = row({ email: 'bob@example.org', timestamp: '11/02/2026 11:00:00' });
    fake.setTab(TAB, [HEADER, ann, bob]);
    const first = await pollApplications(p.deps);
    expect(first).toEqual({ read: 2, new: 2, invalid: 0, duplicates: 0 });
    // The first poll knows no header yet: one read of the whole tab.
    expect(reads()).toBe(1);
    expect(p.announced.map((record) => record.applicant.email)).toEqual([
      'ann@example.org',
      'bob@example.org',
    ]);

    // Nothing new: one read of the header and the Timestamp and Email columns.
    fake.calls.length = 0;
    const second = await pollApplications(p.deps);
    expect(second).toEqual({ read: 2, new: 0, invalid: 0, duplicates: 0 });
    expect(reads()).toBe(1);
    expect(batchRanges()).toEqual([[`'${TAB}'!1:1`, `'${TAB}'!A2:A`, `'${TAB}'!B2:B`]]);
    expect(p.announced).toHaveLength(2);

    // Two new rows, one above the others: the key columns, then only those two rows.
    const cid = row({ email: 'cid@example.org', timestamp: '11/02/2026 12:00:00' });
    const dan = row({ email: 'dan@example.org', timestamp: '11/02/2026 13:00:00' });
    fake.setTab(TAB, [HEADER, cid, ann, bob, dan]);
    fake.calls.length = 0;
    const third = await pollApplications(p.deps);
    expect(third).toEqual({ read: 4, new: 2, invalid: 0, duplicates: 0 });
    expect(reads()).toBe(2);
    expect(batchRanges()[1]).toEqual([`'${TAB}'!2:2`, `'${TAB}'!5:5`]);
    expect(p.announced.map((record) => record.applicant.email)).toEqual([
      'ann@example.org',
      'bob@example.org',
      'cid@example.org',
      'dan@example.org',
    ]);
    expect(p.announced[2]?.applicant).toMatchObject({ firstName: 'Ann', email: 'cid@example.org' });
  });

  it('a poller that never read the sheet finds the header another one stored, and reads only the key columns', async () => {
    const prefix = uniquePrefix('poll');
    fake.setTab(TAB, [HEADER, row()]);
    await pollApplications(poller(prefix).deps);
    fake.calls.length = 0;
    const restarted = poller(prefix);
    expect(await pollApplications(restarted.deps)).toEqual({ read: 1, new: 0, invalid: 0, duplicates: 0 });
    expect(fake.calls.map((call) => call.operation)).toEqual(['values.batchGet']);
  });

  it('reads the whole tab again when its header changed, and still reads a row without Timestamp and Email whole', async () => {
    const p = poller(uniquePrefix('poll'));
    fake.setTab(TAB, [HEADER, row()]);
    await pollApplications(p.deps);
    // Columns reordered by hand: Email moves to the end.
    const moved = (cells: string[]) => [cells[0] ?? '', ...cells.slice(2), cells[1] ?? ''];
    const bob = row({ email: 'bob@example.org', timestamp: '11/02/2026 11:00:00' });
    const keyless = row({ email: '', timestamp: '', comment: 'filled in by hand' });
    fake.setTab(TAB, [moved(HEADER), moved(row()), [], moved(keyless), moved(bob)]);
    fake.calls.length = 0;
    expect(await pollApplications(p.deps)).toEqual({ read: 3, new: 1, invalid: 1, duplicates: 0 });
    // The key read found a header it did not know, so the second read is the whole tab.
    expect(fake.calls.map((call) => call.operation)).toEqual(['values.batchGet', 'values.get']);
    expect(p.notices.at(-1)).toMatchObject({
      kind: 'rows',
      rows: [{ rowNumber: 4, email: '', reasons: expect.arrayContaining(['Email is empty']) }],
    });

    // Next poll: the new header is known; the row without keys and the blank row are read whole.
    fake.calls.length = 0;
    expect(await pollApplications(p.deps)).toEqual({ read: 3, new: 0, invalid: 1, duplicates: 0 });
    expect(reads()).toBe(2);
    expect(batchRanges()[1]).toEqual([`'${TAB}'!3:4`]);
  });

  it('stores the PIN only as a hash', async () => {
    const prefix = uniquePrefix('poll');
    const p = poller(prefix);
    fake.setTab(TAB, [HEADER, row({ pin: '4821' })]);
    await pollApplications(p.deps);
    const record = p.announced[0];
    expect(record?.pinHash).toMatch(/^hmac\$/);
    expect(await pins.verify('4821', record?.pinHash ?? '')).toEqual({ matches: true });
    const raw = await redisWith(prefix).get(keys.application(record?.id ?? ''));
    // Not as a value of its own (string or number) anywhere in the record. (A plain substring test
    // failed now and then: a random id, hash or timestamp holds "4821" about once in a thousand.)
    expect(raw).toBeTruthy();
    expect(raw).not.toMatch(/"4821"|[:[,]4821[,}\]]/);
    expect(JSON.parse(raw ?? '{}')).not.toHaveProperty('pin');
  });

  it('reads cells as Google Forms stores them: a PIN made a number gets its zeros back, a text PIN must be 4 digits', async () => {
    const p = poller(uniquePrefix('poll'));
    const pinColumn = HEADER.indexOf('PIN');
    const withCells = (cells: string[], changes: Record<number, SheetsCell>): SheetsCell[] =>
      cells.map((cell, index) => changes[index] ?? cell);
    // Forms writes the Timestamp as a date and an answer that looks like a number as a number.
    const submitted = sheetDateTime(2026, 11, 2, 10, 0, 0);
    fake.setTab(TAB, [
      HEADER,
      withCells(row({ email: 'zero@example.org' }), { 0: submitted, [pinColumn]: 123 }),
      withCells(row({ email: 'zeros@example.org' }), { 0: submitted, [pinColumn]: 7 }),
      withCells(row({ email: 'number@example.org' }), { 0: submitted, [pinColumn]: 4821 }),
      withCells(row({ email: 'text@example.org' }), { 0: submitted, [pinColumn]: '123' }),
      withCells(row({ email: 'long@example.org' }), { 0: submitted, [pinColumn]: 12345 }),
      withCells(row({ email: 'decimal@example.org' }), { 0: submitted, [pinColumn]: 12.5 }),
    ]);
    const counts = await pollApplications(p.deps);
    expect(counts).toMatchObject({ new: 3, invalid: 3 });
    const byEmail = new Map(p.announced.map((record) => [record.applicant.email, record]));
    expect(await pins.verify('0123', byEmail.get('zero@example.org')?.pinHash ?? '')).toEqual({
      matches: true,
    });
    expect(await pins.verify('0007', byEmail.get('zeros@example.org')?.pinHash ?? '')).toEqual({
      matches: true,
    });
    expect(await pins.verify('4821', byEmail.get('number@example.org')?.pinHash ?? '')).toEqual({
      matches: true,
    });
    // The date reads as the sheet shows it, not as a serial number.
    expect(byEmail.get('zero@example.org')?.applicant.submittedAt).toBe('11/2/2026 10:00:00');
    expect(p.notices[0]).toMatchObject({ kind: 'rows' });
    const invalid = p.notices.flatMap((notice) => (notice.kind === 'rows' ? notice.rows : []));
    expect(invalid.map((one) => [one.email, one.reasons])).toEqual([
      ['text@example.org', ['PIN must be 4 digits']],
      ['long@example.org', ['PIN must be 4 digits']],
      ['decimal@example.org', ['PIN must be 4 digits']],
    ]);
    const read = fake.calls.find((call) => call.operation === 'values.get');
    expect(read?.query).toMatchObject({
      valueRenderOption: 'UNFORMATTED_VALUE',
      dateTimeRenderOption: 'FORMATTED_STRING',
    });
  });

  it('posts nothing twice after rows are sorted, inserted above, or deleted by hand', async () => {
    const p = poller(uniquePrefix('poll'));
    const ann = row();
    const bob = row({ email: 'bob@example.org', timestamp: '11/02/2026 11:00:00' });
    const cid = row({ email: 'cid@example.org', timestamp: '11/02/2026 12:00:00' });
    fake.setTab(TAB, [HEADER, ann, bob, cid]);
    await pollApplications(p.deps);
    fake.setTab(TAB, [HEADER, cid, ann, bob]);
    expect(await pollApplications(p.deps)).toMatchObject({ new: 0 });
    fake.setTab(TAB, [HEADER, bob, cid]);
    expect(await pollApplications(p.deps)).toMatchObject({ new: 0 });
    const dan = row({ email: 'dan@example.org', timestamp: '11/03/2026 09:00:00' });
    fake.setTab(TAB, [HEADER, dan, cid, [], bob]);
    expect(await pollApplications(p.deps)).toMatchObject({ new: 1, read: 3 });
    expect(p.announced.map((record) => record.applicant.email)).toEqual([
      'ann@example.org',
      'bob@example.org',
      'cid@example.org',
      'dan@example.org',
    ]);
  });

  it('two pollers on one Redis prefix take each applicant in once', async () => {
    const prefix = uniquePrefix('poll');
    const a = poller(prefix);
    const b = poller(prefix);
    const rows = Array.from({ length: 12 }, (_, i) =>
      row({ email: `user${i}@example.org`, timestamp: `11/02/2026 10:${String(i).padStart(2, '0')}:00` }),
    );
    fake.setTab(TAB, [HEADER, ...rows]);
    const [countsA, countsB] = await Promise.all([pollApplications(a.deps), pollApplications(b.deps)]);
    expect(countsA.new + countsB.new).toBe(12);
    const emails = [...a.announced, ...b.announced].map((record) => record.applicant.email).sort();
    expect(emails).toEqual(rows.map((cells) => cells[1]).sort());
    expect(await a.store.list()).toHaveLength(12);
  });

  it('flags a second application for the same project while the first is pending', async () => {
    const p = poller(uniquePrefix('poll'));
    fake.setTab(TAB, [
      HEADER,
      row(),
      row({ timestamp: '11/05/2026 08:00:00', newProjectName: 'ANN-LAB' }),
      row({ timestamp: '11/06/2026 08:00:00', newProjectName: 'other' }),
    ]);
    expect(await pollApplications(p.deps)).toMatchObject({ new: 3, duplicates: 1 });
    expect(p.announced[1]?.notes.map(noteText)).toEqual([
      'Possible duplicate: ann@example.org applied for "ann-lab" before (11/02/2026 10:00:00) and that application is still pending.',
    ]);
    expect(p.announced[2]?.notes).toEqual([]);
  });

  it('posts a bad row once with its reason, again only when the row changes, and takes it in once fixed', async () => {
    const p = poller(uniquePrefix('poll'));
    fake.setTab(TAB, [HEADER, row(), row({ email: 'eve@example.org', pin: '12a4' })]);
    expect(await pollApplications(p.deps)).toMatchObject({ read: 2, new: 1, invalid: 1 });
    expect(p.notices).toEqual([
      {
        kind: 'rows',
        tab: TAB,
        rows: [{ rowNumber: 3, email: 'eve@example.org', reasons: ['PIN must be 4 digits'] }],
      },
    ]);
    expect(await pollApplications(p.deps)).toMatchObject({ invalid: 1 });
    expect(p.notices).toHaveLength(1);

    fake.setTab(TAB, [HEADER, row(), row({ email: 'eve@example.org', pin: '12a4', lastName: '' })]);
    await pollApplications(p.deps);
    expect(p.notices).toHaveLength(2);
    expect(p.notices[1]).toMatchObject({
      rows: [{ reasons: ['Last name is empty', 'PIN must be 4 digits'] }],
    });

    fake.setTab(TAB, [HEADER, row(), row({ email: 'eve@example.org', pin: '1204' })]);
    expect(await pollApplications(p.deps)).toMatchObject({ new: 1, invalid: 0 });
    expect(p.announced.map((record) => record.applicant.email)).toEqual([
      'ann@example.org',
      'eve@example.org',
    ]);
  });

  it('an empty tab, and a tab without the expected headers, each give one clear notice', async () => {
    const p = poller(uniquePrefix('poll'));
    fake.setTab(TAB, []);
    const empty = await pollApplications(p.deps);
    expect(empty).toMatchObject({ read: 0, new: 0 });
    expect(empty.problem).toBe(
      'The applications tab "Form Responses 1" is empty: it needs a header row (Timestamp, Email, First name, …).',
    );
    fake.setTab(TAB, [
      ['Timestamp', 'E-mail', 'Name', 'PIN', 'Project'],
      ['11/02/2026', 'a@x.org', 'A', '1234', 'p'],
    ]);
    const headless = await pollApplications(p.deps);
    expect(headless.problem).toMatch(
      /^The applications tab "Form Responses 1" has no column for Email, First name, Last name, New project name or Existing project name\./,
    );
    await pollApplications(p.deps);
    expect(p.notices.map((notice) => notice.kind)).toEqual(['sheet', 'sheet']);
    expect(p.announced).toHaveLength(0);
  });

  it('a rate-limited read fails this poll with a readable error; the next poll works', async () => {
    const p = poller(uniquePrefix('poll'));
    fake.setTab(TAB, [HEADER, row()]);
    // gaxios retries GET three times, so four failures make the poll itself fail.
    fake.failNext('values.get', { status: 429 }, 4);
    const failure = await pollApplications(p.deps).catch((error: unknown) => error);
    expect(isKaizenError(failure, 'unreachable')).toBe(true);
    expect((failure as Error).message).toBe(
      'Google Sheets is rate-limiting us, so we could not read the tab "Form Responses 1"; it will be tried again.',
    );
    expect(p.announced).toHaveLength(0);
    expect(await pollApplications(p.deps)).toMatchObject({ new: 1 });
  });

  it('blanks the PIN cells of rows taken in when SHEET_CLEAR_PIN is on, and leaves bad rows alone', async () => {
    const p = poller(uniquePrefix('poll'), { clearPin: true });
    fake.setTab(TAB, [HEADER, row(), row({ email: 'eve@example.org', lastName: '', pin: '5555' })]);
    await pollApplications(p.deps);
    const pinColumn = HEADER.indexOf('PIN');
    const tab = fake.tab(TAB) ?? [];
    expect(tab[1]?.[pinColumn]).toBe('');
    expect(tab[2]?.[pinColumn]).toBe('5555');
    expect(tab[1]?.[1]).toBe('ann@example.org');

    // Later polls read the key columns with PIN: a new row's PIN is blanked, and so is a PIN left
    // in a row taken in before (its blanking failed), while the bad row keeps its own.
    const bob = row({ email: 'bob@example.org', timestamp: '11/02/2026 11:00:00', pin: '7777' });
    fake.setTab(TAB, [
      HEADER,
      row({ pin: '4821' }),
      row({ email: 'eve@example.org', lastName: '', pin: '5555' }),
      bob,
    ]);
    fake.calls.length = 0;
    expect(await pollApplications(p.deps)).toMatchObject({ new: 1, invalid: 1 });
    expect(batchRanges()[0]).toEqual([`'${TAB}'!1:1`, `'${TAB}'!A2:A`, `'${TAB}'!B2:B`, `'${TAB}'!J2:J`]);
    const after = fake.tab(TAB) ?? [];
    expect(after.map((cells) => cells[pinColumn])).toEqual(['PIN', '', '5555', '']);
  });

  it('re-posts a card whose first post failed on the next poll', async () => {
    const p = poller(uniquePrefix('poll'));
    const announce = p.deps.announce;
    let failures = 1;
    p.deps.announce = async (record) => {
      if (failures-- > 0) throw new Error('slack is down');
      await announce(record);
    };
    fake.setTab(TAB, [HEADER, row()]);
    await pollApplications(p.deps);
    expect(p.announced).toHaveLength(0);
    // The card lock keeps a replica from posting while another is mid-post; a later poll may.
    await p.deps.redis.del(keys.cardLock((await p.store.list())[0]?.id ?? ''));
    await pollApplications(p.deps);
    expect(p.announced).toHaveLength(1);
    await pollApplications(p.deps);
    expect(p.announced).toHaveLength(1);
  });
});

describe('writing to the sheet', () => {
  it('appends an admitted row, with a header row when the tab is empty, and never twice', async () => {
    const sheet = sheetFor();
    fake.setTab(TAB, [[...HEADER, 'Status'], row()]);
    fake.setTab(ADMITTED, []);
    const admitted = [...row({ pin: '' }), '', '2026-11-28T10:00:00.000Z', 'U0ADMIN', 'p-1', 'u-1'];
    await sheet.appendAdmitted(admitted);
    await sheet.appendAdmitted(admitted);
    expect(fake.tab(ADMITTED)).toEqual([
      [...HEADER, 'Status', 'Approved at', 'Approved by', 'Keystone project id', 'Keystone user id'],
      admitted,
    ]);
  });

  it('creates the admitted tab when the spreadsheet has none', async () => {
    const sheet = sheetFor();
    fake.setTab(TAB, [HEADER, row()]);
    const admitted = [...row({ pin: '' }), '2026-11-28T10:00:00.000Z', 'U0ADMIN', 'p-1', 'u-1'];
    await sheet.appendAdmitted(admitted);
    expect(fake.tabTitles()).toContain(ADMITTED);
    expect(fake.tab(ADMITTED)?.[1]).toEqual(admitted);
  });

  it('five approvals at once, with no admitted tab yet: each row once, one header, no error', async () => {
    const sheet = sheetFor();
    fake.setTab(TAB, [HEADER, row()]);
    const rows = ['p-1', 'p-2', 'p-3', 'p-4', 'p-5'].map((project, i) => [
      ...row({ pin: '' }),
      '2026-11-28T10:00:00.000Z',
      'U0ADMIN',
      project,
      `u-${i + 1}`,
    ]);
    // Every run reads the tab before any creates it: all five find it missing.
    await Promise.all(rows.map((admitted) => sheet.appendAdmitted(admitted)));
    const addSheets = fake.calls.filter((call) => call.operation === 'spreadsheets.batchUpdate');
    expect(addSheets.length).toBeGreaterThan(1);
    const tab = fake.tab(ADMITTED) ?? [];
    expect(tab[0]).toEqual([
      ...HEADER,
      'Approved at',
      'Approved by',
      'Keystone project id',
      'Keystone user id',
    ]);
    expect(tab.slice(1).sort()).toEqual([...rows].sort());
  });

  it('retries a write Google answered with 503 or 429, since gaxios never retries POST', async () => {
    const sheet = sheetFor();
    fake.setTab(TAB, [HEADER, row()]);
    fake.setTab(ADMITTED, [
      [...HEADER, 'Approved at', 'Approved by', 'Keystone project id', 'Keystone user id'],
    ]);
    fake.failNext('values.append', { status: 503 });
    fake.failNext('values.append', { status: 429 });
    await sheet.appendAdmitted([...row({ pin: '' }), 'at', 'by', 'p-2', 'u-2']);
    expect(fake.calls.filter((call) => call.operation === 'values.append')).toHaveLength(3);
    expect(fake.tab(ADMITTED)).toHaveLength(2);
  });

  it('gives up on a write after a bounded number of attempts, with a readable error', async () => {
    const sheet = sheetFor();
    fake.setTab(TAB, [HEADER, row()]);
    fake.failNext('values.batchUpdate', { status: 500 }, 10);
    const error = await sheet
      .writeStatus({ submittedAt: '11/02/2026 10:00:00', email: 'ann@example.org' }, 'Approved')
      .catch((e: unknown) => e);
    expect((error as Error).message).toBe(
      'Google Sheets answered 500, so we could not write to the tab "Form Responses 1"; it will be tried again.',
    );
    expect(fake.calls.filter((call) => call.operation === 'values.batchUpdate')).toHaveLength(5);
  });

  it('writes a status to the row found by its key after the rows were sorted, adding a Status column', async () => {
    const sheet = sheetFor();
    const ann = row();
    const bob = row({ email: 'bob@example.org', timestamp: '11/02/2026 11:00:00' });
    fake.setTab(TAB, [HEADER, bob, ann]);
    await sheet.writeStatus({ submittedAt: '11/02/2026 10:00:00', email: 'ANN@example.org' }, 'Approved');
    const tab = fake.tab(TAB) ?? [];
    expect(tab[0]?.at(-1)).toBe('Status');
    expect(tab[0]).toHaveLength(HEADER.length + 1);
    expect(tab[2]?.[HEADER.length]).toBe('Approved');
    expect(tab[1]?.[HEADER.length] ?? '').toBe('');

    fake.setTab(TAB, [tab[0] ?? [], tab[2] ?? [], tab[1] ?? []]);
    await sheet.writeStatus(
      { submittedAt: '11/02/2026 11:00:00', email: 'bob@example.org' },
      'Rejected: no sponsor',
    );
    const after = fake.tab(TAB) ?? [];
    expect(after[0]).toHaveLength(HEADER.length + 1);
    expect(after[2]?.[HEADER.length]).toBe('Rejected: no sponsor');
    expect(after[1]?.[HEADER.length]).toBe('Approved');
  });

  it('writes nothing for a row deleted by hand', async () => {
    const sheet = sheetFor();
    fake.setTab(TAB, [HEADER, row({ email: 'bob@example.org' })]);
    expect(
      await sheet.writeStatusIfFound({ submittedAt: '11/02/2026 10:00:00', email: 'ann@example.org' }, 'x'),
    ).toBe(false);
    expect(fake.calls.filter((call) => call.operation === 'values.batchUpdate')).toHaveLength(0);
  });
});
