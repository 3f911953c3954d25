import { describe, expect, it } from 'vitest';
import { rowSpans } from '../../src/sheets/row-ranges.js';

describe('rows to read as ranges', () => {
  it('makes one range of each run of neighbouring rows, in sheet order', () => {
    expect(rowSpans([9, 2, 3, 4, 12, 10, 3], 40)).toEqual([
      { first: 2, last: 4 },
      { first: 9, last: 10 },
      { first: 12, last: 12 },
    ]);
    expect(rowSpans([], 40)).toEqual([]);
  });

  it('past the limit joins the runs with the smallest gaps, keeping every row asked for', () => {
    const rows = [2, 5, 6, 50, 52, 1000];
    const spans = rowSpans(rows, 3);
    expect(spans).toEqual([
      { first: 2, last: 6 },
      { first: 50, last: 52 },
      { first: 1000, last: 1000 },
    ]);
    expect(rowSpans(rows, 1)).toEqual([{ first: 2, last: 1000 }]);
    const scattered = Array.from({ length: 500 }, (_, i) => 2 + i * 7);
    const capped = rowSpans(scattered, 40);
    expect(capped).toHaveLength(40);
    for (const row of scattered) {
      expect(capped.some((span) => span.first <= row && row <= span.last)).toBe(true);
    }
  });
});
