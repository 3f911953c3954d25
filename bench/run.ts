/**
 * `npm run bench [-- name …]`: runs the benchmarks (all, or the named ones), writes
 * bench/results.json, rewrites the table in bench/README.md and prints it with pass/miss per
 * target (`npm run bench -- --table` only rewrites the README's table from results.json). Needs
 * Redis; ack, provisioning and footprint need Keystone too, started (or reused) as the tests'
 * global setup does it.
 */
import { execFileSync } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { cpus, freemem, loadavg, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';
import setupTestServices from '../test/global-setup.js';
import type { ProvidedKeystone } from '../test/support/provided.js';
import { ackBench } from './ack.js';
import { footprintBench, footprintHourBench } from './footprint.js';
import { intakeBench } from './intake.js';
import { passwordPageBench } from './password-page.js';
import { provisioningBench } from './provisioning.js';
import { provisioningButtonBench } from './provisioning-button.js';
import { type BenchResult, type Check, mb, round } from './stats.js';
import type { BenchContext } from './world.js';

interface Benchmark {
  name: string;
  needsKeystone: boolean;
  run(context: BenchContext): Promise<BenchResult>;
  /** Runs of this benchmark when not BENCH_RUNS. */
  runs?: number;
  /** Left out of `npm run bench` without names. */
  onlyWhenNamed?: boolean;
}

const BENCHMARKS: Benchmark[] = [
  { name: 'ack', needsKeystone: true, run: ackBench },
  { name: 'password-page', needsKeystone: true, run: passwordPageBench },
  { name: 'intake', needsKeystone: false, run: intakeBench },
  { name: 'provisioning', needsKeystone: true, run: provisioningBench },
  { name: 'provisioning-button', needsKeystone: true, run: provisioningButtonBench },
  { name: 'footprint', needsKeystone: true, run: footprintBench },
  // An hour at rest: once (not BENCH_RUNS times), and only when named.
  { name: 'footprint-hour', needsKeystone: true, run: footprintHourBench, runs: 1, onlyWhenNamed: true },
];

const RESULTS_FILE = fileURLToPath(new URL('./results.json', import.meta.url));
const README_FILE = fileURLToPath(new URL('./README.md', import.meta.url));
/** bench/README.md's table of targets and latest figures sits between these lines, rewritten by each run. */
const TABLE_START = '<!-- figures:start (written by npm run bench) -->';
const TABLE_END = '<!-- figures:end -->';

interface Machine {
  cpus: number;
  cpuModel: string;
  memoryMb: number;
  freeMemoryMb: number;
  loadAverage: number[];
  node: string;
  platform: string;
}

interface StoredResult extends BenchResult {
  measuredAt: string;
  durationS: number;
  machine: Machine;
  /** The code measured: `git describe`-style short commit, `+dirty` with uncommitted changes. */
  commit: string;
  /** Runs made (BENCH_RUNS); the checks are their medians, the figures the median run's. */
  runs: number;
  /** Each run's figures and load average at its start, in order. */
  perRun: { figures: BenchResult['figures']; loadAverageAtStart: number[] }[];
}

interface ResultsFile {
  updatedAt: string;
  machine: Machine;
  benchmarks: Record<string, StoredResult | { error: string; measuredAt: string }>;
}

/** How many times each benchmark runs: the issue asks for the median of three, with its spread. */
const RUNS = Math.max(1, Number(process.env.BENCH_RUNS ?? 3));

function commitOf(): string {
  const git = (...args: string[]) => execFileSync('git', args, { encoding: 'utf8' }).trim();
  try {
    const commit = git('rev-parse', '--short', 'HEAD');
    const dirty = git(
      'status',
      '--porcelain',
      '--untracked-files=no',
      '--',
      'src',
      'bench',
      'views',
      'commands',
      // The benchmark's own output files do not count as changed code.
      ':!bench/README.md',
      ':!bench/results.json',
    );
    return dirty === '' ? commit : `${commit}+dirty`;
  } catch {
    return 'unknown';
  }
}

/**
 * Several runs' checks as one: a check with a value is decided by the run whose value is the
 * median (shown with the lowest and highest); one without, by every run passing.
 */
function medianChecks(runs: readonly BenchResult[]): Check[] {
  const first = runs[0];
  if (first === undefined) return [];
  if (runs.length === 1) return first.checks;
  return first.checks.map((template, index) => {
    const all = runs.map((run) => run.checks[index]).filter((c): c is Check => c !== undefined);
    const valued = all.filter((c) => c.value !== undefined);
    if (valued.length === all.length) {
      const sorted = [...valued].sort((a, b) => (a.value ?? 0) - (b.value ?? 0));
      const middle = sorted[Math.floor((sorted.length - 1) / 2)] ?? template;
      const spread = `${round(sorted[0]?.value ?? 0, 2)}–${round(sorted.at(-1)?.value ?? 0, 2)}`;
      return {
        ...middle,
        measured: `${middle.measured} — median of ${all.length} runs (range ${spread})`,
      };
    }
    const misses = all.filter((c) => !c.pass).length;
    return {
      ...template,
      measured: `${all.at(-1)?.measured ?? template.measured} — ${all.length - misses} of ${all.length} runs passed`,
      pass: misses === 0,
    };
  });
}

function machine(): Machine {
  const all = cpus();
  return {
    cpus: all.length,
    cpuModel: all[0]?.model ?? 'unknown',
    memoryMb: mb(totalmem()),
    freeMemoryMb: mb(freemem()),
    loadAverage: loadavg().map((load) => round(load, 2)),
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
  };
}

/** Redis is checked, and Keystone started or reused, by the same code the tests' global setup runs. */
async function services(
  needKeystone: boolean,
): Promise<{ context: BenchContext; stop: () => Promise<void> }> {
  const provided = new Map<string, unknown>();
  const project = { provide: (key: string, value: unknown) => provided.set(key, value) };
  if (!needKeystone) {
    const redisUrl = process.env.REDIS_URL || 'redis://127.0.0.1:6379';
    return { context: { redisUrl, keystone: undefined }, stop: async () => {} };
  }
  const stop = await setupTestServices(project as unknown as TestProject);
  return {
    context: {
      redisUrl: String(provided.get('redisUrl')),
      keystone: provided.get('keystone') as ProvidedKeystone,
    },
    stop,
  };
}

async function previousResults(): Promise<ResultsFile['benchmarks']> {
  try {
    return (JSON.parse(await readFile(RESULTS_FILE, 'utf8')) as ResultsFile).benchmarks ?? {};
  } catch {
    return {};
  }
}

function printTable(results: StoredResult[]): void {
  const rows = results.flatMap((result) =>
    result.checks.map((c) => [result.name, c.target, c.measured, c.pass ? 'pass' : 'MISS']),
  );
  const header = ['benchmark', 'target', 'measured', ''];
  const widths = header.map((title, column) =>
    Math.min(70, Math.max(title.length, ...rows.map((row) => (row[column] ?? '').length))),
  );
  const line = (cells: string[]) => cells.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join('  ');
  process.stdout.write(`\n${line(header)}\n${widths.map((width) => '-'.repeat(width)).join('  ')}\n`);
  for (const row of rows) process.stdout.write(`${line(row)}\n`);
}

const cell = (text: string) => text.replaceAll('|', '\\|');

function markdownTable(file: ResultsFile): string {
  const lines = ['| benchmark | target | latest figure | | measured |', '|---|---|---|---|---|'];
  const order = (name: string) => {
    const index = BENCHMARKS.findIndex((bench) => bench.name === name);
    return index < 0 ? BENCHMARKS.length : index;
  };
  const entries = Object.entries(file.benchmarks).sort(([a], [b]) => order(a) - order(b));
  for (const [name, result] of entries) {
    const day = `${result.measuredAt.slice(0, 16).replace('T', ' ')}${'commit' in result ? ` (${result.commit}, load ${result.machine.loadAverage[0]})` : ''}`;
    if ('error' in result) {
      lines.push(`| ${name} | (did not run) | ${cell(result.error.split('\n')[0] ?? '')} | | ${day} |`);
      continue;
    }
    for (const c of result.checks) {
      lines.push(
        `| ${name} | ${cell(c.target)} | ${cell(c.measured)} | ${c.pass ? 'pass' : '**miss**'} | ${day} |`,
      );
    }
  }
  const m = file.machine;
  lines.push(
    '',
    `Machine of the latest run: ${m.cpus} × ${m.cpuModel}, ${Math.round(m.memoryMb / 1024)} GB, Node ${m.node}, load average ${m.loadAverage.join(' / ')} at the end.`,
  );
  return lines.join('\n');
}

/** Rewrites the figures table of bench/README.md; the prose around it is left alone. */
async function updateReadme(file: ResultsFile): Promise<void> {
  let text: string;
  try {
    text = await readFile(README_FILE, 'utf8');
  } catch {
    return;
  }
  const start = text.indexOf(TABLE_START);
  const end = text.indexOf(TABLE_END);
  if (start < 0 || end < start) {
    process.stderr.write(`bench: ${README_FILE} has no figures markers; its table was not updated\n`);
    return;
  }
  const table = `${TABLE_START}\n${markdownTable(file)}\n${TABLE_END}`;
  await writeFile(README_FILE, text.slice(0, start) + table + text.slice(end + TABLE_END.length));
}

async function main(): Promise<number> {
  // `--table`: only rewrite bench/README.md's table from the stored results.
  if (process.argv.includes('--table')) {
    await updateReadme(JSON.parse(await readFile(RESULTS_FILE, 'utf8')) as ResultsFile);
    return 0;
  }
  const wanted = process.argv.slice(2).filter((arg) => !arg.startsWith('-'));
  const unknown = wanted.filter((name) => !BENCHMARKS.some((bench) => bench.name === name));
  if (unknown.length > 0) {
    process.stderr.write(
      `Unknown benchmark(s): ${unknown.join(', ')}. Choose from: ${BENCHMARKS.map((b) => b.name).join(', ')}\n`,
    );
    return 2;
  }
  const selected =
    wanted.length === 0
      ? BENCHMARKS.filter((bench) => !bench.onlyWhenNamed)
      : BENCHMARKS.filter((bench) => wanted.includes(bench.name));
  const { context, stop } = await services(selected.some((bench) => bench.needsKeystone));
  const benchmarks = await previousResults();
  const done: StoredResult[] = [];
  let failed = false;
  try {
    for (const bench of selected) {
      process.stderr.write(`bench: ${bench.name} …\n`);
      const started = performance.now();
      try {
        const runs: BenchResult[] = [];
        const perRun: StoredResult['perRun'] = [];
        const runCount = bench.runs ?? RUNS;
        for (let run = 1; run <= runCount; run++) {
          if (runCount > 1) process.stderr.write(`bench: ${bench.name} run ${run} of ${runCount} …\n`);
          const loadAverageAtStart = loadavg().map((load) => round(load, 2));
          const result = await bench.run(context);
          runs.push(result);
          perRun.push({ figures: result.figures, loadAverageAtStart });
        }
        const checks = medianChecks(runs);
        // The figures and notes of the run that decided the first valued check (else the last run).
        const decidedBy = checks.findIndex((c) => c.value !== undefined);
        const deciding =
          decidedBy < 0
            ? runs.at(-1)
            : runs.find((run) => run.checks[decidedBy]?.value === checks[decidedBy]?.value);
        const result = deciding ?? (runs.at(-1) as BenchResult);
        const stored: StoredResult = {
          ...result,
          checks,
          measuredAt: new Date().toISOString(),
          durationS: round((performance.now() - started) / 1000, 1),
          machine: machine(),
          commit: commitOf(),
          runs: runCount,
          perRun,
        };
        benchmarks[bench.name] = stored;
        done.push(stored);
        process.stderr.write(`bench: ${bench.name} done in ${stored.durationS} s\n`);
      } catch (error) {
        failed = true;
        const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
        benchmarks[bench.name] = { error: message, measuredAt: new Date().toISOString() };
        process.stderr.write(`bench: ${bench.name} failed: ${message}\n`);
      }
    }
  } finally {
    await stop();
  }
  const file: ResultsFile = { updatedAt: new Date().toISOString(), machine: machine(), benchmarks };
  await writeFile(RESULTS_FILE, `${JSON.stringify(file, null, 2)}\n`);
  await updateReadme(file);
  printTable(done);
  process.stdout.write(`\nWritten to ${RESULTS_FILE}\n`);
  return failed ? 1 : 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`bench failed: ${error instanceof Error ? error.stack : String(error)}\n`);
    process.exitCode = 1;
  },
);
