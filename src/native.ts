// The one TypeScript interface of the quiver_native addon (native-loader.ts finds and loads it).
// Shapes are checked here, before any call, as INVALID_ARGUMENT; a failure inside the addon becomes
// NATIVE_ERROR. Imports only errors.ts, native-loader.ts and node built-ins.
import { availableParallelism } from 'node:os';
import { QuiverError } from './errors.js';
import { loadQuiverAddon } from './native-loader.js';

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
}

/** What the .node file exports; positional arguments, metric as 0 (l2) or 1 (ip), null for no candidates. */
interface NativeAddon {
  distances(metric: number, queries: Float32Array, base: Float32Array, dim: number, out: Float32Array): void;
  exactTopK(
    metric: number,
    queries: Float32Array,
    base: Float32Array,
    dim: number,
    k: number,
    candidates: Int32Array | null,
    labels: Int32Array,
    distances: Float32Array,
    threads: number,
  ): void;
  kmeansAssign(
    metric: number,
    points: Float32Array,
    centroids: Float32Array,
    dim: number,
    assignments: Int32Array,
    distances: Float32Array,
  ): void;
  adcTopK(
    tables: Float32Array,
    codes: Uint8Array,
    m: number,
    k: number,
    candidates: Int32Array | null,
    labels: Int32Array,
    distances: Float32Array,
  ): void;
  /** The HNSW graph class (native/hnsw-binding.h); space 0 l2, 1 ip, 2 cosine. */
  HnswGraph: AddonHnswGraphClass;
}

// Largest row count, dim, m or k: labels are Int32Array entries.
const MAX_INDEX = 2 ** 31 - 1;

let loadedAddon: NativeAddon | undefined;

/**
 * Loads the addon once and returns it. Called lazily by every kernel, so importing QuiverDB works
 * without it; call it at start-up to fail early.
 * @throws QuiverError NATIVE_ERROR when no prebuild, build/Release or build/Debug binary (or the
 *   override) loads; the message lists where it looked and the command that fixes it.
 */
export function loadNativeAddon(): void {
  addon();
}

function addon(): NativeAddon {
  loadedAddon ??= loadQuiverAddon() as NativeAddon;
  return loadedAddon;
}

/** Runs one addon call and converts whatever it throws into NATIVE_ERROR, in this one place. */
function callAddon(kernel: string, call: (native: NativeAddon) => void): void {
  const native = addon();
  try {
    call(native);
  } catch (error) {
    throw new QuiverError(
      'NATIVE_ERROR',
      `${kernel}: the native addon failed (${error instanceof Error ? error.message : String(error)})`,
      { cause: error },
    );
  }
}

function metricCode(metric: KernelMetric): number {
  return metric === 'l2' ? 0 : 1;
}

// ---- shape checks, shared with native-reference.ts so both kernels accept exactly the same inputs ----

function invalid(kernel: string, message: string): QuiverError {
  return new QuiverError('INVALID_ARGUMENT', `${kernel}: ${message}`);
}

function checkMetric(kernel: string, metric: unknown): void {
  if (metric !== 'l2' && metric !== 'ip') throw invalid(kernel, `metric must be 'l2' or 'ip', got ${String(metric)}`);
}

function checkCount(kernel: string, name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > MAX_INDEX) {
    throw invalid(kernel, `${name} must be an integer from 1 to ${MAX_INDEX}, got ${String(value)}`);
  }
  return value;
}

function checkArray(
  kernel: string,
  name: string,
  value: unknown,
  type: typeof Float32Array | typeof Int32Array | typeof Uint8Array,
): void {
  if (!(value instanceof type)) throw invalid(kernel, `${name} must be a ${type.name}`);
}

