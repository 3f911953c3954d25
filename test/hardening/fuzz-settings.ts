/**
 * How much the fuzz tests try. `npm test` runs each property with a fixed seed and a small number
 * of runs, so that CI is repeatable and the fuzz files together take about a minute; `npm run fuzz`
 * runs the same files with a random seed and twenty times the runs.
 *
 * FUZZ_SEED: a number, or `random` for a new one each run (printed, to replay a failure).
 * FUZZ_SCALE: runs per property as a multiple of its CI number (default 1).
 * FUZZ_RUNS: runs per property, the same for every property; overrides FUZZ_SCALE.
 */
import type fc from 'fast-check';

const FIXED_SEED = 20_261_206;

function seedFromEnv(): number {
  const text = process.env.FUZZ_SEED ?? '';
  if (text === '') return FIXED_SEED;
  if (text === 'random') return Math.floor(Math.random() * 2 ** 31);
  const seed = Number(text);
  if (!Number.isInteger(seed)) throw new Error(`FUZZ_SEED must be an integer or "random", not "${text}"`);
  return seed;
}

export const FUZZ_SEED = seedFromEnv();

function positiveInteger(name: string): number | undefined {
  const text = process.env[name] ?? '';
  if (text === '') return undefined;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) {
    throw new Error(`${name} must be a positive integer, not "${text}"`);
  }
  return value;
}

/** Runs for one property: FUZZ_RUNS when set, otherwise its CI number times FUZZ_SCALE. */
export function fuzzRuns(ciRuns: number): number {
  return positiveInteger('FUZZ_RUNS') ?? ciRuns * (positiveInteger('FUZZ_SCALE') ?? 1);
}

/** A test's deadline for `runs` cases of about `perCaseMs` each, with room for a slow machine. */
export function fuzzTimeout(runs: number, perCaseMs: number): number {
  return 60_000 + runs * perCaseMs * 3;
}

/** fast-check's parameters for one property: the seed above and `runs` cases. */
export function fuzzParameters<T>(runs: number): fc.Parameters<T> {
  return { seed: FUZZ_SEED, numRuns: runs };
}

/** The one line each fuzz test prints: how many cases it tried, with the seed to run them again. */
export function reportCases(what: string, cases: number, detail = ''): void {
  console.log(`fuzz: ${what}: ${cases} cases tried (FUZZ_SEED=${FUZZ_SEED})${detail ? `; ${detail}` : ''}`);
}
