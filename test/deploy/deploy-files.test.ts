/**
 * The files under deploy/ are part of the product: the systemd units must load, the nginx example
 * must expose only the page's paths, the env examples must name only real settings, and the
 * public role's example must hold no admin secret.
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { get as httpsGet } from 'node:https';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_ONLY_ENV, type Env, loadConfig, settings } from '../../src/platform/config/config.js';
import { selfSigned } from '../support/certificates.js';
import { closeNow, freePort, listenLocally } from '../support/local-http.js';

const run = promisify(execFile);
const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const deploy = join(root, 'deploy');
const read = (path: string) => readFile(join(root, path), 'utf8');

async function available(command: string, args: string[]): Promise<boolean> {
  try {
    await run(command, args);
    return true;
  } catch {
    return false;
  }
}

/**
 * A check that needs a tool runs it when it is there. Without it the check is skipped on a
 * developer's machine, and fails in CI, whose `.ci/run` installs every tool these checks need.
 */
async function requireTool(command: string, args: string[], context: { skip: (note?: string) => void }) {
  if (await available(command, args)) return;
  if (process.env.CI === 'true')
    throw new Error(`${command} is not installed; .ci/run installs it for this check`);
  context.skip(`${command} is not installed`);
}

/** A unit file as section → key → values (a key may repeat, e.g. SystemCallFilter=). */
type Unit = Map<string, Map<string, string[]>>;

function parseUnit(text: string): Unit {
  const unit: Unit = new Map();
  let section: Map<string, string[]> | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const header = /^\[([A-Za-z]+)\]$/.exec(line);
    if (header) {
      section = new Map();
      unit.set(header[1]!, section);
      continue;
    }
    const entry = /^([A-Za-z]+)=(.*)$/.exec(line);
    if (!entry || !section) throw new Error(`not a unit file line: ${line}`);
    section.set(entry[1]!, [...(section.get(entry[1]!) ?? []), entry[2]!]);
  }
  return unit;
}

/** KEY=value lines of an env example, commented-out ones included (they are settings too). */
function envNames(text: string): { set: Map<string, string>; mentioned: Set<string> } {
  const set = new Map<string, string>();
  const mentioned = new Set<string>();
  for (const line of text.split('\n')) {
    const active = /^([A-Z][A-Z0-9_]*)=(.*)$/.exec(line);
    if (active) {
      const value = active[2]!.replace(/^"(.*)"$/, '$1');
      set.set(active[1]!, value);
      mentioned.add(active[1]!);
      continue;
    }
    const commented = /^#\s*([A-Z][A-Z0-9_]*)=/.exec(line);
    if (commented) mentioned.add(commented[1]!);
  }
  return { set, mentioned };
}

const knownNames = new Set(Object.values(settings).map((setting) => setting.env));

