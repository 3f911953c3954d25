/** `npm start`: read settings, start every enabled part, stop cleanly on SIGTERM/SIGINT. */
import { startKaizen } from './app.js';
import { ConfigError, capabilities, loadConfig } from './config.js';
import { loadDotenv } from './dotenv.js';
import { createLogger } from './log.js';

async function main(): Promise<number> {
  loadDotenv();
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig(process.env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`${error.message}\n\nSee the Configuration section of README.md.\n`);
    return 2;
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
    return 1;
  }
  const log = createLogger({ level: config.logLevel, production: config.production });
  const running = await startKaizen(config, { log });
  await new Promise<void>((resolve) => {
    const shutdown = (signal: string) => {
      log.info({ signal }, 'signal received');
      running.stop().then(resolve, resolve);
    };
    process.once('SIGTERM', () => shutdown('SIGTERM'));
    process.once('SIGINT', () => shutdown('SIGINT'));
    process.on('SIGHUP', () => running.http.reloadTls());
  });
  return 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(
      `kaizen failed to start: ${error instanceof Error ? error.message : String(error)}\n`,
    );
    process.exitCode = 1;
  },
);
