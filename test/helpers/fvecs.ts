// Reads TEXMEX .fvecs files for tests: per vector an int32 LE dimension, then that many float32 LE.
// Test-only; the benchmark harness has its own loaders.
import { readFileSync } from 'node:fs';

/** Vectors of an .fvecs file as one row-major Float32Array, with their dim and count. */
export interface FvecsData {
  readonly dim: number;
  readonly count: number;
  readonly vectors: Float32Array;
}

/**
 * Reads the first `limit` vectors (all by default) of an .fvecs file.
 * @example
 * const { dim, vectors } = readFvecs('test/fixtures/siftsmall/base.fvecs');
 */
export function readFvecs(path: string, limit = Number.POSITIVE_INFINITY): FvecsData {
  const bytes = readFileSync(path);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < 4) throw new Error(`${path}: too short for an .fvecs file`);
  const dim = view.getInt32(0, true);
  const recordBytes = 4 + 4 * dim;
  if (dim < 1 || bytes.length % recordBytes !== 0) throw new Error(`${path}: not whole records of dim ${dim}`);
  const count = Math.min(limit, bytes.length / recordBytes);
  const vectors = new Float32Array(count * dim);
  for (let row = 0; row < count; row++) {
    const start = row * recordBytes;
    if (view.getInt32(start, true) !== dim) throw new Error(`${path}: record ${row} does not have dim ${dim}`);
    for (let axis = 0; axis < dim; axis++) vectors[row * dim + axis] = view.getFloat32(start + 4 + 4 * axis, true);
  }
  return { dim, count, vectors };
}
