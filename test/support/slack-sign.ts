/** Moved to src/dev/slack-sign.ts, which the tests and `npm run demo` share. */
export * from '../../src/dev/slack-sign.js';