/** Rows of a row-major matrix of `width` numbers per row, rejecting a partial last row. */
function checkRows(kernel: string, name: string, array: ArrayLike<number>, width: number, unit: string): number {
  if (array.length % width !== 0) {
    throw invalid(kernel, `${name} has ${array.length} numbers, which is not a multiple of ${unit} ${width}`);
  }
  const rows = array.length / width;
  if (rows > MAX_INDEX) throw invalid(kernel, `${name} has ${rows} rows; at most ${MAX_INDEX} can be labelled`);
  return rows;
}

function checkOutput(kernel: string, name: string, array: ArrayLike<number>, needed: number, shape: string): void {
  if (array.length < needed) {
    throw invalid(kernel, `${name} holds ${array.length} entries but ${shape} needs ${needed}`);
  }
}

/** An output that shares memory with an input would be overwritten while it is still being read. */
function checkNoOverlap(
  kernel: string,
  outputName: string,
  output: ArrayBufferView,
  inputs: Record<string, ArrayBufferView>,
): void {
  for (const [inputName, input] of Object.entries(inputs)) {
    if (input.buffer !== output.buffer) continue;
    const overlaps =
      output.byteOffset < input.byteOffset + input.byteLength &&
      input.byteOffset < output.byteOffset + output.byteLength;
    if (overlaps && output.byteLength > 0 && input.byteLength > 0) {
      throw invalid(kernel, `${outputName} shares memory with ${inputName}; pass a separate output buffer`);
    }
  }
}

function checkCandidates(kernel: string, candidates: unknown, rows: number): void {
  checkArray(kernel, 'candidates', candidates, Int32Array);
  const list = candidates as Int32Array;
  for (let position = 0; position < list.length; position++) {
    const row = list[position]!;
    if (row < 0 || row >= rows) {
      throw invalid(kernel, `candidates[${position}] is ${row}, but row indexes run from 0 to ${rows - 1}`);
    }
  }
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
  checkNoOverlap(kernel, 'out', args.out, { queries: args.queries, base: args.base });
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
  const inputs: Record<string, ArrayBufferView> = { queries: args.queries, base: args.base };
  if (args.candidates !== undefined) {
    checkCandidates(kernel, args.candidates, baseCount);
    inputs['candidates'] = args.candidates;
  }
  checkNoOverlap(kernel, 'labels', args.labels, { ...inputs, distances: args.distances });
  checkNoOverlap(kernel, 'distances', args.distances, inputs);
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
  const inputs = { points: args.points, centroids: args.centroids };
  checkNoOverlap(kernel, 'assignments', args.assignments, { ...inputs, distances: args.distances });
  checkNoOverlap(kernel, 'distances', args.distances, inputs);
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
  const inputs: Record<string, ArrayBufferView> = { tables: args.tables, codes: args.codes };
  if (args.candidates !== undefined) {
    checkCandidates(kernel, args.candidates, codeCount);
    inputs['candidates'] = args.candidates;
  }
  checkNoOverlap(kernel, 'labels', args.labels, { ...inputs, distances: args.distances });
  checkNoOverlap(kernel, 'distances', args.distances, inputs);
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
};

// ---- HNSW graph: the addon's own (native/hnsw-graph.h; hnswlib's format), batched and threaded ----

/** hnswlib's spaces: `cosine` is inner product over vectors the graph normalises on the way in. */
export type HnswSpace = 'l2' | 'ip' | 'cosine';

/**
 * The distance kernels a graph runs on. `'simd'` (the default): QuiverDB's, chosen at run time
 * (AVX2/FMA with four accumulators where the CPU has them, else portable loops). `'hnswlib'`:
 * kernels that add in hnswlib's order (as its baseline build's own do), with which a graph is
 * bit-identical to one hnswlib-node builds from the same calls —
 * the reference the tests hold the graph machinery to. Both read and write the same files; the
 * distances they compute differ only by float rounding.
 */
export type HnswKernels = 'simd' | 'hnswlib';

