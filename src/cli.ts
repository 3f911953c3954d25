/**
 * `kaizen <command>`: the operator's shell. Exit codes: 0 done, 1 the input was wrong (the message
 * says how), 2 a service or setting failed.
 */
import type { CommandName } from '../commands/types.js';
import {
  OPERATOR_COMMANDS,
  type OperatorIo,
  type OperatorOptions,
  runOperatorCommand,
} from './cli-commands.js';
import { ConfigError, loadConfig, settingsInEffect, settingsTable } from './config.js';
import { formatDoctor, runDoctor } from './doctor.js';

export const EXIT = { ok: 0, userError: 1, failure: 2 } as const;

export type CliIo = OperatorIo;

const USAGE = [
  'usage: kaizen <command> [arguments] [--json] [--as <operator>]',
  '',
  '  pending                     applicants waiting for a decision, oldest first',
  '  status <email|username>     where an applicant or user stands',
  '  resend <email|username>     email the password link again (a new one, same PIN, if it expired)',
  '  reset <email|username>      show whom a reset concerns; with --yes, reset: new temporary password,',
  '                              new link emailed (--pin-stdin reads a PIN when none is on file)',
  '  sync                        read the applications sheet now',
  '  audit [--user <email|username>] [--since 7d] [--limit 50]',
  '                              the audit trail, newest first',
  '  doctor                      check each part (Slack, Keystone, Redis, mail, Sheets, password page)',
  '  config                      list every setting with its default, and those set here',
  '  help                        this text',
  '',
  '  --json            print the result as JSON, for scripts',
  '  --as <operator>   who you are in the audit trail (default: your OS user name)',
  '',
  'Exit status: 0 done, 1 the input was wrong (the message says how), 2 a service or setting failed.',
].join('\n');

export async function runCli(argv: string[], env: NodeJS.ProcessEnv, io: CliIo): Promise<number> {
  const [command = 'help', ...args] = argv;
  const flags = globalFlags(args);
  if (typeof flags === 'string') {
    io.err(`kaizen: ${flags}`);
    return EXIT.userError;
  }
  const { json, rest } = flags;
  if (command === 'help' || command === '--help' || command === '-h') {
    io.out(USAGE);
    return EXIT.ok;
  }
  if (command === 'config') {
    const inEffect = settingsInEffect(env);
    io.out(settingsTable());
    if (inEffect.length > 0) io.out(`\nSet in this environment:\n${inEffect.join('\n')}`);
    return EXIT.ok;
  }
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig(env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    io.err(error.message);
    return EXIT.failure;
  }
  if (command === 'doctor') {
    const lines = await runDoctor(config);
    io.out(json ? JSON.stringify(lines, null, 2) : formatDoctor(lines));
    return lines.some((line) => line.status === 'failing') ? EXIT.failure : EXIT.ok;
  }
  if ((OPERATOR_COMMANDS as readonly string[]).includes(command)) {
    const reset = command === 'reset';
    const options: OperatorOptions = {
      json,
      as: flags.as,
      yes: reset && rest.includes('--yes'),
      pinFromStdin: reset && rest.includes('--pin-stdin'),
      logLevel: env.LOG_LEVEL,
    };
    const words = reset ? rest.filter((word) => word !== '--yes' && word !== '--pin-stdin') : rest;
    const outcome = await runOperatorCommand(command as CommandName, words, options, config, io);
    return outcome === 'ok' ? EXIT.ok : outcome === 'user_error' ? EXIT.userError : EXIT.failure;
  }
  io.err(`kaizen: unknown command "${command}"\n\n${USAGE}`);
  return EXIT.userError;
}

/** `--json` and `--as <name>` work with every command; the rest is the command's. */
function globalFlags(args: string[]): { json: boolean; as: string | undefined; rest: string[] } | string {
  let json = false;
  let as: string | undefined;
  const rest: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const word = args[i]!;
    if (word === '--json') json = true;
    else if (word === '--as' || word.startsWith('--as=')) {
      as = word === '--as' ? args[++i] : word.slice('--as='.length);
      if (!as) return '--as needs the name of the operator';
    } else rest.push(word);
  }
  return { json, as, rest };
}
