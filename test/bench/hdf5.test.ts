// Tests for bench/datasets/hdf5.ts with tiny ann-benchmarks-style files written here by h5wasm.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import h5wasm from 'h5wasm/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readAnnBenchmarksHdf5 } from '../../bench/datasets/hdf5.js';
import { loadDataset } from '../../bench/datasets/load.js';
import { QuiverError } from '../../src/errors.js';

const folder = mkdtempSync(join(tmpdir(), 'quiverdb-hdf5-test-'));
afterAll(() => rmSync(folder, { recursive: true, force: true }));

// 6 train vectors and 2 test vectors in 3 dims; neighbours by L2, nearest first.
const train = new Float32Array([0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 5, 5, 5, -1, -1, -1]);
const test = new Float32Array([0.9, 0, 0, 0, 0, 2.9]);
const neighbors = new Int32Array([1, 0, 5, 3, 0, 2]);

beforeAll(async () => {
  await h5wasm.ready;
  const file = new h5wasm.File(join(folder, 'tiny-euclidean.hdf5'), 'w');
  file.create_dataset({ name: 'train', data: train, shape: [6, 3], dtype: '<f' });
  file.create_dataset({ name: 'test', data: test, shape: [2, 3], dtype: '<f' });
  file.create_dataset({ name: 'neighbors', data: neighbors, shape: [2, 3], dtype: '<i' });
  file.create_dataset({
    name: 'distances',
    data: new Float32Array([0.1, 0.9, 1.9, 0.1, 2.9, 2.9]),
    shape: [2, 3],
    dtype: '<f',
  });
  file.create_attribute('distance', 'euclidean');
  file.close();

  // float64 vectors, int64 neighbours and the angular metric, as some ann-benchmarks files have.
  const angular = new h5wasm.File(join(folder, 'tiny-angular.hdf5'), 'w');
  angular.create_dataset({ name: 'train', data: Float64Array.from(train), shape: [6, 3], dtype: '<d' });
  angular.create_dataset({ name: 'test', data: Float64Array.from(test), shape: [2, 3], dtype: '<d' });
  angular.create_dataset({
    name: 'neighbors',
    data: BigInt64Array.from([1n, 0n, 5n, 3n, 0n, 2n]),
    shape: [2, 3],
    dtype: '<q',
  });
  angular.create_attribute('distance', 'angular');
  angular.close();

  const noTest = new h5wasm.File(join(folder, 'no-test.hdf5'), 'w');
  noTest.create_dataset({ name: 'train', data: train, shape: [6, 3], dtype: '<f' });
  noTest.close();
  writeFileSync(join(folder, 'not-hdf5.hdf5'), 'this is not an HDF5 file');
});

describe('readAnnBenchmarksHdf5', () => {
  it('reads train, test, neighbors, distances and the metric', async () => {
    const data = await readAnnBenchmarksHdf5(join(folder, 'tiny-euclidean.hdf5'));
    expect(data.metric).toBe('l2');
    expect(data.distanceName).toBe('euclidean');
    expect([data.train.count, data.train.dim, data.trainCount]).toEqual([6, 3, 6]);
    expect(data.train.data).toEqual(train);
    expect(data.test.data).toEqual(test);
    expect(data.neighbors?.data).toEqual(neighbors);
    expect(data.distances?.dim).toBe(3);
  });

  it('converts float64 and int64 and maps angular to cosine', async () => {
    const data = await readAnnBenchmarksHdf5(join(folder, 'tiny-angular.hdf5'));
    expect(data.metric).toBe('cosine');
    expect(data.train.data).toBeInstanceOf(Float32Array);
    expect(data.train.data).toEqual(train);
    expect(data.neighbors?.data).toEqual(neighbors);
  });

  it('keeps the first train rows with limit', async () => {
    const data = await readAnnBenchmarksHdf5(join(folder, 'tiny-euclidean.hdf5'), { limit: 2 });
    expect(data.train.count).toBe(2);
    expect(data.trainCount).toBe(6);
    expect(data.train.data).toEqual(train.subarray(0, 6));
  });

  it('gives clear errors for a non-HDF5 file, a missing dataset and a missing file', async () => {
    await expect(readAnnBenchmarksHdf5(join(folder, 'not-hdf5.hdf5'))).rejects.toMatchObject({
      code: 'CORRUPT',
      message: expect.stringMatching(/not-hdf5\.hdf5 is not a readable HDF5 file/),
    });
    await expect(readAnnBenchmarksHdf5(join(folder, 'no-test.hdf5'))).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: expect.stringMatching(/no-test\.hdf5 has no dataset 'test'/),
    });
    await expect(readAnnBenchmarksHdf5(join(folder, 'absent.hdf5'))).rejects.toBeInstanceOf(QuiverError);
  });
});

describe('loadDataset on an HDF5 file', () => {
  it('uses the file ground truth when deep enough and recomputes it otherwise', async () => {
    const cacheDir = join(folder, 'cache');
    const fromFile = await loadDataset(join(folder, 'tiny-euclidean.hdf5'), { k: 3, cacheDir });
    expect(fromFile.groundTruthSource).toBe('tiny-euclidean.hdf5:neighbors');
    expect(fromFile.groundTruth).toEqual(neighbors);
    expect(fromFile.name).toBe('tiny-euclidean');
    const limited = await loadDataset(join(folder, 'tiny-euclidean.hdf5'), { k: 3, limit: 4, cacheDir });
    expect(limited.baseCount).toBe(4);
    expect(limited.groundTruthSource).toMatch(/computed/);
    // Hand-checked squared distances over the first 4 train rows: q0 → 0.01, 0.81, 4.81 (ids 1, 0, 2);
    // q1 (0, 0, 2.9) → 0.01, 8.41, 9.41 (ids 3, 0, 1).
    expect(Array.from(limited.groundTruth)).toEqual([1, 0, 2, 3, 0, 1]);
  });
});
