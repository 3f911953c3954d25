/**
 * The bot as `npm start` runs it (build when the sources changed, then `node dist/src/app/main.js`), in
 * the demo's process group: Ctrl-C reaches it as it reaches the demo (it stops itself cleanly, and the
 * demo waits for it), and whatever kills the whole group kills it too. Its working directory is the demo's
 * state directory, so a developer's .env or clouds.yaml in the repository never leaks in: the
 * settings are exactly the ones given. With `watch`, a change under src/, views/ or commands/
 * rebuilds it and starts it again on the same port.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { type FSWatcher, openSync, watch } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface DemoBotOptions {
  repoRoot: string;
  stateDir: string;
  env: Record<string, string>;
  port: number;
  say(line: string): void;
  /** Told after a restart, once the new process listens. */
  restarted?(pid: number | undefined): void;
}

export class DemoBot {
  private child: ChildProcess | undefined;
  private watchers: FSWatcher[] = [];
  private restarting: Promise<void> | undefined;
  private stopped = false;

  constructor(private readonly options: DemoBotOptions) {}

  get pid(): number | undefined {
    return this.child?.exitCode === null ? this.child.pid : undefined;
  }

  get url(): string {
    return `http://127.0.0.1:${this.options.port}`;
  }

  async build(): Promise<void> {
    await run(process.execPath, ['scripts/ensure-built.mjs'], {
      cwd: this.options.repoRoot,
      timeout: 300_000,
    });
  }

  async start(): Promise<void> {
    const { repoRoot, stateDir, env } = this.options;
    const log = openSync(join(stateDir, 'bot.log'), 'a');
    const child = spawn(process.execPath, [join(repoRoot, 'dist', 'src', 'app', 'main.js')], {
      cwd: stateDir,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
      stdio: ['ignore', log, log],
    });
    this.child = child;
    const deadline = Date.now() + 60_000;
    for (;;) {
      if (child.exitCode !== null)
        throw new Error(`the bot exited with ${child.exitCode}; see ${stateDir}/bot.log`);
      try {
        await fetch(`${this.url}/healthz`, { signal: AbortSignal.timeout(1000) });
        return;
      } catch {
        if (Date.now() > deadline)
          throw new Error(`the bot did not listen within 60 s; see ${stateDir}/bot.log`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  }

  /** SIGTERM (the bot drains and exits), SIGKILL after 15 s. */
  async stop(): Promise<void> {
    const child = this.child;
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(timer);
  }

  /** Rebuilds and restarts the bot whenever a source file changes. */
  watch(): void {
    let timer: NodeJS.Timeout | undefined;
    for (const dir of ['src', 'views', 'commands']) {
      const watcher = watch(join(this.options.repoRoot, dir), { recursive: true }, (_, file) => {
        if (file === null || !String(file).endsWith('.ts') || String(file).startsWith('dev/')) return;
        clearTimeout(timer);
        timer = setTimeout(() => this.restart(String(file)), 300);
      });
      this.watchers.push(watcher);
    }
  }

  private restart(file: string): void {
    if (this.stopped || this.restarting) return;
    this.options.say(`${file} changed: rebuilding and restarting the bot`);
    this.restarting = (async () => {
      try {
        await this.build();
      } catch (error) {
        const output = (error as { stdout?: string }).stdout ?? String(error);
        this.options.say(`the build failed; the bot keeps running the last good build:\n${output}`);
        return;
      }
      await this.stop();
      if (this.stopped) return;
      await this.start();
      this.options.say(`the bot is running the new code (pid ${this.pid})`);
      this.options.restarted?.(this.pid);
    })()
      .catch((error: unknown) => this.options.say(`restart failed: ${String(error)}`))
      .finally(() => {
        this.restarting = undefined;
      });
  }

  async close(): Promise<void> {
    this.stopped = true;
    for (const watcher of this.watchers) watcher.close();
    await this.restarting;
    await this.stop();
  }
}
