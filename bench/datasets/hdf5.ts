// Reader for ann-benchmarks HDF5 files through h5wasm (its Node build reads the host file system).
// Imports h5wasm (on demand: it is an optional development dependency) and the error type only. Layout: datasets `train` (n × dim), `test` (q × dim),
// optional `neighbors` (q × k ids) and `distances` (q × k); root attribute `distance` names the metric.

import { closeSync, existsSync, openSync, readSync } from 'node:fs';
import { resolve } from 'node:path';
import type { File as Hdf5File } from 'h5wasm/node';
import { QuiverError } from '../../src/errors.js';
import { type IdSet, type Metric, parseMetric, type VectorSet } from './dataset.js';

/** The contents of an ann-benchmarks file. */
export interface AnnBenchmarksData {
  metric: Metric;
  /** The `distance` attribute as written (e.g. 'euclidean', 'angular'). */
  distanceName: string;
  /** Only the first `limit` train rows when a limit was given. */
  train: VectorSet;
  /** Train rows in the file. */
  trainCount: number;
  test: VectorSet;
  neighbors?: IdSet;
  /** Distances beside `neighbors`, in the file's units (Euclidean, not squared, for l2). */
  distances?: VectorSet;
}

type H5wasm = typeof import('h5wasm/node')['default'];

/**
 * h5wasm, loaded when the first HDF5 file is read: it weighs 15 MB, so it is a development
 * dependency that `npm install --omit=dev` (or a trimmed checkout) may lack.
 * @throws INVALID_ARGUMENT saying how to install it when it is not installed
 */
async function loadH5wasm(path: string): Promise<H5wasm> {
  try {
    return (await import('h5wasm/node')).default;
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (code !== 'ERR_MODULE_NOT_FOUND' && code !== 'MODULE_NOT_FOUND') throw error;
    throw new QuiverError(
      'INVALID_ARGUMENT',
      `reading the HDF5 file ${path} needs the h5wasm package, which is not installed; ` +
        'run `npm install --no-save h5wasm` in the QuiverDB checkout (or `npm install` without --omit=dev), then run the benchmark again',
      { cause: error },
    );
  }
}

/** Rows read per h5wasm slice, so a large `train` never needs a second full copy inside the wasm heap. */
const ROWS_PER_SLICE = 16_384;

type Numeric = ArrayLike<number> | BigInt64Array | BigUint64Array;

function isNumericArray(value: unknown): value is Numeric {
  return ArrayBuffer.isView(value) && !(value instanceof DataView);
}

function copyInto(target: Float32Array | Int32Array, offset: number, source: Numeric): void {
  if (source instanceof BigInt64Array || source instanceof BigUint64Array) {
    for (let index = 0; index < source.length; index++) target[offset + index] = Number(source[index]!);
  } else {
    target.set(source, offset);
  }
}

/** Reads a 2-d numeric dataset row block by row block into a flat typed array. */
function readMatrix<T extends Float32Array | Int32Array>(
  h5wasm: H5wasm,
  file: Hdf5File,
  path: string,
  name: string,
  make: (length: number) => T,
  limit?: number,
): { count: number; dim: number; data: T; rowsInFile: number } {
  const entity = file.get(name);
  if (!(entity instanceof h5wasm.Dataset)) {
    throw new QuiverError(
      'INVALID_ARGUMENT',
      `${path} has no dataset '${name}'; an ann-benchmarks file needs train and test`,
    );
  }
  const shape = entity.shape;
  if (shape?.length !== 2 || shape[0]! < 0 || shape[1]! < 1) {
    throw new QuiverError(
      'CORRUPT',
      `${path}: dataset '${name}' has shape ${JSON.stringify(shape)}; expected two dimensions (rows × dim)`,
    );
  }
  const dim = shape[1]!;
  const count = Math.min(shape[0]!, limit ?? Number.POSITIVE_INFINITY);
  const data = make(count * dim);
  for (let start = 0; start < count; start += ROWS_PER_SLICE) {
    const end = Math.min(count, start + ROWS_PER_SLICE);
    const block = entity.slice([[start, end], []]);
    if (!isNumericArray(block)) {
      throw new QuiverError('CORRUPT', `${path}: dataset '${name}' has type ${String(entity.dtype)}, not numbers`);
    }
    copyInto(data, start * dim, block);
  }
  return { count, dim, data, rowsInFile: shape[0]! };
}

