/**
 * OpenStack's own way to name a cloud: `OS_CLOUD=<name>` picks an entry of `clouds.yaml`, with the
 * secrets in `secure.yaml` laid over it, found where the OpenStack client looks for them. The entry
 * becomes the `OS_*` settings it stands for; an `OS_*` variable that is set (non-blank) wins over
 * the file, as with the `openstack` command.
 */
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { parse } from 'yaml';

/** The process environment, or a file's settings read as one. */
type Env = Record<string, string | undefined>;

export interface CloudsSearch {
  cwd: string;
  home: string;
}

/** Where the OpenStack client looks, in order; the first file found is used. */
export function searchPath(file: 'clouds.yaml' | 'secure.yaml', where: CloudsSearch): string[] {
  return [
    join(where.cwd, file),
    join(where.home, '.config', 'openstack', file),
    join('/etc/openstack', file),
  ];
}

export interface CloudSettings {
  /** `OS_*` names and the values the cloud entry gives them. */
  env: Env;
  /** `verify: false` in the entry: TLS certificates are not checked. */
  insecure: boolean;
  /** The files read, for messages. */
  files: string[];
}

type Problem = string;

/** clouds.yaml's `auth` keys (and a few top-level ones) → the variables they stand for. */
const AUTH_KEYS: Record<string, string> = {
  auth_url: 'OS_AUTH_URL',
  username: 'OS_USERNAME',
  password: 'OS_PASSWORD',
  project_name: 'OS_PROJECT_NAME',
  user_domain_name: 'OS_USER_DOMAIN_NAME',
  project_domain_name: 'OS_PROJECT_DOMAIN_NAME',
  project_domain_id: 'OS_PROJECT_DOMAIN_ID',
  application_credential_id: 'OS_APPLICATION_CREDENTIAL_ID',
  application_credential_secret: 'OS_APPLICATION_CREDENTIAL_SECRET',
};
const TOP_KEYS: Record<string, string> = {
  region_name: 'OS_REGION_NAME',
  interface: 'OS_INTERFACE',
  cacert: 'OS_CACERT',
};
/** What the public `setpass` role may not take from a cloud entry: it holds no credentials. */
const CREDENTIAL_KEYS = [
  'password',
  'application_credential_secret',
  'application_credential_id',
  'username',
];

type Tree = Record<string, unknown>;
const isTree = (value: unknown): value is Tree =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Nested objects merge; anything else in `over` replaces `base` (how secure.yaml applies). */
function merge(base: Tree, over: Tree): Tree {
  const out: Tree = { ...base };
  for (const [key, value] of Object.entries(over)) {
    const mine = out[key];
    out[key] = isTree(mine) && isTree(value) ? merge(mine, value) : value;
  }
  return out;
}

function readYaml(path: string): { found: false } | { found: true; tree: Tree } | { error: string } {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return { found: false };
    return { error: `cannot read ${path}` };
  }
  try {
    const tree: unknown = parse(text);
    return { found: true, tree: isTree(tree) ? tree : {} };
  } catch {
    return { error: `${path} is not valid YAML` };
  }
}

/** The first file of `paths` that exists, parsed; an explicit file (OS_CLIENT_*_FILE) must exist. */
function firstFound(
  paths: string[],
  explicit: string | undefined,
): { path?: string; tree?: Tree; problem?: Problem } {
  for (const path of explicit ? [explicit] : paths) {
    const read = readYaml(path);
    if ('error' in read) return { problem: read.error };
    if (read.found) return { path, tree: read.tree };
    if (explicit) return { problem: `cannot read the file ${explicit}` };
  }
  return {};
}

/**
 * The settings `OS_CLOUD` names, or the problems that stop them (a missing file or cloud, a
 * credential on the public page, `verify: false` in production). Undefined without `OS_CLOUD`.
 */
