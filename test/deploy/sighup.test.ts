/**
 * SIGHUP through the real signal: the bot process, serving HTTPS itself, presents a renewed
 * certificate after the signal, and keeps the old one (and keeps running) when the new files are
 * broken. test/deploy/tls.test.ts covers `reloadTls()` in process; this is what an operator's
 * `systemctl reload` (ExecReload=kill -HUP) does.
 */
import { X509Certificate } from 'node:crypto';
import { copyFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testEnv } from '../support/bot.js';
import { BotProcesses } from '../support/bot-process.js';
import { selfSigned } from '../support/certificates.js';

/** The fingerprint of the certificate presented on a fresh connection that trusts only `ca`. */
function presented(port: number, ca: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request(`https://127.0.0.1:${port}/healthz`, { ca: [ca], agent: false }, (res) => {
      resolve((res.socket as TLSSocket).getPeerCertificate().fingerprint256);
      res.resume();
    });
    req.on('error', reject);
    req.end();
  });
}

const fingerprintOf = (pem: string) => new X509Certificate(pem).fingerprint256;
const processes = new BotProcesses();
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kaizen-sighup-'));
});
afterAll(async () => {
  await processes.killAll();
  await rm(dir, { recursive: true, force: true });
});

describe('SIGHUP to the bot process', () => {
  it('reloads the certificate, and keeps the old one when the new files are broken', async () => {
    const [first, second] = await Promise.all([selfSigned(dir, 'first'), selfSigned(dir, 'second')]);
    const live = { cert: join(dir, 'live.crt'), key: join(dir, 'live.key') };
    await copyFile(first.cert, live.cert);
    await copyFile(first.key, live.key);
    const bot = await processes.start(
      testEnv({
        LOG_LEVEL: 'info',
        SLACK_API_URL: 'http://127.0.0.1:9/api/',
        TLS_CERT_FILE: live.cert,
        TLS_KEY_FILE: live.key,
      }),
    );
    const port = Number(new URL(bot.url).port);
    expect(await presented(port, first.pem)).toBe(fingerprintOf(first.pem));

    await copyFile(second.cert, live.cert);
    await copyFile(second.key, live.key);
    process.kill(bot.botPid, 'SIGHUP');
    await expect
      .poll(() => bot.output().includes('TLS certificate reloaded'), { timeout: 10_000 })
      .toBe(true);
    expect(await presented(port, second.pem)).toBe(fingerprintOf(second.pem));

    await writeFile(live.cert, 'not a certificate');
    process.kill(bot.botPid, 'SIGHUP');
    await expect
      .poll(() => bot.output().includes('TLS certificate reload failed'), { timeout: 10_000 })
      .toBe(true);
    expect(await presented(port, second.pem)).toBe(fingerprintOf(second.pem));
    expect(bot.alive).toBe(true);
  }, 60_000);
});
