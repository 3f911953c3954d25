/**
 * The bot as a child process (`tsx src/app/main.ts`, what `npm run dev` runs) with only the given
 * settings, for tests that kill it with SIGKILL or run several replicas side by side. Its log
 * (JSON lines on stdout) is kept for the test to read. Every process started here is killed when the
 * test process exits, even when afterAll never runs.
 *
 * tsx runs the bot in a node process of its own and passes SIGTERM on to it, but nothing can pass
 * on a SIGKILL: each bot gets a process group of its own, and a SIGKILL goes to the whole group.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import type { Env } from '../../src/platform/config/config.js';

const TSX = 'node_modules/.bin/tsx';

export class BotProcess {
  private readonly chunks: string[] = [];
  private exitCode: number | null | undefined;
  private listeningPort: number | undefined;

  private constructor(
    readonly child: ChildProcess,
    readonly env: Env,
  ) {
    child.stdout?.on('data', (chunk) => this.chunks.push(String(chunk)));
    child.stderr?.on('data', (chunk) => this.chunks.push(String(chunk)));
    const reap = () => this.killGroup();
    process.once('exit', reap);
    child.once('exit', (code, signal) => {
      this.exitCode = code ?? (signal ? -1 : null);
      process.off('exit', reap);
    });
  }

  /**
   * Starts the bot and resolves once it logs the port it listens on. `env` needs LOG_LEVEL at
   * `info` or lower for that line.
   */
  static async start(env: Env, readyTimeoutMs = 30_000): Promise<BotProcess> {
    const child = spawn(TSX, ['src/app/main.ts'], {
      env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    const bot = new BotProcess(child, env);
    const deadline = Date.now() + readyTimeoutMs;
    for (;;) {
      const line = bot
        .output()
        .split('\n')
        .find((text) => text.includes('"msg":"kaizen is listening"'));
      const port = line === undefined ? undefined : /"port":(\d+)/.exec(line)?.[1];
      if (port !== undefined) {
        bot.listeningPort = Number(port);
        return bot;
      }
      if (bot.exitCode !== undefined || Date.now() > deadline) {
        bot.killGroup();
        throw new Error(`the bot did not start (exit ${bot.exitCode}):\n${bot.output()}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /**
   * The pid of the bot itself (tsx runs it as a child): what a signal tsx does not relay, such as
   * SIGHUP, must be sent to. Read from the bot's log lines, which carry it.
   */
  get botPid(): number {
    const pid = /"pid":(\d+)/.exec(this.output())?.[1];
    if (pid === undefined) throw new Error('BotProcess: the bot has logged no pid yet');
    return Number(pid);
  }

  get url(): string {
    if (this.listeningPort === undefined) throw new Error('BotProcess: not listening');
    return `http://127.0.0.1:${this.listeningPort}`;
  }

  /** Bolt's endpoint on this process. */
  get eventsUrl(): string {
    return `${this.url}/slack/events`;
  }

  /** Whether the process is still running. */
  get alive(): boolean {
    return this.exitCode === undefined;
  }

  /** Everything the process wrote, stdout and stderr, in arrival order. */
  output(): string {
    return this.chunks.join('');
  }

  /**
   * Sends `signal` and resolves with the exit code once the process is gone (-1 for a signal death).
   * SIGTERM goes to tsx, which hands it to the bot once; SIGKILL goes to both at the same moment.
   */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
    if (this.exitCode !== undefined) return this.exitCode;
    const exited = once(this.child, 'exit');
    if (signal === 'SIGKILL') this.killGroup();
    else this.child.kill(signal);
    await exited;
    return this.exitCode ?? null;
  }

  private killGroup(): void {
    const pid = this.child.pid;
    if (pid === undefined) return;
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // The group is gone already.
    }
  }
}

/** The bot processes of one test file, so afterAll can stop whichever are still running. */
export class BotProcesses {
  private readonly started: BotProcess[] = [];

  async start(env: Env): Promise<BotProcess> {
    const bot = await BotProcess.start(env);
    this.started.push(bot);
    return bot;
  }

  /** Every process started here, the stopped ones included (their output stays readable). */
  all(): readonly BotProcess[] {
    return this.started;
  }

  /** SIGKILL to every process still running; nothing to drain in a test. */
  async killAll(): Promise<void> {
    await Promise.allSettled(this.started.map((bot) => bot.stop('SIGKILL')));
  }
}
