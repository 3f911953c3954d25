/**
 * The router: one entry for Slack and the CLI. It answers `help` to anyone, `denied` to a
 * non-admin, a usage line for a missing argument or an unknown option (before anything runs), and
 * otherwise the subcommand's result. A failure becomes a `failed` result whose message is safe to
 * show (`describeError`); the details go to the log.
 */
import { describeError, isKaizenError } from '../src/platform/errors.js';
import {
  ARG_SPECS,
  type ArgsOf,
  readArgs,
  readLimit,
  readSince,
  readUserQuery,
  type UserQuery,
} from './args.js';
import { audit } from './audit.js';
import type { CommandDeps } from './deps.js';
import { pending } from './pending.js';
import { applyQuotaConfirmation, quotaCommand } from './quota.js';
import { resend } from './resend.js';
import { confirmReset, previewReset, resetPassword } from './reset.js';
import type { CommandResult } from './results.js';
import { status } from './status.js';
import { sync } from './sync.js';
import { actorOf, type Caller, type CommandName } from './types.js';

export type { CommandDeps } from './deps.js';
export type { CommandResult } from './results.js';

export interface CommandInput {
  name: CommandName;
  /** The words after the subcommand, as parsed (Slack markup unwrapped). */
  words: string[];
  /** The word typed when it was no subcommand at all: answered with the help text. */
  unknown?: string;
}

export async function runCommand(
  deps: CommandDeps,
  caller: Caller,
  input: CommandInput,
): Promise<CommandResult> {
  const { name } = input;
  if (name === 'help') return { kind: 'help', unknown: input.unknown };
  if (!caller.isAdmin) {
    await deps.audit
      .record({
        actor: actorOf(caller),
        action: name,
        subject: (input.words[0] ?? '').slice(0, 100),
        outcome: 'denied',
      })
      .catch((error: unknown) =>
        deps.log.warn({ err: error }, 'could not write the audit line for a refused command'),
      );
    return { kind: 'denied', command: name };
  }
  const spec = ARG_SPECS[name];
  const read = readArgs(input.words, spec);
  if (!read.ok) return usage(name, read.problem);
  return guarded(deps, name, () => dispatch(deps, caller, name, read.args));
}

/** The Reset button (and the PIN modal behind it). */
export function runConfirmedReset(
  deps: CommandDeps,
  caller: Caller,
  confirmation: string,
  pin?: string,
): Promise<CommandResult> {
  if (!caller.isAdmin) return Promise.resolve({ kind: 'denied', command: 'reset' });
  return guarded(deps, 'reset', () => confirmReset(deps, caller, confirmation, pin));
}

/** The Apply button of `quota <project> <change>`, and the CLI's `quota … --yes`. */
export function runConfirmedQuota(
  deps: CommandDeps,
  caller: Caller,
  confirmation: string,
): Promise<CommandResult> {
  if (!caller.isAdmin) return Promise.resolve({ kind: 'denied', command: 'quota' });
  return guarded(deps, 'quota', () => applyQuotaConfirmation(deps, caller, confirmation));
}

/** The CLI's `reset --yes`: no button to press, the operator already said yes. */
export function runDirectReset(
  deps: CommandDeps,
  caller: Caller,
  userId: string,
  options: { pin?: string; purpose: string },
): Promise<CommandResult> {
  return guarded(deps, 'reset', () => resetPassword(deps, caller, userId, options));
}

async function dispatch(
  deps: CommandDeps,
  caller: Caller,
  name: CommandName,
  args: ArgsOf,
): Promise<CommandResult> {
  switch (name) {
    case 'help':
      return { kind: 'help', unknown: undefined };
    case 'pending':
      return pending(deps);
    case 'sync':
      return sync(deps);
    case 'quota':
      return quotaCommand(deps, caller, args.positional);
    case 'status':
    case 'resend':
    case 'reset': {
      const query = readUserQuery(args.positional[0] ?? '');
      if ('problem' in query) return usage(name, query.problem);
      return userCommand(deps, caller, name, query);
    }
    case 'audit': {
      const since = readSince(args.flags.since);
      if (typeof since === 'object') return usage(name, since.problem);
      const limit = readLimit(args.flags.limit, 50, 1000);
      if (typeof limit === 'object') return usage(name, limit.problem);
      const user = args.flags.user === undefined ? undefined : readUserQuery(args.flags.user);
      if (user !== undefined && ('problem' in user || user.kind !== 'name')) {
        return usage(name, '--user wants an email or a user name');
      }
      return audit(deps, { subject: user?.text, sinceMs: since, since: args.flags.since, limit });
    }
  }
}

function userCommand(
  deps: CommandDeps,
  caller: Caller,
  name: 'status' | 'resend' | 'reset',
  query: UserQuery,
): Promise<CommandResult> {
  if (name === 'status') return status(deps, query);
  if (name === 'resend') return resend(deps, caller, query);
  return previewReset(deps, caller, query);
}

function usage(name: CommandName, problem: string): CommandResult {
  return { kind: 'usage', command: name, problem, usage: ARG_SPECS[name].usage };
}

async function guarded(
  deps: CommandDeps,
  name: CommandName,
  work: () => Promise<CommandResult>,
): Promise<CommandResult> {
  try {
    return await work();
  } catch (error) {
    const expected =
      isKaizenError(error) && ['invalid', 'not_found', 'conflict', 'forbidden'].includes(error.kind);
    if (expected) deps.log.info({ err: error, command: name }, 'command refused');
    else if (isKaizenError(error, 'config'))
      deps.log.warn({ err: error, command: name }, 'command needs a setting');
    else deps.log.error({ err: error, command: name }, 'command failed');
    return {
      kind: 'failed',
      command: name,
      errorKind: isKaizenError(error) ? error.kind : 'internal',
      message: describeError(error),
    };
  }
}
