// The four kernels of the addon (distances, exact top-k, k-means assignment, ADC top-k), its
// CRC-32 and its reader of float-vector slots behind typed arguments: shapes are checked here, before any call, as INVALID_ARGUMENT; a
// failure inside the addon becomes NATIVE_ERROR. native-reference.ts is the kernels' plain
// TypeScript twin (the slot reader's too), src/quant/crc32.ts the CRC's.
// Imports only this folder's addon.ts and checks.ts.
import { callAddon } from './addon.js';
import {
  checkArray,
  checkCandidates,
  checkCount,
  checkMetric,
  checkNoOverlap,
  checkOutput,
  checkRows,
  checkThreads,
  invalid,
} from './checks.js';

/**
 * Distance conventions of every kernel, the same as hnswlib's so results are comparable:
 * `l2` is the SQUARED Euclidean distance, `ip` is `1 - dot(a, b)`. Cosine is `ip` over vectors the
 * caller normalised.
 */
export type KernelMetric = 'l2' | 'ip';

/** Width of one ADC table row: PQ codes are 8 bits, so each sub-space has 256 entries. */
export const ADC_TABLE_WIDTH = 256;

/** Arguments of {@link NativeKernels.distances}. */
export interface DistancesArguments {
  readonly metric: KernelMetric;
  /** nq × dim, row-major. */
  readonly queries: Float32Array;
  /** n × dim, row-major. */
  readonly base: Float32Array;
  readonly dim: number;
  /** Receives nq × n distances: `out[q * n + i]` is the distance of query q to base row i. */
  readonly out: Float32Array;
}

/** Arguments of {@link NativeKernels.exactTopK}. */
export interface ExactTopKArguments {
  readonly metric: KernelMetric;
  /** nq × dim, row-major. */
  readonly queries: Float32Array;
  /** n × dim, row-major; a result label is a row index into it. */
  readonly base: Float32Array;
  readonly dim: number;
  /** Results per query, at least 1 (may exceed the number of rows; the rest is padding). */
  readonly k: number;
  /** Receives nq × k row indexes, best first; -1 where fewer than k rows were scanned. */
  readonly labels: Int32Array;
  /** Receives nq × k distances matching `labels`; +Infinity where the label is -1. */
  readonly distances: Float32Array;
  /** When given, only these rows are scanned. Indexes must be distinct (a repeat is scanned twice). */
  readonly candidates?: Int32Array;
  /**
   * Native threads, 1 (the default: the calling thread alone) to 256. The rows, or when rows are
   * few the queries, are split over them; the result is the same for every thread count.
   */
  readonly threads?: number;
}

/** Arguments of {@link NativeKernels.kmeansAssign}. */
export interface KMeansAssignArguments {
  readonly metric: KernelMetric;
  /** n × dim, row-major. */
  readonly points: Float32Array;
  /** k × dim, row-major, at least one row. */
  readonly centroids: Float32Array;
  readonly dim: number;
  /** Receives n centroid indexes: the nearest centroid of each point, ties to the lower index. */
  readonly assignments: Int32Array;
  /** Receives n distances to that centroid. */
  readonly distances: Float32Array;
}

/** Arguments of {@link NativeKernels.adcTopK}. */
export interface AdcTopKArguments {
  /** nq look-up tables of m × 256 floats: entry `[j * 256 + c]` is the partial distance of code c in sub-space j. */
  readonly tables: Float32Array;
  /** n × m code bytes, row-major; a result label is a row index into it. */
  readonly codes: Uint8Array;
  /** Sub-spaces per code (bytes per row). */
  readonly m: number;
  /** Results per query, at least 1. */
  readonly k: number;
  /** Receives nq × k row indexes, best first; -1 where fewer than k rows were scanned. */
  readonly labels: Int32Array;
  /** Receives nq × k distances (sums of table entries); +Infinity where the label is -1. */
  readonly distances: Float32Array;
  /** When given, only these rows are scanned. Indexes must be distinct (a repeat is scanned twice). */
  readonly candidates?: Int32Array;
}

/**
 * The hot loops of QuiverDB: typed arrays in, caller-supplied output buffers, batched calls.
 * Top-k results are best first with ties broken by the lower row index; NaN distances count as
 * +Infinity. `nativeKernels` runs them in C++; `referenceKernels` (native-reference.ts) is the
 * plain TypeScript twin with the same outputs.
 */
export interface NativeKernels {
  /** All nq × n distances between queries and base rows. */
  distances(args: DistancesArguments): void;
  /** The k nearest base rows (or candidate rows) of each query. */
  exactTopK(args: ExactTopKArguments): void;
  /** The nearest centroid of each point (the assignment step of k-means, or an IVF list choice). */
  kmeansAssign(args: KMeansAssignArguments): void;
  /** The k rows of PQ codes with the smallest ADC distance for each query's table. */
  adcTopK(args: AdcTopKArguments): void;
  /**
   * The CRC-32 of `bytes` continuing `previous` (as src/quant/crc32.ts), computed as the snapshot
   * load checks its file; `portable` takes the table loop alone instead of the folded one.
   */
  crc32(bytes: Uint8Array, previous?: number, portable?: boolean): number;
  /**
   * Reads the float-vector slot of each label from an open file (layout: src/index/vector-file.ts)
   * into its row of `out`, setting `ok[i]` to 1 for a slot read whole that names its label and passes
   * its CRC-32, else 0 (that row is left as it was). Returns the number of rows read.
   */
  readVectorSlots(args: ReadVectorSlotsArguments): number;
}

