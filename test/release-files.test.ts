/** The files a release needs: the licence package.json names, a changelog entry for its version. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const read = (path: string) => readFileSync(path, 'utf8');
const pkg = JSON.parse(read('package.json')) as { version: string; license: string };

describe('release files', () => {
  it('ship the full Apache-2.0 text that package.json names', () => {
    expect(pkg.license).toBe('Apache-2.0');
    const license = read('LICENSE');
    expect(license).toContain('Apache License');
    expect(license).toContain('Version 2.0, January 2004');
    expect(license).toContain('END OF TERMS AND CONDITIONS');
    expect(license.length).toBeGreaterThan(10_000);
  });

  it('keep a changelog entry for the version in package.json and in the lock file', () => {
    const changelog = read('CHANGELOG.md');
    expect(changelog).toContain('Keep a Changelog');
    expect(changelog).toMatch(/^## \[Unreleased\]$/m);
    expect(changelog).toMatch(
      new RegExp(`^## \\[${pkg.version.replaceAll('.', '\\.')}\\] - \\d{4}-\\d{2}-\\d{2}$`, 'm'),
    );
    expect(changelog).toMatch(/^## \[0\.1\.0\] - \d{4}-\d{2}-\d{2}$/m);
    const lock = JSON.parse(read('package-lock.json')) as {
      version: string;
      packages: Record<string, { version?: string }>;
    };
    expect(lock.version).toBe(pkg.version);
    expect(lock.packages['']?.version).toBe(pkg.version);
  });

  it('say how to report a vulnerability and how to contribute', () => {
    const security = read('SECURITY.md');
    expect(security).toMatch(/## Reporting a vulnerability/);
    expect(security).toMatch(/## What the password page promises/);
    const contributing = read('CONTRIBUTING.md');
    for (const command of ['npm ci', 'npm test', 'npm run lint', 'npm run typecheck', 'bash .ci/run']) {
      expect(contributing).toContain(command);
    }
  });
});
