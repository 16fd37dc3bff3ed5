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
