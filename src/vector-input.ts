// The hand-written checks of a vector passed to the public API (a number[] or a Float32Array of
// finite numbers, of the collection's dim), one pass per vector so a 100k-record batch is checked
// fast. Used by schema.ts's callers and by text/ (embedding results). Imports only errors.ts and
// describe.ts.
import { describe } from './describe.js';
import { QuiverError } from './errors.js';

/**
 * Converts one vector to a Float32Array of length `dim`, rejecting wrong lengths and
 * non-finite numbers. `where` names the vector in messages ("vector 17", "query vector").
 * A Float32Array input is returned as is (never copied, never modified).
 */
export function toVector(input: unknown, dim: number, where: string, collection: string): Float32Array {
  let vector: Float32Array;
  if (input instanceof Float32Array) {
    vector = input;
  } else if (Array.isArray(input)) {
    vector = new Float32Array(input.length);
    for (let i = 0; i < input.length; i++) {
      const value: unknown = input[i];
      if (typeof value !== 'number') {
        throw new QuiverError(
          'INVALID_ARGUMENT',
          `${where}[${i}] is ${describe(value)}; a vector holds numbers only (number[] or Float32Array)`,
        );
      }
      vector[i] = value;
    }
  } else {
    throw new QuiverError('INVALID_ARGUMENT', `${where} is ${describe(input)}; pass a number[] or a Float32Array`);
  }
  if (vector.length !== dim) {
    throw new QuiverError(
      'DIMENSION_MISMATCH',
      `${where} has ${vector.length} numbers; collection '${collection}' has dim ${dim}`,
    );
  }
  for (let i = 0; i < vector.length; i++) {
    if (!Number.isFinite(vector[i])) {
      throw new QuiverError(
        'NOT_FINITE',
        `${where}[${i}] is ${vector[i]}; every number must be finite (check the embedding for NaN or overflow)`,
      );
    }
  }
  return vector;
}

/**
 * Validates one vector as {@link toVector} does (same checks, same messages) and copies it into
 * `target` at `offset`, so that a batch's vectors land in one array without a per-vector allocation.
 */
export function copyVector(
  input: unknown,
  target: Float32Array,
  offset: number,
  dim: number,
  where: string,
  collection: string,
): void {
  if (input instanceof Float32Array && input.length === dim) {
    target.set(input, offset);
  } else if (Array.isArray(input) && input.length === dim) {
    for (let i = 0; i < dim; i++) {
      const value: unknown = input[i];
      if (typeof value !== 'number') {
        throw new QuiverError(
          'INVALID_ARGUMENT',
          `${where}[${i}] is ${describe(value)}; a vector holds numbers only (number[] or Float32Array)`,
        );
      }
      target[offset + i] = value;
    }
  } else {
    // Anything else is an error; toVector reports it exactly as for a single vector.
    toVector(input, dim, where, collection);
    throw new QuiverError('INTERNAL', `${where} passed toVector but not copyVector`);
  }
  for (let i = 0; i < dim; i++) {
    const value = target[offset + i]!;
    if (value - value !== 0) {
      // NaN or ±Infinity (as float32: 1e39 becomes Infinity).
      throw new QuiverError(
        'NOT_FINITE',
        `${where}[${i}] is ${value}; every number must be finite (check the embedding for NaN or overflow)`,
      );
    }
  }
}
