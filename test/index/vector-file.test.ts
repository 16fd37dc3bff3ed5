// The float-vector file of an int8 snapshot (src/index/vector-file.ts): what is written reads back
// bit for bit through the addon's slot reader and through its TypeScript twin alike; empty slots,
// slots past the end and damaged slots are refused the same way by both; a damaged or foreign header
// is CORRUPT; bad reader arguments are INVALID_ARGUMENT.
import { closeSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { isQuiverError } from '../../src/errors.js';
import {
  slotBytes,
  VECTOR_FILE_HEADER_BYTES,
  VectorFile,
  type VectorFileShape,
  writeVectorFile,
} from '../../src/index/vector-file.js';
import { nativeKernels } from '../../src/native/kernels.js';
import { referenceKernels } from '../../src/native-reference.js';
import { crc32 } from '../../src/quant/crc32.js';
import { SeededRandom } from '../../src/quant/random.js';
import { tempDirectory } from '../helpers/fixtures.js';

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

const DIM = 37;
const shape: VectorFileShape = { dim: DIM, metric: 'l2', seq: 1234 };

/** A file of the live labels 0, 2, 3, 7 … (every label not divisible by 5 below 60, and 1 missing), its vectors. */
function written() {
  const directory = tempDirectory();
  cleanups.push(directory.cleanup);
  const path = join(directory.path, 'hnsw.1234.f32');
  const random = new SeededRandom(5);
  const live = Uint32Array.from({ length: 60 }, (_, label) => label).filter((label) => label % 5 !== 0);
  const vectors = new Map<number, Float32Array>();
  for (const label of live)
    vectors.set(
      label,
      Float32Array.from({ length: DIM }, () => random.nextFloat() * 2 - 1),
    );
  // Label 1 is live but its vector is not given: its slot stays empty.
  writeVectorFile(path, shape, live, (labels, out, ok) => {
    labels.forEach((label, row) => {
      if (label === 1) return;
      out.set(vectors.get(label)!, row * DIM);
      ok[row] = 1;
    });
  });
  return { path, live, vectors };
}

function readWith(path: string, reader: typeof nativeKernels.readVectorSlots, labels: Uint32Array) {
  const file = VectorFile.open(path, shape, reader);
  try {
    const out = new Float32Array(labels.length * DIM).fill(-9);
    const ok = new Uint8Array(labels.length).fill(7);
    const count = file.read(labels, out, ok);
    return { count, out, ok, slots: file.slots };
  } finally {
    file.close();
  }
}

describe('float-vector files', () => {
  it('read back what was written, natively and by the TypeScript twin alike; empty and absent slots are refused', () => {
    const { path, vectors } = written();
    expect(readFileSync(path).length).toBe(VECTOR_FILE_HEADER_BYTES + 60 * slotBytes(DIM));
    // Live, empty (1), not live (5, 10), the last slot (59), past the end (60, 1000), repeated (3).
    const labels = Uint32Array.of(3, 1, 5, 59, 60, 2, 1000, 10, 3);
    const native = readWith(path, nativeKernels.readVectorSlots, labels);
    const reference = readWith(path, referenceKernels.readVectorSlots, labels);
    expect(native).toEqual(reference);
    expect(native.slots).toBe(60);
    expect(Array.from(native.ok)).toEqual([1, 0, 0, 1, 0, 1, 0, 0, 1]);
    expect(native.count).toBe(4);
    labels.forEach((label, row) => {
      const got = native.out.subarray(row * DIM, (row + 1) * DIM);
      if (native.ok[row] === 1) expect(got).toEqual(vectors.get(label));
      else expect(Array.from(got)).toEqual(new Array(DIM).fill(-9)); // left as it was
    });
  });

  it('refuse a slot whose floats, label or checksum were damaged, both readers alike', () => {
    const { path } = written();
    const bytes = readFileSync(path);
    const slot = (label: number) => VECTOR_FILE_HEADER_BYTES + label * slotBytes(DIM);
    bytes[slot(7) + 4 + 3 * 4]! ^= 0x01; // a float of label 7
    bytes.writeUInt32LE(9, slot(8)); // label 8's slot names 9
    bytes[slot(9) + slotBytes(DIM) - 1]! ^= 0x80; // label 9's checksum
    writeFileSync(path, bytes);
    const labels = Uint32Array.of(6, 7, 8, 9, 11);
    const native = readWith(path, nativeKernels.readVectorSlots, labels);
    expect(native).toEqual(readWith(path, referenceKernels.readVectorSlots, labels));
    expect(Array.from(native.ok)).toEqual([1, 0, 0, 0, 1]);
  });

  it('are CORRUPT with a damaged header, another shape or snapshot, or the wrong length; IO_ERROR when missing', () => {
    const { path } = written();
    const good = readFileSync(path);
    const codeOf = (bytes: Buffer | undefined, expected = shape) => {
      if (bytes !== undefined) writeFileSync(path, bytes);
      try {
        VectorFile.open(path, expected).close();
        return 'opened';
      } catch (error) {
        expect(isQuiverError(error)).toBe(true);
        return (error as { code: string }).code;
      }
    };
    expect(codeOf(good)).toBe('opened');
    const flipped = Buffer.from(good);
    flipped[16]! ^= 1; // dim, under the header's CRC-32
    expect(codeOf(flipped)).toBe('CORRUPT');
    expect(codeOf(good, { ...shape, seq: 1235 })).toBe('CORRUPT');
    expect(codeOf(good, { ...shape, dim: DIM + 1 })).toBe('CORRUPT');
    expect(codeOf(good, { ...shape, metric: 'cosine' })).toBe('CORRUPT');
    expect(codeOf(good.subarray(0, good.length - 1))).toBe('CORRUPT');
    expect(codeOf(good.subarray(0, 10))).toBe('CORRUPT');
    expect(codeOf(good)).toBe('opened');
    // The format version (offset 8), with the header's CRC-32 made right: newer is FORMAT_TOO_NEW, 0 CORRUPT.
    const versioned = (version: number) => {
      const bytes = Buffer.from(good);
      bytes.writeUInt32LE(version, 8);
      bytes.writeUInt32LE(crc32(bytes.subarray(0, 60)), 60);
      return bytes;
    };
    expect(codeOf(versioned(2))).toBe('FORMAT_TOO_NEW');
    expect(codeOf(versioned(0))).toBe('CORRUPT');
    expect(codeOf(good)).toBe('opened');
    const missing = join(path, '..', 'hnsw.1.f32');
    expect(() => VectorFile.open(missing, shape)).toThrow(expect.objectContaining({ code: 'IO_ERROR' }));
    // A directory opens but cannot be read: IO_ERROR, not a raw EISDIR.
    expect(() => VectorFile.open(join(path, '..'), shape)).toThrow(expect.objectContaining({ code: 'IO_ERROR' }));
  });

  it('reject bad reader arguments with INVALID_ARGUMENT, natively and in the twin', () => {
    const { path } = written();
    const fd = openSync(path, 'r');
    try {
      const args = {
        fd,
        headerBytes: VECTOR_FILE_HEADER_BYTES,
        dim: DIM,
        labels: Uint32Array.of(2, 3),
        out: new Float32Array(2 * DIM),
        ok: new Uint8Array(2),
      };
      const shared = new Float32Array(2 * DIM + 2);
      for (const kernels of [nativeKernels, referenceKernels]) {
        expect(kernels.readVectorSlots(args)).toBe(2);
        for (const bad of [
          { ...args, fd: -1 },
          { ...args, headerBytes: 1.5 },
          { ...args, dim: 0 },
          { ...args, labels: [2, 3] as unknown as Uint32Array },
          { ...args, out: new Float32Array(DIM) },
          { ...args, ok: new Uint8Array(1) },
          { ...args, out: shared.subarray(0, 2 * DIM), ok: new Uint8Array(shared.buffer, 4 * 2 * DIM - 4, 2) },
        ]) {
          expect(() => kernels.readVectorSlots(bad)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
        }
      }
    } finally {
      closeSync(fd);
    }
  });
});
