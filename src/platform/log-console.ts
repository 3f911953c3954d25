/**
 * In production every line on stdout is JSON. A library that prints with `console` (ioredis when
 * an error has no listener or its ready check is refused, Slack's default logger) or a Node warning
 * would add plain text to that stream; here they go through pino instead.
 */
import { format } from 'node:util';
import type { Logger } from './log.js';

type ConsoleMethod = 'log' | 'info' | 'warn' | 'error' | 'debug' | 'trace';
const LEVELS: Record<ConsoleMethod, 'info' | 'warn' | 'error' | 'debug' | 'trace'> = {
  log: 'info',
  info: 'info',
  warn: 'warn',
  error: 'error',
  debug: 'debug',
  trace: 'trace',
};

export function routeConsoleToLog(log: Logger): void {
  const consoleLog = log.child({ component: 'console' });
  for (const [method, level] of Object.entries(LEVELS) as [ConsoleMethod, (typeof LEVELS)[ConsoleMethod]][]) {
    console[method] = (...args: unknown[]) => consoleLog[level](format(...args));
  }
  // Node prints warnings (deprecations included) to stderr from its own listener; ours replaces it.
  process.removeAllListeners('warning');
  process.on('warning', (warning) => consoleLog.warn({ err: warning }, 'node warning'));
}
