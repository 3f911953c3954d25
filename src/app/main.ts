/**
 * `npm start`: read settings, start every enabled part, stop cleanly on SIGTERM/SIGINT.
 *
 * The process never limps on in a state nobody chose: a start that fails, an error nothing caught
 * and a stop that fails each write one line and exit non-zero at once, so that the supervisor
 * (systemd, a container runtime) sees it and starts a fresh process.
 */

import { ConfigError, capabilities, loadConfig } from '../platform/config/config.js';
import { loadDotenv } from '../platform/config/dotenv.js';
import { createLogger, type Logger, scrubSecrets } from '../platform/log.js';
import { routeConsoleToLog } from '../platform/log-console.js';
import { startKaizen } from './start.js';

/** Exit codes: 1 a failed start or stop, 2 wrong settings, 70 (EX_SOFTWARE) an error nothing caught. */
const EXIT = { ok: 0, failed: 1, config: 2, uncaught: 70 } as const;

/** Set once the logger exists; before that, fatal lines go to stderr as text. */
let logger: Logger | undefined;

function fatal(message: string, error: unknown, code: number): never {
  const reason = scrubSecrets(error instanceof Error ? error.message : String(error));
  if (logger) logger.fatal({ err: error }, message);
  else process.stderr.write(`${message}: ${reason}\n`);
  process.exit(code);
}

process.on('uncaughtException', (error) => {
  fatal('kaizen stopped on an error nothing caught; exiting for a restart', error, EXIT.uncaught);
});
process.on('unhandledRejection', (reason) => {
  fatal('kaizen stopped on a rejected promise nothing awaited; exiting for a restart', reason, EXIT.uncaught);
});

async function main(): Promise<number> {
  loadDotenv();
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig(process.env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`${error.message}\n\nSee the Configuration section of README.md.\n`);
    return EXIT.config;
  }
  // Only the admin bot and the password page serve anyone; mail, Sheets or Keystone alone do nothing.
  const usable = capabilities(config).filter(
    (c) => c.enabled && (c.name === 'slack' || c.name === 'setpass'),
  );
  if (usable.length === 0) {
    process.stderr.write(
      [
        'Nothing to run: neither the Slack bot nor the password page is configured.',
        'Run `npx kaizen init` to write a .env, or copy .env.example to .env and fill in at least:',
        '  SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET, SLACK_ADMIN_CHANNEL   (the admin bot)',
        '  OS_AUTH_URL, OS_USERNAME, OS_PASSWORD                        (Keystone)',
        '  SETPASS_SECRET, PUBLIC_URL                                   (the password page)',
        'Then run `npx kaizen doctor` to check each part. README.md explains every setting.',
        '',
      ].join('\n'),
    );
    return EXIT.failed;
  }
  const log = createLogger({ level: config.logLevel, production: config.production });
  if (config.production) routeConsoleToLog(log);
  let running: Awaited<ReturnType<typeof startKaizen>>;
  try {
    running = await startKaizen(config, { log });
  } catch (error) {
    // One plain line on stderr (not only the log, whose level may hide it), and nothing left running.
    process.stderr.write(`kaizen failed to start: ${scrubSecrets(describe(error))}\n`);
    return EXIT.failed;
  }
  logger = log;
  return new Promise<number>((resolve) => {
    const shutdown = (signal: string) => {
      log.info({ signal }, 'signal received');
      running.stop().then(
        () => resolve(EXIT.ok),
        (error: unknown) => {
          log.error({ err: error }, 'shutdown failed');
          resolve(EXIT.failed);
        },
      );
    };
    process.once('SIGTERM', () => shutdown('SIGTERM'));
    process.once('SIGINT', () => shutdown('SIGINT'));
    process.on('SIGHUP', () => running.http.reloadTls());
  });
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

// process.exit, not exitCode: a failed start can leave sockets and timers open (a Redis client,
// a half-built Slack app) that would keep a process doing nothing alive under its supervisor.
main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`kaizen failed to start: ${scrubSecrets(describe(error))}\n`);
    process.exit(EXIT.failed);
  },
);
