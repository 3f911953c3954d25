/** Moved to src/dev/local-http.ts, which the tests and `npm run demo` share. */
export * from '../../src/dev/local-http.js';
