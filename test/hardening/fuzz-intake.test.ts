/**
 * Property-based fuzzing of the sheet intake parser: random rows (valid values, hostile ones,
 * cells too long, too few or too many cells, whitespace of every kind) under a header in random
 * column order. Whatever a row holds, parsing never throws; a row is blank exactly when every cell
 * is; an invalid row says why in words of bounded length; and a row taken in meets every rule an
 * applicant must meet before anything reaches Keystone.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { headerNames, mapColumns } from '../../src/domain/intake/columns.js';
import { LIMITS, parseRow, rowKey } from '../../src/domain/intake/parse.js';
import { mapQuotaColumns, parseQuotaRow } from '../../src/domain/intake/quota-request.js';
import { BUILT_IN_PRESETS, QUOTA_KEYS } from '../../src/domain/quotas/presets.js';
import { describeInvalidRow } from '../../views/invalid-row-notice.js';
import { HEADER, type RowInput, row } from '../domain/intake/fixtures.js';
import { fuzzParameters, fuzzRuns, reportCases } from './fuzz-settings.js';

const RUNS = fuzzRuns(1_000);
const names = headerNames();

const hostile = fc.constantFrom(
  '=HYPERLINK("https://evil.example","x")',
  '+SUM(1,1)',
  '-2+3',
  '@Lab',
  '<!channel>',
  '<@U0ADMIN1>',
  '<mailto:a@b.org|a@b.org>',
  '\u00a0\u2007\u202f',
  '\t\r\n',
  '\u0000',
  '\u202e',
  'a@@b.org',
  'ANN@EXAMPLE.ORG',
  'New project',
  'Existing project',
  'Yes',
  'admin',
  'service',
  '1234',
  '12a4',
  'null',
  '[object Object]',
);
const cell = fc.oneof(
  { weight: 3, arbitrary: fc.string({ maxLength: 30 }) },
  { weight: 2, arbitrary: hostile },
  { weight: 1, arbitrary: fc.string({ maxLength: 30, unit: 'binary' }) },
  { weight: 1, arbitrary: fc.string({ maxLength: 30, unit: 'grapheme' }) },
  { weight: 1, arbitrary: fc.integer({ min: 60, max: 12_000 }).map((n) => 'ab '.repeat(n).slice(0, n)) },
  { weight: 1, arbitrary: fc.constant('') },
);
/** Values that make a row valid, so that mixing them with the rest reaches every rule. */
const plausible = {
  email: fc.emailAddress(),
  pin: fc.stringMatching(/^\d{4}$/),
  projectKind: fc.constantFrom('New project', 'Existing project', 'new', 'EXISTING', ''),
  firstName: fc.stringMatching(/^[A-Z][a-z]{1,10}$/),
  lastName: fc.stringMatching(/^[A-Z][a-z]{1,10}$/),
  newProjectName: fc.stringMatching(/^[A-Za-z][A-Za-z0-9 _-]{0,20}$/),
  extraUsers: fc.array(fc.emailAddress(), { maxLength: 25 }).map((list) => list.join(', ')),
};
const field = <T extends string>(valid: fc.Arbitrary<T>) =>
  fc.oneof(
    { weight: 3, arbitrary: valid },
    { weight: 2, arbitrary: cell },
    { weight: 1, arbitrary: fc.constant(undefined) },
  );

const rowInput = fc.record(
  {
    timestamp: field(fc.constant('11/02/2026 10:00:00')),
    email: field(plausible.email),
    firstName: field(plausible.firstName),
    lastName: field(plausible.lastName),
    hasAccount: field(fc.constantFrom('Yes', 'No')),
    organization: field(fc.constant('Boston University')),
    role: field(fc.constant('Student')),
    phone: field(fc.constantFrom('+1 617 555 0100', '617-555-0100')),
    sponsor: field(fc.constant('Prof. Smith')),
    pin: field(plausible.pin),
    comment: field(fc.constant('For my thesis.')),
    projectKind: field(plausible.projectKind),
    newProjectName: field(plausible.newProjectName),
    newProjectDescription: field(fc.constant('research')),
    extraUsers: field(plausible.extraUsers),
    existingProjectName: field(plausible.newProjectName),
    contactName: field(fc.constant('Prof. Smith')),
    contactEmail: field(plausible.email),
  },
  { requiredKeys: [] },
);

