/**
 * `kaizen <command>`: the operator's shell. Exit codes: 0 done, 1 the input was wrong (the message
 * says how), 2 a service or setting failed.
 */
import type { CommandName } from '../../commands/types.js';
import { formatDoctor, runDoctor } from '../ops/doctor.js';
import { effectiveSettings, formatEffective } from '../ops/effective-config.js';
import { envExample } from '../ops/env-example.js';
import { runInit } from '../ops/init.js';
import { renderManifest } from '../ops/manifest.js';
import { ConfigError, loadConfig, settingsTable } from '../platform/config/config.js';
import { describeError } from '../platform/errors.js';
import { VERSION } from '../platform/version.js';
import {
  OPERATOR_COMMANDS,
  type OperatorIo,
  type OperatorOptions,
  runOperatorCommand,
} from './cli-commands.js';

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
  '  quota <project> [preset | key=value …]',
  '                              the project quota and usage; with a change, show it (--yes applies it)',
  '  sync                        read the applications sheet now',
  '  audit [--user <email|username>] [--since 7d] [--limit 50]',
  '                              the audit trail, newest first',
  '  init                        write .env (asks for the URLs and the Slack mode; flags: kaizen init --help),',
  '                              print the Slack manifest, run doctor and say what is left',
  '  manifest --url <bot URL>    manifest.yml with the URLs filled in (or --socket-mode)',
  '  doctor                      check each part (Slack, Keystone, Redis, mail, Sheets, password page)',
  '  config                      the settings in effect here (secrets hidden) and whether they load;',
  '                              --defaults: every setting with its default; --env-example: .env.example',
  '  --version                   the version of this kaizen',
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
  if (command === '--version' || command === 'version' || command === '-V') {
    io.out(`kaizen ${VERSION}`);
    return EXIT.ok;
  }
  if (command === 'help' || command === '--help' || command === '-h') {
    io.out(USAGE);
    return EXIT.ok;
  }
  if (command === 'config') return showConfig(rest, json, env, io);
  if (command === 'init') return runInit(rest, env, io);
  if (command === 'manifest') return showManifest(rest, io);
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
    const confirms = reset || command === 'quota';
    const options: OperatorOptions = {
      json,
      as: flags.as,
      yes: confirms && rest.includes('--yes'),
      pinFromStdin: reset && rest.includes('--pin-stdin'),
      logLevel: env.LOG_LEVEL,
    };
    const words = reset
      ? rest.filter((word) => word !== '--yes' && word !== '--pin-stdin')
      : confirms
        ? rest.filter((word) => word !== '--yes')
        : rest;
    const outcome = await runOperatorCommand(command as CommandName, words, options, config, io);
    return outcome === 'ok' ? EXIT.ok : outcome === 'user_error' ? EXIT.userError : EXIT.failure;
  }
  io.err(`kaizen: unknown command "${command}"\n\n${USAGE}`);
  return EXIT.userError;
}

/**
 * `config`: the settings in effect here, secrets masked, and whether they load; `--defaults` the
 * table of every setting (the README's), `--env-example` the .env.example file.
 */
function showConfig(rest: string[], json: boolean, env: NodeJS.ProcessEnv, io: CliIo): number {
  if (rest.includes('--defaults')) {
    io.out(settingsTable());
    return EXIT.ok;
  }
  if (rest.includes('--env-example')) {
    io.out(envExample().trimEnd());
    return EXIT.ok;
  }
  const unknown = rest.filter((word) => word.startsWith('-'));
  if (unknown.length > 0) {
    io.err(`kaizen config: unknown option ${unknown[0]} (try --json, --defaults or --env-example)`);
    return EXIT.userError;
  }
  const rows = effectiveSettings(env);
  let problems: string[] = [];
  try {
    loadConfig(env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    problems = error.problems;
  }
  io.out(
    json
      ? JSON.stringify({ valid: problems.length === 0, problems, settings: rows }, null, 2)
      : formatEffective(rows),
  );
  if (problems.length > 0 && !json) io.err(`\n${new ConfigError(problems).message}`);
  return problems.length > 0 ? EXIT.failure : EXIT.ok;
}

/** `manifest --url <bot URL>` or `manifest --socket-mode`: manifest.yml with the URLs filled in. */
function showManifest(rest: string[], io: CliIo): number {
  const at = rest.indexOf('--url');
  const url = at >= 0 ? rest[at + 1] : undefined;
  const socket = rest.includes('--socket-mode');
  if (socket === (url !== undefined)) {
    io.err('usage: kaizen manifest --url <https://bot-host>   or   kaizen manifest --socket-mode');
    return EXIT.userError;
  }
  try {
    io.out(renderManifest(url === undefined ? { kind: 'socket' } : { kind: 'http', botUrl: url }).trimEnd());
    return EXIT.ok;
  } catch (error) {
    io.err(`kaizen manifest: ${describeError(error)}`);
    return EXIT.userError;
  }
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
