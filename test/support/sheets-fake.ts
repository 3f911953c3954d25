/** Moved to src/dev/sheets-fake.ts, which the tests and `npm run demo` share. */
export * from '../../src/dev/sheets-fake.js';
