import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BUILT_IN_PRESETS, loadPresets, parsePresets } from '../../../src/domain/quotas/presets.js';
import {
  adjustPorts,
  describeQuotaChoice,
  parseQuotaInput,
  resolveQuota,
  validateQuotaValues,
} from '../../../src/domain/quotas/resolve.js';
import { valuesFor } from '../../../src/domain/quotas/setter.js';

describe('built-in quota presets', () => {
  it('are small, medium and large with the documented values', () => {
    expect(BUILT_IN_PRESETS).toEqual({
      small: {
        instances: 10,
        cores: 50,
        ram: 65536,
        floatingip: 2,
        gigabytes: 500,
        volumes: 20,
        snapshots: 50,
        network: 5,
        subnet: 10,
        port: 50,
        router: 3,
      },
      medium: {
        instances: 30,
        cores: 200,
        ram: 262144,
        floatingip: 5,
        gigabytes: 1000,
        volumes: 50,
        snapshots: 100,
        network: 10,
        subnet: 20,
        port: 150,
        router: 5,
      },
      large: {
        instances: 100,
        cores: 500,
        ram: 786432,
        floatingip: 10,
        gigabytes: 2000,
        volumes: 100,
        snapshots: 200,
        network: 20,
        subnet: 40,
        port: 300,
        router: 10,
      },
    });
  });
});