export function cloudSettings(
  env: Env,
  where: CloudsSearch = { cwd: process.cwd(), home: homedir() },
): { settings?: CloudSettings; problems: Problem[] } | undefined {
  const name = env.OS_CLOUD?.trim();
  if (!name) return undefined;
  const configFile = env.OS_CLIENT_CONFIG_FILE?.trim() || undefined;
  const secureFile = env.OS_CLIENT_SECURE_FILE?.trim() || undefined;
  const clouds = firstFound(searchPath('clouds.yaml', where), configFile && resolve(where.cwd, configFile));
  if (clouds.problem) return { problems: [`OS_CLOUD: ${clouds.problem}`] };
  if (!clouds.tree || !clouds.path) {
    return {
      problems: [
        `OS_CLOUD: no clouds.yaml found (looked in ${searchPath('clouds.yaml', where).join(', ')}); set OS_CLIENT_CONFIG_FILE to its path`,
      ],
    };
  }
  const entries = isTree(clouds.tree.clouds) ? clouds.tree.clouds : {};
  const entry = entries[name];
  if (!isTree(entry)) {
    const known = Object.keys(entries);
    return {
      problems: [
        `OS_CLOUD: ${clouds.path} has no cloud "${name}"${known.length > 0 ? ` (it has ${known.join(', ')})` : ''}`,
      ],
    };
  }
  const files = [clouds.path];
  let cloud = entry;
  const secure = firstFound(searchPath('secure.yaml', where), secureFile && resolve(where.cwd, secureFile));
  if (secure.problem) return { problems: [`OS_CLOUD: ${secure.problem}`] };
  const secureEntries = secure.tree && isTree(secure.tree.clouds) ? secure.tree.clouds : {};
  const secureEntry = secureEntries[name];
  if (isTree(secureEntry) && secure.path) {
    cloud = merge(cloud, secureEntry);
    files.push(secure.path);
  }
  return fromEntry(name, cloud, files, env);
}

function fromEntry(
  name: string,
  cloud: Tree,
  files: string[],
  env: Env,
): { settings?: CloudSettings; problems: Problem[] } {
  const problems: Problem[] = [];
  const auth = isTree(cloud.auth) ? cloud.auth : {};
  const out: Env = {};
  const text = (value: unknown) =>
    typeof value === 'string' || typeof value === 'number' ? String(value) : undefined;
  const setpass = (env.KAIZEN_ROLE ?? '').trim() === 'setpass';
  for (const [key, target] of Object.entries(AUTH_KEYS)) {
    const value = text(auth[key]);
    if (value === undefined) continue;
    if (setpass && CREDENTIAL_KEYS.includes(key)) {
      problems.push(
        `OS_CLOUD: cloud "${name}" in ${files[0]} holds ${key}; the setpass role (the public page) must hold no credentials: give it a cloud entry without them`,
      );
      continue;
    }
    out[target] = value;
  }
  for (const [key, target] of Object.entries(TOP_KEYS)) {
    const value = text(cloud[key]);
    if (value !== undefined) out[target] = value;
  }
  // A relative cacert is relative to the file that names it, as a person reading the file expects.
  if (out.OS_CACERT) out.OS_CACERT = resolve(join(files[0]!, '..'), out.OS_CACERT);
  const insecure = cloud.verify === false;
  if (insecure && (env.NODE_ENV ?? '').trim() === 'production') {
    problems.push(
      `OS_CLOUD: cloud "${name}" in ${files[0]} says verify: false, which is refused in production (anyone on the path could read the admin credential); trust the CA with cacert or OS_CACERT instead`,
    );
  }
  return { settings: { env: out, insecure, files }, problems };
}

/**
 * An openrc pasted into .env keeps its shell: `OS_PASSWORD="$OS_PASSWORD_INPUT"` reaches us as
 * that text, since .env is not a shell. Names only, no values: one may be a password after all.
 */
export function shellLeftovers(env: Env): Problem[] {
  return Object.entries(env)
    .filter(
      ([name, value]) => name.startsWith('OS_') && /^\s*\$\{?[A-Za-z_][A-Za-z0-9_]*\}?\s*$/.test(value ?? ''),
    )
    .map(
      ([name]) =>
        `${name}: holds a shell variable reference (as an openrc writes it); .env is not a shell, so put the value itself, or use OS_CLOUD with clouds.yaml`,
    );
}

/**
 * The environment with the named cloud filled in where the environment leaves a blank, and
 * whether TLS checks are off; the problems, each naming what to change.
 */
export function withCloud(
  env: Env,
  where?: CloudsSearch,
): { env: Env; insecure: boolean; problems: Problem[] } {
  const problems = shellLeftovers(env);
  const cloud = cloudSettings(env, where);
  const merged: Env = { ...env };
  for (const [name, value] of Object.entries(cloud?.settings?.env ?? {})) {
    if (!(env[name] ?? '').trim()) merged[name] = value;
  }
  problems.push(...(cloud?.problems ?? []));
  const caFile = merged.OS_CACERT?.trim();
  if (caFile && !readable(caFile)) problems.push(`OS_CACERT: cannot read the file ${caFile}`);
  return { env: merged, insecure: cloud?.settings?.insecure ?? false, problems };
}

function readable(path: string): boolean {
  try {
    readFileSync(path);
    return true;
  } catch {
    return false;
  }
}
