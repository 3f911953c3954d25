import { describe, expect, it } from 'vitest';
import { headerNames, mapColumns, missingHeadersNotice } from '../../../src/domain/intake/columns.js';
import { type ParsedRow, parseRow, rowKey, splitUsers } from '../../../src/domain/intake/parse.js';
import { describeInvalidRow } from '../../../views/invalid-row-notice.js';
import { noteText } from '../../../views/notes.js';
import { HEADER, type RowInput, row } from './fixtures.js';

const names = headerNames();
const mapped = mapColumns(HEADER, names);
if (!mapped.ok) throw new Error('the fixture header must map');
const columns = mapped.columns;

function parse(input: RowInput | string[], rowNumber = 2, header = HEADER): ParsedRow {
  const cells = Array.isArray(input) ? input : row(input);
  const map = mapColumns(header, names);
  if (!map.ok) throw new Error(`header does not map: ${map.missing.join(', ')}`);
  return parseRow(cells, rowNumber, map.columns, names, header.length);
}

function reasons(input: RowInput, rowNumber = 7): string {
  const parsed = parse(input, rowNumber);
  if (parsed.kind !== 'invalid') throw new Error(`expected an invalid row, got ${parsed.kind}`);
  return describeInvalidRow(parsed);
}

describe('columns by header text', () => {
  it('finds columns whatever their order, case and spacing', () => {
    const shuffled = ['  e MAIL ', 'PIN', 'timestamp', 'Last\u00a0Name', 'first name', 'New Project Name'];
    const result = mapColumns(shuffled, names);
    expect(result).toMatchObject({
      ok: true,
      columns: { email: 0, pin: 1, timestamp: 2, lastName: 3, firstName: 4, newProjectName: 5 },
    });
  });

  it('takes renamed headers from SHEET_HEADERS, by field name or by default header', () => {
    const renamed = headerNames({ email: 'E-mail address', 'First name': 'Given name' });
    const result = mapColumns(
      ['Timestamp', 'E-mail address', 'Given name', 'Last name', 'PIN', 'New project name'],
      renamed,
    );
    expect(result).toMatchObject({ ok: true, columns: { email: 1, firstName: 2 } });
  });

  it('refuses an unknown SHEET_HEADERS field with the list of known ones', () => {
    expect(() => headerNames({ emial: 'Mail' })).toThrow(
      /SHEET_HEADERS names unknown fields: emial\. Known fields: timestamp, email/,
    );
  });

  it('names every missing required header in one notice', () => {
    const result = mapColumns(['Timestamp', 'Email', 'Comment'], names);
    expect(result).toEqual({
      ok: false,
      missing: ['First name', 'Last name', 'PIN', 'New project name or Existing project name'],
    });
    if (result.ok) return;
    expect(missingHeadersNotice('Form Responses 1', result.missing)).toBe(
      'The applications tab "Form Responses 1" has no column for First name, Last name, PIN, New project name or Existing project name. ' +
        'Columns are found by their header text (case and spaces do not matter): rename the header in the sheet, or set SHEET_HEADERS.',
    );
  });
});

describe('a row becomes an applicant', () => {
  it('trims, replaces non-breaking spaces, lower-cases the email, keys the row by Timestamp + Email', () => {
    const parsed = parse({
      email: '  Ann.Lee@Example.ORG\u00a0',
      firstName: '\u00a0Ann  Marie ',
      extraUsers: 'Bob@x.org, carol;dave  eve@Y.org,,bob@x.org',
    });
    expect(parsed.kind).toBe('applicant');
    if (parsed.kind !== 'applicant') return;
    expect(parsed.applicant).toMatchObject({
      id: rowKey('11/02/2026 10:00:00', 'ann.lee@example.org'),
      email: 'ann.lee@example.org',
      firstName: 'Ann Marie',
      lastName: 'Lee',
      hasAccount: false,
      project: { kind: 'new', name: 'ann-lab', description: 'Thesis experiments' },
      extraUsers: ['bob@x.org', 'carol', 'dave', 'eve@y.org'],
    });
    expect(parsed.pin).toBe('1234');
  });

  it('keeps the row for the admitted tab, one cell per header, with the PIN cell empty', () => {
    const cells = row();
    const parsed = parse(cells.slice(0, 13));
    if (parsed.kind !== 'applicant') throw new Error('expected an applicant');
    expect(parsed.applicant.row).toHaveLength(HEADER.length);
    expect(parsed.applicant.row[columns.pin ?? -1]).toBe('');
    expect(parsed.applicant.row.slice(0, 9)).toEqual(cells.slice(0, 9));
    expect(JSON.stringify(parsed.applicant)).not.toContain('1234');
  });

  it('gives the same key wherever the row is and however the email is cased', () => {
    expect(rowKey(' 11/02/2026 10:00:00', 'ANN@example.org ')).toBe(
      rowKey('11/02/2026 10:00:00', 'ann@example.org'),
    );
    expect(rowKey('11/02/2026 10:00:01', 'ann@example.org')).not.toBe(
      rowKey('11/02/2026 10:00:00', 'ann@example.org'),
    );
  });

  it('keeps the key every earlier version stored (SHA-256, base64url, 22 characters)', () => {
    // Records in Redis are found by this key: a different digest would make every row look new.
    expect(rowKey('11/02/2026 10:00:00', 'ann@example.org')).toBe('ZHfbrcdV7OTKbAMCTkYFat');
  });

  it('tells an existing project from a new one, by the kind column or by which name is filled in', () => {
    const existing = parse({
      projectKind: 'Existing project',
      newProjectName: '',
      existingProjectName: 'Physics',
      contactName: 'Dr. P',
      contactEmail: 'P@Uni.edu',
    });
    expect(existing).toMatchObject({
      kind: 'applicant',
      applicant: {
        project: { kind: 'existing', name: 'Physics', contactName: 'Dr. P', contactEmail: 'p@uni.edu' },
      },
    });
    const inferredNew = parse({ projectKind: '', newProjectName: 'mine' });
    expect(inferredNew).toMatchObject({ applicant: { project: { kind: 'new', name: 'mine' } } });
    const inferredExisting = parse({ projectKind: '', newProjectName: '', existingProjectName: 'Physics' });
    expect(inferredExisting).toMatchObject({ applicant: { project: { kind: 'existing', name: 'Physics' } } });
  });

  it('splits extra users on commas, semicolons and spaces', () => {
    expect(splitUsers('a@x.org;b , c\nD@X.org')).toEqual(['a@x.org', 'b', 'c', 'd@x.org']);
  });

  it('skips a blank row', () => {
    expect(parse(['', ' ', '\u00a0'])).toEqual({ kind: 'blank', rowNumber: 2 });
  });
});

