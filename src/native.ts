// The one module that loads the quiver_native addon (build/Release/quiver_native.node) and the one
// TypeScript interface of it. Shapes are checked here, before any call, as INVALID_ARGUMENT; a
// failure inside the addon becomes NATIVE_ERROR. Imports only errors.ts and node built-ins.
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { QuiverError } from './errors.js';

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
}

// Largest row count, dim, m or k: labels are Int32Array entries.
const MAX_INDEX = 2 ** 31 - 1;

let loadedAddon: NativeAddon | undefined;

/**
 * The package root: this module sits one level below it both as src/native.ts (vitest, tsx) and
 * bundled into dist/index.js or dist/index.cjs. In the CJS bundle `import.meta` is empty, so
 * `__filename` (defined there, undefined in ESM) is preferred when it exists.
 */
function packageRoot(): string {
  const moduleUrl = typeof __filename === 'string' ? pathToFileURL(__filename).href : import.meta.url;
  return resolve(dirname(fileURLToPath(moduleUrl)), '..');
}

/**
 * Loads the addon once and returns it. Called lazily by every kernel, so importing QuiverDB works
 * without it; call it at start-up to fail early.
 * @throws QuiverError NATIVE_ERROR when build/Release/quiver_native.node is missing or does not load.
 */
export function loadNativeAddon(): void {
  addon();
}

function addon(): NativeAddon {
  if (loadedAddon !== undefined) return loadedAddon;
  const root = packageRoot();
  const addonPath = join(root, 'build', 'Release', 'quiver_native.node');
  try {
    const requireFromHere = createRequire(join(root, 'package.json'));
    loadedAddon = requireFromHere(addonPath) as NativeAddon;
  } catch (error) {
    throw new QuiverError(
      'NATIVE_ERROR',
      `QuiverDB's native addon could not be loaded from ${addonPath} (${firstLine(error)}). ` +
        `Rebuild it with \`npm rebuild quiverdb\`, or run \`npx node-gyp rebuild\` in ${root}; ` +
        'building needs Python 3 and a C++17 compiler.',
      { cause: error },
    );
  }
  return loadedAddon;
}

/** The first line of an error's message: Node's require errors append a multi-line stack of callers. */
function firstLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0] ?? '';
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
