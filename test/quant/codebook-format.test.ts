// The codebook file: round trips (with and without a calibration), every truncation, every
// single-bit flip, padding, inconsistent headers and impossible calibrations are refused as CORRUPT
// (a newer version as FORMAT_TOO_NEW), never misread; a version 1 file (test/fixtures/codebook-v1)
// still reads, without a calibration, and a version 2 file (test/fixtures/codebook-v2) with its
// calibration and a growth of 1.
import { describe, expect, it } from 'vitest';
import { isQuiverError } from '../../src/errors.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type CodebookCalibration, readCodebook, writeCodebook } from '../../src/quant/codebook-format.js';
import { crc32 } from '../../src/quant/crc32.js';
import { ProductQuantizer, trainProductQuantizer } from '../../src/quant/pq.js';
import { SeededRandom } from '../../src/quant/random.js';

function codeOf(call: () => unknown): string | undefined {
  try {
    call();
  } catch (error) {
    expect(isQuiverError(error), String(error)).toBe(true);
    return (error as { code: string }).code;
  }
  return undefined;
}

/** A small codebook: dim 5 in m 2 sub-spaces (widths 3 and 2), 3 centroids each, 2 coarse centroids. */
function smallCodebook() {
  const random = new SeededRandom(1);
  const pq = new ProductQuantizer(
    5,
    2,
    3,
    Float32Array.from({ length: 15 }, () => random.nextGaussian()),
  );
  const coarseCentroids = Float32Array.from({ length: 10 }, () => random.nextGaussian());
  return { pq, coarseCentroids };
}

const CALIBRATION: CodebookCalibration = {
  nprobe: 2,
  rerank: 40,
  targetRecall: 0.5,
  expectedRecall: 0.9625,
  base: 9784,
  queries: 200,
  growth: 0.625,
};

/** Rewrites a header field and fixes the checksum, so only the structural checks can object. */
function withField(bytes: Uint8Array, offset: number, value: number): Uint8Array {
  const copy = bytes.slice();
  const view = new DataView(copy.buffer);
  view.setUint32(offset, value, true);
  view.setUint32(copy.length - 4, crc32(copy.subarray(0, copy.length - 4)), true);
  return copy;
}