const sheetRow = fc.record({
  input: rowInput,
  /** Blank every cell, or cut the row short, or add cells past the header. */
  shape: fc.constantFrom('as is', 'as is', 'as is', 'blank', 'short', 'long'),
  cut: fc.nat({ max: HEADER.length }),
  extra: fc.array(cell, { maxLength: 3 }),
  /** The header's columns in another order, the row's cells following them. */
  order: fc.shuffledSubarray(
    HEADER.map((_, index) => index),
    { minLength: HEADER.length, maxLength: HEADER.length },
  ),
  rowNumber: fc.integer({ min: 2, max: 100_000 }),
});

const oneLine = (text: string) => text === text.trim() && !/[\r\n\t]/.test(text);

describe('sheet-row fuzzing through the intake parser', () => {
  it(`parses ${RUNS} random rows without throwing, and takes in only rows that meet every rule`, () => {
    const kinds = { applicant: 0, invalid: 0, blank: 0 };
    fc.assert(
      fc.property(sheetRow, (sample) => {
        const input = Object.fromEntries(
          Object.entries(sample.input).filter(([, value]) => value !== undefined),
        ) as RowInput;
        let cells = row(input);
        if (sample.shape === 'blank') cells = cells.map(() => ' ');
        if (sample.shape === 'short') cells = cells.slice(0, sample.cut);
        if (sample.shape === 'long') cells = [...cells, ...sample.extra];
        const header = sample.order.map((index) => HEADER[index]!);
        const shuffled = [...sample.order.map((index) => cells[index] ?? ''), ...cells.slice(HEADER.length)];
        const mapped = mapColumns(header, names);
        if (!mapped.ok) throw new Error('every header column is there, in any order');

        const parsed = parseRow(shuffled, sample.rowNumber, mapped.columns, names, header.length);
        kinds[parsed.kind] += 1;
        expect(parseRow(shuffled, sample.rowNumber, mapped.columns, names, header.length)).toEqual(parsed);
        const blank = shuffled.every((text) => text.trim() === '');
        expect(parsed.kind === 'blank').toBe(blank);

        if (parsed.kind === 'invalid') {
          expect(parsed.reasons.length).toBeGreaterThan(0);
          for (const reason of parsed.reasons) {
            expect(reason.trim()).not.toBe('');
            expect(reason.length).toBeLessThanOrEqual(300);
            // What the row said is quoted back as it was; the words around it are ours.
            const ours = reason.replace(/"[\s\S]*"/g, '""');
            expect(ours).not.toMatch(/\bundefined\b|\[object Object\]|\bNaN\b/);
          }
          expect(describeInvalidRow(parsed)).toContain(`row ${sample.rowNumber} `);
        }
        if (parsed.kind === 'applicant') {
          const who = parsed.applicant;
          expect(who.email).toBe(who.email.toLowerCase());
          expect(who.email.length).toBeLessThanOrEqual(LIMITS.email);
          expect(who.email.split('@')).toHaveLength(2);
          for (const [name, max] of [
            [who.firstName, LIMITS.firstName],
            [who.lastName, LIMITS.lastName],
            [who.project.name, LIMITS.projectName],
          ] as const) {
            expect(name.length).toBeGreaterThan(0);
            expect(name.length).toBeLessThanOrEqual(max);
            expect(oneLine(name)).toBe(true);
          }
          expect(parsed.pin).toMatch(/^\d{4}$/);
          expect(who.extraUsers.length).toBeLessThanOrEqual(LIMITS.extraUsersCount);
          expect(who.comment.length).toBeLessThanOrEqual(LIMITS.comment);
          if (who.project.kind === 'new') {
            expect(who.project.description.length).toBeLessThanOrEqual(LIMITS.description);
          }
          expect(who.id).toBe(rowKey(who.submittedAt, who.email));
          // The row kept for the admitted tab: one cell per header column, the PIN blanked.
          expect(who.row).toHaveLength(header.length);
          expect(who.row[mapped.columns.pin!]).toBe('');
        }
      }),
      fuzzParameters(RUNS),
    );
    reportCases(
      'sheet rows through the intake parser',
      RUNS,
      `${kinds.applicant} taken in, ${kinds.invalid} invalid, ${kinds.blank} blank`,
    );
    // The generators reach every outcome, or the properties above prove little.
    expect(Math.min(kinds.applicant, kinds.invalid, kinds.blank)).toBeGreaterThan(0);
  });
});

