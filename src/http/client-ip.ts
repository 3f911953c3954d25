import type { IncomingMessage } from 'node:http';

/**
 * The client's address. X-Forwarded-For is honoured only when the direct peer is a trusted proxy,
 * walking the list from the right so a client cannot forge its way past the proxy.
 */
export function clientIp(req: IncomingMessage, trustedProxies: readonly string[]): string {
  const peer = normalize(req.socket.remoteAddress ?? '');
  if (!trustedProxies.includes(peer)) return peer;
  const forwarded = String(req.headers['x-forwarded-for'] ?? '')
    .split(',')
    .map((part) => normalize(part.trim()))
    .filter(Boolean);
  for (let i = forwarded.length - 1; i >= 0; i--) {
    const hop = forwarded[i]!;
    if (!trustedProxies.includes(hop)) return hop;
  }
  return forwarded[0] ?? peer;
}

/** Whether the original request was HTTPS, as told by a trusted proxy or by the socket itself. */
export function isHttps(req: IncomingMessage, trustedProxies: readonly string[]): boolean {
  if ('encrypted' in req.socket && req.socket.encrypted) return true;
  const peer = normalize(req.socket.remoteAddress ?? '');
  return (
    trustedProxies.includes(peer) && String(req.headers['x-forwarded-proto'] ?? '').split(',')[0] === 'https'
  );
}

function normalize(address: string): string {
  return address.startsWith('::ffff:') ? address.slice(7) : address;
}
