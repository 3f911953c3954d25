/**
 * Named quota sizes an admin picks from: small, medium and large are built in; QUOTA_PRESETS_FILE
 * (JSON, `{"name": {"instances": 10, …}}`) adds presets or replaces built-in ones of the same name.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { KaizenError } from '../errors.js';
import { CINDER_KEYS, NEUTRON_KEYS, NOVA_KEYS, type QuotaKey, type QuotaValues } from './types.js';

export type QuotaPresets = Readonly<Record<string, QuotaValues>>;

export const QUOTA_KEYS: readonly QuotaKey[] = [...NOVA_KEYS, ...CINDER_KEYS, ...NEUTRON_KEYS];

export const BUILT_IN_PRESETS: QuotaPresets = {
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
};

/** A quota value as the services take it: a whole number, -1 meaning unlimited. */
export const quotaNumber = z.number().int().min(-1);

const presetValues = z.partialRecord(z.enum(QUOTA_KEYS as [QuotaKey, ...QuotaKey[]]), quotaNumber);
const presetsFile = z.record(z.string().regex(/^[\w-]{1,40}$/), presetValues);

/** Validates a presets document and lays it over the built-in presets. */
export function parsePresets(document: unknown, source = 'QUOTA_PRESETS_FILE'): QuotaPresets {
  const parsed = presetsFile.safeParse(document);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => {
      const where = issue.path.join('.') || '(top level)';
      if (issue.code === 'unrecognized_keys') {
        return `${where}: unknown quota key(s) ${issue.keys.join(', ')} (known: ${QUOTA_KEYS.join(', ')})`;
      }
      if (issue.code === 'invalid_key') return `${where}: a preset name is 1 to 40 letters, digits, - or _`;
      if (issue.path.length < 2) return `${where}: expected an object of quota key to number`;
      return `${where}: expected a whole number of at least -1 (-1 is unlimited)`;
    });
    throw new KaizenError('config', `${source} is not valid: ${problems.slice(0, 5).join('; ')}`);
  }
  return { ...BUILT_IN_PRESETS, ...(parsed.data as Record<string, QuotaValues>) };
}

/** The presets in effect: built in, overridden by the file when one is configured. Read once at start. */
export function loadPresets(file: string | undefined): QuotaPresets {
  if (file === undefined) return BUILT_IN_PRESETS;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw new KaizenError('config', `QUOTA_PRESETS_FILE: cannot read the file ${file}`);
  }
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch {
    throw new KaizenError('config', `QUOTA_PRESETS_FILE: ${file} is not valid JSON`);
  }
  return parsePresets(document, `QUOTA_PRESETS_FILE (${file})`);
}

export function presetNames(presets: QuotaPresets): string[] {
  return Object.keys(presets);
}

/** The presets for these settings; DEFAULT_QUOTA_PRESET must name one of them. */
export function presetsFromConfig(quotas: {
  presetsFile: string | undefined;
  defaultPreset: string;
}): QuotaPresets {
  const presets = loadPresets(quotas.presetsFile);
  if (presets[quotas.defaultPreset] === undefined) {
    throw new KaizenError(
      'config',
      `DEFAULT_QUOTA_PRESET: there is no preset "${quotas.defaultPreset}"; the presets are ${presetNames(presets).join(', ')}`,
    );
  }
  return presets;
}
