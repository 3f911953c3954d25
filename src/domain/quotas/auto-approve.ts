/**
 * QUOTA_AUTO_APPROVE: whether a quota request may be applied without an admin. It may when the
 * requester is a member of the project, nothing asked is unlimited, every value asked is at most
 * what the next preset up from the project's current one gives, and the bot has not changed the
 * project's quota for QUOTA_AUTO_APPROVE_AFTER. The answer is a code; the card words it.
 *
 * Presets are ranked by size (instances, then vCPUs, then RAM). The project's current preset is
 * the largest one its limits cover on every key; "one size above" is the preset after it, or the
 * smallest preset when the limits cover none.
 */
import { keys } from '../../platform/keys.js';
import type { Redis } from '../../platform/redis.js';
import type { QuotaPresets } from './presets.js';
import type { QuotaReading } from './reader.js';
import type { QuotaRequestRecord } from './request-store.js';
import type { QuotaKey, QuotaValues } from './types.js';

export type PolicyVerdict =
  | { apply: true; ceiling: string }
  | {
      apply: false;
      reason: 'not_member' | 'unlimited' | 'too_large' | 'changed_recently' | 'no_larger_preset';
    };

const atLeast = (limit: number | undefined, wanted: number) =>
  limit !== undefined && (limit === -1 || (wanted !== -1 && limit >= wanted));

/** Preset names smallest first. */
export function presetLadder(presets: QuotaPresets): string[] {
  const size = (name: string): number[] => {
    const values = presets[name] ?? {};
    return [values.instances ?? 0, values.cores ?? 0, values.ram ?? 0];
  };
  return Object.keys(presets).sort((a, b) => {
    const [x, y] = [size(a), size(b)];
    for (let i = 0; i < x.length; i++) if ((x[i] ?? 0) !== (y[i] ?? 0)) return (x[i] ?? 0) - (y[i] ?? 0);
    return a.localeCompare(b);
  });
}

/** The largest preset the current limits cover on every key it sets; undefined when none. */
export function currentPreset(presets: QuotaPresets, reading: QuotaReading): string | undefined {
  let found: string | undefined;
  for (const name of presetLadder(presets)) {
    const values = presets[name] ?? {};
    const covered = (Object.entries(values) as [QuotaKey, number][]).every(([key, wanted]) =>
      atLeast(reading.usage[key]?.limit, wanted),
    );
    if (covered) found = name;
  }
  return found;
}

/** The preset one size above the project's current one, and whether `asked` stays within it. */
export function withinOneSize(
  presets: QuotaPresets,
  reading: QuotaReading,
  asked: QuotaValues,
): PolicyVerdict {
  const entries = Object.entries(asked) as [QuotaKey, number][];
  if (entries.some(([, value]) => value === -1)) return { apply: false, reason: 'unlimited' };
  const ladder = presetLadder(presets);
  const current = currentPreset(presets, reading);
  const next = ladder[current === undefined ? 0 : ladder.indexOf(current) + 1];
  if (next === undefined) return { apply: false, reason: 'no_larger_preset' };
  const ceiling = presets[next] ?? {};
  // A key the next preset does not set may not go above the project's limit now.
  const fits = entries.every(([key, value]) => {
    const cap = ceiling[key] ?? reading.usage[key]?.limit;
    return cap !== undefined && (cap === -1 || value <= cap);
  });
  return fits ? { apply: true, ceiling: next } : { apply: false, reason: 'too_large' };
}

/**
 * Whether the bot changed the project's quota within `afterMs`. A project it has no record of is
 * recorded now and counts as changed: the bot cannot know what was done before it looked.
 */
export async function changedWithin(
  redis: Redis,
  projectId: string,
  afterMs: number,
  now = Date.now(),
): Promise<boolean> {
  await redis.set(keys.quotaChangedAt(projectId), String(now), 'NX');
  const at = Number(await redis.get(keys.quotaChangedAt(projectId)));
  return !(at > 0 && now - at >= afterMs);
}

export async function policyVerdict(
  input: { redis: Redis; presets: QuotaPresets; afterMs: number; now?: number },
  record: QuotaRequestRecord,
  reading: QuotaReading,
): Promise<PolicyVerdict> {
  if (record.membership.kind !== 'member') return { apply: false, reason: 'not_member' };
  const size = withinOneSize(input.presets, reading, record.toApply);
  if (!size.apply) return size;
  if (await changedWithin(input.redis, record.membership.projectId, input.afterMs, input.now)) {
    return { apply: false, reason: 'changed_recently' };
  }
  return size;
}