/** Arguments of {@link NativeKernels.readVectorSlots}. */
export interface ReadVectorSlotsArguments {
  /** An open file descriptor (fs.openSync) of a float-vector file. */
  readonly fd: number;
  /** Bytes before slot 0. */
  readonly headerBytes: number;
  readonly dim: number;
  /** The slots to read: slot L lies at headerBytes + L · (8 + 4·dim). */
  readonly labels: Uint32Array;
  /** Receives labels.length × dim floats, row i for labels[i]. */
  readonly out: Float32Array;
  /** Receives one byte per label: 1 read and checked, 0 not. */
  readonly ok: Uint8Array;
}

/** Checks {@link ReadVectorSlotsArguments}. @throws QuiverError INVALID_ARGUMENT */
export function checkReadVectorSlotsArguments(args: ReadVectorSlotsArguments): void {
  const kernel = 'readVectorSlots';
  if (!Number.isInteger(args.fd) || args.fd < 0 || args.fd > 2 ** 31 - 1) {
    throw invalid(kernel, `fd must be an open file descriptor, got ${String(args.fd)}`);
  }
  if (!Number.isSafeInteger(args.headerBytes) || args.headerBytes < 0) {
    throw invalid(kernel, `headerBytes must be a non-negative integer, got ${String(args.headerBytes)}`);
  }
  const dim = checkCount(kernel, 'dim', args.dim);
  checkArray(kernel, 'labels', args.labels, Uint32Array);
  checkArray(kernel, 'out', args.out, Float32Array);
  checkArray(kernel, 'ok', args.ok, Uint8Array);
  checkOutput(kernel, 'out', args.out, args.labels.length * dim, `${args.labels.length} labels × dim ${dim}`);
  checkOutput(kernel, 'ok', args.ok, args.labels.length, `${args.labels.length} labels`);
  checkNoOverlap(kernel, { out: args.out, ok: args.ok }, { labels: args.labels });
}

function metricCode(metric: KernelMetric): number {
  return metric === 'l2' ? 0 : 1;
}

/** Checks {@link DistancesArguments}; returns the row counts. @throws QuiverError INVALID_ARGUMENT */
export function checkDistancesArguments(args: DistancesArguments): { queryCount: number; baseCount: number } {
  const kernel = 'distances';
  checkMetric(kernel, args.metric);
  const dim = checkCount(kernel, 'dim', args.dim);
  checkArray(kernel, 'queries', args.queries, Float32Array);
  checkArray(kernel, 'base', args.base, Float32Array);
  checkArray(kernel, 'out', args.out, Float32Array);
  const queryCount = checkRows(kernel, 'queries', args.queries, dim, 'dim');
  const baseCount = checkRows(kernel, 'base', args.base, dim, 'dim');
  checkOutput(kernel, 'out', args.out, queryCount * baseCount, `${queryCount} queries × ${baseCount} rows`);
  checkNoOverlap(kernel, { out: args.out }, { queries: args.queries, base: args.base });
  return { queryCount, baseCount };
}

/** Checks {@link ExactTopKArguments}; returns the row counts. @throws QuiverError INVALID_ARGUMENT */
export function checkExactTopKArguments(args: ExactTopKArguments): { queryCount: number; baseCount: number } {
  const kernel = 'exactTopK';
  checkMetric(kernel, args.metric);
  const dim = checkCount(kernel, 'dim', args.dim);
  const k = checkCount(kernel, 'k', args.k);
  checkArray(kernel, 'queries', args.queries, Float32Array);
  checkArray(kernel, 'base', args.base, Float32Array);
  checkArray(kernel, 'labels', args.labels, Int32Array);
  checkArray(kernel, 'distances', args.distances, Float32Array);
  const queryCount = checkRows(kernel, 'queries', args.queries, dim, 'dim');
  const baseCount = checkRows(kernel, 'base', args.base, dim, 'dim');
  checkOutput(kernel, 'labels', args.labels, queryCount * k, `${queryCount} queries × k ${k}`);
  checkOutput(kernel, 'distances', args.distances, queryCount * k, `${queryCount} queries × k ${k}`);
  if (args.threads !== undefined) checkThreads(kernel, args.threads);
  if (args.candidates !== undefined) checkCandidates(kernel, args.candidates, baseCount);
  checkNoOverlap(
    kernel,
    { labels: args.labels, distances: args.distances },
    { queries: args.queries, base: args.base, candidates: args.candidates },
  );
  return { queryCount, baseCount };
}