/**
 * How a search walks the graph's bottom layer when nothing is deleted and there is no filter.
 * `'sorted'` (the default with the `'simd'` kernels): one sorted list of the ef nearest nodes found so
 * far, the nearest unexpanded one expanded next. `'hnswlib'` (the default with the `'hnswlib'`
 * kernels): hnswlib's searchBaseLayerST, a heap of results and a heap of candidates. Both expand the
 * same nodes in the same order, and so answer alike, unless distances tie, when they may break the
 * tie differently. Filtered searches and graphs with deleted nodes always take hnswlib's loop.
 */
export type HnswSearchLoop = 'sorted' | 'hnswlib';

/** Label of an empty result slot (fewer than k live, allowed nodes found); its distance is +Infinity. */
export const NO_LABEL = 0xffffffff;
/** Highest label a graph accepts: labels are uint32 and {@link NO_LABEL} is reserved. */
export const MAX_LABEL = 0xfffffffe;
/** Most threads one call uses; the addon clamps to it as well. */
export const MAX_THREADS = 256;

/** Arguments of {@link NativeHnswGraph.init}: hnswlib's initIndex (allowReplaceDeleted false). */
export interface HnswGraphOptions {
  /** Capacity in nodes; grow it with `resize`. */
  readonly maxElements: number;
  /** Links per node (layer 0 keeps 2m). */
  readonly m: number;
  readonly efConstruction: number;
  /** Seed of the level generator: equal seeds and equal single-threaded inserts give identical graphs. */
  readonly seed: number;
}

/** Arguments of {@link NativeHnswGraph.searchBatch}. */
export interface HnswSearchArguments {
  /** nq × dim, row-major. */
  readonly queries: Float32Array;
  /** Results per query, at least 1 (may exceed the graph's size; the rest is padding). */
  readonly k: number;
  /** Search effort; the graph uses max(ef, k). */
  readonly ef: number;
  /** Native threads for the batch, 1 to 256 (1: the calling thread alone). */
  readonly threads: number;
  /**
   * Allow-list bitset over labels: label L is allowed when bit L % 8 of byte L >> 3 (Uint8Array) or
   * bit L % 32 of word L >> 5 (Uint32Array) is set; labels past its end are not allowed.
   */
  readonly allow?: Uint8Array | Uint32Array;
  /** Receives nq × k labels, best first; {@link NO_LABEL} where fewer than k were found. */
  readonly labels: Uint32Array;
  /** Receives nq × k raw distances (hnswlib's convention) matching `labels`; +Infinity for padding. */
  readonly distances: Float32Array;
}

/**
 * One HNSW graph in native memory: hnswlib's graph and file format, fed typed arrays without
 * copies, with inserts and searches spread over native threads. A readers-writer lock inside makes
 * a search wait for a running insert, resize, delete or load (and the other way round); searches
 * run side by side. The async variants run off the event loop and keep their arrays alive until
 * they settle: do not modify, transfer or detach those arrays meanwhile.
 */
