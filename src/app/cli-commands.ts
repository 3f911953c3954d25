/**
 * `kaizen pending|status|resend|reset|sync|audit`: the `/kaizen` handlers, run from a shell against
 * the same settings. The operator is named in the audit (`--as <name>`, else the OS user). The
 * services are built without any listener and closed at the end so the process exits.
 */
import { userInfo } from 'node:os';
import { WebClient } from '@slack/web-api';
import { takeConfirmation } from '../../commands/confirmations.js';
import { archiveLink, type Surface } from '../../commands/deps.js';
import { runCommand, runConfirmedQuota, runDirectReset } from '../../commands/index.js';
import { dropQuotaConfirmation } from '../../commands/quota.js';
import { type CommandResult, outcomeOf } from '../../commands/results.js';
import type { Caller, CommandName } from '../../commands/types.js';
import { textReply } from '../../views/commands/text.js';
import type { Config } from '../platform/config/config.js';
import { describeError } from '../platform/errors.js';
import { createLogger, type Logger } from '../platform/log.js';
import { closeServices, createServices } from './services.js';
import { commandDeps } from './wiring/commands.js';
import { sheetIntakeFor } from './wiring/sheet-intake.js';

export const OPERATOR_COMMANDS: readonly CommandName[] = [
  'pending',
  'status',
  'resend',
  'reset',
  'quota',
  'sync',
  'audit',
];

export interface OperatorIo {
  out: (text: string) => void;
  err: (text: string) => void;
  /** Reads a secret (a PIN) without echoing it; absent when there is no way to ask. */
  readSecret?: (prompt: string) => Promise<string>;
  /** True when a person sits at the terminal, so a missing PIN may be asked for. */
  interactive?: boolean;
  /** Asks a question (echoed) and answers the line typed; absent without a terminal. */
  ask?: (question: string) => Promise<string>;
}

export interface OperatorOptions {
  json: boolean;
  /** `--as`; the OS user when absent. */
  as: string | undefined;
  /** `reset --yes`: reset without a second run. */
  yes: boolean;
  /** `reset --pin-stdin`: read a PIN for a user with none on file from standard input. */
  pinFromStdin: boolean;
  /** LOG_LEVEL as set in the environment; unset, the CLI logs nothing (it prints what went wrong itself). */
  logLevel: string | undefined;
}

const OPERATOR_NAME = /^[A-Za-z0-9._@-]{1,64}$/;

/** Runs one command and answers its exit outcome; output goes through `io`. */
export async function runOperatorCommand(
  name: CommandName,
  words: string[],
  options: OperatorOptions,
  config: Config,
  io: OperatorIo,
): Promise<'ok' | 'user_error' | 'failure'> {
  const operator = options.as ?? osUser();
  if (operator === undefined || !OPERATOR_NAME.test(operator)) {
    io.err('kaizen: name the operator with --as <name> (letters, digits, . _ @ -; at most 64)');
    return 'user_error';
  }
  if (config.role === 'setpass') {
    io.err(
      'kaizen: this host runs KAIZEN_ROLE=setpass, which holds no admin credentials; run the command on the bot host.',
    );
    return 'failure';
  }
  const log = cliLogger(options.logLevel);
  const services = createServices(config, log);
  const slack = slackClient(config);
  const deps = commandDeps(services, cliSurface(slack, config, log), {
    sheet: sheetIntakeFor(services, slack),
  });
  const caller: Caller = { via: 'cli', name: operator, isAdmin: true };
  try {
    let result = await runCommand(deps, caller, { name, words });
    if (result.kind === 'reset_confirm') result = await resetFromShell(result, deps, caller, options, io);
    else if (result.kind === 'quota_confirm')
      result = await quotaFromShell(result, deps, caller, options, io);
    print(result, options.json, io);
    return outcomeOf(result);
  } catch (error) {
    log.error({ err: error, command: name }, 'kaizen command failed');
    io.err(`kaizen ${name}: ${describeError(error)}`);
    return 'failure';
  } finally {
    await closeServices(services, 10_000);
  }
}

