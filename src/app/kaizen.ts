#!/usr/bin/env node
/** The `kaizen` executable: reads .env, runs one CLI command, exits with its code. */
import { createInterface } from 'node:readline/promises';
import { loadDotenv } from '../platform/config/dotenv.js';
import { EXIT, runCli } from './cli.js';

/**
 * A PIN typed at a terminal is not echoed; piped in (`--pin-stdin`), the first line is taken.
 * Either way it never reaches argv, where `ps` would show it.
 */
function readSecret(prompt: string): Promise<string> {
  const stdin = process.stdin;
  if (!stdin.isTTY) {
    return new Promise((resolve) => {
      let text = '';
      stdin.setEncoding('utf8');
      stdin.on('data', (chunk: string) => {
        text += chunk;
      });
      stdin.on('end', () => resolve(text.split(/\r?\n/)[0] ?? ''));
    });
  }
  process.stderr.write(prompt);
  return new Promise((resolve) => {
    let text = '';
    stdin.setRawMode(true);
    stdin.setEncoding('utf8');
    stdin.resume();
    const onData = (chunk: string) => {
      for (const char of chunk) {
        if (char === '\r' || char === '\n' || char === '\u0004') {
          stdin.setRawMode(false);
          stdin.pause();
          stdin.off('data', onData);
          process.stderr.write('\n');
          resolve(text);
          return;
        }
        if (char === '\u0003') {
          stdin.setRawMode(false);
          process.stderr.write('\n');
          process.exit(EXIT.userError);
        }
        text = char === '\u007f' ? text.slice(0, -1) : text + char;
      }
    };
    stdin.on('data', onData);
  });
}

/** One question at the terminal, answered by the line typed. */
async function ask(question: string): Promise<string> {
  const prompt = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return await prompt.question(question);
  } finally {
    prompt.close();
  }
}

const argv = process.argv.slice(2);
// init writes the .env; reading an old one first would make its values look like the environment's.
if (argv[0] !== 'init') loadDotenv();
runCli(argv, process.env, {
  ask: process.stdin.isTTY ? ask : undefined,
  out: (text) => process.stdout.write(`${text}\n`),
  err: (text) => process.stderr.write(`${text}\n`),
  readSecret,
  interactive: process.stdin.isTTY === true,
}).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`kaizen: ${error instanceof Error ? error.message : String(error)}\n`);
    // A command that failed this way may have left a connection open (Redis is opened before the
    // other clients are built), which would keep the process from ever ending.
    process.exit(EXIT.failure);
  },
);
