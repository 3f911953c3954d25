/**
 * The intake side of bench/intake.ts, in a process of its own so that its CPU time and memory are
 * the intake's alone (the fake Sheets and Slack servers run in the parent). It builds the intake
 * exactly as the bot does (settings → Sheets client, Redis, Slack Web API client) and runs one poll
 * per message from the parent, answering what that poll cost.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { WebClient } from '@slack/web-api';
import { slackSheetIntake } from '../src/app/wiring/sheet-intake.js';
import { sheetsFromConfig } from '../src/app/wiring/sheets.js';
import { ApplicationStore } from '../src/domain/applications/store.js';
import type { PollCounts } from '../src/domain/intake/poll.js';
import { presetsFromConfig } from '../src/domain/quotas/presets.js';
import { PinHasher } from '../src/domain/setpass/pin.js';
import { loadConfig } from '../src/platform/config/config.js';
import { silentLogger } from '../src/platform/log.js';
import { createRedis } from '../src/platform/redis.js';
import { cpuMsSince, since } from './stats.js';

export type PollerRequest = { kind: 'poll' } | { kind: 'hash-pins'; count: number } | { kind: 'exit' };

export interface PollCost {
  counts: PollCounts;
  cpuMs: number;
  wallMs: number;
  /** Resident set size right before the poll, after a full GC. */
  rssBeforeBytes: number;
  /** The highest resident set size seen during the poll. */
  peakRssBytes: number;
}

export type PollerAnswer =
  | { kind: 'ready'; rssBytes: number }
  | { kind: 'polled'; cost: PollCost }
  | { kind: 'hashed'; cpuMs: number; wallMs: number }
  | { kind: 'failed'; message: string };

const gc = (globalThis as { gc?: () => void }).gc;

/**
 * The highest RSS from now on. Linux keeps a high-water mark (VmHWM) that writing 5 to clear_refs
 * resets, which catches a peak inside a synchronous stretch no timer could sample; elsewhere a
 * timer samples between the stretches.
 */
function peakRss(): { read(): number } {
  try {
    writeFileSync('/proc/self/clear_refs', '5');
    return {
      read: () => {
        const status = readFileSync('/proc/self/status', 'utf8');
        const kb = Number(status.match(/^VmHWM:\s+(\d+) kB/m)?.[1]);
        return Number.isFinite(kb) ? kb * 1024 : process.memoryUsage.rss();
      },
    };
  } catch {
    let peak = process.memoryUsage.rss();
    const sampler = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage.rss());
    }, 2);
    return {
      read: () => {
        clearInterval(sampler);
        return Math.max(peak, process.memoryUsage.rss());
      },
    };
  }
}

function answer(message: PollerAnswer): void {
  process.send?.(message);
}

async function main(): Promise<void> {
  const config = loadConfig(process.env);
  const log = silentLogger;
  const redis = createRedis(config.redis);
  const sheet = sheetsFromConfig(config, log);
  const channel = config.slack.adminChannel;
  if (sheet === undefined || channel === undefined)
    throw new Error('the poller needs Sheets and Slack settings');
  const store = new ApplicationStore(redis);
  const client = new WebClient(config.slack.botToken, {
    slackApiUrl: config.slack.apiUrl,
    retryConfig: { retries: 0 },
  });
  const intake = slackSheetIntake(
    { config, redis, log },
    { client, adminChannel: channel, sheet, store, presets: presetsFromConfig(config.quotas) },
  );

  const poll = async (): Promise<PollCost> => {
    gc?.();
    const rssBeforeBytes = process.memoryUsage.rss();
    const peak = peakRss();
    const cpu = process.cpuUsage();
    const started = performance.now();
    const counts = await intake.poll();
    const wallMs = since(started);
    const cpuMs = cpuMsSince(cpu);
    if (process.env.BENCH_DEBUG_MEM) {
      const m = process.memoryUsage();
      const mbOf = (n: number) => Math.round(n / 1048576);
      console.error(
        `mem after poll: rss ${mbOf(m.rss)} heapTotal ${mbOf(m.heapTotal)} heapUsed ${mbOf(m.heapUsed)} external ${mbOf(m.external)} arrayBuffers ${mbOf(m.arrayBuffers)} peak ${mbOf(peak.read())} before ${mbOf(rssBeforeBytes)}`,
      );
    }
    return { counts, cpuMs, wallMs, rssBeforeBytes, peakRssBytes: peak.read() };
  };

  /** What the poll's PIN hashing alone costs: the same keyed hashes, one after another as the poll makes them. */
  const pins = new PinHasher(config.setpass.secret ?? randomBytes(32));
  const hashPins = async (count: number) => {
    const cpu = process.cpuUsage();
    const started = performance.now();
    for (let i = 0; i < count; i++) pins.hash(String(1000 + i));
    return { cpuMs: cpuMsSince(cpu), wallMs: since(started) };
  };

  process.on('message', (request: PollerRequest) => {
    const work = async (): Promise<PollerAnswer | undefined> => {
      if (request.kind === 'poll') return { kind: 'polled', cost: await poll() };
      if (request.kind === 'hash-pins') return { kind: 'hashed', ...(await hashPins(request.count)) };
      await redis.quit();
      // Exiting (rather than waiting for idle sockets to close) also writes a --cpu-prof profile.
      process.exit(0);
    };
    work().then(
      (reply) => reply && answer(reply),
      (error: unknown) => answer({ kind: 'failed', message: String(error) }),
    );
  });
  gc?.();
  answer({ kind: 'ready', rssBytes: process.memoryUsage.rss() });
}

main().catch((error: unknown) => {
  answer({ kind: 'failed', message: String(error) });
  process.exitCode = 1;
});
