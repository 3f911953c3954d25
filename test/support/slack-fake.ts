/** Moved to src/dev/slack-fake.ts, which the tests and `npm run demo` share. */
export * from '../../src/dev/slack-fake.js';