/** The quota requests tab's header: the required columns, a few quota keys and both RAM columns. */
const QUOTA_HEADER = [
  'Timestamp',
  'Email',
  'Project',
  'Preset',
  'instances',
  'cores',
  'ram',
  'RAM (GiB)',
  'port',
  'Justification',
];
/** Numbers as people and attackers type them: what `Number()` takes is not all a whole number. */
const quotaNumber = fc.oneof(
  fc.integer({ min: -2, max: 5_000 }).map(String),
  fc.constantFrom(
    '1e300',
    '9007199254740993',
    '0x10',
    ' 12 ',
    '1.5',
    '-1',
    '+3',
    'Infinity',
    'NaN',
    '١٢',
    '1e3',
  ),
);
/** Mostly cells a real row has, so that rows get taken in and every rule is reached. */
const likely = <T>(valid: fc.Arbitrary<T>, other: fc.Arbitrary<T>) =>
  fc.oneof({ weight: 6, arbitrary: valid }, { weight: 1, arbitrary: other });
const quotaCell = fc.oneof(
  { weight: 8, arbitrary: fc.constant('') },
  { weight: 2, arbitrary: quotaNumber },
  { weight: 1, arbitrary: cell },
);
const quotaRow = fc.record({
  cells: fc.tuple(
    likely(fc.constant('12/03/2026 08:00:00'), cell),
    likely(fc.stringMatching(/^[a-z]{1,8}@[a-z]{1,8}\.org$/), cell),
    likely(fc.constantFrom('atlas', 'lee-lab'), cell),
    likely(fc.constantFrom('', '', 'small', 'MEDIUM', 'large'), fc.oneof(fc.constant('huge'), cell)),
    quotaCell,
    quotaCell,
    quotaCell,
    quotaCell,
    quotaCell,
    likely(fc.constant('more GPUs'), cell),
  ),
  rowNumber: fc.integer({ min: 2, max: 100_000 }),
});

describe('quota-request rows through their parser', () => {
  it(`parses ${RUNS} random rows without throwing; a request asks only whole numbers of at least -1 for known keys`, () => {
    const mapped = mapQuotaColumns(QUOTA_HEADER, names);
    if (!mapped.ok) throw new Error('the quota header did not map');
    const kinds = { request: 0, invalid: 0, blank: 0 };
    fc.assert(
      fc.property(quotaRow, ({ cells, rowNumber }) => {
        const parsed = parseQuotaRow(cells, rowNumber, mapped.columns, names, BUILT_IN_PRESETS);
        kinds[parsed.kind] += 1;
        if (parsed.kind === 'invalid') {
          expect(parsed.reasons.length).toBeGreaterThan(0);
          for (const reason of parsed.reasons) expect(reason.length).toBeLessThanOrEqual(300);
        }
        if (parsed.kind !== 'request') return;
        const { request } = parsed;
        expect(request.email).toBe(request.email.toLowerCase());
        expect(request.email.length).toBeLessThanOrEqual(LIMITS.email);
        expect(request.project.length).toBeGreaterThan(0);
        expect(request.project.length).toBeLessThanOrEqual(LIMITS.projectName);
        expect(oneLine(request.project)).toBe(true);
        for (const [key, value] of Object.entries(request.requested)) {
          expect(QUOTA_KEYS).toContain(key);
          expect(Number.isSafeInteger(value) && value >= -1).toBe(true);
        }
      }),
      fuzzParameters(RUNS),
    );
    reportCases(
      'quota-request rows through their parser',
      RUNS,
      `${kinds.request} taken in, ${kinds.invalid} invalid, ${kinds.blank} blank`,
    );
    expect(Math.min(kinds.request, kinds.invalid)).toBeGreaterThan(0);
  });
});
