// The shape checks every wrapper of the addon runs before a call (and native-reference.ts before its
// plain loops, so both accept exactly the same inputs): each failure is INVALID_ARGUMENT naming the
// kernel and the argument. Imports only errors.ts and threads.ts.
import { QuiverError } from '../errors.js';
import { MAX_THREADS } from './threads.js';

// Largest row count, dim, m or k: labels are Int32Array entries.
const MAX_INDEX = 2 ** 31 - 1;

export function invalid(kernel: string, message: string): QuiverError {
  return new QuiverError('INVALID_ARGUMENT', `${kernel}: ${message}`);
}

export function checkMetric(kernel: string, metric: unknown): void {
  if (metric !== 'l2' && metric !== 'ip') throw invalid(kernel, `metric must be 'l2' or 'ip', got ${String(metric)}`);
}

export function checkCount(kernel: string, name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > MAX_INDEX) {
    throw invalid(kernel, `${name} must be an integer from 1 to ${MAX_INDEX}, got ${String(value)}`);
  }
  return value;
}

export function checkArray(
  kernel: string,
  name: string,
  value: unknown,
  type: typeof Float32Array | typeof Int32Array | typeof Uint32Array | typeof Uint8Array,
): void {
  if (!(value instanceof type)) throw invalid(kernel, `${name} must be a ${type.name}`);
}

/** Rows of a row-major matrix of `width` numbers per row, rejecting a partial last row. */
export function checkRows(kernel: string, name: string, array: ArrayLike<number>, width: number, unit: string): number {
  if (array.length % width !== 0) {
    throw invalid(kernel, `${name} has ${array.length} numbers, which is not a multiple of ${unit} ${width}`);
  }
  const rows = array.length / width;
  if (rows > MAX_INDEX) throw invalid(kernel, `${name} has ${rows} rows; at most ${MAX_INDEX} can be labelled`);
  return rows;
}

export function checkOutput(
  kernel: string,
  name: string,
  array: ArrayLike<number>,
  needed: number,
  shape: string,
): void {
  if (array.length < needed) {
    throw invalid(kernel, `${name} holds ${array.length} entries but ${shape} needs ${needed}`);
  }
}

/** Whether two non-empty views share a byte. */
function sharesMemory(a: ArrayBufferView, b: ArrayBufferView): boolean {
  return (
    a.buffer === b.buffer &&
    a.byteLength > 0 &&
    b.byteLength > 0 &&
    a.byteOffset < b.byteOffset + b.byteLength &&
    b.byteOffset < a.byteOffset + a.byteLength
  );
}

/**
 * An output that shares memory with an input, or with another output, would be overwritten while
 * it is still being read or written. Each output in turn is checked against every input (absent
 * ones skipped), then against the outputs after it; the first overlap found is named.
 */
export function checkNoOverlap(
  kernel: string,
  outputs: Record<string, ArrayBufferView>,
  inputs: Record<string, ArrayBufferView | undefined>,
): void {
  const named = Object.entries(outputs);
  named.forEach(([outputName, output], at) => {
    for (const [inputName, input] of [...Object.entries(inputs), ...named.slice(at + 1)]) {
      if (input !== undefined && sharesMemory(output, input)) {
        throw invalid(kernel, `${outputName} shares memory with ${inputName}; pass a separate output buffer`);
      }
    }
  });
}

export function checkCandidates(kernel: string, candidates: unknown, rows: number): void {
  checkArray(kernel, 'candidates', candidates, Int32Array);
  const list = candidates as Int32Array;
  for (let position = 0; position < list.length; position++) {
    const row = list[position]!;
    if (row < 0 || row >= rows) {
      throw invalid(kernel, `candidates[${position}] is ${row}, but row indexes run from 0 to ${rows - 1}`);
    }
  }
}

export function checkThreads(kernel: string, threads: unknown): number {
  if (typeof threads !== 'number' || !Number.isInteger(threads) || threads < 1 || threads > MAX_THREADS) {
    throw invalid(kernel, `threads must be an integer from 1 to ${MAX_THREADS}, got ${String(threads)}`);
  }
  return threads;
}
