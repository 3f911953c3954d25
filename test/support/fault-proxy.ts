/**
 * A TCP proxy on 127.0.0.1 in front of a real service (the shared Keystone), for outage tests that
 * must not stop the service itself. It forwards bytes untouched; `cut()` drops every open
 * connection and stops listening, so callers see "connection refused" as if the service were down,
 * and `restore()` listens again on the same port. `slow(ms)` holds every request byte that long
 * before passing it on, as a slow service (an LDAP-backed Keystone) answers late. `hold(pattern)`
 * stops a request whose first bytes match (`/^POST \/v3\/users /`) on its way to the service until
 * `release()`, so a test can do something while the bot is known to be waiting at that step. It is
 * a fault injector, not a fake: every answer comes from the real service.
 */
import { connect, createServer, type Server, type Socket } from 'node:net';

export class FaultProxy {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private listeningPort = 0;
  private delayMs = 0;
  private holding: { pattern: RegExp; caught: () => void } | undefined;
  /** Bytes held back, per connection, in the order they came. */
  private readonly held = new Map<Socket, { upstream: Socket; chunks: Buffer[] }>();

  private constructor(
    private readonly targetHost: string,
    private readonly targetPort: number,
  ) {}

  /** A proxy to `target` (an http URL; only its host and port count), listening on a free port. */
  static async start(target: string): Promise<FaultProxy> {
    const url = new URL(target);
    const proxy = new FaultProxy(url.hostname, Number(url.port || 80));
    await proxy.restore();
    return proxy;
  }

  get port(): number {
    return this.listeningPort;
  }

  /** `target` with the proxy's host and port in place of the service's. */
  urlFor(target: string): string {
    const url = new URL(target);
    url.hostname = '127.0.0.1';
    url.port = String(this.listeningPort);
    return url.toString().replace(/\/$/, '');
  }

  get up(): boolean {
    return this.server !== undefined;
  }

  /** Listens again (on the same port after a `cut`). */
  async restore(): Promise<void> {
    if (this.server !== undefined) return;
    const server = createServer((client) => this.forward(client));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.listeningPort, '127.0.0.1', () => resolve());
    });
    const address = server.address();
    this.listeningPort = typeof address === 'object' && address ? address.port : 0;
    this.server = server;
  }

  /** From now on, what callers send reaches the service `ms` later (0: at once again). */
  slow(ms: number): void {
    this.delayMs = ms;
  }

  /**
   * From now on, a request whose bytes (as latin1 text) match `pattern` and all that follows it on
   * its connection wait here until `release()`. Resolves once the first such request is waiting.
   */
  hold(pattern: RegExp): Promise<void> {
    return new Promise((resolve) => {
      this.holding = { pattern, caught: resolve };
    });
  }

  /** Sends on whatever `hold` kept back, and stops holding. */
  release(): void {
    this.holding = undefined;
    for (const { upstream, chunks } of this.held.values()) {
      for (const chunk of chunks) upstream.write(chunk);
    }
    this.held.clear();
  }

  /** The outage: open connections are reset and new ones refused. */
  async cut(): Promise<void> {
    const server = this.server;
    if (server === undefined) return;
    this.server = undefined;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
    await closed;
  }

  /** In order: every chunk waits the same delay, and timers of equal delay fire in order. */
  private later(work: () => void): void {
    if (this.delayMs === 0) work();
    else setTimeout(work, this.delayMs);
  }

  private forward(client: Socket): void {
    const upstream = connect(this.targetPort, this.targetHost);
    for (const socket of [client, upstream]) {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
      socket.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
    }
    client.on('data', (chunk: Buffer) => {
      const queue = this.held.get(client);
      if (queue !== undefined) {
        queue.chunks.push(chunk);
        return;
      }
      const holding = this.holding;
      if (holding?.pattern.test(chunk.toString('latin1'))) {
        this.held.set(client, { upstream, chunks: [chunk] });
        holding.caught();
        return;
      }
      this.later(() => upstream.write(chunk));
    });
    client.on('end', () => {
      if (!this.held.has(client)) this.later(() => upstream.end());
    });
    client.on('close', () => this.held.delete(client));
    upstream.pipe(client);
  }
}
