/**
 * `.env.example`, written from the settings table so it names every setting and cannot drift
 * (`kaizen config --env-example` prints it; a test compares the file with it). Every value is
 * blank or the default, so a copied file switches nothing on: it starts with the clear "nothing to
 * run" message until the uncommented lines are filled in.
 */
import { type Area, settings } from '../platform/config/config.js';

/** What a full bot (KAIZEN_ROLE=all, every part on) cannot do without: left uncommented, blank. */
export const NEEDED_FOR_A_FULL_BOT: readonly string[] = [
  'PUBLIC_URL',
  'SETPASS_SECRET',
  'SLACK_BOT_TOKEN',
  'SLACK_SIGNING_SECRET',
  'SLACK_ADMIN_CHANNEL',
  'GOOGLE_APPLICATION_CREDENTIALS',
  'GOOGLE_SHEET_ID',
  'OS_AUTH_URL',
  'OS_USERNAME',
  'OS_PASSWORD',
  'SMTP_URL',
  'MAIL_FROM',
];

/** Words under an area's heading, where the area needs more than one line per setting to explain. */
const AREA_NOTES: Partial<Record<Area, string[]>> = {
  Slack: ['Create the app from manifest.yml (`kaizen manifest --url <bot URL>` fills in the URLs).'],
  Google: ["Share the sheet with the service account's email as Editor."],
  Keystone: [
    'An openrc works as it is (values, not `$OS_PASSWORD_INPUT`); or OS_CLOUD with clouds.yaml;',
    'or an application credential instead of OS_USERNAME/OS_PASSWORD.',
  ],
  Setpass: ['Make SETPASS_SECRET with `openssl rand -base64 32` (`kaizen init` does it for you).'],
};

/** dotenv reads an unquoted value up to a `#`, and trims it: quote what would not survive that. */
function envValue(value: string): string {
  return /[\s#"'\\]/.test(value) ? `"${value.replace(/["\\]/g, '\\$&')}"` : value;
}

export function envExample(): string {
  const byArea = new Map<Area, (typeof settings)[keyof typeof settings][]>();
  for (const setting of Object.values(settings)) {
    byArea.set(setting.area, [...(byArea.get(setting.area) ?? []), setting]);
  }
  const lines = [
    '# Kaizen Registration settings: every one, grouped by area. Written from the settings table in',
    '# src/platform/config/config.ts (`npm run kaizen -- config --env-example`); README.md (Configuration) explains them.',
    '#',
    '# Copy to .env (or let `npm run kaizen -- init` write one) and fill in the uncommented lines: they',
    '# are what a full bot needs. A blank value counts as unset, and a part whose settings are unset is',
    '# off; `npm run kaizen -- doctor` says which parts are on and what each one still needs.',
    '# Commented lines show the default, or nothing when there is none.',
  ];
  for (const [area, members] of byArea) {
    lines.push('', `# ── ${area} ──`);
    for (const note of AREA_NOTES[area] ?? []) lines.push(`# ${note}`);
    for (const setting of members) {
      const value = setting.fallback === undefined ? '' : envValue(setting.fallback);
      lines.push(`# ${setting.doc}`);
      lines.push(
        NEEDED_FOR_A_FULL_BOT.includes(setting.env) ? `${setting.env}=` : `# ${setting.env}=${value}`,
      );
    }
  }
  return `${lines.join('\n')}\n`;
}
