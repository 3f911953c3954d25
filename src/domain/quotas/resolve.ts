/**
 * From an admin's choice to the numbers sent to the services: a preset as it is, or custom values
 * laid over the default preset, checked, with ports following the instances.
 */
import { KaizenError } from '../../platform/errors.js';
import { QUOTA_KEYS, type QuotaPresets } from './presets.js';
import type { QuotaChoice, QuotaKey, QuotaValues } from './types.js';

/** Ports an instance count needs: one per instance plus a few for routers and DHCP. */
const SPARE_PORTS = 5;

export type QuotaInputResult =
  | { ok: true; values: QuotaValues }
  | { ok: false; errors: Partial<Record<string, string>> };

const isQuotaKey = (key: string): key is QuotaKey => (QUOTA_KEYS as readonly string[]).includes(key);

/** A whole number of at least -1 (-1 is unlimited), typed or given; undefined for anything else. */
export function wholeNumber(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isInteger(value) && value >= -1 ? value : undefined;
  if (typeof value === 'string' && /^\s*-?\d+\s*$/.test(value)) {
    const number = Number(value.trim());
    return Number.isSafeInteger(number) && number >= -1 ? number : undefined;
  }
  return undefined;
}

/**
 * Checks custom values field by field, as a modal shows them: blank fields are left out, anything
 * else must be a whole number of at least -1 (-1 is unlimited) for a known key.
 */
export function parseQuotaInput(fields: Readonly<Record<string, unknown>>): QuotaInputResult {
  const values: QuotaValues = {};
  const errors: Partial<Record<string, string>> = {};
  for (const [key, raw] of Object.entries(fields)) {
    if (raw === undefined || raw === null || (typeof raw === 'string' && raw.trim() === '')) continue;
    if (!isQuotaKey(key)) {
      errors[key] = `${key} is not a quota this bot sets`;
      continue;
    }
    const number = wholeNumber(raw);
    if (number === undefined) errors[key] = 'Enter a whole number, or -1 for unlimited';
    else values[key] = number;
  }
  return Object.keys(errors).length > 0 ? { ok: false, errors } : { ok: true, values };
}

/** Like `parseQuotaInput`, but one `invalid` error naming every bad field. */
export function validateQuotaValues(fields: Readonly<Record<string, unknown>>): QuotaValues {
  const result = parseQuotaInput(fields);
  if (result.ok) return result.values;
  const problems = Object.entries(result.errors).map(([key, message]) => `${key}: ${message}`);
  throw new KaizenError('invalid', `The custom quota is not valid: ${problems.join('; ')}`);
}

/**
 * Raises the port quota to what the instance count needs when the admin gave instances or networks
 * but no ports: a project allowed 100 instances and 50 ports could start only 50 of them.
 */
export function adjustPorts(values: QuotaValues, given: QuotaValues): QuotaValues {
  if (given.port !== undefined) return values;
  if (given.instances === undefined && given.network === undefined) return values;
  const { instances, port } = values;
  if (instances === undefined || port === -1) return values;
  if (instances === -1) return { ...values, port: -1 };
  const needed = instances + SPARE_PORTS;
  return port !== undefined && port >= needed ? values : { ...values, port: needed };
}

/** The values to set for `choice`; custom values fill in over `basePreset` (DEFAULT_QUOTA_PRESET). */
export function resolveQuota(choice: QuotaChoice, presets: QuotaPresets, basePreset = 'small'): QuotaValues {
  if (choice.kind === 'preset') return { ...presetOrThrow(presets, choice.preset) };
  const given = validateQuotaValues(choice.values);
  const base = presets[basePreset] ?? {};
  return adjustPorts({ ...base, ...given }, given);
}

/** Throws an `invalid` error naming the presets there are. */
export function presetOrThrow(presets: QuotaPresets, name: string): QuotaValues {
  const values = presets[name];
  if (values !== undefined) return values;
  throw new KaizenError(
    'invalid',
    `There is no quota preset "${name}"; choose one of ${Object.keys(presets).join(', ')}`,
  );
}

/** The choice as words for cards and audit lines, e.g. `medium` or `custom (instances 40, port 45)`. */
export function describeQuotaChoice(choice: QuotaChoice): string {
  if (choice.kind === 'preset') return choice.preset;
  const parts = Object.entries(choice.values).map(([key, value]) => `${key} ${value}`);
  return parts.length === 0 ? 'custom' : `custom (${parts.join(', ')})`;
}
