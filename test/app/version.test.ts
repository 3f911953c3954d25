import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../src/app/cli.js';
import { VERSION } from '../../src/platform/version.js';

const { version } = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };

describe('the version', () => {
  it('is the one in package.json', () => {
    expect(VERSION).toBe(version);
  });

  it('is what `kaizen --version` prints, without reading any settings', async () => {
    const out: string[] = [];
    const code = await runCli(['--version'], {}, { out: (text) => out.push(text), err: () => {} });
    expect(code).toBe(0);
    expect(out).toEqual([`kaizen ${version}`]);
    const child = spawnSync('node_modules/.bin/tsx', ['src/app/kaizen.ts', '--version'], {
      encoding: 'utf8',
      env: { PATH: process.env.PATH, HOME: process.env.HOME },
    });
    expect(child.status).toBe(0);
    expect(child.stdout).toBe(`kaizen ${version}\n`);
  });
});
