// The addon's HNSW graph (native/hnsw-graph.h; hnswlib's graph and file format), batched and
// threaded: typed arrays in, caller-supplied output buffers, shapes checked before each call as
// INVALID_ARGUMENT, failures inside the addon as NATIVE_ERROR. Imports only this folder's addon.ts,
// checks.ts and threads.ts.
import { type AddonHnswGraph, awaitAddon, callAddon, type GraphRangeArguments } from './addon.js';
import { checkArray, checkCount, checkNoOverlap, checkOutput, checkRows, checkThreads, invalid } from './checks.js';

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

/**
 * The per-dimension ranges of an int8 graph (native/scalar-quantiser.h; the TypeScript twin is
 * src/index/scalar-quantiser.ts): the graph stores 8-bit codes of its vectors and scores a query,
 * scaled to 16-bit integers, against them.
 */
export interface Int8Ranges {
  readonly lows: Float32Array;
  readonly highs: Float32Array;
  /**
   * The format version of the ranges block the graph's file was written under (src/index/hnsw-int8.ts;
   * default the current, 2). Version 1 files keep the bias, not the norm, in an l2 graph's code slots:
   * a graph loaded from one recomputes its norms.
   */
  readonly format?: 1 | 2;
}

/** Label of an empty result slot (fewer than k live, allowed nodes found); its distance is +Infinity. */
export const NO_LABEL = 0xffffffff;
/** Highest label a graph accepts: labels are uint32 and {@link NO_LABEL} is reserved. */
export const MAX_LABEL = 0xfffffffe;

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
 * Where a graph lies inside a snapshot file: `length` bytes from `offset`, and the CRC-32 that the
 * bytes before it start (`crcSeed`) and that the whole payload must end at (`crcExpected`).
 */
export interface HnswGraphRange {
  readonly path: string;
  readonly offset: number;
  readonly length: number;
  readonly crcSeed: number;
  readonly crcExpected: number;
  /**
   * The range holds the graph without its live vectors (a float graph's snapshot: the records hold
   * them); the loaded graph awaits them (fillVectors, then finishFill) before anything else.
   */
  readonly withoutVectors?: boolean;
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
  /**
   * Writes hnswlib's own graph file, or with `withoutVectors` (float graphs) the graph without its
   * live vectors: links, labels, a CRC-32 per stored vector and the deleted nodes' vectors.
   */
  save(path: string, withoutVectors?: boolean): void;
  /** Replaces the graph by the one in an hnswlib graph file (as written by hnswlib-node or `save`). */
  load(path: string): void;
  loadAsync(path: string): Promise<void>;
  /**
   * Replaces the graph by the one in a range of a snapshot file, read straight into native memory
   * in one pass and checksummed as it is read; on any failure (a wrong checksum included) the
   * graph is left as it was. @throws NATIVE_ERROR naming what was wrong
   */
  loadRange(range: HnswGraphRange): void;
  loadRangeAsync(range: HnswGraphRange): Promise<void>;
  /**
   * Gives a graph loaded without vectors the float32 rows (as bytes, any alignment) of `labels`,
   * stored as inserts store them. Returns the labels whose stored row differs from the one the
   * graph was written with, and those it does not await (absent, deleted in it, or given before).
   */
  fillVectors(labels: Uint32Array, rows: Uint8Array): Uint32Array;
  /**
   * Ends the fill and returns the live labels that got no row: their vectors become the mean of
   * their filled layer-0 neighbours' (they are to be deleted by the caller's log replay).
   */
  finishFill(): Uint32Array;
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
  /**
   * The distance between the stored vectors of `first[i]` and `second[i]` into `out[i]`, by the
   * kernel that compares stored vectors with each other (the neighbour heuristic's; for an int8
   * graph the symmetric one, where queries take the query → stored one).
   * @throws QuiverError INVALID_ARGUMENT on bad shapes, NATIVE_ERROR for a label not in the graph.
   */
  storedDistances(first: Uint32Array, second: Uint32Array, out: Float32Array): void;
  /** Every label in the graph, deleted ones included, ascending. */
  labels(): Uint32Array;
  /** Nodes in the graph, deleted ones included. */
  readonly currentCount: number;
  readonly maxElements: number;
  /** Frees the native graph (waiting for running calls); later calls raise NATIVE_ERROR. */
  dispose(): void;
}

const SPACE_CODES: Record<HnswSpace, number> = { l2: 0, ip: 1, cosine: 2 };

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
  const { queries, allow, labels, distances } = args;
  if (allow !== undefined && !(allow instanceof Uint8Array) && !(allow instanceof Uint32Array)) {
    throw invalid(kernel, 'allow must be a Uint8Array or a Uint32Array bitset over labels');
  }
  checkNoOverlap(kernel, { labels, distances }, { queries, allow });
  return queryCount;
}

class NativeHnswGraphImpl implements NativeHnswGraph {
  readonly space: HnswSpace;
  readonly dim: number;
  readonly #graph: AddonHnswGraph;

