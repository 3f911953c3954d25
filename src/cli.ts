/**
 * `kaizen <command>`: the operator's shell. Exit codes: 0 done, 1 the input was wrong (the message
 * says how), 2 a service or setting failed.
 */
import { ConfigError, loadConfig, settingsTable } from './config.js';
import { formatDoctor, runDoctor } from './doctor.js';

export const EXIT = { ok: 0, userError: 1, failure: 2 } as const;

export interface CliIo {
  out: (text: string) => void;
  err: (text: string) => void;
}

const USAGE = [
  'usage: kaizen <command> [arguments] [--json]',
  '',
  '  doctor             check each part (Slack, Keystone, Redis, mail, Sheets, password page)',
  '  config             list every setting with its default',
  '  help               this text',
].join('\n');

export async function runCli(argv: string[], env: NodeJS.ProcessEnv, io: CliIo): Promise<number> {
  const [command = 'help', ...rest] = argv;
  const json = rest.includes('--json');
  if (command === 'help' || command === '--help' || command === '-h') {
    io.out(USAGE);
    return EXIT.ok;
  }
  if (command === 'config') {
    io.out(settingsTable());
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
  io.err(`kaizen: unknown command "${command}"\n\n${USAGE}`);
  return EXIT.userError;
}
