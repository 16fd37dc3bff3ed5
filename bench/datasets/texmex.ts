// Readers and writers for the TEXMEX vector files: .fvecs (float32), .ivecs (int32), .bvecs (uint8).
// Imports only node:fs and the project's error type. Layout, little-endian, repeated per record:
//   | int32 dim | dim elements (4 bytes each for fvecs/ivecs, 1 byte for bvecs) |

import { closeSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { QuiverError } from '../../src/errors.js';
import type { IdSet, VectorSet } from './dataset.js';

/** The three TEXMEX element types. */
export type TexmexKind = 'fvecs' | 'ivecs' | 'bvecs';

/** Limits for a read: `limit` keeps only the first records (the whole file is still validated). */
export interface ReadOptions {
  limit?: number;
}

/** Dimensions beyond this are treated as a damaged header rather than honoured. */
const MAX_DIM = 1 << 20;

const ELEMENT_BYTES: Record<TexmexKind, number> = { fvecs: 4, ivecs: 4, bvecs: 1 };

/** The kind a file name announces by its extension, or undefined. */
export function texmexKindOf(path: string): TexmexKind | undefined {
  const match = /\.(fvecs|ivecs|bvecs)$/i.exec(path);
  return match ? (match[1]!.toLowerCase() as TexmexKind) : undefined;
}

function readBytes(path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    throw new QuiverError('INVALID_ARGUMENT', `cannot read ${path}: ${(error as Error).message}`, { cause: error });
  }
}

/**
 * Checks the record structure of a TEXMEX file and returns its shape.
 * Every record must carry the same dim and the file size must divide into whole records.
 */
function validate(bytes: Buffer, path: string, kind: TexmexKind): { count: number; dim: number } {
  if (bytes.length === 0) throw new QuiverError('INVALID_ARGUMENT', `${path} is empty; expected ${kind} records`);
  if (bytes.length < 4) {
    throw new QuiverError('CORRUPT', `${path} is ${bytes.length} bytes, too short for a ${kind} record header`);
  }
  const dim = bytes.readInt32LE(0);
  if (dim <= 0 || dim > MAX_DIM) {
    throw new QuiverError('CORRUPT', `${path}: the first record claims dim ${dim}; is this really a ${kind} file?`);
  }
  const recordBytes = 4 + dim * ELEMENT_BYTES[kind];
  if (bytes.length % recordBytes !== 0) {
    throw new QuiverError(
      'CORRUPT',
      `${path} is ${bytes.length} bytes, not a whole number of ${kind} records of ${recordBytes} bytes ` +
        `(dim ${dim}); the file is truncated or not a ${kind} file`,
    );
  }
  const count = bytes.length / recordBytes;
  for (let record = 1; record < count; record++) {
    const recordDim = bytes.readInt32LE(record * recordBytes);
    if (recordDim !== dim) {
      throw new QuiverError('CORRUPT', `${path}: record ${record} has dim ${recordDim}, but record 0 has dim ${dim}`);
    }
  }
  return { count, dim };
}

function expectKind(path: string, kind: TexmexKind): void {
  const actual = texmexKindOf(path);
  if (actual !== undefined && actual !== kind) {
    throw new QuiverError('INVALID_ARGUMENT', `${path} is a .${actual} file; it cannot be read as .${kind}`);
  }
}

/** Copies the 4-byte elements of every record into `target` (skipping the headers). */
function copyWords(bytes: Buffer, count: number, dim: number, target: Float32Array | Int32Array): void {
  const recordBytes = 4 + dim * 4;
  const words = target instanceof Float32Array ? 'readFloatLE' : 'readInt32LE';
  // Fast path: a little-endian host and a 4-aligned buffer can be viewed without parsing.
  if (new Uint8Array(new Uint16Array([1]).buffer)[0] === 1 && bytes.byteOffset % 4 === 0) {
    for (let record = 0; record < count; record++) {
      const start = bytes.byteOffset + record * recordBytes + 4;
      if (target instanceof Float32Array) target.set(new Float32Array(bytes.buffer, start, dim), record * dim);
      else target.set(new Int32Array(bytes.buffer, start, dim), record * dim);
    }
    return;
  }
  for (let record = 0; record < count; record++) {
    const start = record * recordBytes + 4;
    for (let j = 0; j < dim; j++) target[record * dim + j] = bytes[words](start + j * 4);
  }
}

function limitCount(count: number, options: ReadOptions | undefined): number {
  const limit = options?.limit;
  if (limit === undefined) return count;
  if (!Number.isInteger(limit) || limit < 0) {
    throw new QuiverError('INVALID_ARGUMENT', `limit must be a non-negative integer, got ${limit}`);
  }
  return Math.min(count, limit);
}

