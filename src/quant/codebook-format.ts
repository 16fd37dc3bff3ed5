// Reader and writer of the codebook file: a trained PQ plus the IVF coarse centroids (possibly none)
// and, from version 2, the search settings calibrated with them (from version 3 with the measured
// growth of the rerank with the collection's size). Little-endian; the CRC-32 covers
// every byte before it. Must not import src/storage/. Every version keeps bytes 0–11 and the
// trailing CRC-32, so old readers tell 'newer' from 'damaged'.
//
// | offset       | bytes   | type | field                                                  |
// |--------------|---------|------|--------------------------------------------------------|
// | 0            | 4       | u8×4 | magic "QVCB"                                           |
// | 4            | 4       | u32  | format version (3; 1 and 2 are read, see the upgrades) |
// | 8            | 4       | u32  | total byte length L, checksum included                 |
// | 12           | 4       | u32  | dim                                                    |
// | 16           | 4       | u32  | m, sub-spaces (1..dim; widths as pq.subspaceOffsets)   |
// | 20           | 4       | u32  | C, PQ centroids per sub-space (1..256)                 |
// | 24           | 4       | u32  | N, coarse centroid count (0 when there is no IVF)      |
// | 28           | 4       | u32  | reserved, 0                                            |
// | 32           | 4·C·dim | f32  | PQ centroids: sub-space j's C × width(j) block in turn |
// | 32 + 4·C·dim | 4·N·dim | f32  | coarse centroids, N × dim, row-major                   |
// | P = L − 32   | 4       | u32  | calibrated nprobe; 0 = no calibration (the rest is 0)  |
// | P + 4        | 4       | u32  | calibrated rerank, at `base` indexed vectors           |
// | P + 8        | 4       | f32  | target recall@10 (0, 1]                                |
// | P + 12       | 4       | f32  | expected recall@10 of the chosen nprobe and rerank     |
// | P + 16       | 4       | u32  | base: vectors the sample queries were ranked among     |
// | P + 20       | 4       | u32  | sample queries held back from training                 |
// | P + 24       | 4       | f32  | growth: rerank scales as (size ÷ base)^growth, [0, 1]  |
// | L − 4        | 4       | u32  | CRC-32 of bytes [0, L − 4)                             |
//
// Version 2 is the same without the growth (4 bytes fewer; read as growth 1, upgradeCodebookV2);
// version 1 without the whole calibration block.
import { QuiverError } from '../errors.js';
import { crc32 } from './crc32.js';
import { MAX_CENTROIDS_PER_SUBSPACE, ProductQuantizer } from './pq.js';

/** "QVCB" */
const MAGIC = [0x51, 0x56, 0x43, 0x42] as const;
/** The format version this module writes and the newest it reads. */
export const CODEBOOK_FORMAT_VERSION = 3;
const HEADER_BYTES = 32;
const CALIBRATION_BYTES = 28;
/** Version 2's calibration block: no growth. */
const CALIBRATION_BYTES_V2 = 24;
const CHECKSUM_BYTES = 4;

/**
 * The search settings chosen when the codebook was trained: the nprobe and rerank whose expected
 * recall@10, measured on queries held back from the collection's own vectors, reaches the target.
 */
export interface CodebookCalibration {
  readonly nprobe: number;
  /** Candidates re-ranked when the index holds `base` vectors (the index scales it with its size). */
  readonly rerank: number;
  readonly targetRecall: number;
  /** The recall@10 the sample measured for this nprobe and rerank (below the target when none reached it). */
  readonly expectedRecall: number;
  /** Vectors the sample queries were ranked among. */
  readonly base: number;
  /** Sample queries. */
  readonly queries: number;
  /**
   * How the needed rerank grows with the number of vectors ranked: at `size` vectors a search
   * re-ranks rerank × (size ÷ base)^growth. Measured at calibration (ivfpq-calibration.ts), in [0, 1].
   */
  readonly growth: number;
}

/** What a codebook file holds. */
export interface Codebook {
  readonly pq: ProductQuantizer;
  /** IVF coarse centroids, count × pq.dim, row-major; empty when there is no coarse quantizer. */
  readonly coarseCentroids: Float32Array;
  /** Absent in version 1 files and for codebooks trained without calibration. */
  readonly calibration?: CodebookCalibration | undefined;
}

/**
 * Serialises a codebook to bytes (layout in this module's header).
 * @example
 * const bytes = writeCodebook({ pq, coarseCentroids: new Float32Array(0) });
 * @throws QuiverError INVALID_ARGUMENT when the coarse centroids are not whole, finite vectors of pq.dim,
 *   or the calibration's numbers are out of range.
 */
