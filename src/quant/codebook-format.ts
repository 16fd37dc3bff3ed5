// Reader and writer of the codebook file: a trained PQ plus the IVF coarse centroids (possibly none).
// Little-endian; the CRC-32 covers every byte before it. Must not import src/storage/. Future
// versions keep bytes 0–11 and the trailing CRC-32, so old readers tell 'newer' from 'damaged'.
//
// | offset       | bytes   | type | field                                                  |
// |--------------|---------|------|--------------------------------------------------------|
// | 0            | 4       | u8×4 | magic "QVCB"                                           |
// | 4            | 4       | u32  | format version (1)                                     |
// | 8            | 4       | u32  | total byte length L, checksum included                 |
// | 12           | 4       | u32  | dim                                                    |
// | 16           | 4       | u32  | m, sub-spaces (1..dim; widths as pq.subspaceOffsets)   |
// | 20           | 4       | u32  | C, PQ centroids per sub-space (1..256)                 |
// | 24           | 4       | u32  | N, coarse centroid count (0 when there is no IVF)      |
// | 28           | 4       | u32  | reserved, 0                                            |
// | 32           | 4·C·dim | f32  | PQ centroids: sub-space j's C × width(j) block in turn |
// | 32 + 4·C·dim | 4·N·dim | f32  | coarse centroids, N × dim, row-major                   |
// | L − 4        | 4       | u32  | CRC-32 of bytes [0, L − 4)                             |
import { QuiverError } from '../errors.js';
import { crc32 } from './crc32.js';
import { MAX_CENTROIDS_PER_SUBSPACE, ProductQuantizer } from './pq.js';

/** "QVCB" */
const MAGIC = [0x51, 0x56, 0x43, 0x42] as const;
/** The format version this module writes and the newest it reads. */
export const CODEBOOK_FORMAT_VERSION = 1;
const HEADER_BYTES = 32;
const CHECKSUM_BYTES = 4;

/** What a codebook file holds. */
export interface Codebook {
  readonly pq: ProductQuantizer;
  /** IVF coarse centroids, count × pq.dim, row-major; empty when there is no coarse quantizer. */
  readonly coarseCentroids: Float32Array;
}

/**
 * Serialises a codebook to bytes (layout in this module's header).
 * @example
 * const bytes = writeCodebook({ pq, coarseCentroids: new Float32Array(0) });
 * @throws QuiverError INVALID_ARGUMENT when the coarse centroids are not whole, finite vectors of pq.dim.
 */
export function writeCodebook(codebook: Codebook): Uint8Array {
  const { pq, coarseCentroids } = codebook;
  if (!(coarseCentroids instanceof Float32Array) || coarseCentroids.length % pq.dim !== 0) {
    throw new QuiverError('INVALID_ARGUMENT', `writeCodebook: coarseCentroids must be whole vectors of dim ${pq.dim}`);
  }
  if (!coarseCentroids.every(Number.isFinite)) {
    throw new QuiverError('NOT_FINITE', 'writeCodebook: coarseCentroids must be finite');
  }
  const coarseCount = coarseCentroids.length / pq.dim;
  const length = HEADER_BYTES + 4 * pq.centroids.length + 4 * coarseCentroids.length + CHECKSUM_BYTES;
  const bytes = new Uint8Array(length);
  const view = new DataView(bytes.buffer);
  bytes.set(MAGIC, 0);
  view.setUint32(4, CODEBOOK_FORMAT_VERSION, true);
  view.setUint32(8, length, true);
  view.setUint32(12, pq.dim, true);
  view.setUint32(16, pq.m, true);
  view.setUint32(20, pq.centroidsPerSubspace, true);
  view.setUint32(24, coarseCount, true);
  view.setUint32(28, 0, true);
  let offset = HEADER_BYTES;
  for (const values of [pq.centroids, coarseCentroids]) {
    for (let index = 0; index < values.length; index++, offset += 4) view.setFloat32(offset, values[index]!, true);
  }
  view.setUint32(offset, crc32(bytes.subarray(0, offset)), true);
  return bytes;
}

