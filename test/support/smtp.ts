/** Moved to src/dev/smtp.ts, which the tests and `npm run demo` share. */
export * from '../../src/dev/smtp.js';