describe('systemd units', () => {
  const units = [
    { file: 'kaizen-bot.service', role: 'bot', envFile: '/etc/kaizen/bot.env', example: 'bot.env.example' },
    {
      file: 'kaizen-setpass.service',
      role: 'setpass',
      envFile: '/etc/kaizen/setpass.env',
      example: 'setpass.env.example',
    },
  ];

  for (const { file, role, envFile, example } of units) {
    it(`${file} runs the ${role} role as a dedicated user, restarts, and is hardened`, async () => {
      const unit = parseUnit(await read(`deploy/${file}`));
      expect([...unit.keys()]).toEqual(['Unit', 'Service', 'Install']);
      const service = unit.get('Service')!;
      const one = (key: string) => service.get(key)?.join(' ');
      expect(one('User')).toBe('kaizen');
      expect(one('ExecStart')).toBe('/usr/bin/node /opt/kaizen/dist/src/app/main.js');
      expect(one('EnvironmentFile')).toBe(envFile);
      expect(one('Environment')).toContain(`KAIZEN_ROLE=${role}`);
      expect(one('Environment')).toContain('NODE_ENV=production');
      expect(one('Restart')).toBe('on-failure');
      expect(one('ExecReload')).toContain('-HUP');
      expect(one('RestartPreventExitStatus')).toBe('2');
      for (const [key, value] of Object.entries({
        NoNewPrivileges: 'yes',
        ProtectSystem: 'strict',
        ProtectHome: 'yes',
        PrivateTmp: 'yes',
        CapabilityBoundingSet: '',
        RestrictAddressFamilies: 'AF_INET AF_INET6 AF_UNIX',
      })) {
        expect(one(key), key).toBe(value);
      }
      expect(one('MemoryMax')).toMatch(/^\d+[KMG]$/);
      // The process writes nothing to disk, so nothing is writable.
      expect(service.has('ReadWritePaths')).toBe(false);
      expect(unit.get('Install')?.get('WantedBy')).toEqual(['multi-user.target']);
      // The role in the unit and in its env example agree.
      expect(envNames(await read(`deploy/${example}`)).set.get('KAIZEN_ROLE')).toBe(role);
    });
  }

  it('load in systemd without a warning, with a low exposure score', async (context) => {
    await requireTool('systemd-analyze', ['--version'], context);
    const files = units.map(({ file }) => join(deploy, file));
    const verified = await run('systemd-analyze', ['verify', ...files]);
    expect(verified.stderr).toBe('');
    for (const file of files) {
      // `security --offline` (systemd 250+) scores the unit file itself.
      const security = await run('systemd-analyze', ['security', '--offline=yes', file]);
      const score = /Overall exposure level for \S+: ([\d.]+)/.exec(security.stdout)?.[1];
      expect(Number(score), file).toBeLessThanOrEqual(2);
    }
  });
});

/** nginx's config as a tree of directives, enough to read locations and their contents. */
interface Directive {
  name: string;
  args: string[];
  block: Directive[] | undefined;
}

