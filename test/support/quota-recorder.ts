/** Moved to src/dev/quota-recorder.ts, which the tests and `npm run demo` share. */
export * from '../../src/dev/quota-recorder.js';
