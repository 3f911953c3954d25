/** Quota keys as the services name them: nova (compute), cinder (volume), neutron (network). */
export const NOVA_KEYS = [
  'cores',
  'instances',
  'ram',
  'key_pairs',
  'metadata_items',
  'injected_files',
  'injected_file_content_bytes',
] as const;
export const CINDER_KEYS = [
  'gigabytes',
  'volumes',
  'snapshots',
  'backups',
  'backup_gigabytes',
  'per_volume_gigabytes',
] as const;
export const NEUTRON_KEYS = [
  'network',
  'subnet',
  'port',
  'router',
  'floatingip',
  'security_group',
  'security_group_rule',
] as const;

export type QuotaKey =
  | (typeof NOVA_KEYS)[number]
  | (typeof CINDER_KEYS)[number]
  | (typeof NEUTRON_KEYS)[number];

/** Values per key; -1 means unlimited; `ram` is in MiB as nova takes it. */
export type QuotaValues = Partial<Record<QuotaKey, number>>;

/** What an admin chose for an applicant: a named preset, or custom values. */
export type QuotaChoice = { kind: 'preset'; preset: string } | { kind: 'custom'; values: QuotaValues };