function parseNginx(text: string): Directive[] {
  const tokens = text.replace(/#[^\n]*/g, '').match(/"[^"]*"|'[^']*'|[{};]|[^\s{};]+/g) ?? [];
  let at = 0;
  const parseBlock = (): Directive[] => {
    const out: Directive[] = [];
    while (at < tokens.length && tokens[at] !== '}') {
      const words: string[] = [];
      while (at < tokens.length && !['{', ';', '}'].includes(tokens[at]!)) words.push(tokens[at++]!);
      const end = tokens[at++];
      const [name = '', ...args] = words;
      if (end === '{') {
        const block = parseBlock();
        if (tokens[at++] !== '}') throw new Error(`unclosed block ${name}`);
        out.push({ name, args, block });
      } else if (end === ';') {
        out.push({ name, args, block: undefined });
      } else {
        throw new Error(`directive ${name} does not end`);
      }
    }
    return out;
  };
  const tree = parseBlock();
  if (at !== tokens.length) throw new Error('unbalanced braces');
  return tree;
}

const directives = (block: Directive[], name: string) => block.filter((d) => d.name === name);
const value = (block: Directive[], name: string) => directives(block, name)[0]?.args.join(' ');

function tlsServer(tree: Directive[]): Directive[] {
  const server = directives(tree, 'server').find((s) =>
    directives(s.block ?? [], 'listen').some((l) => l.args.includes('ssl')),
  );
  if (!server?.block) throw new Error('no TLS server block');
  return server.block;
}

/** Location → where it sends requests: `proxy` or the status it answers itself. */
function routing(server: Directive[]): Record<string, string> {
  return Object.fromEntries(
    directives(server, 'location').map((location) => {
      const body = location.block ?? [];
      const target = value(body, 'proxy_pass') ? 'proxy' : `return ${value(body, 'return')}`;
      return [location.args.join(' '), target];
    }),
  );
}

describe('nginx examples', () => {
  it('expose only the page paths on the page host, with TLS, HSTS, proxy headers and a body limit', async () => {
    const server = tlsServer(parseNginx(await read('deploy/nginx/setpass.conf')));
    // /healthz stays on the host: its JSON names internal URLs when a check fails.
    expect(routing(server)).toEqual({
      '= /': 'proxy',
      '/assets/': 'proxy',
      '/token/': 'proxy',
      '/': 'return 404',
    });
    expect(value(server, 'ssl_certificate')).toBeTruthy();
    expect(value(server, 'ssl_protocols')).toBe('TLSv1.2 TLSv1.3');
    expect(value(server, 'add_header')).toMatch(/^Strict-Transport-Security "max-age=\d{7,}.*" always$/);
    expect(value(server, 'client_max_body_size')).toMatch(/^\d+k$/);
    const headers = directives(server, 'proxy_set_header').map((d) => d.args.join(' '));
    expect(headers).toContain('X-Forwarded-For $remote_addr');
    expect(headers).toContain('X-Forwarded-Proto $scheme');
    const token = directives(server, 'location').find((l) => l.args.join(' ') === '/token/');
    expect(directives(token?.block ?? [], 'limit_except')[0]?.args).toEqual(['PUT']);
  });

  it('bootstrap over plain HTTP with only the ACME challenge served, and no certificate named', async () => {
    const tree = parseNginx(await read('deploy/nginx/bootstrap-http.conf'));
    const servers = directives(tree, 'server');
    expect(servers).toHaveLength(1);
    const server = servers[0]!.block ?? [];
    expect(directives(server, 'listen').map((d) => d.args.join(' '))).toEqual(['80', '[::]:80']);
    expect(directives(server, 'ssl_certificate')).toEqual([]);
    const challenge = directives(server, 'location').find(
      (l) => l.args.join(' ') === '/.well-known/acme-challenge/',
    );
    expect(value(challenge?.block ?? [], 'root')).toBe('/var/www/letsencrypt');
    expect(Object.keys(routing(server))).toEqual(['/.well-known/acme-challenge/', '/']);
    expect(routing(server)['/']).toBe('return 404');
    expect(JSON.stringify(tree)).not.toContain('proxy_pass');
  });

  it('log the page host without query strings (the links carry tokens there)', async () => {
    const tree = parseNginx(await read('deploy/nginx/setpass.conf'));
    const [format] = directives(tree, 'log_format');
    expect(format?.args[0]).toBe('kaizen_setpass');
    const fields = format?.args.slice(1).join(' ') ?? '';
    expect(fields).toContain('$uri');
    expect(fields).not.toMatch(/\$(request|request_uri|args|query_string|arg_\w+|http_referer)\b/);
    for (const server of directives(tree, 'server')) {
      const body = server.block ?? [];
      expect(value(body, 'access_log')).toMatch(/ kaizen_setpass$/);
      expect(value(body, 'error_log')).toMatch(/ crit$/);
    }
  });

  it('send only /slack/events to the bot', async () => {
    const server = tlsServer(parseNginx(await read('deploy/nginx/bot.conf')));
    expect(routing(server)).toEqual({ '= /slack/events': 'proxy', '/': 'return 404' });
    expect(value(server, 'add_header')).toMatch(/^Strict-Transport-Security/);
  });

  describe('with nginx installed', () => {
    let dir: string;
    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), 'kaizen-nginx-'));
    });
    afterAll(async () => {
      if (dir) await rm(dir, { recursive: true, force: true });
    });

    it('pass `nginx -t` (certificate paths pointed at a throwaway pair)', async (context) => {
      await requireTool('nginx', ['-v'], context);
      const { cert, key } = await selfSigned(dir, 'kaizen');
      const includes: string[] = [];
      for (const name of ['setpass.conf', 'bot.conf']) {
        await writeFile(join(dir, name), await throwawayCopy(name, { cert, key }, dir));
        includes.push(join(dir, name));
      }
      const main = await mainConf(dir, 'nginx', includes);
      const checked = await run('nginx', ['-t', '-p', dir, '-c', main]);
      expect(checked.stderr).toContain('test is successful');
      expect(checked.stderr).not.toMatch(/\[warn\]|\[emerg\]/);
    });

    it('pass `nginx -t` with the HTTP-only bootstrap file alone, before any certificate exists', async (context) => {
      if (!(await available('nginx', ['-v']))) context.skip();
      const main = join(dir, 'bootstrap-nginx.conf');
      await writeFile(
        main,
        [
          `pid ${join(dir, 'bootstrap.pid')};`,
          `error_log ${join(dir, 'bootstrap-error.log')};`,
          'events {}',
          'http {',
          `  client_body_temp_path ${dir};`,
          `  include ${join(deploy, 'nginx', 'bootstrap-http.conf')};`,
          '}',
          '',
        ].join('\n'),
      );
      const checked = await run('nginx', ['-t', '-p', dir, '-c', main]);
      expect(checked.stderr).toContain('test is successful');
      expect(checked.stderr).not.toMatch(/\[warn\]|\[emerg\]/);
    });

    it('run: the access log has the page path without its token, and /healthz is not served', async (context) => {
      if (!(await available('nginx', ['-v']))) context.skip();
      const app = createServer((_req, res) => res.end('the page\n'));
      const appUrl = await listenLocally(app);
      const [plainPort, tlsPort] = [await freePort(), await freePort()];
      const live = join(dir, 'live');
      await mkdir(live, { recursive: true });
      const { cert, key } = await selfSigned(live, 'kaizen');
      const text = (await throwawayCopy('setpass.conf', { cert, key }, live))
        .replace('server 127.0.0.1:3000;', `server ${new URL(appUrl).host};`)
        .replace(/listen \[::\]:\d+[^;]*;/g, '')
        .replace('listen 80;', `listen 127.0.0.1:${plainPort};`)
        .replace('listen 443 ssl http2;', `listen 127.0.0.1:${tlsPort} ssl http2;`);
      await writeFile(join(live, 'setpass.conf'), text);
      const main = await mainConf(live, 'live', [join(live, 'setpass.conf')]);
      const nginx = spawn('nginx', ['-p', live, '-c', main, '-g', 'daemon off;'], { stdio: 'ignore' });
      try {
        await waitForPort(tlsPort, 10_000);
        const token = 'TokenInTheQuery0123456789abcdefghijklmnopq';
        expect(await tlsGet(tlsPort, `/?token=${token}`)).toBe(200);
        expect(await tlsGet(tlsPort, '/healthz')).toBe(404);
        expect(
          (await fetch(`http://127.0.0.1:${plainPort}/?token=${token}`, { redirect: 'manual' })).status,
        ).toBe(301);
        const log = await readFile(join(live, 'kaizen-setpass.access.log'), 'utf8');
        expect(log).toMatch(/"GET \/ HTTP\/1\.1" 200 /);
        expect(log).toMatch(/"GET \/healthz HTTP\/1\.1" 404 /);
        expect(log.split('\n').filter(Boolean)).toHaveLength(3);
        expect(log).not.toContain(token);
        expect(log).not.toContain('?');
      } finally {
        nginx.kill('SIGTERM');
        await closeNow(app);
      }
    });
  });
});

