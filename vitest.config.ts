import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 180_000,
    pool: 'forks',
    // Keystone on SQLite serves one request at a time; two workers keep it busy without queueing.
    maxWorkers: 2,
    reporters: ['default'],
  },
});
