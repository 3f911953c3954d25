/** A logger for a bot under test whose lines are kept in memory, for tests that read what was logged. */
import { Writable } from 'node:stream';
import { createLogger, type Logger } from '../../src/platform/log.js';

export interface CapturedLog {
  log: Logger;
  /** Every line written so far, as JSON text. */
  lines: string[];
  text(): string;
}

export function captureLogs(level = 'debug'): CapturedLog {
  const lines: string[] = [];
  const log = createLogger({
    level,
    pretty: false,
    destination: new Writable({
      write(chunk, _encoding, done) {
        lines.push(String(chunk));
        done();
      },
    }),
  });
  return { log, lines, text: () => lines.join('') };
}
