/**
 * Redis Cluster's key → slot mapping: CRC16-CCITT (XModem) of the key, or of its hash tag (the
 * text between the first `{` and the next `}`, when not empty), modulo 16384.
 */

const TABLE = (() => {
  const table = new Uint16Array(256);
  for (let byte = 0; byte < 256; byte++) {
    let crc = byte << 8;
    for (let bit = 0; bit < 8; bit++)
      crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
    table[byte] = crc;
  }
  return table;
})();

export function crc16(data: Buffer): number {
  let crc = 0;
  for (const byte of data) crc = ((crc << 8) & 0xffff) ^ TABLE[((crc >> 8) ^ byte) & 0xff]!;
  return crc;
}

/** The part of the key that is hashed: its hash tag when it has a non-empty one. */
export function hashedPart(key: string | Buffer): Buffer {
  const bytes = Buffer.isBuffer(key) ? key : Buffer.from(key, 'utf8');
  const open = bytes.indexOf('{');
  if (open === -1) return bytes;
  const close = bytes.indexOf('}', open + 1);
  if (close === -1 || close === open + 1) return bytes;
  return bytes.subarray(open + 1, close);
}

export function keySlot(key: string | Buffer): number {
  return crc16(hashedPart(key)) % 16384;
}

/** The distinct slots of `keys`; one entry means a cluster can run them together. */
export function slotsOf(keys: readonly (string | Buffer)[]): Set<number> {
  return new Set(keys.map(keySlot));
}
