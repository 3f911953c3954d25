/**
 * Sheet rows to read, as few A1 ranges as a request can carry. The second read of a poll asks for
 * the rows the first found new (or could not tell), by number; they are usually one block at the
 * bottom, but bad rows left in place and gaps make more. A GET carries its ranges in the URL, so
 * past `maxRanges` the closest blocks are joined, reading a few seen rows along with them (they
 * are ignored) instead of making a second request.
 */
export interface RowSpan {
  /** 1-based sheet row numbers, inclusive. */
  first: number;
  last: number;
}

export function rowSpans(rowNumbers: readonly number[], maxRanges: number): RowSpan[] {
  const sorted = [...new Set(rowNumbers)].sort((a, b) => a - b);
  const spans: RowSpan[] = [];
  for (const row of sorted) {
    const last = spans.at(-1);
    if (last !== undefined && row === last.last + 1) last.last = row;
    else spans.push({ first: row, last: row });
  }
  const limit = Math.max(1, maxRanges);
  if (spans.length <= limit) return spans;
  // Keep the widest gaps as breaks between ranges and close the rest.
  const gaps = spans
    .slice(1)
    .map((span, index) => ({ after: index, size: span.first - (spans[index]?.last ?? 0) }))
    .sort((a, b) => b.size - a.size || a.after - b.after)
    .slice(0, limit - 1)
    .map((gap) => gap.after)
    .sort((a, b) => a - b);
  const joined: RowSpan[] = [];
  let start = 0;
  for (const end of [...gaps, spans.length - 1]) {
    joined.push({ first: spans[start]?.first ?? 0, last: spans[end]?.last ?? 0 });
    start = end + 1;
  }
  return joined;
}
