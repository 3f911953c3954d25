/**
 * A real SMTP submission server for tests: `smtp-server` on 127.0.0.1 with STARTTLS (a self-signed
 * certificate made by openssl at start, which the app trusts through `SMTP_CA_FILE`) and AUTH
 * PLAIN/LOGIN allowed only after TLS, as a provider's port 587 would. Messages are parsed with
 * mailparser and kept in order. It can be stopped and started again on the same port for outage tests.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { type ParsedMail, simpleParser } from 'mailparser';
import { SMTPServer, type SMTPServerDataStream, type SMTPServerSession } from 'smtp-server';

const execFileAsync = promisify(execFile);

export interface ReceivedMail {
  /** The From header's address. */
  from: string;
  /** Envelope recipients (RCPT TO), which include Bcc. */
  to: string[];
  subject: string;
  text: string;
  html: string | undefined;
  /** The message as it came over the wire. */
  raw: string;
  envelopeFrom: string | undefined;
  /** The AUTH user that sent it. */
  user: string | undefined;
  /** Whether the session had switched to TLS. */
  secure: boolean;
  parsed: ParsedMail;
  at: Date;
}

export interface SmtpTestServerOptions {
  user?: string;
  password?: string;
}

export class SmtpTestServer {
  readonly user: string;
  readonly password: string;
  readonly messages: ReceivedMail[] = [];
  readonly host = '127.0.0.1';

  private server: SMTPServer | undefined;
  private listeningPort: number | undefined;
  private tlsDir: string | undefined;
  private key: Buffer | undefined;
  private cert: Buffer | undefined;
  private failuresLeft = 0;
  private refusalsLeft = 0;
  private readonly waiters = new Set<() => void>();

  constructor(options: SmtpTestServerOptions = {}) {
    this.user = options.user ?? 'kaizen';
    this.password = options.password ?? 'smtp-test-password';
  }

  /**
   * Listens on a free port the first time, and on that same port after `stop()`. The certificate
   * is made once per server.
   */
  async start(): Promise<this> {
    if (this.server !== undefined) return this;
    if (this.cert === undefined) await this.makeCertificate();
    const server = new SMTPServer({
      secure: false,
      key: this.key,
      cert: this.cert,
      name: 'localhost',
      banner: 'Kaizen test mail server',
      authMethods: ['PLAIN', 'LOGIN'],
      allowInsecureAuth: false,
      // stop() must take an outage effect at once rather than wait for clients to hang up.
      closeTimeout: 100,
      logger: false,
      disabledCommands: [],
      onAuth: (auth, _session, callback) => {
        if (auth.username === this.user && auth.password === this.password) {
          callback(null, { user: auth.username });
        } else {
          callback(new Error('Invalid username or password'));
        }
      },
      onData: (stream, session, callback) => {
        this.receive(stream, session).then(
          () => callback(),
          (error: unknown) => callback(error instanceof Error ? error : new Error(String(error))),
        );
      },
    });
    server.on('error', () => {
      // Client disconnects and TLS errors surface here; the sending side's tests report them.
    });
    await new Promise<void>((resolve, reject) => {
      server.server.once('error', reject);
      server.listen(this.listeningPort ?? 0, this.host, () => resolve());
    });
    this.listeningPort = (server.server.address() as AddressInfo).port;
    this.server = server;
    return this;
  }

