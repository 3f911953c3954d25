/** Moved to src/dev/block-kit.ts, which the tests and `npm run demo` share. */
export * from '../../src/dev/block-kit.js';
