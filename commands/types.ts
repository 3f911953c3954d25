/** Who runs a command: an admin in Slack or an operator at a shell. Handlers never see Slack itself. */
export type Caller =
  | { via: 'slack'; userId: string; isAdmin: boolean }
  | { via: 'cli'; name: string; isAdmin: true };

/** How a caller is named in the audit trail. */
export function actorOf(caller: Caller): string {
  return caller.via === 'slack' ? caller.userId : `cli:${caller.name}`;
}

export const SUBCOMMANDS = ['reset', 'status', 'resend', 'pending', 'sync', 'help'] as const;
export type Subcommand = (typeof SUBCOMMANDS)[number];