  /** Closes the listener and drops open connections; `start()` brings it back on the same port. */
  async stop(): Promise<void> {
    const server = this.server;
    if (server === undefined) return;
    this.server = undefined;
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Stops the server and removes the certificate files. */
  async close(): Promise<void> {
    await this.stop();
    if (this.tlsDir !== undefined) await rm(this.tlsDir, { recursive: true, force: true });
    this.tlsDir = undefined;
  }

  get port(): number {
    if (this.listeningPort === undefined) throw new Error('SmtpTestServer: call start() first');
    return this.listeningPort;
  }

  /** `smtp://user:pass@127.0.0.1:PORT`, the form of the app's `SMTP_URL`. */
  get url(): string {
    return `smtp://${encodeURIComponent(this.user)}:${encodeURIComponent(this.password)}@${this.host}:${this.port}`;
  }

  /** The self-signed certificate (it is its own CA), for `SMTP_CA_FILE`. */
  get caFile(): string {
    if (this.tlsDir === undefined) throw new Error('SmtpTestServer: call start() first');
    return join(this.tlsDir, 'cert.pem');
  }

  /** Rejects the next `count` messages at the end of DATA with a temporary (451) error. */
  failNext(count = 1): void {
    this.failuresLeft += count;
  }

  /** Refuses the next `count` messages at the end of DATA for good (550): a sender must not retry. */
  refuseNext(count = 1): void {
    this.refusalsLeft += count;
  }

  /** Forgets received messages and pending failures. */
  reset(): void {
    this.messages.length = 0;
    this.failuresLeft = 0;
    this.refusalsLeft = 0;
  }

  /** Resolves with all messages once at least `count` have arrived. */
  async waitForMessages(count: number, timeoutMs = 5000): Promise<ReceivedMail[]> {
    if (this.messages.length >= count) return [...this.messages];
    return new Promise<ReceivedMail[]>((resolve, reject) => {
      const check = () => {
        if (this.messages.length < count) return;
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve([...this.messages]);
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        const subjects = this.messages.map((mail) => JSON.stringify(mail.subject)).join(', ') || 'none';
        reject(
          new Error(
            `SmtpTestServer.waitForMessages: expected ${count} message(s) within ${timeoutMs} ms, got ${this.messages.length} (subjects: ${subjects})`,
          ),
        );
      }, timeoutMs);
      this.waiters.add(check);
    });
  }

  private async receive(stream: SMTPServerDataStream, session: SMTPServerSession): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of stream) chunks.push(chunk as Buffer);
    if (this.refusalsLeft > 0) {
      this.refusalsLeft -= 1;
      throw Object.assign(new Error('Mailbox unavailable'), { responseCode: 550 });
    }
    if (this.failuresLeft > 0) {
      this.failuresLeft -= 1;
      throw Object.assign(new Error('Temporary local problem, please try again later'), {
        responseCode: 451,
      });
    }
    const raw = Buffer.concat(chunks);
    const parsed = await simpleParser(raw);
    const mailFrom = session.envelope.mailFrom;
    this.messages.push({
      from: parsed.from?.value[0]?.address ?? '',
      to: session.envelope.rcptTo.map((address) => address.address),
      subject: parsed.subject ?? '',
      text: parsed.text ?? '',
      html: typeof parsed.html === 'string' ? parsed.html : undefined,
      raw: raw.toString('utf8'),
      envelopeFrom: mailFrom === false ? undefined : mailFrom.address,
      user: session.user,
      secure: session.secure,
      parsed,
      at: new Date(),
    });
    for (const waiter of [...this.waiters]) waiter();
  }

  /** Node cannot write X.509 certificates itself, so openssl makes one valid for 127.0.0.1 and localhost. */
  private async makeCertificate(): Promise<void> {
    const dir = await mkdtemp(join(tmpdir(), 'kaizen-smtp-tls-'));
    const keyPath = join(dir, 'key.pem');
    const certPath = join(dir, 'cert.pem');
    await execFileAsync('openssl', [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      keyPath,
      '-out',
      certPath,
      '-days',
      '2',
      '-subj',
      '/CN=localhost',
      '-addext',
      'subjectAltName=IP:127.0.0.1,DNS:localhost',
    ]);
    this.tlsDir = dir;
    this.key = await readFile(keyPath);
    this.cert = await readFile(certPath);
  }
}

/** Starts an SMTP test server; see `SmtpTestServer`. */
export function startSmtpServer(options: SmtpTestServerOptions = {}): Promise<SmtpTestServer> {
  return new SmtpTestServer(options).start();
}