export function writeCodebook(codebook: Codebook): Uint8Array {
  const { pq, coarseCentroids, calibration } = codebook;
  if (calibration !== undefined)
    checkCalibration(calibration, (reason) => new QuiverError('INVALID_ARGUMENT', `writeCodebook: ${reason}`));
  if (!(coarseCentroids instanceof Float32Array) || coarseCentroids.length % pq.dim !== 0) {
    throw new QuiverError('INVALID_ARGUMENT', `writeCodebook: coarseCentroids must be whole vectors of dim ${pq.dim}`);
  }
  if (!coarseCentroids.every(Number.isFinite)) {
    throw new QuiverError('NOT_FINITE', 'writeCodebook: coarseCentroids must be finite');
  }
  const coarseCount = coarseCentroids.length / pq.dim;
  const length =
    HEADER_BYTES + 4 * pq.centroids.length + 4 * coarseCentroids.length + CALIBRATION_BYTES + CHECKSUM_BYTES;
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
  if (calibration !== undefined) {
    view.setUint32(offset, calibration.nprobe, true);
    view.setUint32(offset + 4, calibration.rerank, true);
    view.setFloat32(offset + 8, calibration.targetRecall, true);
    view.setFloat32(offset + 12, calibration.expectedRecall, true);
    view.setUint32(offset + 16, calibration.base, true);
    view.setUint32(offset + 20, calibration.queries, true);
    view.setFloat32(offset + 24, calibration.growth, true);
  }
  offset += CALIBRATION_BYTES;
  view.setUint32(offset, crc32(bytes.subarray(0, offset)), true);
  return bytes;
}

/**
 * Parses bytes written by {@link writeCodebook} (or by version 1, see {@link upgradeCodebookV1}),
 * checking magic, version, length, checksum, sizes and the calibration's ranges.
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
  if (version < 1) throw corrupt(`format version ${version} does not exist`);

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
  const calibrationBytes = version === 1 ? 0 : version === 2 ? CALIBRATION_BYTES_V2 : CALIBRATION_BYTES;
  const expected =
    HEADER_BYTES + 4 * centroidsPerSubspace * dim + 4 * coarseCount * dim + calibrationBytes + CHECKSUM_BYTES;
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
  const pq = new ProductQuantizer(dim, m, centroidsPerSubspace, centroids);
  if (version === 1) return upgradeCodebookV1({ pq, coarseCentroids });
  let calibration: CodebookCalibration | undefined;
  if (view.getUint32(offset, true) !== 0) {
    const read = {
      nprobe: view.getUint32(offset, true),
      rerank: view.getUint32(offset + 4, true),
      targetRecall: view.getFloat32(offset + 8, true),
      expectedRecall: view.getFloat32(offset + 12, true),
      base: view.getUint32(offset + 16, true),
      queries: view.getUint32(offset + 20, true),
    };
    calibration = version === 2 ? upgradeCodebookV2(read) : { ...read, growth: view.getFloat32(offset + 24, true) };
    checkCalibration(calibration, (reason) => corrupt(`its calibration is impossible: ${reason}`));
    if (calibration.nprobe > coarseCount) {
      throw corrupt(`its calibration probes ${calibration.nprobe} lists of ${coarseCount}`);
    }
  } else if (bytes.subarray(offset, offset + calibrationBytes).some((byte) => byte !== 0)) {
    throw corrupt('it has no calibration (nprobe 0) but the calibration fields are not 0');
  }
  return { pq, coarseCentroids, calibration };
}

/**
 * The named upgrade of a version 1 codebook (written before calibration existed): the same
 * centroids, no calibration. The index then searches with the collection's stored nprobe and
 * rerank, as version 1 did, until a retraining (compact) calibrates a new codebook.
 */
export function upgradeCodebookV1(codebook: { pq: ProductQuantizer; coarseCentroids: Float32Array }): Codebook {
  return { pq: codebook.pq, coarseCentroids: codebook.coarseCentroids, calibration: undefined };
}

/**
 * The named upgrade of a version 2 calibration (written before the growth was measured): growth 1,
 * the rerank scaled in proportion to the collection's size, as version 2 did.
 */
export function upgradeCodebookV2(calibration: Omit<CodebookCalibration, 'growth'>): CodebookCalibration {
  return { ...calibration, growth: 1 };
}

function checkCalibration(calibration: CodebookCalibration, fail: (reason: string) => QuiverError): void {
  const { nprobe, rerank, targetRecall, expectedRecall, base, queries } = calibration;
  for (const [name, value] of [
    ['nprobe', nprobe],
    ['rerank', rerank],
    ['base', base],
    ['queries', queries],
  ] as const) {
    if (!Number.isInteger(value) || value < 1 || value > 0xffff_ffff) {
      throw fail(`${name} must be an integer from 1 to 2^32 - 1, got ${value}`);
    }
  }
  if (!(targetRecall > 0 && targetRecall <= 1)) throw fail(`targetRecall must be in (0, 1], got ${targetRecall}`);
  if (!(expectedRecall >= 0 && expectedRecall <= 1))
    throw fail(`expectedRecall must be in [0, 1], got ${expectedRecall}`);
  if (!(calibration.growth >= 0 && calibration.growth <= 1))
    throw fail(`growth must be in [0, 1], got ${calibration.growth}`);
}

function corrupt(reason: string): QuiverError {
  return new QuiverError('CORRUPT', `the codebook is damaged: ${reason}`);
}
