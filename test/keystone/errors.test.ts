import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KeystoneClient } from '../../src/keystone/index.js';

const password = 'Sup3r-secret-Passw0rd';
const auth = {
  kind: 'password',
  username: 'admin',
  password,
  userDomainName: 'Default',
  projectName: 'admin',
  projectDomainName: 'Default',
} as const;

async function rejection(promise: Promise<unknown>): Promise<Error & { kind?: string }> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof Error)) throw new Error('expected a rejection');
  return error;
}

/** A fetch that answers every request with the same JSON, for the error paths a real Keystone rarely takes. */
const answering =
  (status: number, body: unknown, headers: Record<string, string> = {}) =>
  async (): Promise<Response> =>
    new Response(JSON.stringify(body), {
      status,
      headers: { 'content-type': 'application/json', ...headers },
    });

describe('Keystone that does not answer', () => {
  let silent: Server;
  let silentUrl: string;
  let closedUrl: string;

  beforeAll(async () => {
    // Accepts connections and never answers, like a hung server behind a firewall.
    silent = createServer(() => {});
    await new Promise<void>((done) => silent.listen(0, '127.0.0.1', done));
    silentUrl = `http://127.0.0.1:${(silent.address() as AddressInfo).port}/v3`;
    // A port that was free a moment ago: nothing listens there now.
    const probe = createServer();
    await new Promise<void>((done) => probe.listen(0, '127.0.0.1', done));
    closedUrl = `http://127.0.0.1:${(probe.address() as AddressInfo).port}/v3`;
    await new Promise((done) => probe.close(done));
  });
  afterAll(async () => {
    silent.closeAllConnections();
    await new Promise((done) => silent.close(done));
  });

  it('is unreachable, with a message that names the URL and what to check', async () => {
    const client = new KeystoneClient({ authUrl: closedUrl, auth });
    const ping = await rejection(client.ping());
    expect(ping).toMatchObject({ kind: 'unreachable' });
    expect(ping.message).toBe(`Keystone at ${closedUrl} did not answer (connection refused): is it running?`);

    const call = await rejection(client.getProject('p1'));
    expect(call).toMatchObject({ kind: 'unreachable' });
    expect(call.message).not.toContain(password);
  });

  it('times out as unreachable', async () => {
    const client = new KeystoneClient({ authUrl: silentUrl, auth, timeoutMs: 300 });
    const error = await rejection(client.findRole('member'));
    expect(error).toMatchObject({ kind: 'unreachable' });
    expect(error.message).toMatch(/did not answer POST \/auth\/tokens within 0\.3 s/);
  });

  it('never shows credentials embedded in the auth URL', async () => {
    const client = new KeystoneClient({ authUrl: closedUrl.replace('//', '//user:hunter2@') });
    const error = await rejection(client.ping());
    expect(error.message).not.toContain('hunter2');
  });

  it('makes no answer from checkAdminCaller other than not_admin', async () => {
    const client = new KeystoneClient({ authUrl: closedUrl });
    expect(await client.checkAdminCaller('any-token')).toBe('not_admin');
  });
});

describe('Keystone error answers', () => {
  it('scrubs secrets that Keystone echoes in validation messages', async () => {
    const echoed = `Invalid input for field 'password': '${password}' is too short`;
    const client = new KeystoneClient({
      authUrl: 'http://keystone.test/v3',
      fetch: answering(400, { error: { code: 400, message: echoed, title: 'Bad Request' } }),
    });
    const error = await rejection(client.changeOwnPassword('u1', 'old-password', password));
    expect(error).toMatchObject({ kind: 'invalid' });
    expect(error.message).toBe("Invalid input for field 'password': '***' is too short");
  });

  it("passes Keystone's password-policy text on as invalid", async () => {
    const policy =
      'Password validation error: The password does not meet the requirements: at least 12 characters.';
    const client = new KeystoneClient({
      authUrl: 'http://keystone.test/v3',
      fetch: answering(400, { error: { code: 400, message: policy, title: 'Bad Request' } }),
    });
    const error = await rejection(client.changeOwnPassword('u1', 'old-password', 'short'));
    expect(error).toMatchObject({ kind: 'invalid', message: policy });
  });

  it('maps statuses to kinds, keeping Keystone explanation and the request', async () => {
    const token = { 'x-subject-token': 'tok' };
    const tokenBody = {
      token: {
        expires_at: new Date(Date.now() + 3600_000).toISOString(),
        methods: ['password'],
        user: { id: 'u', name: 'admin', domain: { id: 'default', name: 'Default' } },
      },
    };
    const cases = [
      [403, 'forbidden'],
      [404, 'not_found'],
      [409, 'conflict'],
      [500, 'upstream'],
      [503, 'upstream'],
    ] as const;
    for (const [status, kind] of cases) {
      const client = new KeystoneClient({
        authUrl: 'http://keystone.test/v3',
        auth,
        fetch: async (url, init) =>
          String(url).endsWith('/auth/tokens') && init.method === 'POST'
            ? answering(201, tokenBody, token)()
            : answering(status, { error: { code: status, message: 'It went wrong.', title: 'x' } })(),
      });
      const error = await rejection(
        client.createProject({ name: 'p', description: '', domainId: 'default' }),
      );
      expect(error).toMatchObject({ kind, status });
      expect(error.message).toMatch(
        new RegExp(
          `^Keystone at http://keystone.test/v3 answered HTTP ${status} to POST /projects: It went wrong\\.`,
        ),
      );
    }
  });

  it('reports a body it cannot read as upstream, naming fields but not values', async () => {
    const client = new KeystoneClient({
      authUrl: 'http://keystone.test/v3',
      fetch: answering(200, { version: 'not what was asked' }),
    });
    const error = await rejection(client.passwordLogin({ userId: 'u1', password }));
    expect(error).toMatchObject({ kind: 'upstream' });
    expect(error.message).not.toContain(password);
  });

  it('refuses an auth URL that is not a URL as a configuration error', () => {
    expect(() => new KeystoneClient({ authUrl: 'not a url' })).toThrow(/is not a URL/);
  });
});
