// CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320, as in zlib and PNG) over bytes: the one CRC-32
// of the project (codebooks, IVF-PQ codes, snapshot files, record checksums). Imports nothing.
// Slicing-by-8: eight 256-entry tables let the loop take eight bytes per step, several times faster
// than the byte-at-a-time loop (which handles the tail) and fast enough for record checksums on ingest.

const TABLES = (() => {
  const tables = new Uint32Array(256 * 8);
  for (let byte = 0; byte < 256; byte++) {
    let value = byte;
    for (let bit = 0; bit < 8; bit++) value = value & 1 ? 0xedb88320 ^ (value >>> 1) : value >>> 1;
    tables[byte] = value >>> 0;
  }
  for (let byte = 0; byte < 256; byte++) {
    let value = tables[byte]!;
    for (let slice = 1; slice < 8; slice++) {
      value = tables[value & 0xff]! ^ (value >>> 8);
      tables[slice * 256 + byte] = value >>> 0;
    }
  }
  return tables;
})();

/**
 * The CRC-32 of `bytes`, as an unsigned 32-bit number (crc32 of "123456789" is 0xCBF43926). Pass the
 * CRC of the bytes before as `previous` to continue it: crc32(b, crc32(a)) is the CRC of a then b.
 * @example
 * const checksum = crc32(new TextEncoder().encode('123456789'));
 */
export function crc32(bytes: Uint8Array, previous = 0): number {
  const t = TABLES;
  let crc = ~previous >>> 0;
  let index = 0;
  const length = bytes.length;
  const whole = length - (length % 8);
  for (; index < whole; index += 8) {
    const low =
      (crc ^ (bytes[index]! | (bytes[index + 1]! << 8) | (bytes[index + 2]! << 16) | (bytes[index + 3]! << 24))) >>> 0;
    crc =
      t[1792 + (low & 0xff)]! ^
      t[1536 + ((low >>> 8) & 0xff)]! ^
      t[1280 + ((low >>> 16) & 0xff)]! ^
      t[1024 + (low >>> 24)]! ^
      t[768 + bytes[index + 4]!]! ^
      t[512 + bytes[index + 5]!]! ^
      t[256 + bytes[index + 6]!]! ^
      t[bytes[index + 7]!]!;
  }
  for (; index < length; index++) crc = t[(crc ^ bytes[index]!) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}
