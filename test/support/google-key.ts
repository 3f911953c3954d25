/** Moved to src/dev/google-key.ts, which the tests and `npm run demo` share. */
export * from '../../src/dev/google-key.js';
