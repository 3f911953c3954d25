import { describe, expect, it } from 'vitest';
import { currentPreset, presetLadder, withinOneSize } from '../../../src/domain/quotas/auto-approve.js';
import { BUILT_IN_PRESETS, parsePresets } from '../../../src/domain/quotas/presets.js';
import type { QuotaReading } from '../../../src/domain/quotas/reader.js';
import type { QuotaValues } from '../../../src/domain/quotas/types.js';

function reading(limits: QuotaValues): QuotaReading {
  return {
    usage: Object.fromEntries(Object.entries(limits).map(([key, limit]) => [key, { limit, inUse: 0 }])),
    notes: [],
  };
}

describe('the quota auto-approve policy', () => {
  it('ranks presets by size, whatever order a presets file lists them in', () => {
    const presets = parsePresets({ tiny: { instances: 2, cores: 4, ram_gib: 8 }, huge: { instances: 500 } });
    expect(presetLadder(presets)).toEqual(['tiny', 'small', 'medium', 'large', 'huge']);
  });

  it("finds the project's current preset: the largest its limits cover on every key", () => {
    expect(currentPreset(BUILT_IN_PRESETS, reading({ ...BUILT_IN_PRESETS.small }))).toBe('small');
    expect(currentPreset(BUILT_IN_PRESETS, reading({ ...BUILT_IN_PRESETS.medium, router: 2 }))).toBe(
      undefined,
    );
    expect(currentPreset(BUILT_IN_PRESETS, reading({ ...BUILT_IN_PRESETS.medium, router: -1 }))).toBe(
      'medium',
    );
    expect(currentPreset(BUILT_IN_PRESETS, reading({}))).toBe(undefined);
  });

  it('allows up to one preset size above, and nothing unlimited', () => {
    const atSmall = reading({ ...BUILT_IN_PRESETS.small, key_pairs: 100 });
    expect(withinOneSize(BUILT_IN_PRESETS, atSmall, { ...BUILT_IN_PRESETS.medium })).toEqual({
      apply: true,
      ceiling: 'medium',
    });
    expect(withinOneSize(BUILT_IN_PRESETS, atSmall, { instances: 30, cores: 150 })).toMatchObject({
      apply: true,
    });
    expect(withinOneSize(BUILT_IN_PRESETS, atSmall, { instances: 31 })).toEqual({
      apply: false,
      reason: 'too_large',
    });
    expect(withinOneSize(BUILT_IN_PRESETS, atSmall, { ...BUILT_IN_PRESETS.large })).toEqual({
      apply: false,
      reason: 'too_large',
    });
    expect(withinOneSize(BUILT_IN_PRESETS, atSmall, { cores: -1 })).toEqual({
      apply: false,
      reason: 'unlimited',
    });
    // A key no preset sets may not go above what the project has now.
    expect(withinOneSize(BUILT_IN_PRESETS, atSmall, { key_pairs: 100 })).toMatchObject({ apply: true });
    expect(withinOneSize(BUILT_IN_PRESETS, atSmall, { key_pairs: 101 })).toMatchObject({ apply: false });
    // Below every preset, the smallest is one size up; above the largest there is none.
    expect(withinOneSize(BUILT_IN_PRESETS, reading({ instances: 1 }), { instances: 10 })).toEqual({
      apply: true,
      ceiling: 'small',
    });
    expect(
      withinOneSize(BUILT_IN_PRESETS, reading({ ...BUILT_IN_PRESETS.large }), { instances: 10 }),
    ).toEqual({
      apply: false,
      reason: 'no_larger_preset',
    });
  });
});