/**
 * Parses bytes written by {@link writeCodebook}, checking magic, version, length, checksum and sizes.
 * @example
 * const { pq, coarseCentroids } = readCodebook(bytes);
 * @throws QuiverError CORRUPT on a bad magic, checksum, truncation or inconsistent sizes;
 *   FORMAT_TOO_NEW when a newer QuiverDB wrote it.
 */
export function readCodebook(bytes: Uint8Array): Codebook {
  if (!(bytes instanceof Uint8Array))
    throw new QuiverError('INVALID_ARGUMENT', 'readCodebook: bytes must be a Uint8Array');
  if (bytes.length < HEADER_BYTES + CHECKSUM_BYTES) {
    throw corrupt(
      `it is ${bytes.length} bytes, shorter than the ${HEADER_BYTES + CHECKSUM_BYTES}-byte minimum (truncated?)`,
    );
  }
  if (MAGIC.some((byte, index) => bytes[index] !== byte))
    throw corrupt('the magic is not "QVCB"; this is not a codebook');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  // Length and checksum come before the version so that a damaged version field reads as CORRUPT;
  // every future version keeps bytes 0–11 and the trailing CRC-32 so this order stays valid.
  const length = view.getUint32(8, true);
  if (length !== bytes.length) {
    throw corrupt(`the header says ${length} bytes but there are ${bytes.length} (truncated or padded)`);
  }
  const storedChecksum = view.getUint32(length - CHECKSUM_BYTES, true);
  const actualChecksum = crc32(bytes.subarray(0, length - CHECKSUM_BYTES));
  if (storedChecksum !== actualChecksum) throw corrupt('the checksum does not match the contents');
  const version = view.getUint32(4, true);
  if (version > CODEBOOK_FORMAT_VERSION) {
    throw new QuiverError(
      'FORMAT_TOO_NEW',
      `codebook format version ${version} is newer than the ${CODEBOOK_FORMAT_VERSION} this QuiverDB reads; upgrade QuiverDB`,
    );
  }
  if (version !== CODEBOOK_FORMAT_VERSION) throw corrupt(`format version ${version} does not exist`);

  const dim = view.getUint32(12, true);
  const m = view.getUint32(16, true);
  const centroidsPerSubspace = view.getUint32(20, true);
  const coarseCount = view.getUint32(24, true);
  if (dim < 1 || m < 1 || m > dim) throw corrupt(`dim ${dim} and m ${m} are inconsistent`);
  if (centroidsPerSubspace < 1 || centroidsPerSubspace > MAX_CENTROIDS_PER_SUBSPACE) {
    throw corrupt(`${centroidsPerSubspace} centroids per sub-space is outside 1..256`);
  }
  if (view.getUint32(28, true) !== 0) throw corrupt('the reserved header field is not 0');
  // Float64 arithmetic: these products cannot overflow before the comparison.
  const expected = HEADER_BYTES + 4 * centroidsPerSubspace * dim + 4 * coarseCount * dim + CHECKSUM_BYTES;
  if (expected !== length) throw corrupt(`sizes in the header need ${expected} bytes but the file has ${length}`);

  let offset = HEADER_BYTES;
  const readFloats = (count: number): Float32Array => {
    const values = new Float32Array(count);
    for (let index = 0; index < count; index++, offset += 4) values[index] = view.getFloat32(offset, true);
    if (!values.every(Number.isFinite)) throw corrupt('a centroid holds NaN or ±Infinity');
    return values;
  };
  const centroids = readFloats(centroidsPerSubspace * dim);
  const coarseCentroids = readFloats(coarseCount * dim);
  return { pq: new ProductQuantizer(dim, m, centroidsPerSubspace, centroids), coarseCentroids };
}

function corrupt(reason: string): QuiverError {
  return new QuiverError('CORRUPT', `the codebook is damaged: ${reason}`);
}