/**
 * The shell has no Reset button: without `--yes` the confirmation is shown and nothing changes;
 * with it the reset runs, asking for a PIN only when none is on file.
 */
async function resetFromShell(
  preview: Extract<CommandResult, { kind: 'reset_confirm' }>,
  deps: ReturnType<typeof commandDeps>,
  caller: Caller,
  options: OperatorOptions,
  io: OperatorIo,
): Promise<CommandResult> {
  await takeConfirmation(deps.redis, preview.confirmation);
  if (!options.yes) {
    if (!options.json) io.out(`${textReply(preview)}\nNothing changed: run again with --yes to reset.`);
    return preview;
  }
  let pin: string | undefined;
  if (!preview.pinOnFile && io.readSecret && (options.pinFromStdin || io.interactive)) {
    pin = (await io.readSecret(`PIN for ${preview.user.name} (4 digits, not shown): `)).trim();
  }
  return runDirectReset(deps, caller, preview.user.id, { pin, purpose: `reset:${preview.confirmation}` });
}

/** As a reset: without `--yes` the change is shown and nothing is set; with it, the quotas are set. */
async function quotaFromShell(
  preview: Extract<CommandResult, { kind: 'quota_confirm' }>,
  deps: ReturnType<typeof commandDeps>,
  caller: Caller,
  options: OperatorOptions,
  io: OperatorIo,
): Promise<CommandResult> {
  if (!options.yes) {
    await dropQuotaConfirmation(deps.redis, preview.confirmation);
    if (!options.json) io.out(`${textReply(preview)}\nNothing changed: run again with --yes to apply.`);
    return preview;
  }
  return runConfirmedQuota(deps, caller, preview.confirmation);
}

function print(result: CommandResult, json: boolean, io: OperatorIo): void {
  if (json) {
    // Absent values print as null, so scripts see every field of a result kind every time.
    io.out(JSON.stringify(result, (_key, value: unknown) => (value === undefined ? null : value), 2));
    return;
  }
  if (result.kind === 'reset_confirm' || result.kind === 'quota_confirm') return;
  const text = textReply(result);
  if (outcomeOf(result) === 'ok') io.out(text);
  else io.err(text);
}

/** Slack from the shell: users.info for mentions and a note in the admin channel, when a bot token is set. */
/** Admin notes through Slack's Web API when a client is given; otherwise a log line. */
export function cliSurface(slack: WebClient | undefined, config: Config, log: Logger): Surface {
  return {
    async emailOfSlackUser(userId) {
      if (slack === undefined) return undefined;
      try {
        return (await slack.users.info({ user: userId })).user?.profile?.email || undefined;
      } catch (error) {
        log.warn({ err: error, user: userId }, 'users.info failed');
        return undefined;
      }
    },
    cardLink: async (card) => archiveLink(card),
    async tellAdmins(text) {
      const channel = config.slack.adminChannel;
      if (slack === undefined || !channel) {
        log.info({ note: text }, 'admin note not posted: Slack is not configured here');
        return;
      }
      try {
        await slack.chat.postMessage({ channel, text, unfurl_links: false });
      } catch (error) {
        log.warn({ err: error }, 'could not post the note to the admin channel');
      }
    },
  };
}

function slackClient(config: Config): WebClient | undefined {
  if (!config.slack.botToken) return undefined;
  return new WebClient(config.slack.botToken, {
    slackApiUrl: config.slack.apiUrl,
    retryConfig: { retries: 1 },
    timeout: 10_000,
  });
}

/** The CLI prints its own output; the log (to stderr) is there for LOG_LEVEL=debug and friends. */
function cliLogger(level: string | undefined): Logger {
  return createLogger({ level: level || 'silent', pretty: false, destination: process.stderr });
}

function osUser(): string | undefined {
  try {
    return userInfo().username;
  } catch {
    return process.env.USER || undefined;
  }
}