/** Reads an .fvecs file into a flat Float32Array. @throws INVALID_ARGUMENT, CORRUPT */
export function readFvecs(path: string, options?: ReadOptions): VectorSet {
  expectKind(path, 'fvecs');
  const bytes = readBytes(path);
  const shape = validate(bytes, path, 'fvecs');
  const count = limitCount(shape.count, options);
  const data = new Float32Array(count * shape.dim);
  copyWords(bytes, count, shape.dim, data);
  return { count, dim: shape.dim, data };
}

/** Reads an .ivecs file into a flat Int32Array. @throws INVALID_ARGUMENT, CORRUPT */
export function readIvecs(path: string, options?: ReadOptions): IdSet {
  expectKind(path, 'ivecs');
  const bytes = readBytes(path);
  const shape = validate(bytes, path, 'ivecs');
  const count = limitCount(shape.count, options);
  const data = new Int32Array(count * shape.dim);
  copyWords(bytes, count, shape.dim, data);
  return { count, dim: shape.dim, data };
}

/** Reads a .bvecs file (uint8 elements), widening every element to float32. @throws INVALID_ARGUMENT, CORRUPT */
export function readBvecs(path: string, options?: ReadOptions): VectorSet {
  expectKind(path, 'bvecs');
  const bytes = readBytes(path);
  const shape = validate(bytes, path, 'bvecs');
  const count = limitCount(shape.count, options);
  const { dim } = shape;
  const data = new Float32Array(count * dim);
  const recordBytes = 4 + dim;
  for (let record = 0; record < count; record++) {
    data.set(bytes.subarray(record * recordBytes + 4, (record + 1) * recordBytes), record * dim);
  }
  return { count, dim, data };
}

/** Reads an .fvecs or .bvecs file (chosen by extension) as float32 vectors. @throws INVALID_ARGUMENT, CORRUPT */
export function readVectors(path: string, options?: ReadOptions): VectorSet {
  const kind = texmexKindOf(path);
  if (kind === 'fvecs') return readFvecs(path, options);
  if (kind === 'bvecs') return readBvecs(path, options);
  throw new QuiverError('INVALID_ARGUMENT', `${path}: expected a .fvecs or .bvecs file of vectors`);
}

function checkShape(path: string, length: number, dim: number): number {
  if (!Number.isInteger(dim) || dim <= 0) throw new QuiverError('INVALID_ARGUMENT', `${path}: dim must be > 0`);
  if (length % dim !== 0) {
    throw new QuiverError('INVALID_ARGUMENT', `${path}: ${length} numbers do not divide into rows of dim ${dim}`);
  }
  return length / dim;
}

/** Writes `bytes` to `path` through a temporary file and a rename, so readers never see half a file. */
function writeAtomically(path: string, bytes: Uint8Array): void {
  const temporary = `${path}.${process.pid}.tmp`;
  const descriptor = openSync(temporary, 'w');
  try {
    writeSync(descriptor, bytes);
    fsyncSync(descriptor);
  } finally {
    closeSync(descriptor);
  }
  renameSync(temporary, path);
}

function encodeWords(data: Float32Array | Int32Array, dim: number, path: string): Uint8Array {
  const count = checkShape(path, data.length, dim);
  const recordBytes = 4 + dim * 4;
  const out = Buffer.alloc(count * recordBytes);
  for (let record = 0; record < count; record++) {
    const start = record * recordBytes;
    out.writeInt32LE(dim, start);
    for (let j = 0; j < dim; j++) {
      const value = data[record * dim + j]!;
      if (data instanceof Float32Array) out.writeFloatLE(value, start + 4 + j * 4);
      else out.writeInt32LE(value, start + 4 + j * 4);
    }
  }
  return out;
}

/** Writes float32 rows of `dim` as an .fvecs file (atomically). @throws INVALID_ARGUMENT */
export function writeFvecs(path: string, data: Float32Array, dim: number): void {
  writeAtomically(path, encodeWords(data, dim, path));
}

/** Writes int32 rows of `dim` as an .ivecs file (atomically). @throws INVALID_ARGUMENT */
export function writeIvecs(path: string, data: Int32Array, dim: number): void {
  writeAtomically(path, encodeWords(data, dim, path));
}

/** Writes uint8 rows of `dim` as a .bvecs file (atomically). @throws INVALID_ARGUMENT */
export function writeBvecs(path: string, data: Uint8Array, dim: number): void {
  const count = checkShape(path, data.length, dim);
  const out = Buffer.alloc(count * (4 + dim));
  for (let record = 0; record < count; record++) {
    out.writeInt32LE(dim, record * (4 + dim));
    out.set(data.subarray(record * dim, (record + 1) * dim), record * (4 + dim) + 4);
  }
  writeAtomically(path, out);
}
