import type { IncomingMessage } from 'node:http';
import { BlockList, isIPv4, isIPv6 } from 'node:net';

/**
 * The client's address. X-Forwarded-For is honoured only when the direct peer is a trusted proxy,
 * walking the list from the right so a client cannot forge its way past the proxy.
 * `trustedProxies` holds addresses and CIDR ranges, IPv4 or IPv6 (checked at start by the config).
 */
export function clientIp(req: IncomingMessage, trustedProxies: readonly string[]): string {
  const trusted = proxyMatcher(trustedProxies);
  const peer = normalizeIp(req.socket.remoteAddress ?? '');
  if (!trusted(peer)) return peer;
  const forwarded = String(req.headers['x-forwarded-for'] ?? '')
    .split(',')
    .map((part) => normalizeIp(part.trim()))
    .filter(Boolean);
  for (let i = forwarded.length - 1; i >= 0; i--) {
    const hop = forwarded[i]!;
    if (!trusted(hop)) return hop;
  }
  return forwarded[0] ?? peer;
}

/** Whether the original request was HTTPS, as told by a trusted proxy or by the socket itself. */
export function isHttps(req: IncomingMessage, trustedProxies: readonly string[]): boolean {
  if ('encrypted' in req.socket && req.socket.encrypted) return true;
  const peer = normalizeIp(req.socket.remoteAddress ?? '');
  return (
    proxyMatcher(trustedProxies)(peer) &&
    String(req.headers['x-forwarded-proto'] ?? '').split(',')[0] === 'https'
  );
}

/** An address (`10.0.0.5`, `2001:db8::1`) or a CIDR range (`10.0.0.0/8`, `2001:db8::/32`). */
export function isAddressOrRange(entry: string): boolean {
  return parseRange(entry) !== undefined;
}

/**
 * The key a client address is counted under: an IPv4 address as it is, an IPv6 address by its
 * /64 (one customer's network: rotating within it is free, so it is one client), an IPv4-mapped
 * IPv6 address as the IPv4 address it carries.
 */
export function addressBucket(address: string): string {
  const ip = normalizeIp(address);
  if (!isIPv6(ip)) return ip;
  const groups = ipv6Groups(ip);
  if (groups === undefined) return ip;
  return `${groups
    .slice(0, 4)
    .map((group) => group.toString(16))
    .join(':')}::/64`;
}

/** `::ffff:192.0.2.1` (and its hex form `::ffff:c000:201`) is the IPv4 client 192.0.2.1. */
export function normalizeIp(address: string): string {
  const ip = address.trim().replace(/^\[(.*)\]$/, '$1');
  // No colon, no IPv6 (and no call to the long IPv6 pattern, on every request's addresses).
  if (!ip.includes(':') || !isIPv6(ip)) return ip;
  const groups = ipv6Groups(ip);
  if (groups === undefined) return ip;
  const mapped = groups.slice(0, 5).every((group) => group === 0) && groups[5] === 0xffff;
  if (!mapped) return ip;
  const [high = 0, low = 0] = groups.slice(6);
  return [high >> 8, high & 0xff, low >> 8, low & 0xff].join('.');
}

type Matcher = (address: string) => boolean;
/** Addresses whose proxy-or-not answer is remembered, per proxy list. */
const MATCHES_KEPT = 1024;
const matchers = new WeakMap<readonly string[], Matcher>();

/** A membership test for the proxy list, built once per list (the config's array lives as long as the process). */
function proxyMatcher(list: readonly string[]): Matcher {
  let matcher = matchers.get(list);
  if (matcher === undefined) {
    const blocks = new BlockList();
    // IPv4 ranges as (network, mask) pairs: a client address is checked against them with integer
    // arithmetic, where a BlockList check builds a SocketAddress for every client.
    const v4: { network: number; mask: number }[] = [];
    for (const entry of list) {
      const range = parseRange(entry);
      if (range === undefined) continue;
      blocks.addSubnet(range.address, range.prefix, range.family);
      if (range.family === 'ipv4') {
        const mask = range.prefix === 0 ? 0 : (0xffff_ffff << (32 - range.prefix)) >>> 0;
        v4.push({ network: ((ipv4Number(range.address) ?? 0) & mask) >>> 0, mask });
      }
    }
    const check = (address: string) => {
      const number = ipv4Number(address);
      if (number !== undefined) return v4.some((range) => (number & range.mask) >>> 0 === range.network);
      return isIPv6(address) && blocks.check(address, 'ipv6');
    };
    // The addresses asked about are mostly the few proxies in front, asked on every request, and a
    // BlockList check builds a SocketAddress each time: remember recent answers.
    const known = new Map<string, boolean>();
    matcher = (address) => {
      let answer = known.get(address);
      if (answer === undefined) {
        answer = check(address);
        if (known.size >= MATCHES_KEPT) known.clear();
        known.set(address, answer);
      }
      return answer;
    };
    matchers.set(list, matcher);
  }
  return matcher;
}

function parseRange(entry: string): { address: string; prefix: number; family: 'ipv4' | 'ipv6' } | undefined {
  const [rawAddress = '', prefixText, extra] = entry.trim().split('/');
  if (extra !== undefined) return undefined;
  const address = normalizeIp(rawAddress);
  const family = isIPv4(address) ? 'ipv4' : isIPv6(address) ? 'ipv6' : undefined;
  if (family === undefined) return undefined;
  const max = family === 'ipv4' ? 32 : 128;
  if (prefixText === undefined) return { address, prefix: max, family };
  if (!/^\d{1,3}$/.test(prefixText) || Number(prefixText) > max) return undefined;
  // A mapped IPv4 range written in IPv6 form (::ffff:10.0.0.0/104) keeps its IPv4 length.
  const prefix = family === 'ipv4' && isIPv6(rawAddress) ? Number(prefixText) - 96 : Number(prefixText);
  return prefix < 0 ? undefined : { address, prefix, family };
}

/** A dotted-quad IPv4 address as an unsigned 32-bit number; undefined when it is not one. */
function ipv4Number(address: string): number | undefined {
  if (!isIPv4(address)) return undefined;
  let number = 0;
  for (const part of address.split('.')) number = number * 256 + Number(part);
  return number;
}

/** The eight 16-bit groups of an IPv6 address (zone id dropped), or undefined when it is not one. */
function ipv6Groups(address: string): number[] | undefined {
  const ip = address.split('%')[0] ?? '';
  if (!isIPv6(ip)) return undefined;
  const toGroups = (part: string): number[] => {
    if (part === '') return [];
    const out: number[] = [];
    for (const piece of part.split(':')) {
      if (piece.includes('.')) {
        const [a = 0, b = 0, c = 0, d = 0] = piece.split('.').map(Number);
        out.push((a << 8) | b, (c << 8) | d);
      } else out.push(Number.parseInt(piece, 16));
    }
    return out;
  };
  const [head = '', tail] = ip.split('::');
  const left = toGroups(head);
  const right = tail === undefined ? [] : toGroups(tail);
  const fill = tail === undefined ? 0 : 8 - left.length - right.length;
  const groups = [...left, ...Array.from({ length: fill }, () => 0), ...right];
  return groups.length === 8 ? groups : undefined;
}
