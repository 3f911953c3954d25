/**
 * The arguments each subcommand takes, checked before anything runs: a missing or extra argument,
 * or a flag the command does not know, answers a one-line usage and changes nothing.
 */
import { parseDuration } from '../src/platform/duration.js';

export interface ArgSpec {
  /** How the command is written, after `/kaizen ` or `kaizen `. */
  usage: string;
  /** Names of the positional arguments, all required. */
  positional: readonly string[];
  /** Flags taking a value (`--since 7d`). */
  valueFlags?: readonly string[];
  /** Optional words after the positional ones (`quota <project> [<preset> | key=value …]`). */
  rest?: boolean;
}

export const ARG_SPECS = {
  help: { usage: 'help', positional: [] },
  pending: { usage: 'pending', positional: [] },
  sync: { usage: 'sync', positional: [] },
  status: { usage: 'status <email|username>', positional: ['user'] },
  resend: { usage: 'resend <email|username>', positional: ['user'] },
  reset: { usage: 'reset <email|username>', positional: ['user'] },
  quota: { usage: 'quota <project> [preset | key=value …]', positional: ['project'], rest: true },
  audit: {
    usage: 'audit [--user <email|username>] [--since 7d] [--limit 50]',
    positional: [],
    valueFlags: ['user', 'since', 'limit'],
  },
} as const satisfies Record<string, ArgSpec>;

export type ArgsOf = { positional: string[]; flags: Record<string, string> };
export type ReadArgs = { ok: true; args: ArgsOf } | { ok: false; problem: string };

const MAX_NAME_LENGTH = 255;

export function readArgs(words: readonly string[], spec: ArgSpec): ReadArgs {
  const positional: string[] = [];
  const flags: Record<string, string> = {};
  for (let i = 0; i < words.length; i++) {
    const word = words[i]!;
    if (/^[-\u2013\u2014]{1,2}\S/.test(word) && !word.includes('@')) {
      const name = word.replace(/^[-\u2013\u2014]+/, '').toLowerCase();
      const [bare, inline] = name.split('=', 2) as [string, string | undefined];
      if (!spec.valueFlags?.includes(bare)) return { ok: false, problem: `unknown option ${clip(word)}` };
      const value = inline ?? words[++i];
      if (value === undefined || value === '') return { ok: false, problem: `--${bare} needs a value` };
      flags[bare] = value;
      continue;
    }
    positional.push(word);
  }
  if (positional.length < spec.positional.length) {
    return { ok: false, problem: `missing ${spec.positional[positional.length]}` };
  }
  if (positional.length > spec.positional.length && spec.rest !== true) {
    const extra = positional.slice(spec.positional.length).map(clip).join(' ');
    return { ok: false, problem: `unexpected ${extra}` };
  }
  return { ok: true, args: { positional, flags } };
}

/** A user as typed: an email (lower-cased), a Keystone user name, or a Slack mention `<@U…>`. */
export type UserQuery = { kind: 'name'; text: string } | { kind: 'slack'; userId: string };

export function readUserQuery(word: string): UserQuery | { problem: string } {
  const mention = /^<@([UW][A-Z0-9]+)>$/.exec(word);
  if (mention) return { kind: 'slack', userId: mention[1]! };
  if (word.startsWith('<') || word.length > MAX_NAME_LENGTH || /[\s<>"]/.test(word)) {
    return { problem: `${clip(word)} is not an email, a user name or an @mention` };
  }
  return { kind: 'name', text: word.includes('@') ? word.toLowerCase() : word };
}

/** `--since 7d` as milliseconds. */
export function readSince(text: string | undefined): number | undefined | { problem: string } {
  if (text === undefined) return undefined;
  const ms = parseDuration(text);
  return ms === undefined
    ? { problem: `--since wants a duration such as 90m, 24h or 7d, not ${clip(text)}` }
    : ms;
}

export function readLimit(
  text: string | undefined,
  fallback: number,
  max: number,
): number | { problem: string } {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > max)
    return { problem: `--limit wants a whole number from 1 to ${max}` };
  return n;
}

/** Echoes a word back without letting a long paste or markup through. */
function clip(word: string): string {
  const short = word.length > 40 ? `${word.slice(0, 40)}…` : word;
  return `"${short.replace(/[`*_~<>]/g, '')}"`;
}
