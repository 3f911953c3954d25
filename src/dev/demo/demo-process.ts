/**
 * `npm run demo` as a child process, for the demo's test and `npm run screenshots` (what the npm script runs, `tsx src/dev/demo/main.ts`) in a
 * process group of its own, as a terminal would run it, so Ctrl-C can be sent the way a terminal
 * sends it: SIGINT to the whole group.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DemoState } from './state.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

export class DemoProcess {
  private readonly chunks: { stdout: string[]; stderr: string[] } = { stdout: [], stderr: [] };
  exitCode: number | null | undefined;

  private constructor(
    readonly child: ChildProcess,
    readonly stateDir: string,
  ) {
    child.stdout?.on('data', (chunk) => this.chunks.stdout.push(String(chunk)));
    child.stderr?.on('data', (chunk) => this.chunks.stderr.push(String(chunk)));
    child.once('exit', (code, signal) => {
      this.exitCode = code ?? (signal ? -1 : null);
    });
    const reap = () => this.kill();
    process.once('exit', reap);
    child.once('exit', () => process.off('exit', reap));
  }

  /**
   * Starts the demo on a free port with `env` (Redis and Keystone settings), a state directory of
   * its own and `flags` (`--watch`); resolves once it printed its URL.
   */
  static async start(
    stateDir: string,
    env: NodeJS.ProcessEnv,
    flags: string[] = [],
    timeoutMs = 170_000,
  ): Promise<DemoProcess> {
    const args = ['src/dev/demo/main.ts', '--port', '0', '--state-dir', stateDir, ...flags];
    const child = spawn('node_modules/.bin/tsx', args, {
      cwd: repoRoot,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    const demo = new DemoProcess(child, stateDir);
    const deadline = Date.now() + timeoutMs;
    while (demo.url === undefined) {
      if (demo.exitCode !== undefined || Date.now() > deadline) {
        demo.kill();
        throw new Error(`the demo did not start (exit ${demo.exitCode}):\n${demo.stderr}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    return demo;
  }

  /** The one URL the demo prints on stdout. */
  get url(): string | undefined {
    return /^(http:\/\/\S+)$/m.exec(this.chunks.stdout.join(''))?.[1];
  }

  get stdout(): string {
    return this.chunks.stdout.join('');
  }

  get stderr(): string {
    return this.chunks.stderr.join('');
  }

  /** What the running demo wrote down about itself. */
  state(): DemoState {
    return JSON.parse(readFileSync(join(this.stateDir, 'demo.json'), 'utf8')) as DemoState;
  }

  /** Resolves with the exit code once the process is gone. */
  async exited(): Promise<number | null> {
    if (this.exitCode === undefined) await once(this.child, 'exit');
    return this.exitCode ?? null;
  }

  /** Ctrl-C in a terminal: SIGINT to every process of the foreground group. */
  async interrupt(): Promise<number | null> {
    if (this.exitCode === undefined && this.child.pid !== undefined) process.kill(-this.child.pid, 'SIGINT');
    return this.exited();
  }

  /**
   * Ctrl-C, and when the demo has not finished within `timeoutMs`, SIGKILL to it and to what it
   * started; for cleaning up after a test that did not get to stop it.
   */
  async stop(timeoutMs = 30_000): Promise<void> {
    if (this.exitCode !== undefined) return;
    const state = (() => {
      try {
        return this.state();
      } catch {
        return undefined;
      }
    })();
    const timer = setTimeout(() => {
      this.kill();
      for (const pid of [state?.botPid, ...Object.values(state?.started ?? {})]) {
        if (pid === undefined) continue;
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // Gone already.
        }
      }
    }, timeoutMs);
    await this.interrupt();
    clearTimeout(timer);
  }

  kill(): void {
    if (this.child.pid === undefined || this.exitCode !== undefined) return;
    try {
      process.kill(-this.child.pid, 'SIGKILL');
    } catch {
      // Gone already.
    }
  }
}
