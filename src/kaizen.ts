#!/usr/bin/env node
/** The `kaizen` executable: reads .env, runs one CLI command, exits with its code. */
import { EXIT, runCli } from './cli.js';
import { loadDotenv } from './dotenv.js';

loadDotenv();
runCli(process.argv.slice(2), process.env, {
  out: (text) => process.stdout.write(`${text}\n`),
  err: (text) => process.stderr.write(`${text}\n`),
}).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`kaizen: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = EXIT.failure;
  },
);
