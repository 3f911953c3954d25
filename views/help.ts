/** The `/kaizen help` text, shared by Slack and the CLI. `prefix` is `/kaizen` or `kaizen`. */
export function helpText(prefix = '/kaizen'): string {
  return [
    `*${prefix}* — onboarding commands for admins`,
    '',
    `\`${prefix} pending\` — applicants waiting for a decision, oldest first`,
    `\`${prefix} status ann@example.org\` — where an applicant or user stands`,
    `\`${prefix} resend ann@example.org\` — email the password link again (a new one if it expired)`,
    `\`${prefix} reset ann@example.org\` — new temporary password and a fresh link (asks to confirm)`,
    `\`${prefix} quota atlas\` — a project's quota and usage per key`,
    `\`${prefix} quota atlas medium\` or \`${prefix} quota atlas instances=20 ram_gib=64\` — change it (asks to confirm)`,
    `\`${prefix} sync\` — read the applications sheet now`,
    `\`${prefix} help\` — this text`,
    '',
    'A user can be named by email, Keystone user name, or @mention.',
  ].join('\n');
}