export interface NativeHnswGraph {
  readonly space: HnswSpace;
  readonly dim: number;
  /** Replaces any previous graph by an empty one. */
  init(options: HnswGraphOptions): void;
  /** Sets the capacity in nodes; it must hold the current count. */
  resize(maxElements: number): void;
  /**
   * Inserts rows of `vectors` (labels.length × dim) under `labels`; a label already present is
   * updated and undeleted. threads 1 inserts in order (the graph hnswlib-node would build);
   * more threads insert concurrently (a valid graph, different from run to run).
   * Refuses the whole batch when the new labels exceed the capacity.
   */
  addBatch(vectors: Float32Array, labels: Uint32Array, threads: number): void;
  addBatchAsync(vectors: Float32Array, labels: Uint32Array, threads: number): Promise<void>;
  /** Marks a label deleted. @throws NATIVE_ERROR when the label is absent or already deleted. */
  markDelete(label: number): void;
  /** The k nearest live (and allowed) labels of each query; returns the number of queries. */
  searchBatch(args: HnswSearchArguments): number;
  searchBatchAsync(args: HnswSearchArguments): Promise<number>;
  /** Writes hnswlib's own graph file. */
  save(path: string): void;
  /** Replaces the graph by the one in an hnswlib graph file (as written by hnswlib-node or `save`). */
  load(path: string): void;
  loadAsync(path: string): Promise<void>;
  /**
   * Exact k-NN of `query` (dim numbers) among `labels`, scored over the graph's stored vectors:
   * the k best into `outLabels` / `outDistances`, best first (ties to the lower label), padded
   * with NO_LABEL / +Infinity. Long label lists are split over `threads` native threads (default
   * 1); the answer is the same for every thread count.
   * @throws QuiverError INVALID_ARGUMENT on bad shapes, NATIVE_ERROR for a label not in the graph.
   */
  exactAmong(
    query: Float32Array,
    labels: Uint32Array,
    k: number,
    outLabels: Uint32Array,
    outDistances: Float32Array,
    threads?: number,
  ): void;
  /**
   * Copies the stored vectors of `labels` into `out` (labels.length × dim; cosine graphs store
   * unit vectors). @throws QuiverError INVALID_ARGUMENT on a short `out`, NATIVE_ERROR for a label
   * not in the graph.
   */
  readVectors(labels: Uint32Array, out: Float32Array): void;
  /** Every label in the graph, deleted ones included, ascending. */
  labels(): Uint32Array;
  /** Nodes in the graph, deleted ones included. */
  readonly currentCount: number;
  readonly maxElements: number;
  /** Frees the native graph (waiting for running calls); later calls raise NATIVE_ERROR. */
  dispose(): void;
}

/**
 * The addon's HnswGraph class:
 * `new HnswGraph(space 0 l2 | 1 ip | 2 cosine, dim, kernels 0 simd | 1 hnswlib, loop 0 sorted | 1 hnswlib)`.
 */
type AddonHnswGraphClass = new (space: number, dim: number, kernels: number, loop: number) => AddonHnswGraph;

/** The addon's HnswGraph object: positional arguments, checked again natively. */
interface AddonHnswGraph {
  init(maxElements: number, m: number, efConstruction: number, seed: number): void;
  resize(maxElements: number): void;
  addBatch(vectors: Float32Array, labels: Uint32Array, threads: number): void;
  addBatchAsync(vectors: Float32Array, labels: Uint32Array, threads: number): Promise<void>;
  markDelete(label: number): void;
  searchBatch(
    queries: Float32Array,
    k: number,
    ef: number,
    threads: number,
    allow: Uint8Array | Uint32Array | null,
    labels: Uint32Array,
    distances: Float32Array,
  ): void;
  searchBatchAsync(
    queries: Float32Array,
    k: number,
    ef: number,
    threads: number,
    allow: Uint8Array | Uint32Array | null,
    labels: Uint32Array,
    distances: Float32Array,
  ): Promise<void>;
  save(path: string): void;
  load(path: string): void;
  loadAsync(path: string): Promise<void>;
  exactAmong(
    query: Float32Array,
    labels: Uint32Array,
    k: number,
    outLabels: Uint32Array,
    outDistances: Float32Array,
    threads: number,
  ): void;
  readVectors(labels: Uint32Array, out: Float32Array): void;
  labels(): Uint32Array;
  currentCount(): number;
  maxElements(): number;
  dispose(): void;
}

/** Native threads a batch uses when the caller does not say: the machine's logical cores. */
export function defaultThreadCount(): number {
  return Math.max(1, Math.min(MAX_THREADS, availableParallelism()));
}

const SPACE_CODES: Record<HnswSpace, number> = { l2: 0, ip: 1, cosine: 2 };

function checkThreads(kernel: string, threads: unknown): number {
  if (typeof threads !== 'number' || !Number.isInteger(threads) || threads < 1 || threads > MAX_THREADS) {
    throw invalid(kernel, `threads must be an integer from 1 to ${MAX_THREADS}, got ${String(threads)}`);
  }
  return threads;
}

