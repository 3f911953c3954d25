/**
 * `kaizen config`: what each setting is in effect here (from the environment and `.env`, else its
 * default) and where that came from. Secrets are never printed: a secret setting shows only
 * whether it is set, and a password inside any URL (REDIS_URL, SMTP_URL…) is masked.
 */
import { type Area, type Env, settings } from '../platform/config/config.js';
import { maskCredentials } from '../platform/log.js';

export interface EffectiveSetting {
  env: string;
  area: Area;
  /** The value in effect, masked when secret; null when unset and without a default. */
  value: string | null;
  source: 'environment' | 'default' | 'unset';
  secret: boolean;
}

export const HIDDEN = '(set, hidden)';

export function effectiveSettings(env: Env): EffectiveSetting[] {
  return Object.values(settings).map((setting) => {
    const raw = env[setting.env]?.trim();
    const base = { env: setting.env, area: setting.area, secret: setting.secret };
    if (raw) {
      return { ...base, source: 'environment', value: setting.secret ? HIDDEN : maskCredentials(raw) };
    }
    if (setting.fallback !== undefined) return { ...base, source: 'default', value: setting.fallback };
    return { ...base, source: 'unset', value: null };
  });
}

/** One line per setting, grouped by area: `NAME  value  (default)`. */
export function formatEffective(rows: EffectiveSetting[]): string {
  const width = Math.max(...rows.map((row) => row.env.length));
  const areas = [...new Set(rows.map((row) => row.area))];
  return areas
    .map((area) =>
      [
        `# ${area}`,
        ...rows
          .filter((row) => row.area === area)
          .map((row) => {
            const shown = row.value === null ? '-' : row.value === '' ? '""' : row.value;
            const note = row.source === 'environment' ? '' : `  (${row.source})`;
            return `${row.env.padEnd(width)}  ${shown}${note}`;
          }),
      ].join('\n'),
    )
    .join('\n\n');
}
