// Product quantization: m sub-spaces × up to 256 centroids, 8-bit codes, encode / decode, and ADC
// look-up tables in the kernels' distance conventions (l2 squared, ip = 1 - dot). Dimensions not
// divisible by m give uneven sub-spaces: the first dim % m are one wider. Must not import src/storage/.
import { QuiverError } from '../errors.js';
import { ADC_TABLE_WIDTH, type KernelMetric, nativeKernels } from '../native/kernels.js';
import { checkTrainingSet, sampleRows, trainKMeans } from './kmeans.js';
import { SeededRandom } from './random.js';

/** Codes are one byte per sub-space, so a sub-space has at most 256 centroids. */
export const MAX_CENTROIDS_PER_SUBSPACE = ADC_TABLE_WIDTH;

// Encoding goes through the assignment kernel in chunks of this many vectors, to bound scratch memory.
const ENCODE_CHUNK_ROWS = 16_384;

/** Tuning of {@link trainProductQuantizer}. */
export interface ProductQuantizerOptions {
  /** Number of sub-spaces = bytes per code; 1 ≤ m ≤ dim. */
  readonly m: number;
  /** Seed of sampling and k-means; the same seed and input give the same codebooks. Default 1. */
  readonly seed?: number;
  /** Lloyd iterations per sub-space. Default 25. */
  readonly maxIterations?: number;
  /** Train on a seeded sample of at most this many vectors. Default 65,536 (256 per centroid). */
  readonly maxTrainingPoints?: number;
}

/**
 * Sub-space boundaries: sub-space j covers dimensions [offsets[j], offsets[j + 1]). The first
 * dim % m sub-spaces are one dimension wider than the rest.
 * @throws QuiverError INVALID_ARGUMENT unless 1 ≤ m ≤ dim.
 */
export function subspaceOffsets(dim: number, m: number): number[] {
  if (!Number.isInteger(dim) || dim < 1)
    throw new QuiverError('INVALID_ARGUMENT', `PQ: dim must be a positive integer, got ${dim}`);
  if (!Number.isInteger(m) || m < 1 || m > dim) {
    throw new QuiverError('INVALID_ARGUMENT', `PQ: m must be an integer from 1 to dim ${dim}, got ${m}`);
  }
  const narrow = Math.floor(dim / m);
  const wideCount = dim % m;
  const offsets = [0];
  for (let subspace = 0; subspace < m; subspace++) {
    offsets.push(offsets[subspace]! + narrow + (subspace < wideCount ? 1 : 0));
  }
  return offsets;
}

/**
 * A trained product quantizer. `centroids` holds, for each sub-space j in order, its
 * centroidsPerSubspace × width(j) block, row-major, starting at centroidsPerSubspace × offsets[j].
 */
export class ProductQuantizer {
  readonly dim: number;
  readonly m: number;
  /** Centroids in every sub-space (1–256); codes are below it. Fewer than 256 only when training had fewer points. */
  readonly centroidsPerSubspace: number;
  /** Sub-space boundaries, length m + 1; see {@link subspaceOffsets}. */
  readonly offsets: readonly number[];
  readonly centroids: Float32Array;

  /**
   * Wraps trained centroids (as laid out above). Use {@link trainProductQuantizer} to train.
   * @throws QuiverError INVALID_ARGUMENT when the sizes do not fit together or a centroid is not finite.
   */
  constructor(dim: number, m: number, centroidsPerSubspace: number, centroids: Float32Array) {
    this.offsets = subspaceOffsets(dim, m);
    if (
      !Number.isInteger(centroidsPerSubspace) ||
      centroidsPerSubspace < 1 ||
      centroidsPerSubspace > MAX_CENTROIDS_PER_SUBSPACE
    ) {
      throw new QuiverError(
        'INVALID_ARGUMENT',
        `PQ: centroidsPerSubspace must be from 1 to 256, got ${centroidsPerSubspace}`,
      );
    }
    if (!(centroids instanceof Float32Array) || centroids.length !== centroidsPerSubspace * dim) {
      throw new QuiverError(
        'INVALID_ARGUMENT',
        `PQ: centroids must be a Float32Array of ${centroidsPerSubspace} × ${dim} numbers, got ${centroids.length}`,
      );
    }
    if (!centroids.every(Number.isFinite)) throw new QuiverError('INVALID_ARGUMENT', 'PQ: centroids must be finite');
    this.dim = dim;
    this.m = m;
    this.centroidsPerSubspace = centroidsPerSubspace;
    this.centroids = centroids;
  }