/** The HDF5 format signature; it sits at byte 0 or at 512, 1024, 2048… after a user block. */
const SIGNATURE = Buffer.from([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]);

/** True when the file carries the HDF5 signature (checked here so libhdf5 never prints diagnostics for it). */
function hasHdf5Signature(path: string): boolean {
  const descriptor = openSync(path, 'r');
  try {
    const buffer = Buffer.alloc(SIGNATURE.length);
    for (let offset = 0; offset <= 1 << 20; offset = offset === 0 ? 512 : offset * 2) {
      if (readSync(descriptor, buffer, 0, buffer.length, offset) < buffer.length) return false;
      if (buffer.equals(SIGNATURE)) return true;
    }
    return false;
  } finally {
    closeSync(descriptor);
  }
}

/**
 * Reads an ann-benchmarks HDF5 file. `limit` keeps only the first `limit` train vectors (the
 * file's neighbours then no longer apply; the caller must recompute them).
 * @throws INVALID_ARGUMENT when the file is missing or lacks train/test; CORRUPT when it is not HDF5 or has odd shapes
 */
export async function readAnnBenchmarksHdf5(
  path: string,
  options: { limit?: number } = {},
): Promise<AnnBenchmarksData> {
  const absolute = resolve(path);
  if (!existsSync(absolute)) throw new QuiverError('INVALID_ARGUMENT', `cannot read ${path}: no such file`);
  if (!hasHdf5Signature(absolute)) {
    throw new QuiverError('CORRUPT', `${path} is not a readable HDF5 file (no HDF5 signature)`);
  }
  const h5wasm = await loadH5wasm(path);
  await h5wasm.ready;
  let file: Hdf5File;
  try {
    file = new h5wasm.File(absolute, 'r');
  } catch (error) {
    throw new QuiverError('CORRUPT', `${path} is not a readable HDF5 file (${(error as Error).message})`, {
      cause: error,
    });
  }
  try {
    const attribute = file.attrs['distance']?.value;
    const distanceName = typeof attribute === 'string' ? attribute : 'euclidean';
    const metric = parseMetric(distanceName, path);
    const train = readMatrix(h5wasm, file, path, 'train', (length) => new Float32Array(length), options.limit);
    const test = readMatrix(h5wasm, file, path, 'test', (length) => new Float32Array(length));
    if (train.dim !== test.dim) {
      throw new QuiverError('CORRUPT', `${path}: train has dim ${train.dim} but test has dim ${test.dim}`);
    }
    const result: AnnBenchmarksData = {
      metric,
      distanceName,
      train: { count: train.count, dim: train.dim, data: train.data },
      trainCount: train.rowsInFile,
      test: { count: test.count, dim: test.dim, data: test.data },
    };
    const names = file.keys();
    if (names.includes('neighbors')) {
      result.neighbors = readMatrix(h5wasm, file, path, 'neighbors', (length) => new Int32Array(length));
      if (result.neighbors.count !== test.count) {
        throw new QuiverError(
          'CORRUPT',
          `${path}: neighbors has ${result.neighbors.count} rows for ${test.count} tests`,
        );
      }
    }
    if (names.includes('distances')) {
      result.distances = readMatrix(h5wasm, file, path, 'distances', (length) => new Float32Array(length));
    }
    return result;
  } catch (error) {
    if (error instanceof QuiverError) throw error;
    throw new QuiverError('CORRUPT', `${path}: reading the HDF5 file failed (${(error as Error).message})`, {
      cause: error,
    });
  } finally {
    file.close();
  }
}
