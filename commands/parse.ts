import { SUBCOMMANDS, type Subcommand } from './types.js';

export interface ParsedCommand {
  /** `help` for an empty line or an unknown word, so anything else answers the help text. */
  name: Subcommand;
  args: string[];
  /** The word typed when it was not a known subcommand, to say so in the reply. */
  unknown?: string;
}

/**
 * Splits `/kaizen` text as Slack sends it: extra spaces, upper case, and Slack's own markup
 * (`<mailto:a@b.c|a@b.c>`, `<@U123|name>`) which is unwrapped to `a@b.c` and `<@U123>`.
 */
export function parseCommand(text: string): ParsedCommand {
  const words = text
    .replace(/\u00a0/g, ' ')
    .trim()
    .split(/\s+/)
    .filter(Boolean)
    .map(unwrapSlackMarkup);
  const [first, ...args] = words;
  if (first === undefined) return { name: 'help', args: [] };
  const name = first.toLowerCase();
  if ((SUBCOMMANDS as readonly string[]).includes(name)) return { name: name as Subcommand, args };
  return { name: 'help', args: [], unknown: first.slice(0, 40) };
}

function unwrapSlackMarkup(word: string): string {
  const mailto = /^<mailto:([^|>]+)(?:\|[^>]*)?>$/i.exec(word);
  if (mailto) return mailto[1]!;
  const user = /^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$/.exec(word);
  if (user) return `<@${user[1]}>`;
  // Slack links a typed `ann.lee` or `example.org` as a URL and shows the text as typed.
  const link = /^<https?:\/\/[^|>]+\|([^>]+)>$/i.exec(word);
  if (link) return link[1]!;
  // Channel mentions and `<!here>` stay as they are, so they are refused as users rather than read as names.
  return word;
}