  /** The centroids of sub-space j: centroidsPerSubspace × width(j), row-major (a view, not a copy). */
  subspaceCentroids(subspace: number): Float32Array {
    const start = this.centroidsPerSubspace * this.offsets[subspace]!;
    return this.centroids.subarray(start, start + this.centroidsPerSubspace * this.#width(subspace));
  }

  /**
   * Codes of `vectors` (n × dim): n × m bytes, byte j the nearest centroid of sub-space j.
   * @example
   * const codes = pq.encode(vectors); // vectors.length / dim × pq.m bytes
   * @throws QuiverError INVALID_ARGUMENT on a bad shape or a too-short `codes` buffer.
   */
  encode(vectors: Float32Array, codes?: Uint8Array): Uint8Array {
    const rowCount = this.#rows(vectors, 'encode');
    const output = codes ?? new Uint8Array(rowCount * this.m);
    if (!(output instanceof Uint8Array) || output.length < rowCount * this.m) {
      throw new QuiverError(
        'INVALID_ARGUMENT',
        `PQ encode: codes must be a Uint8Array of at least ${rowCount * this.m} bytes`,
      );
    }
    const chunkRows = Math.min(rowCount, ENCODE_CHUNK_ROWS);
    const maxWidth = this.#width(0);
    const subvectors = new Float32Array(chunkRows * maxWidth);
    const assignments = new Int32Array(chunkRows);
    const distances = new Float32Array(chunkRows);
    for (let chunkStart = 0; chunkStart < rowCount; chunkStart += chunkRows) {
      const chunkCount = Math.min(chunkRows, rowCount - chunkStart);
      for (let subspace = 0; subspace < this.m; subspace++) {
        const width = this.#width(subspace);
        const points = subvectors.subarray(0, chunkCount * width);
        gatherSubvectors(vectors, this.dim, chunkStart, chunkCount, this.offsets[subspace]!, width, points);
        nativeKernels.kmeansAssign({
          metric: 'l2',
          points,
          centroids: this.subspaceCentroids(subspace),
          dim: width,
          assignments: assignments.subarray(0, chunkCount),
          distances: distances.subarray(0, chunkCount),
        });
        for (let row = 0; row < chunkCount; row++) output[(chunkStart + row) * this.m + subspace] = assignments[row]!;
      }
    }
    return output;
  }

  /**
   * Reconstructs vectors from codes (n × m bytes): each sub-vector becomes its centroid.
   * @throws QuiverError INVALID_ARGUMENT on a bad shape or a code ≥ centroidsPerSubspace.
   */
  decode(codes: Uint8Array, vectors?: Float32Array): Float32Array {
    if (!(codes instanceof Uint8Array) || codes.length % this.m !== 0) {
      throw new QuiverError(
        'INVALID_ARGUMENT',
        `PQ decode: codes must be a Uint8Array of whole codes of ${this.m} bytes`,
      );
    }
    const rowCount = codes.length / this.m;
    const output = vectors ?? new Float32Array(rowCount * this.dim);
    if (!(output instanceof Float32Array) || output.length < rowCount * this.dim) {
      throw new QuiverError(
        'INVALID_ARGUMENT',
        `PQ decode: vectors must be a Float32Array of at least ${rowCount * this.dim} numbers`,
      );
    }
    for (let row = 0; row < rowCount; row++) {
      for (let subspace = 0; subspace < this.m; subspace++) {
        const code = codes[row * this.m + subspace]!;
        if (code >= this.centroidsPerSubspace) {
          throw new QuiverError(
            'INVALID_ARGUMENT',
            `PQ decode: code ${row} byte ${subspace} is ${code}, but this PQ has ${this.centroidsPerSubspace} centroids per sub-space`,
          );
        }
        const width = this.#width(subspace);
        const start = this.centroidsPerSubspace * this.offsets[subspace]! + code * width;
        output.set(this.centroids.subarray(start, start + width), row * this.dim + this.offsets[subspace]!);
      }
    }
    return output;
  }

  /**
   * The ADC look-up table of one query: m × 256 floats, entry [j × 256 + c] the partial distance
   * of centroid c in sub-space j, so that the sum over a code's bytes is, in the exact kernels'
   * convention, the distance from the query to the decoded vector: squared L2 for 'l2', and for 'ip'
   * 1 - dot (the constant 1 sits in sub-space 0's entries, the other entries hold -partial dot).
   * Entries of codes ≥ centroidsPerSubspace are +Infinity. Feed it to `nativeKernels.adcTopK`.
   * @example
   * nativeKernels.adcTopK({ tables: pq.adcTable(query, 'l2'), codes, m: pq.m, k: 10, labels, distances });
   * @throws QuiverError INVALID_ARGUMENT when the query is not one vector of dim numbers.
   */
  adcTable(query: Float32Array, metric: KernelMetric, table?: Float32Array): Float32Array {
    if (!(query instanceof Float32Array) || query.length !== this.dim) {
      throw new QuiverError('INVALID_ARGUMENT', `PQ adcTable: query must be a Float32Array of dim ${this.dim} numbers`);
    }
    return this.adcTables(query, metric, table);
  }

  /**
   * ADC tables of nq queries (nq × dim): nq × m × 256 floats, one {@link adcTable} after another.
   * @throws QuiverError INVALID_ARGUMENT on a bad shape, metric or a too-short output.
   */
  adcTables(queries: Float32Array, metric: KernelMetric, tables?: Float32Array): Float32Array {
    if (metric !== 'l2' && metric !== 'ip') {
      throw new QuiverError('INVALID_ARGUMENT', `PQ adcTables: metric must be 'l2' or 'ip', got ${String(metric)}`);
    }
    const queryCount = this.#rows(queries, 'adcTables');
    const tableSize = this.m * ADC_TABLE_WIDTH;
    const output = tables ?? new Float32Array(queryCount * tableSize);
    if (!(output instanceof Float32Array) || output.length < queryCount * tableSize) {
      throw new QuiverError(
        'INVALID_ARGUMENT',
        `PQ adcTables: tables must hold at least ${queryCount * tableSize} numbers`,
      );
    }
    for (let query = 0; query < queryCount; query++) {
      const queryStart = query * this.dim;
      for (let subspace = 0; subspace < this.m; subspace++) {
        const width = this.#width(subspace);
        const queryOffset = queryStart + this.offsets[subspace]!;
        const centroidStart = this.centroidsPerSubspace * this.offsets[subspace]!;
        const rowStart = query * tableSize + subspace * ADC_TABLE_WIDTH;
        // ip: the distance is 1 - Σ partial dots; the 1 is added once, to sub-space 0.
        const constant = metric === 'ip' && subspace === 0 ? 1 : 0;
        for (let code = 0; code < this.centroidsPerSubspace; code++) {
          const start = centroidStart + code * width;
          let sum = 0;
          if (metric === 'l2') {
            for (let axis = 0; axis < width; axis++) {
              const difference = queries[queryOffset + axis]! - this.centroids[start + axis]!;
              sum += difference * difference;
            }
          } else {
            for (let axis = 0; axis < width; axis++)
              sum -= queries[queryOffset + axis]! * this.centroids[start + axis]!;
          }
          output[rowStart + code] = constant + sum;
        }
        output.fill(Number.POSITIVE_INFINITY, rowStart + this.centroidsPerSubspace, rowStart + ADC_TABLE_WIDTH);
      }
    }
    return output;
  }

  #width(subspace: number): number {
    return this.offsets[subspace + 1]! - this.offsets[subspace]!;
  }

