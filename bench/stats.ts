/** Percentiles and rounding for the benchmarks: small on purpose, so every figure is easy to check. */

/** Nearest-rank percentile (p in 0..100) of the values; NaN for none. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1] ?? Number.NaN;
}

export const median = (values: readonly number[]): number => percentile(values, 50);

export function mean(values: readonly number[]): number {
  return values.length === 0 ? Number.NaN : values.reduce((sum, value) => sum + value, 0) / values.length;
}

export function round(value: number, digits = 1): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}

/** Milliseconds since `start` (from `performance.now()`). */
export const since = (start: number): number => performance.now() - start;

/** CPU time (user + system, all threads of this process) since `start`, in ms. */
export function cpuMsSince(start: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1000;
}

export const mb = (bytes: number): number => round(bytes / (1024 * 1024), 1);

/** Runs `work` over `items` with at most `limit` at a time, keeping order in the answers. */
export async function pooled<T, R>(
  items: readonly T[],
  limit: number,
  work: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const answers: R[] = new Array(items.length);
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      const index = next++;
      answers[index] = await work(items[index] as T, index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  return answers;
}

/** One target of the issue, as measured: `pass` is false for a miss. */
export interface Check {
  target: string;
  measured: string;
  pass: boolean;
  /**
   * The number the target is judged on (a ratio, ms, MB), when there is one: with several runs
   * (BENCH_RUNS), the run whose value is the median decides, and the spread is shown.
   */
  value?: number;
}

/** A figure: a number (units in its name: `_ms`, `_mb`, `_per_s`), a word, or figures grouped by name. */
export type Figure = number | string | boolean | { [name: string]: Figure };

/** What one benchmark answers; run.ts writes it to bench/results.json and prints it. */
export interface BenchResult {
  name: string;
  title: string;
  figures: Record<string, Figure>;
  checks: Check[];
  /** What was measured and how, and why a target is missed: in words. */
  notes: string[];
}

export function check(target: string, measured: string, pass: boolean, value?: number): Check {
  return value === undefined ? { target, measured, pass } : { target, measured, pass, value };
}

/** Time covered by at least one of the intervals (each from `start`, lasting `ms`). */
export function coveredMs(intervals: readonly { start: number; ms: number }[]): number {
  const sorted = [...intervals].sort((a, b) => a.start - b.start);
  let total = 0;
  let end = Number.NEGATIVE_INFINITY;
  for (const interval of sorted) {
    const intervalEnd = interval.start + interval.ms;
    if (intervalEnd <= end) continue;
    total += intervalEnd - Math.max(end, interval.start);
    end = intervalEnd;
  }
  return total;
}