/** Checks {@link KMeansAssignArguments}; returns the row counts. @throws QuiverError INVALID_ARGUMENT */
export function checkKMeansAssignArguments(args: KMeansAssignArguments): { pointCount: number; centroidCount: number } {
  const kernel = 'kmeansAssign';
  checkMetric(kernel, args.metric);
  const dim = checkCount(kernel, 'dim', args.dim);
  checkArray(kernel, 'points', args.points, Float32Array);
  checkArray(kernel, 'centroids', args.centroids, Float32Array);
  checkArray(kernel, 'assignments', args.assignments, Int32Array);
  checkArray(kernel, 'distances', args.distances, Float32Array);
  const pointCount = checkRows(kernel, 'points', args.points, dim, 'dim');
  const centroidCount = checkRows(kernel, 'centroids', args.centroids, dim, 'dim');
  if (centroidCount === 0) throw invalid(kernel, 'centroids is empty; at least one centroid is needed');
  checkOutput(kernel, 'assignments', args.assignments, pointCount, `${pointCount} points`);
  checkOutput(kernel, 'distances', args.distances, pointCount, `${pointCount} points`);
  checkNoOverlap(
    kernel,
    { assignments: args.assignments, distances: args.distances },
    { points: args.points, centroids: args.centroids },
  );
  return { pointCount, centroidCount };
}

/** Checks {@link AdcTopKArguments}; returns the counts. @throws QuiverError INVALID_ARGUMENT */
export function checkAdcTopKArguments(args: AdcTopKArguments): { queryCount: number; codeCount: number } {
  const kernel = 'adcTopK';
  const m = checkCount(kernel, 'm', args.m);
  const k = checkCount(kernel, 'k', args.k);
  checkArray(kernel, 'tables', args.tables, Float32Array);
  checkArray(kernel, 'codes', args.codes, Uint8Array);
  checkArray(kernel, 'labels', args.labels, Int32Array);
  checkArray(kernel, 'distances', args.distances, Float32Array);
  const queryCount = checkRows(kernel, 'tables', args.tables, m * ADC_TABLE_WIDTH, 'm × 256 =');
  const codeCount = checkRows(kernel, 'codes', args.codes, m, 'm');
  checkOutput(kernel, 'labels', args.labels, queryCount * k, `${queryCount} tables × k ${k}`);
  checkOutput(kernel, 'distances', args.distances, queryCount * k, `${queryCount} tables × k ${k}`);
  if (args.candidates !== undefined) checkCandidates(kernel, args.candidates, codeCount);
  checkNoOverlap(
    kernel,
    { labels: args.labels, distances: args.distances },
    { tables: args.tables, codes: args.codes, candidates: args.candidates },
  );
  return { queryCount, codeCount };
}

/**
 * The kernels, run by the C++ addon. Each call checks its arguments first.
 * @example
 * const labels = new Int32Array(10);
 * const distances = new Float32Array(10);
 * nativeKernels.exactTopK({ metric: 'l2', queries: query, base: vectors, dim: 128, k: 10, labels, distances });
 * @throws QuiverError INVALID_ARGUMENT on a bad shape, NATIVE_ERROR when the addon is missing or fails.
 */
export const nativeKernels: NativeKernels = {
  distances(args) {
    checkDistancesArguments(args);
    callAddon('distances', (native) =>
      native.distances(metricCode(args.metric), args.queries, args.base, args.dim, args.out),
    );
  },
  exactTopK(args) {
    checkExactTopKArguments(args);
    callAddon('exactTopK', (native) =>
      native.exactTopK(
        metricCode(args.metric),
        args.queries,
        args.base,
        args.dim,
        args.k,
        args.candidates ?? null,
        args.labels,
        args.distances,
        args.threads ?? 1,
      ),
    );
  },
  kmeansAssign(args) {
    checkKMeansAssignArguments(args);
    callAddon('kmeansAssign', (native) =>
      native.kmeansAssign(
        metricCode(args.metric),
        args.points,
        args.centroids,
        args.dim,
        args.assignments,
        args.distances,
      ),
    );
  },
  adcTopK(args) {
    checkAdcTopKArguments(args);
    callAddon('adcTopK', (native) =>
      native.adcTopK(args.tables, args.codes, args.m, args.k, args.candidates ?? null, args.labels, args.distances),
    );
  },
  crc32(bytes, previous = 0, portable = false) {
    checkArray('crc32', 'bytes', bytes, Uint8Array);
    if (!Number.isInteger(previous) || previous < 0 || previous > 0xffffffff) {
      throw invalid('crc32', `previous must be an integer from 0 to 2^32 - 1, got ${previous}`);
    }
    return callAddon('crc32', (native) => native.crc32(bytes, previous, portable));
  },
  readVectorSlots(args) {
    checkReadVectorSlotsArguments(args);
    return callAddon('readVectorSlots', (native) =>
      native.readVectorSlots(args.fd, args.headerBytes, args.dim, args.labels, args.out, args.ok),
    );
  },
};
