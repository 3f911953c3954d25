import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, scrubSecrets } from '../../src/platform/log.js';

function capture() {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk, _encoding, done) {
      lines.push(String(chunk));
      done();
    },
  });
  return { lines, log: createLogger({ level: 'info', pretty: false, destination }) };
}

describe('log redaction', () => {
  it('removes secrets by key at any depth we log', () => {
    const { lines, log } = capture();
    log.info(
      {
        password: 'hunter2-long',
        user: { pin: '1234', name: 'ann' },
        headers: { 'x-auth-token': 'gAAAA-tok' },
      },
      'x',
    );
    const out = lines.join('');
    expect(out).not.toMatch(/hunter2-long|"1234"|gAAAA-tok/);
    expect(out).toContain('ann');
  });

  it('removes secrets by pattern inside strings', () => {
    const { lines, log } = capture();
    const token = 'Q2xlYXJseU5vdEFSZWFsVG9rZW5CdXRMb25nRW5vdWdo';
    log.warn(
      `GET /?token=${token} failed; smtp://mailer:s3cret@host:587; Bearer abc.def.ghi; xoxb-123-456-abc`,
    );
    log.error({ err: new Error(`PUT /token/${token} with X-Auth-Token: gAAAAB123`) }, 'boom');
    const out = lines.join('');
    for (const secret of [token, 's3cret', 'abc.def.ghi', 'xoxb-123-456-abc', 'gAAAAB123']) {
      expect(out).not.toContain(secret);
    }
    expect(out).toContain('[redacted]');
  });

  it('removes the password of a URL with an empty user name, as Redis URLs have', () => {
    const { lines, log } = capture();
    log.error({ err: new Error('connect to redis://:log-redis-pw@10.0.0.5:6379 failed') }, 'boom');
    log.warn({ url: 'rediss://default:log-acl-pw@10.0.0.5:6380/0' }, 'redis at redis://:log-msg-pw@host');
    const out = lines.join('');
    expect(out).not.toMatch(/log-(redis|acl|msg)-pw/);
    expect(out).toContain('redis://:[redacted]@10.0.0.5:6379');
    expect(out).toContain('rediss://default:[redacted]@10.0.0.5:6380/0');
  });

  it('leaves ordinary text alone', () => {
    expect(scrubSecrets('approved ann@example.org into project lab')).toBe(
      'approved ann@example.org into project lab',
    );
  });
});
