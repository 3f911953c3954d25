/**
 * Which hop of X-Forwarded-For is the client: the trusted-proxy test on IPv4 addresses is integer
 * arithmetic of our own, so it is checked against Node's BlockList over generated addresses and
 * ranges (every prefix length, /0 and /32 included).
 */
import type { IncomingMessage } from 'node:http';
import { BlockList } from 'node:net';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { clientIp } from '../../../src/platform/http/client-ip.js';

const ipv4 = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((parts) => parts.join('.'));

/** A request from `peer` carrying `forwarded` in X-Forwarded-For. */
function request(peer: string, forwarded: string): IncomingMessage {
  const fake = { socket: { remoteAddress: peer }, headers: { 'x-forwarded-for': forwarded } };
  return fake as unknown as IncomingMessage;
}

describe('the client address behind trusted proxies', () => {
  it('trusts exactly the IPv4 addresses a BlockList of the same ranges holds', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(ipv4, fc.nat(32)), { minLength: 1, maxLength: 4 }),
        ipv4,
        ipv4,
        ipv4,
        (ranges, peer, hop, first) => {
          const list = ranges.map(([address, prefix]) => `${address}/${prefix}`);
          const blocks = new BlockList();
          for (const [address, prefix] of ranges) blocks.addSubnet(address, prefix, 'ipv4');
          const trusted = (address: string) => blocks.check(address, 'ipv4');
          // From the right: the peer, then the last hop; when every one is trusted, the first.
          const expected = !trusted(peer) ? peer : !trusted(hop) ? hop : first;
          expect(clientIp(request(peer, `${first}, ${hop}`), list)).toBe(expected);
        },
      ),
      { numRuns: 2_000 },
    );
  });

  it('walks past trusted hops from the right, and never past an untrusted one', () => {
    const proxies = ['10.0.0.0/8', '192.0.2.7'];
    expect(clientIp(request('10.1.2.3', '203.0.113.5, 192.0.2.7'), proxies)).toBe('203.0.113.5');
    expect(clientIp(request('10.1.2.3', '198.51.100.1, 203.0.113.5, 10.9.9.9'), proxies)).toBe('203.0.113.5');
    expect(clientIp(request('192.0.2.8', '203.0.113.5'), proxies)).toBe('192.0.2.8');
    expect(clientIp(request('::ffff:10.0.0.1', '203.0.113.9'), proxies)).toBe('203.0.113.9');
    expect(clientIp(request('11.0.0.1', '203.0.113.9'), proxies)).toBe('11.0.0.1');
  });
});
