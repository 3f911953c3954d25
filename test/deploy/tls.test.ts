/**
 * The listener's own HTTPS (TLS_CERT_FILE/TLS_KEY_FILE): served with HSTS, certificate swapped by
 * `reloadTls()` (what SIGHUP calls), and the proxy headers believed only from TRUSTED_PROXIES.
 */
import { X509Certificate } from 'node:crypto';
import { copyFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningKaizen, startKaizen } from '../../src/app/start.js';
import { ConfigError, loadConfig } from '../../src/platform/config/config.js';
import { clientIp, isHttps } from '../../src/platform/http/client-ip.js';
import { createLogger } from '../../src/platform/log.js';
import { uniquePrefix } from '../support/bot.js';
import { selfSigned } from '../support/certificates.js';

interface HttpsAnswer {
  status: number;
  headers: IncomingMessage['headers'];
  body: string;
  /** SHA-256 fingerprint of the certificate the server presented. */
  fingerprint: string;
}

/** One GET on a fresh connection (no agent), trusting only `ca`. */
function httpsGet(url: string, ca: string[]): Promise<HttpsAnswer> {
  return new Promise((resolve, reject) => {
    const req = request(url, { ca, agent: false }, (res) => {
      const fingerprint = (res.socket as TLSSocket).getPeerCertificate().fingerprint256;
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(chunks).toString('utf8'),
          fingerprint,
        }),
      );
    });
    req.on('error', reject);
    req.end();
  });
}

const fingerprintOf = (pem: string) => new X509Certificate(pem).fingerprint256;

describe('HTTPS served by the listener itself', () => {
  let dir: string;
  let first: { cert: string; key: string; pem: string };
  let second: { cert: string; key: string; pem: string };
  let live: { cert: string; key: string };
  let running: RunningKaizen;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kaizen-tls-'));
    [first, second] = await Promise.all([selfSigned(dir, 'first'), selfSigned(dir, 'second')]);
    live = { cert: join(dir, 'live.crt'), key: join(dir, 'live.key') };
    await copyFile(first.cert, live.cert);
    await copyFile(first.key, live.key);
    const config = loadConfig({
      PORT: '0',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'silent',
      REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
      REDIS_KEY_PREFIX: uniquePrefix('tls'),
      TLS_CERT_FILE: live.cert,
      TLS_KEY_FILE: live.key,
    });
    running = await startKaizen(config, { log: createLogger({ level: 'silent', pretty: false }) });
  });

  afterAll(async () => {
    await running?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('answers /healthz over https with the certificate trusted, and sends HSTS', async () => {
    expect(running.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const answer = await httpsGet(`${running.url}/healthz`, [first.pem]);
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body)).toMatchObject({ status: 'ok', checks: { redis: 'ok' } });
    expect(answer.headers['strict-transport-security']).toMatch(/^max-age=\d{7,}; includeSubDomains$/);
    expect(answer.fingerprint).toBe(fingerprintOf(first.pem));
  });

  it('refuses a client that does not trust the certificate', async () => {
    await expect(httpsGet(`${running.url}/healthz`, [second.pem])).rejects.toThrow(/self.signed|verify/i);
  });

  it('presents a renewed certificate after reloadTls(), and keeps the old one when the new files are broken', async () => {
    await copyFile(second.cert, live.cert);
    await copyFile(second.key, live.key);
    running.http.reloadTls();
    const renewed = await httpsGet(`${running.url}/healthz`, [second.pem]);
    expect(renewed.status).toBe(200);
    expect(renewed.fingerprint).toBe(fingerprintOf(second.pem));

    await writeFile(live.cert, 'not a certificate');
    running.http.reloadTls();
    const kept = await httpsGet(`${running.url}/healthz`, [second.pem]);
    expect(kept.fingerprint).toBe(fingerprintOf(second.pem));
  });
});

describe('PUBLIC_URL in production', () => {
  const base = { NODE_ENV: 'production', PUBLIC_URL: 'http://register.example.org' };

  it('stops start-up when it is not https://, naming the override', () => {
    let problem: unknown;
    try {
      loadConfig(base);
    } catch (error) {
      problem = error;
    }
    expect(problem).toBeInstanceOf(ConfigError);
    expect((problem as ConfigError).problems.join('\n')).toMatch(
      /PUBLIC_URL: must be https:\/\/ in production.*ALLOW_INSECURE_PUBLIC_URL=true/,
    );
  });

  it('is accepted with ALLOW_INSECURE_PUBLIC_URL=true, or as https://, or outside production', () => {
    expect(loadConfig({ ...base, ALLOW_INSECURE_PUBLIC_URL: 'true' }).http.publicUrl).toBe(base.PUBLIC_URL);
    expect(loadConfig({ ...base, PUBLIC_URL: 'https://register.example.org' }).production).toBe(true);
    expect(loadConfig({ PUBLIC_URL: base.PUBLIC_URL }).production).toBe(false);
  });
});

/** A request as node:http hands it over, reduced to what client-ip.ts reads. */
function fakeRequest(peer: string, headers: Record<string, string> = {}, encrypted = false): IncomingMessage {
  const socket = encrypted ? { remoteAddress: peer, encrypted: true } : { remoteAddress: peer };
  return { socket, headers } as unknown as IncomingMessage;
}

describe('forwarded headers', () => {
  const proxy = '10.0.0.2';
  const forwarded = { 'x-forwarded-for': '203.0.113.7', 'x-forwarded-proto': 'https' };

  it('are ignored from a peer that is not a trusted proxy', () => {
    const req = fakeRequest('198.51.100.9', forwarded);
    expect(clientIp(req, [proxy])).toBe('198.51.100.9');
    expect(isHttps(req, [proxy])).toBe(false);
    expect(clientIp(fakeRequest(proxy, forwarded), [])).toBe(proxy);
  });

  it('are honoured from a trusted proxy, IPv4-mapped peers included', () => {
    expect(clientIp(fakeRequest(proxy, forwarded), [proxy])).toBe('203.0.113.7');
    expect(clientIp(fakeRequest(`::ffff:${proxy}`, forwarded), [proxy])).toBe('203.0.113.7');
    expect(isHttps(fakeRequest(proxy, forwarded), [proxy])).toBe(true);
    expect(isHttps(fakeRequest(proxy, { 'x-forwarded-proto': 'http' }), [proxy])).toBe(false);
  });

  it('cannot be forged by a client that prepends its own X-Forwarded-For', () => {
    // The proxy appends the address it saw; whatever the client wrote sits to the left of it.
    const req = fakeRequest(proxy, { 'x-forwarded-for': '1.2.3.4, 203.0.113.7' });
    expect(clientIp(req, [proxy])).toBe('203.0.113.7');
    const chained = fakeRequest(proxy, { 'x-forwarded-for': '1.2.3.4, 203.0.113.7, 10.0.0.3' });
    expect(clientIp(chained, [proxy, '10.0.0.3'])).toBe('203.0.113.7');
  });

  it('does not matter on a TLS socket, which is https by itself', () => {
    expect(isHttps(fakeRequest('198.51.100.9', {}, true), [])).toBe(true);
  });
});
