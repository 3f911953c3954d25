/**
 * OS_CLOUD with clouds.yaml (and secure.yaml), OS_CACERT, and application credentials from
 * clouds.yaml, against the test Keystone behind a TLS front whose certificate no system trusts:
 * only the CA the settings name makes the calls work.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { type Server as HttpServer, request as httpRequest } from 'node:http';
import { createServer, type Server } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { stringify } from 'yaml';
import { keystoneFromConfig } from '../../src/keystone/from-config.js';
import { runDoctor } from '../../src/ops/doctor.js';
import { cloudSettings, searchPath, shellLeftovers } from '../../src/platform/config/clouds-yaml.js';
import { type Env, loadConfig } from '../../src/platform/config/config.js';
import { selfSigned } from '../support/certificates.js';
import { closeNow } from '../support/local-http.js';
import { adminClient, unique } from './fixtures.js';

/** An HTTPS server that hands every request to `target` (plain HTTP) and its answer back. */
async function tlsFront(target: string, cert: string, key: string): Promise<{ url: string; server: Server }> {
  const upstream = new URL(target);
  const server = createServer({ cert, key }, (req, res) => {
    const forwarded = httpRequest(
      {
        host: upstream.hostname,
        port: upstream.port,
        method: req.method,
        path: req.url,
        headers: req.headers,
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    forwarded.on('error', () => res.writeHead(502).end());
    req.pipe(forwarded);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return { url: `https://127.0.0.1:${port}`, server };
}

describe('clouds.yaml on the search path', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kaizen-clouds-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('is looked for in ./, ~/.config/openstack/ and /etc/openstack/, in that order', () => {
    expect(searchPath('clouds.yaml', { cwd: '/srv/app', home: '/home/k' })).toEqual([
      '/srv/app/clouds.yaml',
      '/home/k/.config/openstack/clouds.yaml',
      '/etc/openstack/clouds.yaml',
    ]);
  });

  it('takes the first clouds.yaml found and lays the secure.yaml found over it', async () => {
    const cwd = join(dir, 'work');
    const home = join(dir, 'home');
    await mkdir(join(home, '.config', 'openstack'), { recursive: true });
    await mkdir(cwd, { recursive: true });
    const clouds = {
      clouds: {
        prod: {
          auth: {
            auth_url: 'https://keystone.example.org:5000/v3',
            username: 'kaizen',
            project_name: 'admin',
          },
          region_name: 'RegionTwo',
          interface: 'internal',
          cacert: 'ca.pem',
        },
      },
    };
    await writeFile(join(home, '.config', 'openstack', 'clouds.yaml'), stringify(clouds));
    await writeFile(
      join(home, '.config', 'openstack', 'secure.yaml'),
      stringify({ clouds: { prod: { auth: { password: 'from-secure' } } } }),
    );
    const found = cloudSettings({ OS_CLOUD: 'prod' }, { cwd, home });
    expect(found?.problems).toEqual([]);
    expect(found?.settings?.env).toEqual({
      OS_AUTH_URL: 'https://keystone.example.org:5000/v3',
      OS_USERNAME: 'kaizen',
      OS_PASSWORD: 'from-secure',
      OS_PROJECT_NAME: 'admin',
      OS_REGION_NAME: 'RegionTwo',
      OS_INTERFACE: 'internal',
      // Relative to the file that names it.
      OS_CACERT: join(home, '.config', 'openstack', 'ca.pem'),
    });

    // ./clouds.yaml comes first.
    await writeFile(
      join(cwd, 'clouds.yaml'),
      stringify({ clouds: { prod: { auth: { auth_url: 'https://local.example.org/v3' } } } }),
    );
    expect(cloudSettings({ OS_CLOUD: 'prod' }, { cwd, home })?.settings?.env.OS_AUTH_URL).toBe(
      'https://local.example.org/v3',
    );
  });

  it('says which file lacks the cloud, and which clouds it has', async () => {
    const cwd = join(dir, 'named');
    await mkdir(cwd, { recursive: true });
    await writeFile(join(cwd, 'clouds.yaml'), stringify({ clouds: { one: {}, two: {} } }));
    expect(cloudSettings({ OS_CLOUD: 'three' }, { cwd, home: join(dir, 'nohome') })?.problems).toEqual([
      `OS_CLOUD: ${join(cwd, 'clouds.yaml')} has no cloud "three" (it has one, two)`,
    ]);
    expect(
      cloudSettings({ OS_CLOUD: 'x' }, { cwd: join(dir, 'empty'), home: join(dir, 'nohome') })?.problems[0],
    ).toMatch(/^OS_CLOUD: no clouds\.yaml found \(looked in .*\/etc\/openstack\/clouds\.yaml\)/);
  });

  it('refuses verify: false in production, and credentials for the public setpass role', async () => {
    const file = join(dir, 'insecure.yaml');
    await writeFile(
      file,
      stringify({
        clouds: { lab: { auth: { auth_url: 'https://k.example.org/v3', password: 'p' }, verify: false } },
      }),
    );
    const base: Env = { OS_CLOUD: 'lab', OS_CLIENT_CONFIG_FILE: file };
    expect(cloudSettings(base)?.settings?.insecure).toBe(true);
    expect(cloudSettings(base)?.problems).toEqual([]);
    expect(() => loadConfig({ ...base, NODE_ENV: 'production' })).toThrow(
      /verify: false, which is refused in production/,
    );
    expect(() => loadConfig({ ...base, KAIZEN_ROLE: 'setpass' })).toThrow(
      /the setpass role \(the public page\) must hold no credentials/,
    );
  });

  it('refuses an openrc shell reference pasted into .env, naming the variable only', () => {
    expect(shellLeftovers({ OS_PASSWORD: '$OS_PASSWORD_INPUT', OS_USERNAME: 'admin' })).toEqual([
      'OS_PASSWORD: holds a shell variable reference (as an openrc writes it); .env is not a shell, so put the value itself, or use OS_CLOUD with clouds.yaml',
    ]);
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the literal text an openrc line leaves behind
    expect(() => loadConfig({ OS_USERNAME: 'admin', OS_PASSWORD: '${OS_PASSWORD_INPUT}' })).toThrow(
      /OS_PASSWORD: holds a shell variable reference/,
    );
  });
});

describe('Keystone behind TLS with a private CA', () => {
  const keystone = inject('keystone');
  let dir: string;
  let front: { url: string; server: Server };
  let caFile: string;
  let appCredential: { id: string; secret: string; userId: string };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kaizen-tls-keystone-'));
    const pair = await selfSigned(dir, 'keystone-ca');
    caFile = pair.cert;
    front = await tlsFront(new URL(keystone.authUrl).origin, pair.pem, await readFile(pair.key, 'utf8'));

    // An application credential of the admin user, made through Keystone's own API.
    const admin = adminClient();
    const token = await admin.getAdminToken();
    const base = keystone.authUrl.replace(/\/+$/, '');
    const me = (await (
      await fetch(`${base}/auth/tokens`, { headers: { 'x-auth-token': token, 'x-subject-token': token } })
    ).json()) as { token: { user: { id: string } } };
    const created = (await (
      await fetch(`${base}/users/${me.token.user.id}/application_credentials`, {
        method: 'POST',
        headers: { 'x-auth-token': token, 'content-type': 'application/json' },
        body: JSON.stringify({ application_credential: { name: unique('kaizen-clouds') } }),
      })
    ).json()) as { application_credential: { id: string; secret: string } };
    appCredential = { ...created.application_credential, userId: me.token.user.id };
  });
  afterAll(async () => {
    if (appCredential) {
      const admin = adminClient();
      const token = await admin.getAdminToken();
      await fetch(
        `${keystone.authUrl.replace(/\/+$/, '')}/users/${appCredential.userId}/application_credentials/${appCredential.id}`,
        { method: 'DELETE', headers: { 'x-auth-token': token } },
      );
    }
    // An https.Server is an http.Server underneath.
    if (front) await closeNow(front.server as unknown as HttpServer);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /** clouds.yaml and secure.yaml for the TLS front, and the settings that name them. */
  async function cloudFiles(
    name: string,
    cloud: Record<string, unknown>,
    secure: Record<string, unknown>,
  ): Promise<Env> {
    const clouds = join(dir, `${name}-clouds.yaml`);
    const secureFile = join(dir, `${name}-secure.yaml`);
    await writeFile(clouds, stringify({ clouds: { [name]: cloud } }));
    await writeFile(secureFile, stringify({ clouds: { [name]: secure } }));
    return { OS_CLOUD: name, OS_CLIENT_CONFIG_FILE: clouds, OS_CLIENT_SECURE_FILE: secureFile };
  }

  const passwordCloud = () => ({
    auth: {
      auth_url: `${front.url}/v3`,
      username: keystone.username,
      project_name: keystone.projectName,
      user_domain_name: keystone.userDomainName,
      project_domain_name: keystone.projectDomainName,
    },
    region_name: keystone.region,
  });

  it('works with OS_CLOUD and the password in secure.yaml once OS_CACERT names the CA', async () => {
    const env = await cloudFiles('tls-password', passwordCloud(), { auth: { password: keystone.password } });
    const config = loadConfig({ ...env, OS_CACERT: caFile });
    expect(config.keystone.authUrl).toBe(`${front.url}/v3`);
    expect(config.keystone.auth).toMatchObject({ kind: 'password', username: keystone.username });
    const catalog = await keystoneFromConfig(config)!.getCatalog();
    expect(catalog.length).toBeGreaterThan(0);

    const [line] = (await runDoctor(config)).filter((l) => l.name === 'keystone');
    expect(line).toMatchObject({ status: 'ok' });
  });

  it('fails without the CA: the certificate is trusted by nothing else', async () => {
    const env = await cloudFiles('tls-untrusted', passwordCloud(), { auth: { password: keystone.password } });
    const config = loadConfig(env);
    await expect(keystoneFromConfig(config)!.getCatalog()).rejects.toThrow(
      /TLS certificate is from a CA this host does not trust; name the CA in OS_CACERT/,
    );
  });

  it('takes the CA from cacert in clouds.yaml, and an application credential from it too', async () => {
    const env = await cloudFiles(
      'tls-appcred',
      {
        auth_type: 'v3applicationcredential',
        auth: { auth_url: `${front.url}/v3`, application_credential_id: appCredential.id },
        region_name: keystone.region,
        cacert: caFile,
      },
      { auth: { application_credential_secret: appCredential.secret } },
    );
    const config = loadConfig(env);
    expect(config.keystone.caFile).toBe(caFile);
    expect(config.keystone.auth).toEqual({
      kind: 'application_credential',
      id: appCredential.id,
      secret: appCredential.secret,
    });
    const client = keystoneFromConfig(config)!;
    expect((await client.getCatalog()).length).toBeGreaterThan(0);
    expect(await client.getAdminToken()).toMatch(/^\S+$/);
  });

  it('lets an OS_* variable that is set win over the file', async () => {
    const env = await cloudFiles('tls-override', passwordCloud(), { auth: { password: 'not-the-password' } });
    const config = loadConfig({ ...env, OS_CACERT: caFile, OS_PASSWORD: keystone.password });
    expect((await keystoneFromConfig(config)!.getCatalog()).length).toBeGreaterThan(0);
  });
});