function checkLabel(kernel: string, name: string, label: unknown): number {
  if (typeof label !== 'number' || !Number.isInteger(label) || label < 0 || label > MAX_LABEL) {
    throw invalid(kernel, `${name} must be an integer from 0 to ${MAX_LABEL}, got ${String(label)}`);
  }
  return label;
}

/** Checks the arguments of an insert batch; returns the row count. @throws QuiverError INVALID_ARGUMENT */
export function checkHnswAddArguments(dim: number, vectors: unknown, labels: unknown, threads: unknown): number {
  const kernel = 'hnsw.addBatch';
  checkArray(kernel, 'vectors', vectors, Float32Array);
  if (!(labels instanceof Uint32Array)) throw invalid(kernel, 'labels must be a Uint32Array');
  checkThreads(kernel, threads);
  const rows = checkRows(kernel, 'vectors', vectors as Float32Array, dim, 'dim');
  if (rows !== labels.length) {
    throw invalid(kernel, `vectors holds ${rows} rows of dim ${dim} but labels holds ${labels.length} labels`);
  }
  // A Uint32Array holds 0 … 2³² - 1: only the reserved NO_LABEL can be out of range.
  const reserved = labels.indexOf(NO_LABEL);
  if (reserved !== -1) throw invalid(kernel, `labels[${reserved}] is ${NO_LABEL}, which is reserved for empty results`);
  return rows;
}

/** Checks {@link HnswSearchArguments}; returns the query count. @throws QuiverError INVALID_ARGUMENT */
export function checkHnswSearchArguments(dim: number, args: HnswSearchArguments): number {
  const kernel = 'hnsw.searchBatch';
  checkArray(kernel, 'queries', args.queries, Float32Array);
  const k = checkCount(kernel, 'k', args.k);
  checkCount(kernel, 'ef', args.ef);
  checkThreads(kernel, args.threads);
  if (!(args.labels instanceof Uint32Array)) throw invalid(kernel, 'labels must be a Uint32Array');
  checkArray(kernel, 'distances', args.distances, Float32Array);
  const queryCount = checkRows(kernel, 'queries', args.queries, dim, 'dim');
  checkOutput(kernel, 'labels', args.labels, queryCount * k, `${queryCount} queries × k ${k}`);
  checkOutput(kernel, 'distances', args.distances, queryCount * k, `${queryCount} queries × k ${k}`);
  const inputs: Record<string, ArrayBufferView> = { queries: args.queries };
  if (args.allow !== undefined) {
    if (!(args.allow instanceof Uint8Array) && !(args.allow instanceof Uint32Array)) {
      throw invalid(kernel, 'allow must be a Uint8Array or a Uint32Array bitset over labels');
    }
    inputs['allow'] = args.allow;
  }
  checkNoOverlap(kernel, 'labels', args.labels, { ...inputs, distances: args.distances });
  checkNoOverlap(kernel, 'distances', args.distances, inputs);
  return queryCount;
}

/** Awaits an addon promise, converting its rejection into NATIVE_ERROR like callAddon does. */
async function awaitAddon(kernel: string, pending: Promise<void>): Promise<void> {
  try {
    await pending;
  } catch (error) {
    throw new QuiverError(
      'NATIVE_ERROR',
      `${kernel}: the native addon failed (${error instanceof Error ? error.message : String(error)})`,
      { cause: error },
    );
  }
}

class NativeHnswGraphImpl implements NativeHnswGraph {
  readonly space: HnswSpace;
  readonly dim: number;
  readonly #graph: AddonHnswGraph;

