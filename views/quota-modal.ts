/**
 * The Quota modal: pick a preset, and optionally override any value. RAM is asked in GiB (what
 * people think in) and handed on in MiB (what nova takes). `private_metadata` carries the
 * applicant id.
 */
import type { types as slack } from '@slack/bolt';
import type { Applicant } from '../src/domain/intake/applicant.js';
import { fullName } from '../src/domain/intake/applicant.js';
import type { QuotaPresets } from '../src/domain/quotas/presets.js';
import {
  CINDER_KEYS,
  NEUTRON_KEYS,
  NOVA_KEYS,
  type QuotaChoice,
  type QuotaKey,
} from '../src/domain/quotas/types.js';
import { gib, quotaSummary } from './applicant-card.js';
import { clipPlain, escapeAndClip } from './mrkdwn.js';

export const QUOTA_MODAL_CALLBACK = 'applicant_quota_modal';
export const QUOTA_PRESET_BLOCK = 'quota_preset';
export const PRESET_ACTION = 'preset';
export const VALUE_ACTION = 'value';
const MIB_PER_GIB = 1024;

export const QUOTA_LABELS: Record<QuotaKey, string> = {
  instances: 'Instances',
  cores: 'vCPUs',
  ram: 'RAM (GiB)',
  key_pairs: 'Key pairs',
  metadata_items: 'Metadata items',
  injected_files: 'Injected files',
  injected_file_content_bytes: 'Injected file size (bytes)',
  gigabytes: 'Volume storage (GB)',
  volumes: 'Volumes',
  snapshots: 'Snapshots',
  backups: 'Backups',
  backup_gigabytes: 'Backup storage (GB)',
  per_volume_gigabytes: 'Largest volume (GB)',
  network: 'Networks',
  subnet: 'Subnets',
  port: 'Ports',
  router: 'Routers',
  floatingip: 'Floating IPs',
  security_group: 'Security groups',
  security_group_rule: 'Security group rules',
};

export const QUOTA_GROUPS: { title: string; keys: readonly QuotaKey[] }[] = [
  { title: 'Compute', keys: NOVA_KEYS },
  { title: 'Volumes', keys: CINDER_KEYS },
  { title: 'Network', keys: NEUTRON_KEYS },
];

/** The block that holds one key's input; errors for a key are answered on this block. */
export const quotaBlockId = (key: QuotaKey) => `quota_${key}`;

export interface QuotaModalInput {
  applicant: Pick<Applicant, 'id' | 'firstName' | 'lastName' | 'email'>;
  presets: QuotaPresets;
  current: QuotaChoice;
  /** The preset custom values are laid over (DEFAULT_QUOTA_PRESET). */
  defaultPreset: string;
}

export function quotaModal(input: QuotaModalInput): slack.ModalView {
  const { applicant, presets, current } = input;
  const names = Object.keys(presets);
  const selected =
    current.kind === 'preset' && names.includes(current.preset)
      ? current.preset
      : names.includes(input.defaultPreset)
        ? input.defaultPreset
        : names[0];
  const options: slack.PlainTextOption[] = names.slice(0, 100).map((name) => ({
    text: { type: 'plain_text', text: clipPlain(name, 75) },
    description: { type: 'plain_text', text: clipPlain(quotaSummary(presets[name] ?? {}) || name, 75) },
    value: name,
  }));
  const initial = options.find((option) => option.value === selected);
  const custom = current.kind === 'custom' ? current.values : {};
  const who = fullName(applicant) || applicant.email;

  const blocks: slack.KnownBlock[] = [
    {
      type: 'section',
      text: {
        type: 'mrkdwn',
        text: `Quota for *${escapeAndClip(who, 200)}*. Choose a preset; fill in a value below only to override it. -1 means unlimited.`,
      },
    },
    {
      type: 'input',
      block_id: QUOTA_PRESET_BLOCK,
      label: { type: 'plain_text', text: 'Preset' },
      element: {
        type: 'static_select',
        action_id: PRESET_ACTION,
        options,
        ...(initial ? { initial_option: initial } : {}),
      },
    },
  ];
  blocks.push(...quotaValueInputs(custom));
  return {
    type: 'modal',
    callback_id: QUOTA_MODAL_CALLBACK,
    private_metadata: applicant.id,
    title: { type: 'plain_text', text: 'Quota' },
    submit: { type: 'plain_text', text: 'Save' },
    close: { type: 'plain_text', text: 'Cancel' },
    blocks,
  };
}

/** What a submission says: the preset, and the override fields as typed (RAM in GiB converted to MiB when it is a number). */
export interface QuotaModalValues {
  preset: string | undefined;
  fields: Partial<Record<QuotaKey, string>>;
}

type StateValues = Record<
  string,
  Record<string, { value?: string | null; selected_option?: { value?: string } | null }>
>;

export function readQuotaModal(values: StateValues): QuotaModalValues {
  const preset = values[QUOTA_PRESET_BLOCK]?.[PRESET_ACTION]?.selected_option?.value ?? undefined;
  const fields: Partial<Record<QuotaKey, string>> = {};
  for (const group of QUOTA_GROUPS) {
    for (const key of group.keys) {
      const raw = values[quotaBlockId(key)]?.[VALUE_ACTION]?.value;
      if (raw === undefined || raw === null || raw.trim() === '') continue;
      fields[key] = key === 'ram' ? gibToMib(raw.trim()) : raw.trim();
    }
  }
  return { preset, fields };
}

/** "64" GiB → "65536", "1.5" → "1536"; -1 stays -1; anything else is passed on as typed for validation to refuse. */
function gibToMib(text: string): string {
  if (!/^-?\d+(?:\.\d+)?$/.test(text)) return text;
  const value = Number(text);
  return value === -1 ? '-1' : String(Math.round(value * MIB_PER_GIB));
}

/**
 * One number field per quota key, grouped by service, pre-filled with `values` (RAM in GiB, where
 * 1.5 makes sense; every other quota is a count). The Quota modal and a quota request's Adjust
 * share them.
 */
export function quotaValueInputs(values: Partial<Record<QuotaKey, number>>): slack.KnownBlock[] {
  const blocks: slack.KnownBlock[] = [];
  for (const group of QUOTA_GROUPS) {
    blocks.push({ type: 'header', text: { type: 'plain_text', text: group.title } });
    for (const key of group.keys) {
      const value = values[key];
      blocks.push({
        type: 'input',
        block_id: quotaBlockId(key),
        optional: true,
        label: { type: 'plain_text', text: QUOTA_LABELS[key] },
        element: {
          type: 'number_input',
          action_id: VALUE_ACTION,
          is_decimal_allowed: key === 'ram',
          min_value: '-1',
          ...(value === undefined
            ? {}
            : { initial_value: key === 'ram' && value !== -1 ? gib(value) : String(value) }),
        },
      });
    }
  }
  return blocks;
}
