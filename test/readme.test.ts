import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { NEEDED_FOR_A_FULL_BOT, envExample as writeEnvExample } from '../src/ops/env-example.js';
import { settings } from '../src/platform/config/config.js';

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

  it('.env.example is the one written from the settings table (kaizen config --env-example)', () => {
    // Regenerate with `npm run kaizen -- config --env-example > .env.example`.
    expect(envExample.trimEnd()).toBe(writeEnvExample().trimEnd());
  });

  it('.env.example names every setting once, under its area, with only the needed ones uncommented', () => {
    const active = [...envExample.matchAll(/^([A-Z][A-Z0-9_]+)=(.*)$/gm)];
    const commented = [...envExample.matchAll(/^# ([A-Z][A-Z0-9_]+)=/gm)].map((m) => m[1]!);
    const names = [...active.map((m) => m[1]!), ...commented];
    expect(names.sort()).toEqual(
      Object.values(settings)
        .map((s) => s.env)
        .sort(),
    );
    expect(active.map((m) => m[1]!).sort()).toEqual([...NEEDED_FOR_A_FULL_BOT].sort());
    // Blank: a copied file turns nothing on until someone fills it in.
    expect(active.filter((m) => m[2] !== '')).toEqual([]);
    for (const setting of Object.values(settings)) {
      const heading = envExample.lastIndexOf(
        '# ── ',
        envExample.search(new RegExp(`^#? ?${setting.env}=`, 'm')),
      );
      expect(envExample.slice(heading).startsWith(`# ── ${setting.area} ──`), setting.env).toBe(true);
    }
  });

  it('gives the two commands for a fresh machine', () => {
    expect(readme).toContain('npm start');
    expect(readme).toContain('bash .ci/run');
  });
});
