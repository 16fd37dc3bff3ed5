// Small vector helpers shared by the exact paths: normalisation and raw distances in
// hnswlib's conventions (l2 squared, ip and cosine as 1 - dot).
import type { Metric } from '../metric.js';

/** Euclidean norm, accumulated in float64. */
export function norm(vector: Float32Array): number {
  let sum = 0;
  for (let i = 0; i < vector.length; i++) sum += vector[i]! * vector[i]!;
  return Math.sqrt(sum);
}

/** A unit-length copy of `vector` (the zero vector stays zero). */
export function normalized(vector: Float32Array): Float32Array {
  const length = norm(vector);
  const out = new Float32Array(vector.length);
  if (length === 0) return out;
  for (let i = 0; i < vector.length; i++) out[i] = vector[i]! / length;
  return out;
}

/** Each `dim`-wide row of `rows` normalised as {@link normalized} does (a copy). */
export function normalizedRows(rows: Float32Array, dim: number): Float32Array {
  const out = new Float32Array(rows.length);
  for (let offset = 0; offset < rows.length; offset += dim) {
    out.set(normalized(rows.subarray(offset, offset + dim)), offset);
  }
  return out;
}

/** Raw distance between `a` and row `row` of `matrix` (rows of `a.length` numbers). */
export function rawDistance(metric: Metric, a: Float32Array, matrix: Float32Array, row: number): number {
  const dim = a.length;
  const offset = row * dim;
  let sum = 0;
  if (metric === 'l2') {
    for (let i = 0; i < dim; i++) {
      const difference = a[i]! - matrix[offset + i]!;
      sum += difference * difference;
    }
    return sum;
  }
  for (let i = 0; i < dim; i++) sum += a[i]! * matrix[offset + i]!;
  return 1 - sum;
}