  constructor(space: HnswSpace, dim: number, kernels: HnswKernels, loop: HnswSearchLoop, ranges?: Int8Ranges) {
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
    if (ranges !== undefined) checkRanges(ranges, dim);
    let graph: AddonHnswGraph | undefined;
    callAddon('hnsw', (native) => {
      const kernelCode = kernels === 'simd' ? 0 : 1;
      const loopCode = loop === 'sorted' ? 0 : 1;
      graph =
        ranges === undefined
          ? new native.HnswGraph(SPACE_CODES[space], dim, kernelCode, loopCode)
          : new native.HnswGraph(
              SPACE_CODES[space],
              dim,
              kernelCode,
              loopCode,
              ranges.lows,
              ranges.highs,
              ranges.format ?? 2,
            );
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

  save(path: string, withoutVectors = false): void {
    if (typeof path !== 'string') throw invalid('hnsw.save', 'path must be a string');
    callAddon('hnsw.save', () => this.#graph.save(path, withoutVectors === true));
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

  loadRange(range: HnswGraphRange): void {
    checkRange('hnsw.loadRange', range);
    callAddon('hnsw.loadRange', () => this.#graph.loadRange(...rangeArguments(range)));
  }

  async loadRangeAsync(range: HnswGraphRange): Promise<void> {
    checkRange('hnsw.loadRangeAsync', range);
    let pending: Promise<void> | undefined;
    callAddon('hnsw.loadRangeAsync', () => {
      pending = this.#graph.loadRangeAsync(...rangeArguments(range));
    });
    await awaitAddon('hnsw.loadRangeAsync', pending!);
  }

  fillVectors(labels: Uint32Array, rows: Uint8Array): Uint32Array {
    if (!(labels instanceof Uint32Array) || !(rows instanceof Uint8Array)) {
      throw invalid('hnsw.fillVectors', 'labels must be a Uint32Array and rows a Uint8Array');
    }
    if (rows.byteLength !== labels.length * this.dim * 4) {
      throw invalid(
        'hnsw.fillVectors',
        `rows must hold ${labels.length} × ${this.dim} float32s, got ${rows.byteLength} bytes`,
      );
    }
    return callAddon('hnsw.fillVectors', () => this.#graph.fillVectors(labels, rows));
  }

  finishFill(): Uint32Array {
    return callAddon('hnsw.finishFill', () => this.#graph.finishFill());
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
    checkNoOverlap('hnsw.exactAmong', { outLabels, outDistances }, { query, labels });
    callAddon('hnsw.exactAmong', () => this.#graph.exactAmong(query, labels, k, outLabels, outDistances, threads));
  }

  readVectors(labels: Uint32Array, out: Float32Array): void {
    if (!(labels instanceof Uint32Array)) throw invalid('hnsw.readVectors', 'labels must be a Uint32Array');
    if (!(out instanceof Float32Array) || out.length < labels.length * this.dim) {
      throw invalid('hnsw.readVectors', `out must be a Float32Array of at least ${labels.length * this.dim} numbers`);
    }
    callAddon('hnsw.readVectors', () => this.#graph.readVectors(labels, out));
  }

  storedDistances(first: Uint32Array, second: Uint32Array, out: Float32Array): void {
    const kernel = 'hnsw.storedDistances';
    if (!(first instanceof Uint32Array) || !(second instanceof Uint32Array) || second.length !== first.length) {
      throw invalid(kernel, 'first and second must be Uint32Arrays of one length');
    }
    if (!(out instanceof Float32Array) || out.length < first.length) {
      throw invalid(kernel, `out must be a Float32Array of at least ${first.length} numbers`);
    }
    checkNoOverlap(kernel, { out }, { first, second });
    callAddon(kernel, () => this.#graph.storedDistances(first, second, out));
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

function checkRanges(ranges: Int8Ranges, dim: number): void {
  const { lows, highs } = ranges;
  if (
    !(lows instanceof Float32Array) ||
    !(highs instanceof Float32Array) ||
    lows.length !== dim ||
    highs.length !== dim
  ) {
    throw invalid('hnsw', `int8 ranges must be two Float32Arrays of dim ${dim} numbers`);
  }
  if (ranges.format !== undefined && ranges.format !== 1 && ranges.format !== 2) {
    throw invalid('hnsw', `int8 ranges format must be 1 or 2, got ${String(ranges.format)}`);
  }
  for (let d = 0; d < dim; d++) {
    if (!Number.isFinite(lows[d]) || !Number.isFinite(highs[d]) || highs[d]! < lows[d]!) {
      throw invalid('hnsw', `the int8 range of dimension ${d} is not a finite [low, high]`);
    }
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
 * With `ranges` the graph is an int8 one: it stores 8-bit codes of its vectors and scores them with
 * the int8 kernels (`'simd'`: AVX2 where the CPU has it; `'hnswlib'`: the portable loops; queries,
 * in searches, `exactAmong` and inserts, by the query → stored kernel), and `readVectors` decodes them.
 * @throws QuiverError INVALID_ARGUMENT on a bad space, dim, kernels, loop or ranges, NATIVE_ERROR when the addon is missing.
 */
export function createHnswGraph(
  space: HnswSpace,
  dim: number,
  kernels: HnswKernels = 'simd',
  loop: HnswSearchLoop = kernels === 'simd' ? 'sorted' : 'hnswlib',
  ranges?: Int8Ranges,
): NativeHnswGraph {
  return new NativeHnswGraphImpl(space, dim, kernels, loop, ranges);
}

/** The addon's arguments for loading `range`. */
function rangeArguments(range: HnswGraphRange): GraphRangeArguments {
  return [range.path, range.offset, range.length, range.crcSeed, range.crcExpected, range.withoutVectors === true];
}

/** Checks a {@link HnswGraphRange}. @throws QuiverError INVALID_ARGUMENT */
function checkRange(kernel: string, range: HnswGraphRange): void {
  if (typeof range.path !== 'string') throw invalid(kernel, 'path must be a string');
  for (const [name, value, most] of [
    ['offset', range.offset, Number.MAX_SAFE_INTEGER],
    ['length', range.length, Number.MAX_SAFE_INTEGER],
    ['crcSeed', range.crcSeed, 0xffffffff],
    ['crcExpected', range.crcExpected, 0xffffffff],
  ] as const) {
    if (!Number.isInteger(value) || value < 0 || value > most) {
      throw invalid(kernel, `${name} must be an integer from 0 to ${most}, got ${value}`);
    }
  }
}
