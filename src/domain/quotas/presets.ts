/**
 * Named quota sizes an admin picks from: small, medium and large are built in; QUOTA_PRESETS_FILE
 * (JSON, `{"name": {"instances": 10, "ram_gib": 64, …}}`, see deploy/quota-presets.example.json)
 * adds presets or replaces built-in ones of the same name. In memory `ram` is MiB, as nova takes it.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { KaizenError } from '../../platform/errors.js';
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

const MIB_PER_GIB = 1024;
/** Below this many MiB no instance boots: a `ram_mib` (or bare MiB) value this small was meant as GiB. */
const SMALLEST_MIB = 512;
/** More GiB than this per project is far beyond any cloud: a `ram_gib` value this large was meant as MiB. */
const LARGEST_GIB = 32_768;

const RAM_WITH_UNIT = /^\s*(\d+(?:\.\d+)?)\s*(GiB|MiB|G|M)\s*$/i;

/**
 * RAM is the one quota with a unit that people get wrong (nova counts MiB, people think in GiB),
 * so a presets file states it: `"ram_gib": 64`, `"ram_mib": 65536`, or `"ram": "64GiB"` /
 * `"65536MiB"`. A bare `"ram": 64` says neither and is refused; `-1` (unlimited) needs no unit.
 * Answers the preset with `ram` in MiB, or the problems, each naming where it is.
 */
function ramInMib(name: string, preset: Record<string, unknown>): { ram?: number; problems: string[] } {
  const given = (['ram', 'ram_gib', 'ram_mib'] as const).filter((key) => preset[key] !== undefined);
  if (given.length === 0) return { problems: [] };
  if (given.length > 1) return { problems: [`${name}: give RAM once (one of ${given.join(', ')})`] };
  const key = given[0]!;
  const raw = preset[key];
  const at = `${name}.${key}`;
  if (raw === -1) return { ram: -1, problems: [] };
  const wholeMib = (mib: number) =>
    Number.isInteger(mib) && mib >= 0
      ? { ram: mib, problems: [] }
      : { problems: [`${at}: expected a whole number of MiB, 0 or more, or -1 for unlimited`] };
  const tooSmall = (mib: number, written: string) =>
    mib > 0 && mib < SMALLEST_MIB
      ? [
          `${at}: ${written} is less than ${SMALLEST_MIB} MiB, too little for any instance; if you meant GiB write "ram_gib": ${mib}`,
        ]
      : [];
  const tooLarge = (gib: number, written: string) =>
    gib > LARGEST_GIB
      ? [`${at}: ${written} is more than ${LARGEST_GIB} GiB; if you meant MiB write "ram_mib": ${gib}`]
      : [];
  if (key === 'ram') {
    if (typeof raw === 'number') {
      return {
        problems: [
          `${at}: ${raw} has no unit; write "ram_gib": ${raw} for ${raw} GiB, or "ram_mib": ${raw} (or "ram": "${raw}MiB") if you mean MiB`,
        ],
      };
    }
    const match = typeof raw === 'string' ? RAM_WITH_UNIT.exec(raw) : null;
    if (!match)
      return { problems: [`${at}: expected a size with its unit such as "64GiB" or "65536MiB", or -1`] };
    const amount = Number(match[1]);
    const gib = match[2]!.toUpperCase().startsWith('G');
    const problems = gib ? tooLarge(amount, `"${raw}"`) : tooSmall(amount, `"${raw}"`);
    if (problems.length > 0) return { problems };
    return wholeMib(gib ? amount * MIB_PER_GIB : amount);
  }
  if (typeof raw !== 'number') return { problems: [`${at}: expected a number, or -1 for unlimited`] };
  if (key === 'ram_gib') {
    const problems = tooLarge(raw, String(raw));
    return problems.length > 0 ? { problems } : wholeMib(raw * MIB_PER_GIB);
  }
  const problems = tooSmall(raw, String(raw));
  return problems.length > 0 ? { problems } : wholeMib(raw);
}

const presetValues = z.strictObject(
  Object.fromEntries(QUOTA_KEYS.map((key) => [key, quotaNumber.optional()])) as Record<
    QuotaKey,
    z.ZodOptional<typeof quotaNumber>
  >,
);
const presetName = /^[\w-]{1,40}$/;

/** Validates a presets document and lays it over the built-in presets. */
export function parsePresets(document: unknown, source = 'QUOTA_PRESETS_FILE'): QuotaPresets {
  const problems: string[] = [];
  const presets: Record<string, QuotaValues> = {};
  if (typeof document !== 'object' || document === null || Array.isArray(document)) {
    problems.push('(top level): expected an object of preset name to quotas');
  } else {
    for (const [name, preset] of Object.entries(document)) {
      if (!presetName.test(name)) {
        problems.push(`${name}: a preset name is 1 to 40 letters, digits, - or _`);
        continue;
      }
      if (typeof preset !== 'object' || preset === null || Array.isArray(preset)) {
        problems.push(`${name}: expected an object of quota key to number`);
        continue;
      }
      const { ram_gib: _gib, ram_mib: _mib, ram: _ram, ...counts } = preset as Record<string, unknown>;
      const ram = ramInMib(name, preset as Record<string, unknown>);
      problems.push(...ram.problems);
      const parsed = presetValues.safeParse(ram.ram === undefined ? counts : { ...counts, ram: ram.ram });
      if (!parsed.success) {
        problems.push(
          ...parsed.error.issues.map((issue) => {
            if (issue.code === 'unrecognized_keys') {
              return `${name}: unknown quota key(s) ${issue.keys.join(', ')} (known: ${QUOTA_KEYS.join(', ')}; RAM as ram_gib, ram_mib or "ram": "64GiB")`;
            }
            return `${[name, ...issue.path].join('.')}: expected a whole number of at least -1 (-1 is unlimited)`;
          }),
        );
      } else if (ram.problems.length === 0) {
        presets[name] = Object.fromEntries(
          Object.entries(parsed.data).filter(([, value]) => value !== undefined),
        ) as QuotaValues;
      }
    }
  }
  if (problems.length > 0) {
    throw new KaizenError('config', `${source} is not valid: ${problems.slice(0, 5).join('; ')}`);
  }
  return { ...BUILT_IN_PRESETS, ...presets };
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