describe('presets from QUOTA_PRESETS_FILE', () => {
  const dir = mkdtemp(join(tmpdir(), 'kaizen-presets-'));
  afterAll(async () => rm(await dir, { recursive: true, force: true }));

  it('add presets and replace built-in ones of the same name', () => {
    const presets = parsePresets({ small: { instances: 2 }, gpu: { instances: 4, cores: 64, ram: -1 } });
    expect(presets.small).toEqual({ instances: 2 });
    expect(presets.gpu).toEqual({ instances: 4, cores: 64, ram: -1 });
    expect(presets.medium).toEqual(BUILT_IN_PRESETS.medium);
  });

  it('are refused with a message naming the bad key or value', () => {
    expect(() => parsePresets({ small: { instance: 2 } })).toThrow(
      /small: unknown quota key\(s\) instance \(known: cores, instances/,
    );
    expect(() => parsePresets({ small: { cores: 1.5 } })).toThrow(
      'QUOTA_PRESETS_FILE is not valid: small.cores: expected a whole number of at least -1 (-1 is unlimited)',
    );
    expect(() => parsePresets({ small: { cores: -2 } })).toThrow(/small\.cores: expected a whole number/);
    expect(() => parsePresets({ 'no spaces': { cores: 1 } })).toThrow(/a preset name is 1 to 40 letters/);
    expect(() => parsePresets([1])).toThrow(/QUOTA_PRESETS_FILE is not valid/);
  });

  it('are read from the file, with a readable error for a missing or broken one', async () => {
    const good = join(await dir, 'good.json');
    await writeFile(good, JSON.stringify({ tiny: { instances: 1 } }));
    expect(loadPresets(good).tiny).toEqual({ instances: 1 });
    expect(loadPresets(undefined)).toBe(BUILT_IN_PRESETS);

    const broken = join(await dir, 'broken.json');
    await writeFile(broken, '{ not json');
    expect(() => loadPresets(broken)).toThrow(`QUOTA_PRESETS_FILE: ${broken} is not valid JSON`);
    const absent = join(await dir, 'absent.json');
    expect(() => loadPresets(absent)).toThrow(`QUOTA_PRESETS_FILE: cannot read the file ${absent}`);
  });
});

describe('resolveQuota', () => {
  it('answers a preset as it is', () => {
    expect(resolveQuota({ kind: 'preset', preset: 'medium' }, BUILT_IN_PRESETS)).toEqual(
      BUILT_IN_PRESETS.medium,
    );
  });

  it('refuses an unknown preset, naming the ones there are', () => {
    expect(() => resolveQuota({ kind: 'preset', preset: 'huge' }, BUILT_IN_PRESETS)).toThrow(
      'There is no quota preset "huge"; choose one of small, medium, large',
    );
  });

  it('lays custom values over the base preset', () => {
    const values = resolveQuota({ kind: 'custom', values: { cores: 64, gigabytes: -1 } }, BUILT_IN_PRESETS);
    expect(values).toEqual({ ...BUILT_IN_PRESETS.small, cores: 64, gigabytes: -1 });
    const onMedium = resolveQuota({ kind: 'custom', values: { router: 1 } }, BUILT_IN_PRESETS, 'medium');
    expect(onMedium).toEqual({ ...BUILT_IN_PRESETS.medium, router: 1 });
  });

  it('raises ports to instances + 5 when instances grow and no port quota is given', () => {
    expect(resolveQuota({ kind: 'custom', values: { instances: 80 } }, BUILT_IN_PRESETS).port).toBe(85);
    // 20 instances fit in small's 50 ports: no change.
    expect(resolveQuota({ kind: 'custom', values: { instances: 20 } }, BUILT_IN_PRESETS).port).toBe(50);
    // An explicit port quota is the admin's word.
    expect(resolveQuota({ kind: 'custom', values: { instances: 80, port: 60 } }, BUILT_IN_PRESETS).port).toBe(
      60,
    );
    expect(resolveQuota({ kind: 'custom', values: { instances: -1 } }, BUILT_IN_PRESETS).port).toBe(-1);
  });

  it('re-checks ports when networks grow, keeping them at least instances + 5', () => {
    const base = { instances: 60, network: 5, port: 50 };
    expect(adjustPorts({ ...base, network: 30 }, { network: 30 })).toEqual({
      instances: 60,
      network: 30,
      port: 65,
    });
    expect(adjustPorts(base, {})).toEqual(base);
    expect(adjustPorts({ ...base, port: -1 }, { instances: 60 })).toEqual({ ...base, port: -1 });
  });

  it('refuses custom values that are not whole numbers of at least -1', () => {
    expect(() => resolveQuota({ kind: 'custom', values: { cores: 2.5 } }, BUILT_IN_PRESETS)).toThrow(
      'The custom quota is not valid: cores: Enter a whole number, or -1 for unlimited',
    );
    expect(() => validateQuotaValues({ ram: -2, volumes: 'ten' })).toThrow(
      'The custom quota is not valid: ram: Enter a whole number, or -1 for unlimited; volumes: Enter a whole number, or -1 for unlimited',
    );
  });
});

describe('parseQuotaInput', () => {
  it('reads text fields, skipping blank ones', () => {
    expect(parseQuotaInput({ instances: ' 12 ', cores: '', ram: '-1', port: undefined })).toEqual({
      ok: true,
      values: { instances: 12, ram: -1 },
    });
  });

  it('answers an error per bad field, for the modal', () => {
    expect(parseQuotaInput({ instances: '1e3', cores: '-5', disks: '3', ram: '100' })).toEqual({
      ok: false,
      errors: {
        instances: 'Enter a whole number, or -1 for unlimited',
        cores: 'Enter a whole number, or -1 for unlimited',
        disks: 'disks is not a quota this bot sets',
      },
    });
  });
});

describe('quota choices and services', () => {
  it('describes a choice in words', () => {
    expect(describeQuotaChoice({ kind: 'preset', preset: 'large' })).toBe('large');
    expect(describeQuotaChoice({ kind: 'custom', values: { instances: 40, port: 45 } })).toBe(
      'custom (instances 40, port 45)',
    );
  });

  it('sends each service only its own keys', () => {
    const values = BUILT_IN_PRESETS.small!;
    expect(valuesFor('compute', values)).toEqual({ instances: 10, cores: 50, ram: 65536 });
    expect(valuesFor('volume', values)).toEqual({ gigabytes: 500, volumes: 20, snapshots: 50 });
    expect(valuesFor('network', values)).toEqual({
      floatingip: 2,
      network: 5,
      subnet: 10,
      port: 50,
      router: 3,
    });
  });
});

describe('RAM units in QUOTA_PRESETS_FILE', () => {
  it('are stated with ram_gib, ram_mib or a suffix, and kept in MiB as nova takes them', () => {
    const presets = parsePresets({
      a: { ram_gib: 4 },
      b: { ram_mib: 4096 },
      c: { ram: '4GiB' },
      d: { ram: '4096 MiB' },
      e: { ram_gib: 1.5 },
      f: { ram: -1 },
      g: { ram_gib: -1 },
    });
    for (const name of ['a', 'b', 'c', 'd']) expect(presets[name], name).toEqual({ ram: 4096 });
    expect(presets.e).toEqual({ ram: 1536 });
    expect(presets.f).toEqual({ ram: -1 });
    expect(presets.g).toEqual({ ram: -1 });
  });

  it('refuse a bare number, and a value that looks like the other unit, saying what to write', () => {
    expect(() => parsePresets({ small: { ram: 4 } })).toThrow(
      'small.ram: 4 has no unit; write "ram_gib": 4 for 4 GiB, or "ram_mib": 4 (or "ram": "4MiB") if you mean MiB',
    );
    expect(() => parsePresets({ small: { ram: 65536 } })).toThrow(/small\.ram: 65536 has no unit/);
    expect(() => parsePresets({ small: { ram_mib: 4 } })).toThrow(
      'small.ram_mib: 4 is less than 512 MiB, too little for any instance; if you meant GiB write "ram_gib": 4',
    );
    expect(() => parsePresets({ small: { ram: '64M' } })).toThrow(/if you meant GiB write "ram_gib": 64/);
    expect(() => parsePresets({ small: { ram_gib: 65536 } })).toThrow(
      'small.ram_gib: 65536 is more than 32768 GiB; if you meant MiB write "ram_mib": 65536',
    );
    expect(() => parsePresets({ small: { ram: '64 TB' } })).toThrow(/expected a size with its unit/);
    expect(() => parsePresets({ small: { ram_gib: 4, ram: '4GiB' } })).toThrow(/give RAM once/);
    expect(() => parsePresets({ small: { ram_gib: 0.0001 } })).toThrow(/expected a whole number of MiB/);
  });

  it('are what the shipped example uses: it holds exactly the built-in presets', async () => {
    const example = JSON.parse(await readFile('deploy/quota-presets.example.json', 'utf8')) as Record<
      string,
      Record<string, number>
    >;
    expect(Object.values(example).every((preset) => 'ram_gib' in preset && !('ram' in preset))).toBe(true);
    const parsed = parsePresets(example);
    expect(parsed).toEqual(BUILT_IN_PRESETS);
    expect(Object.keys(example)).toEqual(Object.keys(BUILT_IN_PRESETS));
  });

  it('are listed in the README with every built-in value, RAM in GiB', async () => {
    const readme = await readFile('README.md', 'utf8');
    const rows = Object.entries(BUILT_IN_PRESETS).map(([name, values]) => {
      const cells = Object.entries(values).map(([key, value]) => (key === 'ram' ? value / 1024 : value));
      return `| \`${name}\` | ${cells.join(' | ')} |`;
    });
    const header = `| preset | ${Object.keys(BUILT_IN_PRESETS.small!)
      .map((key) => (key === 'ram' ? 'ram (GiB)' : key))
      .join(' | ')} |`;
    expect(readme).toContain(header);
    for (const row of rows) expect(readme).toContain(row);
  });
});
