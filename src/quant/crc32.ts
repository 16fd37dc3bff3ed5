// CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320, as in zlib and PNG) over bytes, table-driven.
// Used by the codebook format's checksum. Imports nothing.

const TABLE = (() => {
  const table = new Uint32Array(256);
  for (let byte = 0; byte < 256; byte++) {
    let value = byte;
    for (let bit = 0; bit < 8; bit++) value = value & 1 ? 0xedb88320 ^ (value >>> 1) : value >>> 1;
    table[byte] = value >>> 0;
  }
  return table;
})();

/**
 * The CRC-32 of `bytes`, as an unsigned 32-bit number (crc32 of "123456789" is 0xCBF43926).
 * @example
 * const checksum = crc32(new TextEncoder().encode('123456789'));
 */
export function crc32(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (let index = 0; index < bytes.length; index++) crc = TABLE[(crc ^ bytes[index]!) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}