describe('a bad row gets a readable reason', () => {
  it('a PIN with a letter', () => {
    expect(reasons({ pin: '12a4' })).toBe('row 7 (ann@example.org): PIN must be 4 digits');
  });

  it('a PIN of the wrong length, and an empty one', () => {
    expect(reasons({ pin: '123' })).toBe('row 7 (ann@example.org): PIN must be 4 digits');
    expect(reasons({ pin: '' })).toBe('row 7 (ann@example.org): PIN is empty');
  });

  it('missing fields, all named at once', () => {
    expect(reasons({ firstName: '', lastName: ' ', pin: '' })).toBe(
      'row 7 (ann@example.org): First name is empty; Last name is empty; PIN is empty',
    );
  });

  it('a bad email, and a missing one', () => {
    expect(reasons({ email: 'ann at example' })).toBe(
      'row 7 (ann at example): Email is not a valid email address',
    );
    expect(reasons({ email: '' })).toBe('row 7 (no email): Email is empty');
  });

  it('no project at all, and an unknown project kind', () => {
    expect(reasons({ projectKind: '', newProjectName: '' })).toBe(
      'row 7 (ann@example.org): no project: fill in New project name or Existing project name',
    );
    expect(reasons({ projectKind: 'Both' })).toBe(
      'row 7 (ann@example.org): New or existing project is "Both"; expected "New project" or "Existing project"',
    );
    expect(reasons({ projectKind: 'Existing project', existingProjectName: '' })).toBe(
      'row 7 (ann@example.org): Existing project name is empty',
    );
  });

  it('a 10,000-character name or project name is refused; the email in the reason is cut', () => {
    const long = 'x'.repeat(10_000);
    expect(reasons({ lastName: long })).toBe(
      'row 7 (ann@example.org): Last name is too long (at most 64 characters)',
    );
    expect(reasons({ newProjectName: long })).toBe(
      'row 7 (ann@example.org): New project name is too long (at most 64 characters)',
    );
    const text = reasons({ email: `${long}@example.org` });
    expect(text.length).toBeLessThan(200);
    expect(text).toMatch(/^row 7 \(x+…\): Email is too long \(at most 254 characters\)$/);
  });

  it('a 10,000-character comment or description is cut at a word, with a note', () => {
    const words = 'lorem ipsum '.repeat(1000);
    const parsed = parse({ comment: words, newProjectDescription: words });
    if (parsed.kind !== 'applicant') throw new Error('expected an applicant');
    expect(parsed.applicant.comment.length).toBeLessThanOrEqual(2000);
    expect(parsed.applicant.comment).toMatch(/(lorem|ipsum)…$/);
    expect(parsed.applicant.project).toMatchObject({ kind: 'new' });
    if (parsed.applicant.project.kind === 'new')
      expect(parsed.applicant.project.description.length).toBeLessThanOrEqual(1000);
    expect(parsed.notes.map(noteText)).toEqual([
      'The comment was 11999 characters long; the card shows the first 2000.',
      'The project description was cut to 1000 characters.',
    ]);
  });

  it('takes cells that start with =, +, - or @ as the text they are', () => {
    const cells = {
      firstName: '=HYPERLINK("https://evil","x")',
      lastName: '+Lee',
      organization: '@Lab',
      sponsor: '-Prof. X',
      newProjectName: '@SUM(A1)',
      phone: '+49 30 1234',
    };
    const parsed = parse(cells);
    if (parsed.kind !== 'applicant') throw new Error(`not taken in: ${JSON.stringify(parsed)}`);
    expect(parsed.applicant).toMatchObject({
      firstName: cells.firstName,
      lastName: '+Lee',
      organization: '@Lab',
      sponsor: '-Prof. X',
      phone: '+49 30 1234',
      project: { kind: 'new', name: '@SUM(A1)' },
    });
  });

  it('never puts the PIN in a reason', () => {
    expect(reasons({ pin: '98765' })).not.toContain('98765');
  });
});
