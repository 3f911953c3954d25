/**
 * Keystone's own mapping engine, offline: `keystone-manage mapping_engine --rules … --input …`
 * applies a mapping's rules to an assertion as a sign-in would, with no identity provider. It reads
 * the test Keystone's keystone.conf (KEYSTONE_DIR, default .keystone, as start.sh writes it) when
 * there is one, and a blank one otherwise, so nothing in /etc/keystone leaks in.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const KEYSTONE_MANAGE = '/usr/bin/keystone-manage';

export interface MappedProperties {
  user: {
    id?: string;
    name?: string;
    email?: string;
    type?: string;
    domain?: { id?: string; name?: string };
  };
  group_ids: string[];
  group_names: unknown[];
  projects: unknown[];
}

function configFile(dir: string): string {
  const stateDir = resolve(process.env.KEYSTONE_DIR || '.keystone');
  const own = join(stateDir, 'keystone.conf');
  if (existsSync(own)) return own;
  const blank = join(dir, 'keystone.conf');
  writeFileSync(blank, '[DEFAULT]\n');
  return blank;
}

/** The properties Keystone maps `assertion` (attribute → value) to with `rules`. */
export async function mapAssertion(
  rules: unknown,
  assertion: Record<string, string>,
): Promise<MappedProperties> {
  const dir = mkdtempSync(join(tmpdir(), 'kaizen-mapping-'));
  try {
    const rulesFile = join(dir, 'rules.json');
    const inputFile = join(dir, 'assertion.txt');
    writeFileSync(rulesFile, JSON.stringify(rules));
    // One `NAME: value` line per attribute, as the engine reads the environment of a sign-in.
    writeFileSync(
      inputFile,
      `${Object.entries(assertion)
        .map(([name, value]) => `${name}: ${value}`)
        .join('\n')}\n`,
    );
    const { stdout } = await run(
      KEYSTONE_MANAGE,
      ['--config-file', configFile(dir), 'mapping_engine', '--rules', rulesFile, '--input', inputFile],
      { timeout: 60_000 },
    );
    // The JSON document comes first; eventlet may print noise on exit, to stderr.
    const start = stdout.indexOf('{');
    const end = stdout.lastIndexOf('}');
    return JSON.parse(stdout.slice(start, end + 1)) as MappedProperties;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Keystone's own code for the id a sign-in looks the user up by, run on mapped properties. */
const UNIQUE_ID_PY = [
  'import json, sys',
  'from keystone.auth.plugins.mapped import get_user_unique_id_and_display_name',
  'print(json.dumps(get_user_unique_id_and_display_name(json.load(sys.stdin))[0]))',
].join('\n');

/**
 * The unique id a sign-in with these mapped properties looks the federated user up by, as
 * Keystone computes it (keystone.auth.plugins.mapped: the mapped id, or name, URL-quoted).
 */
export async function uniqueIdAtSignIn(mapped: MappedProperties): Promise<string> {
  const child = execFile('/usr/bin/python3', ['-c', UNIQUE_ID_PY], { timeout: 60_000 });
  const output = new Promise<string>((done, fail) => {
    let stdout = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.on('error', fail);
    child.on('close', (code) => (code === 0 ? done(stdout) : fail(new Error(`python3 exited with ${code}`))));
  });
  child.stdin?.end(JSON.stringify(mapped));
  return JSON.parse(await output) as string;
}