  constructor(space: HnswSpace, dim: number, kernels: HnswKernels, loop: HnswSearchLoop) {
    if (SPACE_CODES[space] === undefined) {
      throw invalid('hnsw', `space must be 'l2', 'ip' or 'cosine', got ${String(space)}`);
    }
    if (kernels !== 'simd' && kernels !== 'hnswlib') {
      throw invalid('hnsw', `kernels must be 'simd' or 'hnswlib', got ${String(kernels)}`);
    }
    if (loop !== 'sorted' && loop !== 'hnswlib') {
      throw invalid('hnsw', `loop must be 'sorted' or 'hnswlib', got ${String(loop)}`);
    }
    this.space = space;
    this.dim = checkCount('hnsw', 'dim', dim);
    let graph: AddonHnswGraph | undefined;
    callAddon('hnsw', (native) => {
      graph = new native.HnswGraph(SPACE_CODES[space], dim, kernels === 'simd' ? 0 : 1, loop === 'sorted' ? 0 : 1);
    });
    this.#graph = graph!;
  }

  init(options: HnswGraphOptions): void {
    const kernel = 'hnsw.init';
    const maxElements = checkCount(kernel, 'maxElements', options.maxElements);
    const m = checkCount(kernel, 'm', options.m);
    if (m < 2 || m > 10_000) throw invalid(kernel, `m must be from 2 to 10000, got ${m}`);
    const efConstruction = checkCount(kernel, 'efConstruction', options.efConstruction);
    const seed = options.seed;
    if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
      throw invalid(kernel, `seed must be an integer from 0 to ${0xffffffff}, got ${String(seed)}`);
    }
    callAddon(kernel, () => this.#graph.init(maxElements, m, efConstruction, seed));
  }

