/**
 * Slack's side of Socket Mode: the WebSocket that `apps.connections.open` points the app at
 * (the Slack fake answers that call once `slack.enableSocketMode(fake.url)` is set). It greets
 * with `hello`, sends envelopes (`{envelope_id, type, payload, accepts_response_payload}`) and
 * records the app's acks (`{envelope_id, payload?}`). WebSocket framing (RFC 6455) is done here
 * on node:http's upgrade, text frames unfragmented, as Slack's own messages are.
 */
import { createHash, randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { closeNow, isRecord, listenLocally } from './local-http.js';

const WS_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
const OP_TEXT = 0x1;
const OP_CLOSE = 0x8;
const OP_PING = 0x9;
const OP_PONG = 0xa;

export interface SocketModeAck {
  envelope_id: string;
  payload?: unknown;
}

export type EnvelopeType = 'slash_commands' | 'interactive' | 'events_api';

function frame(opcode: number, payload: Buffer): Buffer {
  const length = payload.length;
  const head =
    length < 126
      ? Buffer.from([0x80 | opcode, length])
      : length < 65_536
        ? Buffer.from([0x80 | opcode, 126, length >> 8, length & 0xff])
        : Buffer.concat([Buffer.from([0x80 | opcode, 127]), bigLength(length)]);
  return Buffer.concat([head, payload]);
}

function bigLength(length: number): Buffer {
  const bytes = Buffer.alloc(8);
  bytes.writeBigUInt64BE(BigInt(length));
  return bytes;
}

/** One connected app: reads its (masked) frames, answers pings, hands text messages on. */
class Connection {
  private buffered = Buffer.alloc(0);
  closed = false;

  constructor(
    private readonly socket: Duplex,
    private readonly onText: (text: string) => void,
  ) {
    socket.on('data', (chunk: Buffer) => {
      this.buffered = Buffer.concat([this.buffered, chunk]);
      this.drain();
    });
    socket.on('close', () => {
      this.closed = true;
    });
    socket.on('error', () => {
      this.closed = true;
    });
  }

  sendText(text: string): void {
    if (!this.closed) this.socket.write(frame(OP_TEXT, Buffer.from(text)));
  }

  close(): void {
    if (this.closed) return;
    this.socket.end(frame(OP_CLOSE, Buffer.from([0x03, 0xe8])));
    this.closed = true;
  }

  private drain(): void {
    for (;;) {
      const data = this.buffered;
      if (data.length < 2) return;
      const opcode = data[0]! & 0x0f;
      const masked = (data[1]! & 0x80) !== 0;
      let length = data[1]! & 0x7f;
      let offset = 2;
      if (length === 126) {
        if (data.length < 4) return;
        length = data.readUInt16BE(2);
        offset = 4;
      } else if (length === 127) {
        if (data.length < 10) return;
        length = Number(data.readBigUInt64BE(2));
        offset = 10;
      }
      const maskAt = offset;
      if (masked) offset += 4;
      if (data.length < offset + length) return;
      const payload = Buffer.from(data.subarray(offset, offset + length));
      if (masked) for (let i = 0; i < payload.length; i++) payload[i]! ^= data[maskAt + (i % 4)]!;
      this.buffered = data.subarray(offset + length);
      if (opcode === OP_TEXT) this.onText(payload.toString('utf8'));
      else if (opcode === OP_PING) this.socket.write(frame(OP_PONG, payload));
      else if (opcode === OP_CLOSE) this.close();
    }
  }
}

export class SocketModeFake {
  /** Every ack the app sent, in order. */
  readonly acks: SocketModeAck[] = [];
  /** Text frames from the app that are not acks (Slack would drop them). */
  readonly unexpected: string[] = [];
  private server: Server | undefined;
  private baseUrl: string | undefined;
  private readonly connections: Connection[] = [];
  private readonly waiters: (() => void)[] = [];

  constructor(private readonly appId = 'A0KAIZEN') {}

  async start(): Promise<this> {
    const server = createServer((_request, response) => {
      response.writeHead(426).end();
    });
    server.on('upgrade', (request, socket) => {
      const key = request.headers['sec-websocket-key'];
      if (typeof key !== 'string' || request.headers.upgrade?.toLowerCase() !== 'websocket') {
        socket.end('HTTP/1.1 400 Bad Request\r\n\r\n');
        return;
      }
      const accept = createHash('sha1').update(`${key}${WS_GUID}`).digest('base64');
      socket.write(
        `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`,
      );
      const connection = new Connection(socket, (text) => this.received(text));
      this.connections.push(connection);
      connection.sendText(
        JSON.stringify({
          type: 'hello',
          num_connections: this.connections.filter((c) => !c.closed).length,
          debug_info: { host: 'applink-fake', build_number: 1, approximate_connection_time: 18_060 },
          connection_info: { app_id: this.appId },
        }),
      );
      this.notify();
    });
    this.baseUrl = (await listenLocally(server)).replace(/^http:/, 'ws:');
    this.server = server;
    return this;
  }

  /** The WebSocket URL `apps.connections.open` hands out. */
  get url(): string {
    if (this.baseUrl === undefined) throw new Error('SocketModeFake: call start() before reading url');
    return `${this.baseUrl}/link/?ticket=${randomUUID()}&app_id=${this.appId}`;
  }

  /** How many apps are connected now. */
  get connected(): number {
    return this.connections.filter((c) => !c.closed).length;
  }

  /** Resolves once an app is connected (it has been sent `hello`). */
  waitForConnection(timeoutMs: number): Promise<void> {
    return this.waitUntil(() => this.connected > 0, timeoutMs, 'the app to connect');
  }

  /**
   * Sends an envelope to the connected app and resolves to its ack. Slack expects the ack within
   * 3 s; `timeoutMs` is how long this waits for it.
   */
  async deliver(type: EnvelopeType, payload: unknown, timeoutMs = 3_000): Promise<SocketModeAck> {
    const connection = this.connections.find((c) => !c.closed);
    if (connection === undefined) throw new Error('SocketModeFake: no app is connected');
    const envelopeId = randomUUID();
    connection.sendText(
      JSON.stringify({
        envelope_id: envelopeId,
        type,
        payload,
        accepts_response_payload: type !== 'events_api',
        ...(type === 'events_api' ? { retry_attempt: 0, retry_reason: '' } : {}),
      }),
    );
    let ack: SocketModeAck | undefined;
    await this.waitUntil(
      () => {
        ack = this.acks.find((a) => a.envelope_id === envelopeId);
        return ack !== undefined;
      },
      timeoutMs,
      `the ack of a ${type} envelope`,
    );
    return ack!;
  }

  async close(): Promise<void> {
    for (const connection of this.connections) connection.close();
    const server = this.server;
    this.server = undefined;
    if (server !== undefined) await closeNow(server);
  }

  private received(text: string): void {
    let message: unknown;
    try {
      message = JSON.parse(text);
    } catch {
      this.unexpected.push(text);
      return;
    }
    if (isRecord(message) && typeof message.envelope_id === 'string') {
      this.acks.push({
        envelope_id: message.envelope_id,
        ...('payload' in message ? { payload: message.payload } : {}),
      });
    } else {
      this.unexpected.push(text);
    }
    this.notify();
  }

  private notify(): void {
    for (const waiter of this.waiters.splice(0)) waiter();
  }

  private async waitUntil(done: () => boolean, timeoutMs: number, what: string): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!done()) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`SocketModeFake: timed out waiting for ${what}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 100));
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }
}

export function startSocketModeFake(appId?: string): Promise<SocketModeFake> {
  return new SocketModeFake(appId).start();
}
