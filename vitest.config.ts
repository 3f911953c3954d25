import { defineConfig } from 'vitest/config';

/**
 * Two projects. `unit`: pure code (parsers, views, settings, the README's tables), no Redis, no
 * Keystone, no child process: seconds (`npm run test:unit`). `integration`: everything else, against
 * the real Redis, Keystone, SMTP server and Chromium that the global setup checks or starts.
 */
const UNIT = [
  'test/app/background.test.ts',
  'test/commands/config-cli.test.ts',
  'test/domain/intake/parse.test.ts',
  'test/domain/quotas/presets.test.ts',
  'test/domain/setpass/crypto.test.ts',
  'test/domain/setpass/policy.test.ts',
  'test/keystone/errors.test.ts',
  'test/keystone/protection.test.ts',
  'test/layers.test.ts',
  'test/mail/templates.test.ts',
  'test/ops/manifest.test.ts',
  'test/platform/config.test.ts',
  'test/platform/http/client-ip.test.ts',
  'test/platform/log.test.ts',
  'test/platform/requests-first.test.ts',
  'test/platform/slots.test.ts',
  'test/readme.test.ts',
  'test/release-files.test.ts',
  'test/slack/latest-redraw.test.ts',
  'test/support-fakes-block-kit.test.ts',
  'test/views/**/*.test.ts',
  'test/web/page-view.test.ts',
];

export default defineConfig({
  test: {
    pool: 'forks',
    // Keystone on SQLite serves one request at a time; two workers keep it busy without queueing.
    maxWorkers: 2,
    reporters: ['default'],
    projects: [
      { extends: true, test: { name: 'unit', include: UNIT, testTimeout: 10_000 } },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['test/**/*.test.ts'],
          exclude: UNIT,
          globalSetup: ['test/global-setup.ts'],
          testTimeout: 30_000,
          hookTimeout: 180_000,
        },
      },
    ],
  },
});
