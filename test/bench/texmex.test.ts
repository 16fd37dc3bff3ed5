// Tests for bench/datasets/texmex.ts: the siftsmall fixture's known shapes and values, round trips
// through the writers, and the clear errors malformed files must give.

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  readBvecs,
  readFvecs,
  readIvecs,
  readVectors,
  writeBvecs,
  writeFvecs,
  writeIvecs,
} from '../../bench/datasets/texmex.js';
import { QuiverError } from '../../src/errors.js';

const fixture = join(import.meta.dirname, '..', 'fixtures', 'siftsmall');
const folder = mkdtempSync(join(tmpdir(), 'quiverdb-texmex-test-'));
afterAll(() => rmSync(folder, { recursive: true, force: true }));

function expectQuiverError(action: () => unknown, code: string, pattern: RegExp): void {
  try {
    action();
  } catch (error) {
    expect(error).toBeInstanceOf(QuiverError);
    expect((error as QuiverError).code).toBe(code);
    expect((error as QuiverError).message).toMatch(pattern);
    return;
  }
  throw new Error('expected a QuiverError');
}

describe('the siftsmall fixture', () => {
  it('reads base.fvecs with its known shape and values', () => {
    const base = readFvecs(join(fixture, 'base.fvecs'));
    expect(base.count).toBe(10_000);
    expect(base.dim).toBe(128);
    expect(base.data.length).toBe(10_000 * 128);
    expect(Array.from(base.data.subarray(0, 8))).toEqual([0, 16, 35, 5, 32, 31, 14, 10]);
    expect(Array.from(base.data.subarray(9999 * 128, 9999 * 128 + 4))).toEqual([14, 2, 0, 0]);
  });

  it('reads query.fvecs and groundtruth.ivecs', () => {
    const queries = readVectors(join(fixture, 'query.fvecs'));
    expect([queries.count, queries.dim]).toEqual([100, 128]);
    expect(Array.from(queries.data.subarray(0, 6))).toEqual([1, 3, 11, 110, 62, 22]);
    const truth = readIvecs(join(fixture, 'groundtruth.ivecs'));
    expect([truth.count, truth.dim]).toEqual([100, 100]);
    expect(truth.data).toBeInstanceOf(Int32Array);
    expect(Array.from(truth.data.subarray(0, 10))).toEqual([2176, 3752, 882, 4009, 2837, 190, 3615, 816, 1045, 1884]);
  });

  it('keeps only the first records with limit', () => {
    const base = readFvecs(join(fixture, 'base.fvecs'), { limit: 3 });
    expect(base.count).toBe(3);
    expect(base.data.length).toBe(3 * 128);
    expect(base.data[1]).toBe(16);
  });
});

describe('writers and bvecs', () => {
  it('round-trips fvecs and ivecs', () => {
    const vectors = new Float32Array([1.5, -2, 3.25, 0, 1e-3, 7]);
    writeFvecs(join(folder, 'a.fvecs'), vectors, 3);
    const read = readFvecs(join(folder, 'a.fvecs'));
    expect([read.count, read.dim]).toEqual([2, 3]);
    expect(read.data).toEqual(vectors);
    const ids = new Int32Array([5, -1, 2147483647, 0]);
    writeIvecs(join(folder, 'a.ivecs'), ids, 2);
    expect(readIvecs(join(folder, 'a.ivecs')).data).toEqual(ids);
  });

  it('widens bvecs to float32', () => {
    writeBvecs(join(folder, 'b.bvecs'), new Uint8Array([0, 128, 255, 1, 2, 3, 4, 5]), 4);
    const read = readBvecs(join(folder, 'b.bvecs'));
    expect([read.count, read.dim]).toEqual([2, 4]);
    expect(read.data).toBeInstanceOf(Float32Array);
    expect(Array.from(read.data)).toEqual([0, 128, 255, 1, 2, 3, 4, 5]);
    expect(readVectors(join(folder, 'b.bvecs'), { limit: 1 }).data).toEqual(new Float32Array([0, 128, 255, 1]));
  });

  it('rejects rows that do not divide into dim', () => {
    expectQuiverError(() => writeFvecs(join(folder, 'c.fvecs'), new Float32Array(5), 2), 'INVALID_ARGUMENT', /dim 2/);
  });
});

describe('malformed files', () => {
  it('names a truncated file and says it is truncated', () => {
    const path = join(folder, 'truncated.fvecs');
    writeFvecs(path, new Float32Array(8), 4);
    const bytes = readFileSync(path);
    writeFileSync(path, bytes.subarray(0, bytes.length - 3));
    expectQuiverError(() => readFvecs(path), 'CORRUPT', /truncated\.fvecs.*not a whole number of fvecs records/);
  });

  it('names the record whose dim differs', () => {
    const path = join(folder, 'ragged.ivecs');
    const bytes = Buffer.alloc(3 * 12);
    for (let record = 0; record < 3; record++) bytes.writeInt32LE(record === 2 ? 9 : 2, record * 12);
    writeFileSync(path, bytes);
    expectQuiverError(() => readIvecs(path), 'CORRUPT', /ragged\.ivecs: record 2 has dim 9, but record 0 has dim 2/);
  });

  it('rejects an absurd first dim, an empty file, a missing file and the wrong extension', () => {
    const absurd = join(folder, 'absurd.fvecs');
    writeFileSync(absurd, Buffer.from([0xff, 0xff, 0xff, 0x7f, 0, 0, 0, 0]));
    expectQuiverError(() => readFvecs(absurd), 'CORRUPT', /absurd\.fvecs: the first record claims dim/);
    const empty = join(folder, 'empty.bvecs');
    writeFileSync(empty, Buffer.alloc(0));
    expectQuiverError(() => readBvecs(empty), 'INVALID_ARGUMENT', /empty\.bvecs is empty/);
    expectQuiverError(
      () => readFvecs(join(folder, 'missing.fvecs')),
      'INVALID_ARGUMENT',
      /cannot read .*missing\.fvecs/,
    );
    expectQuiverError(() => readFvecs(join(fixture, 'groundtruth.ivecs')), 'INVALID_ARGUMENT', /\.ivecs file/);
    expectQuiverError(() => readVectors(join(fixture, 'README.md')), 'INVALID_ARGUMENT', /\.fvecs or \.bvecs/);
  });
});
