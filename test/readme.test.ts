import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { settings } from '../src/config.js';

const readme = readFileSync('README.md', 'utf8');
const envExample = readFileSync('.env.example', 'utf8');

describe('the README and .env.example stay true to the settings', () => {
  it('documents every setting', () => {
    const missing = Object.values(settings)
      .map((s) => s.env)
      .filter((name) => !readme.includes(`\`${name}\``));
    expect(missing).toEqual([]);
  });

  it('mentions only settings that exist in .env.example', () => {
    const known = new Set(Object.values(settings).map((s) => s.env));
    const named = [...envExample.matchAll(/^#?\s*([A-Z][A-Z0-9_]+)=/gm)].map((m) => m[1]!);
    expect(named.length).toBeGreaterThan(15);
    expect(named.filter((name) => !known.has(name))).toEqual([]);
  });

  it('gives the two commands for a fresh machine', () => {
    expect(readme).toContain('npm start');
    expect(readme).toContain('bash .ci/run');
  });
});