describe('codebook format', () => {
  it('round-trips a trained PQ with and without coarse centroids', () => {
    const random = new SeededRandom(2);
    const vectors = Float32Array.from({ length: 300 * 10 }, () => random.nextGaussian());
    const pq = trainProductQuantizer(vectors, 10, { m: 3, seed: 1, maxIterations: 5 });
    for (const coarseCentroids of [new Float32Array(0), vectors.subarray(0, 4 * 10)]) {
      const bytes = writeCodebook({ pq, coarseCentroids });
      expect(bytes.length).toBe(32 + 4 * pq.centroids.length + 4 * coarseCentroids.length + 28 + 4);
      const read = readCodebook(bytes);
      expect([read.pq.dim, read.pq.m, read.pq.centroidsPerSubspace]).toEqual([10, 3, 256]);
      expect(read.pq.offsets).toEqual(pq.offsets);
      expect(read.pq.centroids).toEqual(pq.centroids);
      expect(read.coarseCentroids).toEqual(Float32Array.from(coarseCentroids));
      expect(read.pq.encode(vectors)).toEqual(pq.encode(vectors));
      expect(read.calibration).toBeUndefined();
    }
  });

  it('round-trips a calibration', () => {
    const bytes = writeCodebook({ ...smallCodebook(), calibration: CALIBRATION });
    expect(readCodebook(bytes).calibration).toEqual({ ...CALIBRATION, expectedRecall: Math.fround(0.9625) });
  });

  it('refuses an impossible calibration as CORRUPT even when the checksum matches', () => {
    const bytes = writeCodebook({ ...smallCodebook(), calibration: CALIBRATION });
    const at = bytes.length - 32;
    expect(codeOf(() => readCodebook(withField(bytes, at, 3)))).toBe('CORRUPT'); // nprobe 3 of 2 lists
    expect(codeOf(() => readCodebook(withField(bytes, at + 4, 0)))).toBe('CORRUPT'); // rerank 0
    expect(codeOf(() => readCodebook(withField(bytes, at + 16, 0)))).toBe('CORRUPT'); // base 0
    const target = bytes.slice();
    new DataView(target.buffer).setFloat32(at + 8, 1.5, true);
    expect(codeOf(() => readCodebook(withField(target, at + 20, 200)))).toBe('CORRUPT'); // target 1.5
    const uncalibrated = writeCodebook(smallCodebook());
    expect(codeOf(() => readCodebook(withField(uncalibrated, at + 4, 7)))).toBe('CORRUPT'); // fields without nprobe
  });

  it('refuses to write an impossible calibration', () => {
    expect(codeOf(() => writeCodebook({ ...smallCodebook(), calibration: { ...CALIBRATION, targetRecall: 0 } }))).toBe(
      'INVALID_ARGUMENT',
    );
    expect(codeOf(() => writeCodebook({ ...smallCodebook(), calibration: { ...CALIBRATION, rerank: 2.5 } }))).toBe(
      'INVALID_ARGUMENT',
    );
  });

  it('reads the version 1 fixture (no calibration) as that version wrote it', () => {
    const directory = join(import.meta.dirname, '..', 'fixtures', 'codebook-v1');
    const bytes = new Uint8Array(readFileSync(join(directory, 'codebook.qvcb')));
    const expected = JSON.parse(readFileSync(join(directory, 'expected.json'), 'utf8')) as {
      dim: number;
      m: number;
      centroidsPerSubspace: number;
      centroids: number[];
      coarseCentroids: number[];
    };
    expect(bytes[4]).toBe(1);
    const read = readCodebook(bytes);
    expect([read.pq.dim, read.pq.m, read.pq.centroidsPerSubspace]).toEqual([
      expected.dim,
      expected.m,
      expected.centroidsPerSubspace,
    ]);
    expect([...read.pq.centroids]).toEqual(expected.centroids);
    expect([...read.coarseCentroids]).toEqual(expected.coarseCentroids);
    expect(read.calibration).toBeUndefined();
    // A version 3 file relabelled as version 1 has 28 bytes too many for version 1.
    expect(codeOf(() => readCodebook(withField(writeCodebook(smallCodebook()), 4, 1)))).toBe('CORRUPT');
  });

  it('reads the version 2 fixture (a calibration without growth) with growth 1', () => {
    const directory = join(import.meta.dirname, '..', 'fixtures', 'codebook-v2');
    const bytes = new Uint8Array(readFileSync(join(directory, 'codebook.qvcb')));
    const expected = JSON.parse(readFileSync(join(directory, 'expected.json'), 'utf8')) as {
      centroids: number[];
      coarseCentroids: number[];
      calibration: Omit<CodebookCalibration, 'growth'>;
    };
    expect(bytes[4]).toBe(2);
    const read = readCodebook(bytes);
    expect([...read.pq.centroids]).toEqual(expected.centroids);
    expect([...read.coarseCentroids]).toEqual(expected.coarseCentroids);
    expect(read.calibration).toEqual({ ...expected.calibration, growth: 1 });
    // A version 3 file relabelled as version 2 has 4 bytes too many for version 2.
    const calibrated = writeCodebook({ ...smallCodebook(), calibration: CALIBRATION });
    expect(codeOf(() => readCodebook(withField(calibrated, 4, 2)))).toBe('CORRUPT');
  });

  it('refuses a growth outside [0, 1] when writing and when reading', () => {
    for (const growth of [-0.5, 1.5, Number.NaN]) {
      expect(codeOf(() => writeCodebook({ ...smallCodebook(), calibration: { ...CALIBRATION, growth } }))).toBe(
        'INVALID_ARGUMENT',
      );
    }
    const bytes = writeCodebook({ ...smallCodebook(), calibration: CALIBRATION });
    const copy = bytes.slice();
    const view = new DataView(copy.buffer);
    view.setFloat32(copy.length - 8, 2, true);
    view.setUint32(copy.length - 4, crc32(copy.subarray(0, copy.length - 4)), true);
    expect(codeOf(() => readCodebook(copy))).toBe('CORRUPT');
    expect(readCodebook(bytes).calibration?.growth).toBe(CALIBRATION.growth);
  });

  it('reads a codebook that sits at an offset inside a larger buffer', () => {
    const bytes = writeCodebook(smallCodebook());
    const larger = new Uint8Array(bytes.length + 7);
    larger.set(bytes, 3);
    expect(readCodebook(larger.subarray(3, 3 + bytes.length)).pq.centroids).toEqual(smallCodebook().pq.centroids);
  });

  it('starts with the magic and version, little-endian', () => {
    const bytes = writeCodebook(smallCodebook());
    expect([...bytes.subarray(0, 8)]).toEqual([0x51, 0x56, 0x43, 0x42, 3, 0, 0, 0]);
    expect(bytes.length).toBe(32 + 4 * 15 + 4 * 10 + 28 + 4);
  });

  it('refuses every truncation and padding as CORRUPT', () => {
    const bytes = writeCodebook(smallCodebook());
    for (let length = 0; length < bytes.length; length++)
      expect(codeOf(() => readCodebook(bytes.subarray(0, length)))).toBe('CORRUPT');
    const padded = new Uint8Array(bytes.length + 1);
    padded.set(bytes);
    expect(codeOf(() => readCodebook(padded))).toBe('CORRUPT');
  });

  it('refuses every single-bit flip as CORRUPT', () => {
    const bytes = writeCodebook(smallCodebook());
    for (let bit = 0; bit < bytes.length * 8; bit++) {
      const flipped = bytes.slice();
      flipped[bit >> 3]! ^= 1 << (bit & 7);
      expect(
        codeOf(() => readCodebook(flipped)),
        `bit ${bit}`,
      ).toBe('CORRUPT');
    }
  });

  it('refuses inconsistent sizes even when the checksum matches', () => {
    const bytes = writeCodebook(smallCodebook());
    expect(codeOf(() => readCodebook(withField(bytes, 12, 6)))).toBe('CORRUPT'); // dim
    expect(codeOf(() => readCodebook(withField(bytes, 16, 6)))).toBe('CORRUPT'); // m > dim
    expect(codeOf(() => readCodebook(withField(bytes, 16, 0)))).toBe('CORRUPT'); // m = 0
    expect(codeOf(() => readCodebook(withField(bytes, 20, 257)))).toBe('CORRUPT'); // centroids per sub-space
    expect(codeOf(() => readCodebook(withField(bytes, 24, 3)))).toBe('CORRUPT'); // coarse count
    expect(codeOf(() => readCodebook(withField(bytes, 28, 1)))).toBe('CORRUPT'); // reserved
    expect(codeOf(() => readCodebook(withField(bytes, 4, 0)))).toBe('CORRUPT'); // version 0
    const notANumber = bytes.slice();
    new DataView(notANumber.buffer).setFloat32(32, Number.NaN, true);
    expect(codeOf(() => readCodebook(withField(notANumber, 28, 0)))).toBe('CORRUPT');
  });

  it('reports a newer format version as FORMAT_TOO_NEW', () => {
    expect(codeOf(() => readCodebook(withField(writeCodebook(smallCodebook()), 4, 4)))).toBe('FORMAT_TOO_NEW');
  });

  it('rejects coarse centroids of the wrong dim when writing', () => {
    const { pq } = smallCodebook();
    expect(codeOf(() => writeCodebook({ pq, coarseCentroids: new Float32Array(7) }))).toBe('INVALID_ARGUMENT');
  });
});