  #rows(vectors: Float32Array, caller: string): number {
    if (!(vectors instanceof Float32Array) || vectors.length % this.dim !== 0) {
      throw new QuiverError(
        'INVALID_ARGUMENT',
        `PQ ${caller}: expected a Float32Array of whole vectors of dim ${this.dim}, got ${vectors.length} numbers`,
      );
    }
    return vectors.length / this.dim;
  }
}

/**
 * Trains a product quantizer on `vectors` (n × dim, row-major): one seeded k-means per sub-space
 * with min(256, n) centroids, all sub-spaces on the same seeded sample.
 * @example
 * const pq = trainProductQuantizer(vectors, 128, { m: 16, seed: 42 });
 * const codes = pq.encode(vectors);
 * @throws QuiverError INVALID_ARGUMENT on a bad shape, m or empty input; NOT_FINITE on NaN or ±Infinity.
 */
export function trainProductQuantizer(
  vectors: Float32Array,
  dim: number,
  options: ProductQuantizerOptions,
): ProductQuantizer {
  const rowCount = checkTrainingSet(vectors, dim, 'trainProductQuantizer');
  if (rowCount === 0) throw new QuiverError('INVALID_ARGUMENT', 'trainProductQuantizer: no training vectors');
  const offsets = subspaceOffsets(dim, options.m);
  const seed = options.seed ?? 1;
  const maxTrainingPoints = options.maxTrainingPoints ?? MAX_CENTROIDS_PER_SUBSPACE * MAX_CENTROIDS_PER_SUBSPACE;
  if (!Number.isInteger(maxTrainingPoints) || maxTrainingPoints < 1) {
    throw new QuiverError('INVALID_ARGUMENT', `trainProductQuantizer: maxTrainingPoints must be a positive integer`);
  }
  const training = sampleRows(vectors, dim, maxTrainingPoints, new SeededRandom(seed));
  const trainingCount = training.length / dim;
  const centroidsPerSubspace = Math.min(MAX_CENTROIDS_PER_SUBSPACE, trainingCount);
  const centroids = new Float32Array(centroidsPerSubspace * dim);
  for (let subspace = 0; subspace < options.m; subspace++) {
    const width = offsets[subspace + 1]! - offsets[subspace]!;
    const points = new Float32Array(trainingCount * width);
    gatherSubvectors(training, dim, 0, trainingCount, offsets[subspace]!, width, points);
    const kmeansOptions = {
      seed: seed + subspace + 1,
      maxTrainingPoints: trainingCount,
      ...(options.maxIterations === undefined ? {} : { maxIterations: options.maxIterations }),
    };
    const { centroids: subspaceCentroids } = trainKMeans(points, width, centroidsPerSubspace, kmeansOptions);
    centroids.set(subspaceCentroids, centroidsPerSubspace * offsets[subspace]!);
  }
  return new ProductQuantizer(dim, options.m, centroidsPerSubspace, centroids);
}

/** Copies dimensions [offset, offset + width) of rows [firstRow, firstRow + rowCount) into `out`, packed. */
function gatherSubvectors(
  vectors: Float32Array,
  dim: number,
  firstRow: number,
  rowCount: number,
  offset: number,
  width: number,
  out: Float32Array,
): void {
  for (let row = 0; row < rowCount; row++) {
    const start = (firstRow + row) * dim + offset;
    for (let axis = 0; axis < width; axis++) out[row * width + axis] = vectors[start + axis]!;
  }
}