  resize(maxElements: number): void {
    const kernel = 'hnsw.resize';
    if (!Number.isInteger(maxElements) || maxElements < 1 || maxElements > MAX_LABEL + 1) {
      throw invalid(kernel, `maxElements must be an integer from 1 to ${MAX_LABEL + 1}, got ${String(maxElements)}`);
    }
    callAddon(kernel, () => this.#graph.resize(maxElements));
  }

  addBatch(vectors: Float32Array, labels: Uint32Array, threads: number): void {
    checkHnswAddArguments(this.dim, vectors, labels, threads);
    callAddon('hnsw.addBatch', () => this.#graph.addBatch(vectors, labels, threads));
  }

  async addBatchAsync(vectors: Float32Array, labels: Uint32Array, threads: number): Promise<void> {
    checkHnswAddArguments(this.dim, vectors, labels, threads);
    let pending: Promise<void> | undefined;
    callAddon('hnsw.addBatchAsync', () => {
      pending = this.#graph.addBatchAsync(vectors, labels, threads);
    });
    await awaitAddon('hnsw.addBatchAsync', pending!);
  }

  markDelete(label: number): void {
    checkLabel('hnsw.markDelete', 'label', label);
    callAddon('hnsw.markDelete', () => this.#graph.markDelete(label));
  }

  searchBatch(args: HnswSearchArguments): number {
    const queryCount = checkHnswSearchArguments(this.dim, args);
    callAddon('hnsw.searchBatch', () =>
      this.#graph.searchBatch(
        args.queries,
        args.k,
        args.ef,
        args.threads,
        args.allow ?? null,
        args.labels,
        args.distances,
      ),
    );
    return queryCount;
  }

  async searchBatchAsync(args: HnswSearchArguments): Promise<number> {
    const queryCount = checkHnswSearchArguments(this.dim, args);
    let pending: Promise<void> | undefined;
    callAddon('hnsw.searchBatchAsync', () => {
      pending = this.#graph.searchBatchAsync(
        args.queries,
        args.k,
        args.ef,
        args.threads,
        args.allow ?? null,
        args.labels,
        args.distances,
      );
    });
    await awaitAddon('hnsw.searchBatchAsync', pending!);
    return queryCount;
  }

  save(path: string): void {
    if (typeof path !== 'string') throw invalid('hnsw.save', 'path must be a string');
    callAddon('hnsw.save', () => this.#graph.save(path));
  }

  load(path: string): void {
    if (typeof path !== 'string') throw invalid('hnsw.load', 'path must be a string');
    callAddon('hnsw.load', () => this.#graph.load(path));
  }

  async loadAsync(path: string): Promise<void> {
    if (typeof path !== 'string') throw invalid('hnsw.loadAsync', 'path must be a string');
    let pending: Promise<void> | undefined;
    callAddon('hnsw.loadAsync', () => {
      pending = this.#graph.loadAsync(path);
    });
    await awaitAddon('hnsw.loadAsync', pending!);
  }

  exactAmong(
    query: Float32Array,
    labels: Uint32Array,
    k: number,
    outLabels: Uint32Array,
    outDistances: Float32Array,
    threads = 1,
  ): void {
    if (!(query instanceof Float32Array) || query.length !== this.dim) {
      throw invalid('hnsw.exactAmong', `query must be a Float32Array of ${this.dim} numbers`);
    }
    if (!(labels instanceof Uint32Array)) throw invalid('hnsw.exactAmong', 'labels must be a Uint32Array');
    if (!Number.isInteger(k) || k < 1) throw invalid('hnsw.exactAmong', `k must be an integer ≥ 1, got ${k}`);
    if (!(outLabels instanceof Uint32Array) || outLabels.length < k) {
      throw invalid('hnsw.exactAmong', `outLabels must be a Uint32Array of at least ${k} numbers`);
    }
    if (!(outDistances instanceof Float32Array) || outDistances.length < k) {
      throw invalid('hnsw.exactAmong', `outDistances must be a Float32Array of at least ${k} numbers`);
    }
    checkThreads('hnsw.exactAmong', threads);
    checkNoOverlap('hnsw.exactAmong', 'outLabels', outLabels, { query, labels, outDistances });
    checkNoOverlap('hnsw.exactAmong', 'outDistances', outDistances, { query, labels });
    callAddon('hnsw.exactAmong', () => this.#graph.exactAmong(query, labels, k, outLabels, outDistances, threads));
  }

  readVectors(labels: Uint32Array, out: Float32Array): void {
    if (!(labels instanceof Uint32Array)) throw invalid('hnsw.readVectors', 'labels must be a Uint32Array');
    if (!(out instanceof Float32Array) || out.length < labels.length * this.dim) {
      throw invalid('hnsw.readVectors', `out must be a Float32Array of at least ${labels.length * this.dim} numbers`);
    }
    callAddon('hnsw.readVectors', () => this.#graph.readVectors(labels, out));
  }

  labels(): Uint32Array {
    let labels: Uint32Array = new Uint32Array(0);
    callAddon('hnsw.labels', () => {
      labels = this.#graph.labels();
    });
    return labels;
  }

  get currentCount(): number {
    let count = 0;
    callAddon('hnsw.currentCount', () => {
      count = this.#graph.currentCount();
    });
    return count;
  }

  get maxElements(): number {
    let count = 0;
    callAddon('hnsw.maxElements', () => {
      count = this.#graph.maxElements();
    });
    return count;
  }

  dispose(): void {
    callAddon('hnsw.dispose', () => this.#graph.dispose());
  }
}

/**
 * A new native HNSW graph; call `init` or `load` before anything else.
 * @example
 * const graph = createHnswGraph('cosine', 384);
 * graph.init({ maxElements: 10_000, m: 16, efConstruction: 200, seed: 100 });
 * graph.addBatch(vectors, labels, defaultThreadCount());
 * const found = new Uint32Array(queryCount * 10);
 * const distances = new Float32Array(queryCount * 10);
 * graph.searchBatch({ queries, k: 10, ef: 64, threads: 2, labels: found, distances });
 * @throws QuiverError INVALID_ARGUMENT on a bad space, dim, kernels or loop, NATIVE_ERROR when the addon is missing.
 */
export function createHnswGraph(
  space: HnswSpace,
  dim: number,
  kernels: HnswKernels = 'simd',
  loop: HnswSearchLoop = kernels === 'simd' ? 'sorted' : 'hnswlib',
): NativeHnswGraph {
  return new NativeHnswGraphImpl(space, dim, kernels, loop);
}
