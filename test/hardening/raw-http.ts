/**
 * HTTP requests as raw bytes over a TCP socket (node:net), so that request lines and targets no
 * HTTP client would send (a bare `%`, an absolute-form URL, `*`, control bytes) really reach the
 * server. The answer is read as far as it goes: status, headers and body.
 */
import { connect } from 'node:net';

export interface RawAnswer {
  /** The status code; undefined when the server closed or went quiet without an answer. */
  status: number | undefined;
  /** Everything the server sent, as text. */
  text: string;
  body: string;
}

/** Sends `request` as it is and resolves with whatever came back before the server closed, or `quietMs` passed. */
export function sendRaw(port: number, request: string | Buffer, quietMs = 3_000): Promise<RawAnswer> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const socket = connect({ port, host: '127.0.0.1' });
    let settled = false;
    const finish = () => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(parseAnswer(Buffer.concat(chunks).toString('latin1')));
    };
    const timer = setTimeout(finish, quietMs);
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      if (complete(Buffer.concat(chunks).toString('latin1'))) finish();
    });
    socket.on('error', finish);
    socket.on('close', finish);
    socket.write(request);
  });
}

/** A request line, headers and body joined as HTTP/1.1 puts them on the wire. */
export function rawRequest(
  line: string,
  headers: readonly (readonly [string, string])[] = [],
  body = '',
): string {
  return `${line}\r\n${headers.map(([name, value]) => `${name}: ${value}\r\n`).join('')}\r\n${body}`;
}

/** Whether `text` holds one whole answer: its headers and as much body as Content-Length says. */
function complete(text: string): boolean {
  const end = text.indexOf('\r\n\r\n');
  if (end < 0) return false;
  const length = /\r\ncontent-length:\s*(\d+)/i.exec(text.slice(0, end))?.[1];
  if (length === undefined)
    return /\r\ntransfer-encoding:\s*chunked/i.test(text) && text.endsWith('0\r\n\r\n');
  return Buffer.byteLength(text.slice(end + 4), 'latin1') >= Number(length);
}

function parseAnswer(text: string): RawAnswer {
  const status = /^HTTP\/1\.[01] (\d{3})/.exec(text)?.[1];
  const end = text.indexOf('\r\n\r\n');
  return {
    status: status === undefined ? undefined : Number(status),
    text,
    body: end < 0 ? '' : text.slice(end + 4),
  };
}

/** What an answer must never show: stack frames, source paths, internal error names. */
export const LEAK =
  /\n\s+at |\/(?:src|node_modules|home|work|usr)\/|\.[cm]?[jt]s:\d+|\b(?:TypeError|RangeError|URIError|SyntaxError|ReferenceError)\b/;
