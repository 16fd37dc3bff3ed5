// CRC-32 against the published check value and zlib's values for short inputs.
import { describe, expect, it } from 'vitest';
import { crc32 } from '../../src/quant/crc32.js';

describe('crc32', () => {
  it('matches the standard check values', () => {
    const text = (value: string) => new TextEncoder().encode(value);
    expect(crc32(text('123456789'))).toBe(0xcbf43926);
    expect(crc32(new Uint8Array(0))).toBe(0);
    expect(crc32(text('a'))).toBe(0xe8b7be43);
    expect(crc32(text('The quick brown fox jumps over the lazy dog'))).toBe(0x414fa339);
  });
});

/** The bit-at-a-time definition: the reference node:zlib's CRC-32 must equal. */
function bitwiseCrc32(bytes: Uint8Array, previous = 0): number {
  let crc = ~previous >>> 0;
  for (const byte of bytes) {
    crc ^= byte;
    for (let bit = 0; bit < 8; bit++) crc = crc & 1 ? 0xedb88320 ^ (crc >>> 1) : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

describe('crc32 (node:zlib) against the bitwise reference', () => {
  it('equals the bitwise definition at every length and alignment, and chains', () => {
    let seed = 12345;
    const next = () => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed >>> 24;
    };
    const data = Uint8Array.from({ length: 300 }, next);
    for (let start = 0; start < 9; start++) {
      for (let length = 0; length + start <= 300; length += 7) {
        const piece = data.subarray(start, start + length);
        expect(crc32(piece)).toBe(bitwiseCrc32(piece));
        const cut = Math.floor(length / 3);
        expect(crc32(piece.subarray(cut), crc32(piece.subarray(0, cut)))).toBe(bitwiseCrc32(piece));
      }
    }
  });
});