/** An nginx example with its certificate and log paths pointed into `dir`. */
async function throwawayCopy(
  name: string,
  pair: { cert: string; key: string },
  dir: string,
): Promise<string> {
  return (await read(`deploy/nginx/${name}`))
    .replace(/ssl_certificate_key \S+;/g, `ssl_certificate_key ${pair.key};`)
    .replace(/ssl_certificate \S+;/g, `ssl_certificate ${pair.cert};`)
    .replaceAll('/var/log/nginx/', `${dir}/`);
}

/** A main nginx.conf in `dir` that includes `files` in its http block; answers its path. */
async function mainConf(dir: string, name: string, files: string[]): Promise<string> {
  const main = join(dir, `${name}.conf`);
  await writeFile(
    main,
    [
      `pid ${join(dir, `${name}.pid`)};`,
      `error_log ${join(dir, `${name}-error.log`)};`,
      'events {}',
      'http {',
      `  client_body_temp_path ${dir};`,
      `  proxy_temp_path ${dir};`,
      ...files.map((file) => `  include ${file};`),
      '}',
      '',
    ].join('\n'),
  );
  return main;
}

async function waitForPort(port: number, withinMs: number): Promise<void> {
  const deadline = Date.now() + withinMs;
  for (;;) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1', () => {
        socket.end();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    if (Date.now() > deadline) throw new Error(`nothing listened on ${port} within ${withinMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** The status of a GET over TLS to the throwaway server (self-signed, so not verified). */
function tlsGet(port: number, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const request = httpsGet(
      { host: '127.0.0.1', port, path, servername: 'register.example.org', rejectUnauthorized: false },
      (response) => {
        response.resume();
        response.once('end', () => resolve(response.statusCode ?? 0));
      },
    );
    request.once('error', reject);
  });
}

describe('env examples', () => {
  it('name only settings the bot knows', async () => {
    for (const file of ['bot.env.example', 'setpass.env.example']) {
      const { mentioned } = envNames(await read(`deploy/${file}`));
      expect(mentioned.size, file).toBeGreaterThan(5);
      expect(
        [...mentioned].filter((name) => !knownNames.has(name)),
        file,
      ).toEqual([]);
    }
  });

  it('keep every admin-only name out of the setpass example, even commented out', async () => {
    const text = await read('deploy/setpass.env.example');
    for (const name of ADMIN_ONLY_ENV) expect(text).not.toContain(name);
  });

  it('start as the role they name once the blanks are filled', async () => {
    const secret = Buffer.alloc(32, 7).toString('base64');
    const fill = (set: Map<string, string>, extra: Env): Env => ({
      ...Object.fromEntries([...set].filter(([, v]) => v !== '')),
      SETPASS_SECRET: secret,
      ...extra,
    });
    const setpass = envNames(await read('deploy/setpass.env.example')).set;
    const page = loadConfig(fill(setpass, {}));
    expect(page.role).toBe('setpass');
    expect(page.production).toBe(true);
    expect(page.http.publicUrl).toMatch(/^https:\/\//);

    const dir = await mkdtemp(join(tmpdir(), 'kaizen-env-'));
    try {
      // The example points at /etc/kaizen/service-account.json, which must be readable.
      const key = join(dir, 'service-account.json');
      await copyFile(join(root, 'package.json'), key);
      const bot = loadConfig(
        fill(envNames(await read('deploy/bot.env.example')).set, { GOOGLE_APPLICATION_CREDENTIALS: key }),
      );
      expect(bot.role).toBe('bot');
      expect(bot.redis.keyPrefix).toBe(page.redis.keyPrefix);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('the deployment guide', () => {
  it('links only files that exist, and every file in deploy/ is described', async () => {
    const guide = await read('deploy/README.md');
    const links = [...guide.matchAll(/\]\(([^)#\s]+)(?:#[^)]*)?\)/g)].map((m) => m[1]!);
    const local = links.filter((link) => !/^[a-z]+:/.test(link));
    expect(local.length).toBeGreaterThan(5);
    for (const link of local) expect(existsSync(join(deploy, link)), link).toBe(true);
    for (const file of [
      'kaizen-bot.service',
      'kaizen-setpass.service',
      'bot.env.example',
      'setpass.env.example',
      'nginx/setpass.conf',
      'nginx/bot.conf',
      'nginx/bootstrap-http.conf',
      'quota-presets.example.json',
      'redis/users.acl',
    ]) {
      expect(local).toContain(file);
    }
  });

  it('is linked from the main README', async () => {
    const readme = await read('README.md');
    expect(readme).toMatch(/^## Deployment$/m);
    expect(readme).toContain('](deploy/README.md)');
  });
});
