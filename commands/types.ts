/** Who runs a command: an admin in Slack or an operator at a shell. Handlers never see Slack itself. */
export type Caller =
  | { via: 'slack'; userId: string; isAdmin: boolean }
  | { via: 'cli'; name: string; isAdmin: true };

/** How a caller is named in the audit trail. */
export function actorOf(caller: Caller): string {
  return caller.via === 'slack' ? caller.userId : `cli:${caller.name}`;
}

/** How a caller is named in a note to the admin channel (Slack turns `<@U…>` into a name). */
export function callerLabel(caller: Caller): string {
  return caller.via === 'slack' ? `<@${caller.userId}>` : `${caller.name} (kaizen CLI)`;
}

export const SUBCOMMANDS = ['reset', 'status', 'resend', 'pending', 'sync', 'quota', 'help'] as const;
export type Subcommand = (typeof SUBCOMMANDS)[number];

/** Commands only the shell offers: reading the audit trail is an operator's job. */
export const CLI_ONLY_COMMANDS = ['audit'] as const;
export type CommandName = Subcommand | (typeof CLI_ONLY_COMMANDS)[number];
