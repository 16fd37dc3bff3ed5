// The int8 HNSW index (`index: { type: 'hnsw', vectors: 'int8' }`): an HnswIndex over 8-bit codes
// (scalar-quantiser.ts; native/scalar-quantiser.h) whose best `rerank` candidates are rescored with
// their float vectors before k are returned: read from the float-vector file of the snapshot the
// index was loaded from or last wrote (vector-file.ts) where the label has not changed since, else
// from the records (IndexHooks.fetchVectors). Until
// TRAINING_MINIMUM vectors have arrived it holds them as floats and answers exactly; then it learns
// the ranges from them and builds the graph. Must not import src/storage/.
// The ranges travel with the graph file, in a block before hnswlib's graph, so a snapshot keeps them:
// | offset    | bytes | field                                              |
// |-----------|-------|----------------------------------------------------|
// | 0         | 8     | magic "QUIVINT8"                                   |
// | 8         | 4     | format version (2; 1 still read), uint32 LE        |
// | 12        | 4     | dim, uint32 little-endian                          |
// | 16        | 4     | CRC-32 of the 8·dim range bytes                    |
// | 20        | 4     | reserved, zero                                     |
// | 24        | 4·dim | lows, float32 little-endian                        |
// | 24 + 4dim | 4·dim | highs, float32 little-endian                       |
// | 24 + 8dim |       | hnswlib's graph file (native/hnsw-file.h)          |
// Version 2 changed no byte here: it marks that an l2 graph's codes keep their norm in their slot
// (native/scalar-quantiser.h); a version-1 l2 graph has the norms recomputed as it loads.
import { closeSync, fstatSync, ftruncateSync, openSync, readSync, writeSync } from 'node:fs';
import { open as openFile } from 'node:fs/promises';
import { QuiverError } from '../errors.js';
import type { Metric } from '../metric.js';
import { type HnswGraphRange, type HnswKernels, type Int8Ranges, NO_LABEL } from '../native/hnsw-graph.js';
import { defaultThreadCount } from '../native/threads.js';
import { crc32 } from '../quant/crc32.js';
import { exactAmong } from './flat.js';
import { batchRow, checkDistinctLabels, type HnswParams, HnswIndex } from './hnsw.js';
import { learnRanges } from './scalar-quantiser.js';
import type {
  AllowedLabels,
  AnnIndex,
  BatchNeighbours,
  Neighbours,
  PlanFields,
  SearchEffort,
  Searched,
} from './types.js';
import { normalized, normalizedRows } from './vector-math.js';
import { VectorFile, writeVectorFile } from './vector-file.js';

/** Reads the float vectors of labels from the records (the collection's IndexHooks.fetchVectors). */
export type FetchFloatVectors = (labels: readonly number[]) => Iterable<{ label: number; vector: Float32Array }>;

/** How an int8 index deals with float-vector files (vector-file.ts). */
export interface Int8VectorFileOptions {
  /** Told once per file when a float-vector file is missing or damaged: the records answer instead. */
  readonly onVectorFileProblem?: ((message: string) => void) | undefined;
}

/** The float-vector file that goes with a snapshot being loaded, and the seq that snapshot covers. */
export interface Int8VectorFileSource {
  readonly path: string;
  readonly seq: number;
}

export interface Int8HnswParams extends HnswParams {
  /** Candidates the graph returns per query for the float rescoring (at least k are). */
  readonly rerank: number;
}

/**
 * Vectors held as floats before the ranges are learned: enough for per-dimension quantiles at
 * 0.1% / 99.9% to mean something, few enough that the exact answers meanwhile cost little.
 */
export const TRAINING_MINIMUM = 1000;

/** Candidates rescored per query when neither the collection nor the query says (measured: docs/architecture.md). */
export const DEFAULT_INT8_RERANK = 20;

const MAGIC = Buffer.from('QUIVINT8', 'latin1');
const RANGES_VERSION = 2;
const HEAD_BYTES = 24;
/** Bytes moved per read/write when the ranges block is put in front of a graph file or taken off it. */
const SHIFT_CHUNK = 1 << 20;

export class Int8HnswIndex implements AnnIndex {
  readonly type = 'hnsw';
  readonly metric: Metric;
  readonly dim: number;
  readonly params: Int8HnswParams;
  readonly #fetch: FetchFloatVectors;
  readonly #kernels: HnswKernels;
  readonly #initialCapacity: number;
  readonly #fileOptions: Int8VectorFileOptions;
  /** Before training: the vectors by label (normalised for cosine). */
  #pending: Map<number, Float32Array> | undefined = new Map();
  /** The float vectors of the snapshot this index was loaded from or last wrote, if usable. */
  #vectors: VectorFile | undefined;
  /** Bit L % 8 of byte L >> 3: label L changed since #vectors was written, so its slot is stale. */
  #stale = new Uint8Array(0);
  /** True once a damaged slot of #vectors was reported. */
  #damageReported = false;
  /** The rescoring's rows of float vectors and which of them the file gave, reused by every query. */
  #rows = new Float32Array(0);
  #rowsRead = new Uint8Array(0);
  #graph: HnswIndex | undefined;
  #ranges: Int8Ranges | undefined;
  #disposed = false;

  constructor(
    metric: Metric,
    dim: number,
    params: Int8HnswParams,
    initialCapacity: number,
    fetch: FetchFloatVectors,
    kernels: HnswKernels = 'simd',
    fileOptions: Int8VectorFileOptions = {},
  ) {
    this.metric = metric;
    this.dim = dim;
    this.params = params;
    this.#fetch = fetch;
    this.#kernels = kernels;
    this.#initialCapacity = initialCapacity;
    this.#fileOptions = fileOptions;
  }

  /**
   * Loads a graph file written by {@link writeGraph}, or the range of a snapshot file that holds one:
   * the ranges block at its start is checked, then the graph is read after it (a file: the block is
   * taken off it first; a range: the graph's range starts after the block, whose bytes continue the
   * range's checksum). `vectorFile` names the snapshot's float-vector file: opened when it fits, else
   * reported through `onVectorFileProblem` (the records answer its rescorings instead).
   * @throws QuiverError CORRUPT when the ranges or the graph are damaged or of another dim.
   */
  static load(
    graph: string | HnswGraphRange,
    metric: Metric,
    dim: number,
    params: Int8HnswParams,
    liveLabels: Uint32Array,
    fetch: FetchFloatVectors,
    kernels: HnswKernels = 'simd',
    fileOptions: Int8VectorFileOptions = {},
    vectorFile?: Int8VectorFileSource,
  ): Int8HnswIndex {
    const { ranges, rest } =
      typeof graph === 'string' ? { ranges: takeRanges(graph, dim), rest: graph } : rangesOfRange(graph, dim);
    const index = new Int8HnswIndex(metric, dim, params, 16, fetch, kernels, fileOptions);
    index.#adopt(ranges, HnswIndex.load(rest, metric, dim, params, liveLabels, kernels, ranges));
    if (vectorFile !== undefined) index.useVectorFile(vectorFile.path, vectorFile.seq);
    return index;
  }

  /** {@link Int8HnswIndex.load} with the ranges taken off and the graph read off the event loop. */
  static async loadAsync(
    graph: string | HnswGraphRange,
    metric: Metric,
    dim: number,
    params: Int8HnswParams,
    liveLabels: Uint32Array,
    fetch: FetchFloatVectors,
    kernels: HnswKernels = 'simd',
    fileOptions: Int8VectorFileOptions = {},
    vectorFile?: Int8VectorFileSource,
  ): Promise<Int8HnswIndex> {
    const { ranges, rest } =
      typeof graph === 'string'
        ? { ranges: await takeRangesAsync(graph, dim), rest: graph }
        : await rangesOfRangeAsync(graph, dim);
    const index = new Int8HnswIndex(metric, dim, params, 16, fetch, kernels, fileOptions);
    index.#adopt(ranges, await HnswIndex.loadAsync(rest, metric, dim, params, liveLabels, kernels, ranges));
    if (vectorFile !== undefined) index.useVectorFile(vectorFile.path, vectorFile.seq);
    return index;
  }

  /** The learned ranges; undefined before training. */
  get ranges(): Int8Ranges | undefined {
    return this.#ranges;
  }

  get size(): number {
    return this.#graph?.size ?? this.#pending?.size ?? 0;
  }

  get busy(): boolean {
    return this.#graph?.busy ?? false;
  }

  get failure(): QuiverError | undefined {
    return this.#graph?.failure;
  }

  /** Only a built graph is worth a snapshot; the few vectors before training are re-read from the records. */
  get savable(): boolean {
    return this.#graph !== undefined;
  }

  upsert(label: number, vector: Float32Array): void {
    const single = Uint32Array.of(label);
    this.#checkBatch(single, vector);
    this.#markStale(single);
    const graph = this.#graphOrPending() ?? this.#trainWith(single, vector, 1);
    if (graph !== undefined) graph.upsert(label, vector);
    else this.#hold(label, vector);
  }

  remove(label: number): void {
    this.#markStale([label]);
    const graph = this.#graphOrPending();
    if (graph !== undefined) graph.remove(label);
    else this.#pending!.delete(label);
  }

  upsertBatch(labels: Uint32Array, vectors: Float32Array, threads = defaultThreadCount()): void {
    this.#checkBatch(labels, vectors);
    this.#markStale(labels);
    const graph = this.#graphOrPending() ?? this.#trainWith(labels, vectors, threads);
    if (graph !== undefined) graph.upsertBatch(labels, vectors, threads);
    else this.#holdBatch(labels, vectors);
  }

  /** The batch that trains the index inserts into the new graph off the event loop too. */
  async upsertBatchAsync(labels: Uint32Array, vectors: Float32Array, threads = defaultThreadCount()): Promise<void> {
    this.#checkBatch(labels, vectors);
    this.#markStale(labels);
    const graph = this.#graphOrPending() ?? this.#trainWith(labels, vectors, threads);
    if (graph !== undefined) return graph.upsertBatchAsync(labels, vectors, threads);
    this.#holdBatch(labels, vectors);
    await new Promise<void>((resolve) => setImmediate(resolve));
  }

  upsertBatchQueued(labels: Uint32Array, vectors: Float32Array, threads = defaultThreadCount()): Promise<void> {
    this.#checkBatch(labels, vectors);
    this.#markStale(labels);
    const graph = this.#graphOrPending() ?? this.#trainWith(labels, vectors, threads);
    if (graph !== undefined) return graph.upsertBatchQueued(labels, vectors, threads);
    this.#holdBatch(labels, vectors);
    return Promise.resolve();
  }

  prefersBatch(count: number, threads: number): boolean {
    // Before training a batch trains on all of it at once.
    return this.#graph === undefined ? true : this.#graph.prefersBatch(count, threads);
  }

  search(query: Float32Array, k: number, ef: number): Neighbours {
    return this.#searchRescored(query, k, ef, this.params.rerank).neighbours;
  }

  /** The graph search for max(k, rerank) candidates (the query's `rerank`, else the collection's), rescored. */
  searchPlanned(query: Float32Array, k: number, effort: SearchEffort): Searched {
    const rerank = effort.rerank ?? this.params.rerank;
    const searched = this.#searchRescored(query, k, effort.ef, rerank);
    const plan: PlanFields =
      this.#graph === undefined
        ? { strategy: 'exact', candidatesScored: searched.scored }
        : {
            strategy: 'hnsw',
            ef: Math.max(effort.ef, k, rerank),
            rerank,
            rerankFrom: effort.rerank === undefined ? 'collection' : 'query',
            candidatesScored: searched.scored,
          };
    return { neighbours: searched.neighbours, plan };
  }

  searchAllowed(
    query: Float32Array,
    k: number,
    allowed: AllowedLabels,
    effort: SearchEffort,
  ): { neighbours: Neighbours | undefined; plan: PlanFields } {
    const graph = this.#graphOrPending();
    if (graph === undefined) return { neighbours: undefined, plan: {} };
    const rerank = effort.rerank ?? this.params.rerank;
    const wanted = Math.min(allowed.labels.length, Math.max(k, rerank));
    const found = graph.searchAllowed(query, wanted, allowed, { ef: Math.max(effort.ef, wanted) });
    if (found.neighbours === undefined) return found;
    const neighbours = this.#rescore(query, found.neighbours.labels, k);
    return { neighbours, plan: { ...found.plan, rerank, candidatesScored: found.neighbours.labels.length } };
  }

  /** The graph holds codes, not the float vectors: the caller scores the labels from the records. */
  exactAmong(): undefined {
    return undefined;
  }

  searchBatch(queries: Float32Array, k: number, ef: number, threads = defaultThreadCount()): BatchNeighbours {
    const graph = this.#graphOrPending();
    const count = this.#queryCount(queries);
    const wanted = Math.min(this.size, Math.max(k, this.params.rerank));
    const found =
      graph === undefined || wanted === 0
        ? undefined
        : graph.searchBatch(queries, wanted, Math.max(ef, wanted), threads);
    return this.#finishBatch(queries, count, k, found);
  }

  async searchBatchAsync(
    queries: Float32Array,
    k: number,
    ef: number,
    threads = defaultThreadCount(),
  ): Promise<BatchNeighbours> {
    const graph = this.#graphOrPending();
    const count = this.#queryCount(queries);
    const wanted = Math.min(this.size, Math.max(k, this.params.rerank));
    const found =
      graph === undefined || wanted === 0
        ? undefined
        : await graph.searchBatchAsync(queries, wanted, Math.max(ef, wanted), threads);
    return this.#finishBatch(queries, count, k, found);
  }

  /**
   * Writes hnswlib's graph file behind the ranges block (the layout in this module's header).
   * @throws QuiverError INTERNAL before training (there is no graph: {@link savable} is false).
   */
  writeGraph(graphFile: string): void {
    const graph = this.#graphOrPending();
    if (graph === undefined || this.#ranges === undefined) {
      throw new QuiverError('INTERNAL', 'an int8 HNSW index has no graph to write before its ranges are learned');
    }
    graph.writeGraph(graphFile);
    prependRanges(graphFile, this.#ranges);
  }

  liveLabels(): Uint32Array {
    const graph = this.#graphOrPending();
    if (graph !== undefined) return graph.liveLabels();
    return Uint32Array.from(this.#pending!.keys()).sort();
  }

  /**
   * Writes the float-vector file of a snapshot covering `seq` to `path` (fsynced; the caller renames
   * it beside the snapshot): each live label's vector from this index's current file where it has
   * not changed since, else from the records (normalised for cosine).
   */
  writeVectorFile(path: string, seq: number): void {
    const labels = this.liveLabels();
    writeVectorFile(path, { dim: this.dim, metric: this.metric, seq }, labels, (run, out, ok) => {
      this.#readFresh(run, out, ok);
      const missing: number[] = [];
      const rowOf = new Map<number, number>();
      run.forEach((label, row) => {
        if (ok[row] === 1) return;
        missing.push(label);
        rowOf.set(label, row);
      });
      for (const { label, vector } of this.#fetch(missing)) {
        const row = rowOf.get(label);
        if (row === undefined) continue;
        out.set(this.metric === 'cosine' ? normalized(vector) : vector, row * this.dim);
        ok[row] = 1;
      }
    });
  }

  /**
   * Rescorings read the labels that have not changed since from the float-vector file at `path`
   * (written by {@link writeVectorFile} for `seq`), from now on. A file that is missing or does not
   * fit is reported through `onVectorFileProblem`, and the records answer instead.
   */
  useVectorFile(path: string, seq: number): void {
    this.#vectors?.close();
    this.#vectors = undefined;
    this.#damageReported = false;
    try {
      this.#vectors = VectorFile.open(path, { dim: this.dim, metric: this.metric, seq });
    } catch (error) {
      if (!(error instanceof QuiverError)) throw error;
      this.#fileOptions.onVectorFileProblem?.(`the float-vector file ${path} is not used: ${error.message}`);
      return;
    }
    this.#stale = new Uint8Array(Math.ceil(this.#vectors.slots / 8));
  }

  dispose(): void {
    this.#disposed = true;
    this.#graph?.dispose();
    this.#graph = undefined;
    this.#pending = undefined;
    this.#vectors?.close();
    this.#vectors = undefined;
  }

  /** Marks labels as changed since the float-vector file was written. */
  #markStale(labels: ArrayLike<number>): void {
    const stale = this.#stale;
    for (let i = 0; i < labels.length; i++) {
      const label = labels[i]!;
      if (label >> 3 < stale.length) stale[label >> 3]! |= 1 << (label & 7);
    }
  }

  /**
   * Reads into row i of `out` the vector of labels[i] from the float-vector file where the label
   * has not changed since it was written, setting ok[i] to 1 (else 0). A slot that should be there
   * but does not read back whole and checked is reported once. Returns the number read.
   */
  #readFresh(labels: Uint32Array, out: Float32Array, ok: Uint8Array): number {
    ok.fill(0, 0, labels.length);
    const file = this.#vectors;
    if (file === undefined) return 0;
    const stale = this.#stale;
    const rows: number[] = [];
    labels.forEach((label, row) => {
      if (label < file.slots && (stale[label >> 3]! & (1 << (label & 7))) === 0) rows.push(row);
    });
    if (rows.length === 0) return 0;
    // Usually every label is unchanged: then the rows are read in place.
    const all = rows.length === labels.length;
    const wanted = all ? labels : Uint32Array.from(rows, (row) => labels[row]!);
    const read = all ? out : new Float32Array(wanted.length * this.dim);
    const readOk = all ? ok : new Uint8Array(wanted.length);
    const count = file.read(wanted, read, readOk);
    if (!all) {
      rows.forEach((row, i) => {
        if (readOk[i] !== 1) return;
        out.set(read.subarray(i * this.dim, (i + 1) * this.dim), row * this.dim);
        ok[row] = 1;
      });
    }
    if (count < wanted.length && !this.#damageReported) {
      this.#damageReported = true;
      const bad = wanted.find((_, i) => readOk[i] !== 1);
      this.#fileOptions.onVectorFileProblem?.(
        `the float-vector file ${file.path} has a damaged slot (label ${bad}): those vectors are read from the records`,
      );
    }
    return count;
  }

  /** The graph once trained, else undefined (the pending vectors answer). */
  #graphOrPending(): HnswIndex | undefined {
    if (this.#disposed) throw new QuiverError('CLOSED', 'the HNSW index was disposed');
    return this.#graph;
  }

  #adopt(ranges: Int8Ranges, graph: HnswIndex): void {
    // Without the format a file was read under: a graph in memory, and every file it writes, is current.
    this.#ranges = { lows: ranges.lows, highs: ranges.highs };
    this.#graph = graph;
    this.#pending = undefined;
  }

  #hold(label: number, vector: Float32Array): void {
    this.#pending!.set(label, this.metric === 'cosine' ? normalized(vector) : vector.slice());
  }

  #holdBatch(labels: Uint32Array, vectors: Float32Array): void {
    for (let row = 0; row < labels.length; row++) {
      this.#hold(labels[row]!, vectors.subarray(row * this.dim, (row + 1) * this.dim));
    }
  }

  /** Rejects a batch of the wrong shape or with a repeated label before anything changes. */
  #checkBatch(labels: Uint32Array, vectors: Float32Array): void {
    if (!(vectors instanceof Float32Array) || vectors.length !== labels.length * this.dim) {
      throw new QuiverError(
        'INVALID_ARGUMENT',
        `vectors must hold labels.length rows of dim ${this.dim}, got ${vectors?.length} numbers for ${labels.length} labels`,
      );
    }
    checkDistinctLabels(labels);
  }

  /**
   * Once the held vectors and the batch reach TRAINING_MINIMUM labels: learns the ranges from all
   * of them, builds the graph of the held ones (fewer than TRAINING_MINIMUM, so quickly) and returns
   * it for the caller to insert the batch its own way (sync, async or queued). Else undefined.
   */
  #trainWith(labels: Uint32Array, vectors: Float32Array, threads: number): HnswIndex | undefined {
    const pending = this.#pending!;
    let total = pending.size;
    for (const label of labels) if (!pending.has(label)) total++;
    if (total < TRAINING_MINIMUM) return undefined;
    const held = Uint32Array.from(pending.keys());
    const heldRows = new Float32Array(held.length * this.dim);
    held.forEach((label, row) => {
      heldRows.set(pending.get(label)!, row * this.dim);
    });
    const batchRows = this.metric === 'cosine' ? normalizedRows(vectors, this.dim) : vectors;
    const training = new Float32Array(heldRows.length + batchRows.length);
    training.set(heldRows);
    training.set(batchRows, heldRows.length);
    const ranges = learnRanges(training, this.dim, held.length + labels.length);
    const capacity = Math.max(this.#initialCapacity, total);
    const graph = new HnswIndex(this.metric, this.dim, this.params, capacity, this.#kernels, ranges);
    try {
      if (held.length > 0) graph.upsertBatch(held, heldRows, threads);
    } catch (error) {
      graph.dispose();
      throw error;
    }
    this.#adopt(ranges, graph);
    return graph;
  }

  /** Exact k-NN over the held vectors (before training). */
  #searchPending(query: Float32Array, k: number): Neighbours {
    const pending = this.#pending!;
    const labels = Array.from(pending.keys());
    const base = new Float32Array(labels.length * this.dim);
    labels.forEach((label, row) => {
      base.set(pending.get(label)!, row * this.dim);
    });
    const found = exactAmong(this.metric, query, base, this.dim, k);
    return { labels: found.labels.map((row) => labels[row]!), distances: found.distances };
  }

  #searchRescored(
    query: Float32Array,
    k: number,
    ef: number,
    rerank: number,
  ): { neighbours: Neighbours; scored: number } {
    const graph = this.#graphOrPending();
    if (k < 1 || this.size === 0) return { neighbours: { labels: [], distances: [] }, scored: 0 };
    if (graph === undefined) return { neighbours: this.#searchPending(query, k), scored: this.size };
    const wanted = Math.min(this.size, Math.max(k, rerank));
    const candidates = graph.search(query, wanted, Math.max(ef, wanted));
    return { neighbours: this.#rescore(query, candidates.labels, k), scored: candidates.labels.length };
  }

  /**
   * The k best of `candidates` by the exact distance over their float vectors: from the float-vector
   * file where it holds them (#readFresh), the rest from the records.
   */
  #rescore(query: Float32Array, candidates: readonly number[], k: number): Neighbours {
    if (candidates.length === 0) return { labels: [], distances: [] };
    const dim = this.dim;
    const wanted = Uint32Array.from(candidates);
    // One buffer for every rescoring (a query's allocation of rerank × dim floats would otherwise
    // be garbage of tens of MiB between collections, counted in the resident memory).
    if (this.#rows.length < wanted.length * dim) {
      this.#rows = new Float32Array(wanted.length * dim);
      this.#rowsRead = new Uint8Array(wanted.length);
    }
    const base = this.#rows;
    const ok = this.#rowsRead;
    this.#readFresh(wanted, base, ok);
    // Rows read from the file move up to close the gaps; the records' vectors follow them.
    const labels: number[] = [];
    const missing: number[] = [];
    wanted.forEach((label, row) => {
      if (ok[row] !== 1) {
        missing.push(label);
        return;
      }
      if (labels.length !== row) base.copyWithin(labels.length * dim, row * dim, (row + 1) * dim);
      labels.push(label);
    });
    if (missing.length > 0) {
      for (const { label, vector } of this.#fetch(missing)) {
        base.set(this.metric === 'cosine' ? normalized(vector) : vector, labels.length * dim);
        labels.push(label);
      }
    }
    const found = exactAmong(this.metric, query, base.subarray(0, labels.length * dim), dim, k);
    return { labels: found.labels.map((row) => labels[row]!), distances: found.distances };
  }

  #finishBatch(queries: Float32Array, count: number, k: number, found: BatchNeighbours | undefined): BatchNeighbours {
    const labels = new Uint32Array(count * k).fill(NO_LABEL);
    const distances = new Float32Array(count * k).fill(Number.POSITIVE_INFINITY);
    for (let row = 0; row < count; row++) {
      const query = queries.subarray(row * this.dim, (row + 1) * this.dim);
      const answer =
        found === undefined ? this.#searchPending(query, k) : this.#rescore(query, batchRow(found, row).labels, k);
      answer.labels.forEach((label, i) => {
        labels[row * k + i] = label;
        distances[row * k + i] = answer.distances[i]!;
      });
    }
    return { count, k, labels, distances };
  }

  #queryCount(queries: Float32Array): number {
    if (!(queries instanceof Float32Array) || queries.length % this.dim !== 0) {
      throw new QuiverError(
        'INVALID_ARGUMENT',
        `queries must be a Float32Array of whole rows of dim ${this.dim}, got ${queries?.length} numbers`,
      );
    }
    return queries.length / this.dim;
  }
}

/** The ranges block of `ranges` (the layout in this module's header). */
function rangesBlock(ranges: Int8Ranges): Buffer {
  const dim = ranges.lows.length;
  const block = Buffer.alloc(HEAD_BYTES + 8 * dim);
  for (let d = 0; d < dim; d++) {
    block.writeFloatLE(ranges.lows[d]!, HEAD_BYTES + 4 * d);
    block.writeFloatLE(ranges.highs[d]!, HEAD_BYTES + 4 * (dim + d));
  }
  MAGIC.copy(block, 0);
  block.writeUInt32LE(RANGES_VERSION, 8);
  block.writeUInt32LE(dim, 12);
  block.writeUInt32LE(crc32(block.subarray(HEAD_BYTES)), 16);
  return block;
}

/** Puts the ranges block in front of the graph file just written (the file moves up in place). */
function prependRanges(graphFile: string, ranges: Int8Ranges): void {
  const block = rangesBlock(ranges);
  const descriptor = openSync(graphFile, 'r+');
  try {
    const size = fstatSync(descriptor).size;
    const chunk = Buffer.alloc(SHIFT_CHUNK);
    // From the end backwards, so that no byte is overwritten before it is moved.
    for (let end = size; end > 0; ) {
      const start = Math.max(0, end - SHIFT_CHUNK);
      const length = end - start;
      readExactly(descriptor, chunk, length, start);
      writeExactly(descriptor, chunk.subarray(0, length), start + block.length);
      end = start;
    }
    writeExactly(descriptor, block, 0);
  } finally {
    closeSync(descriptor);
  }
}

/**
 * Reads and checks the ranges block at the start of a graph file, then takes it off (the graph
 * moves down in place) so that the file is hnswlib's graph alone again.
 * @throws QuiverError CORRUPT when the block is missing, damaged or of another dim.
 */
function takeRanges(graphFile: string, dim: number): Int8Ranges {
  const descriptor = openSync(graphFile, 'r+');
  try {
    const size = fstatSync(descriptor).size;
    const blockBytes = HEAD_BYTES + 8 * dim;
    const block = Buffer.alloc(blockBytes);
    const read = readSync(descriptor, block, 0, blockBytes, 0);
    const ranges = parseRanges(block.subarray(0, read), dim);
    const chunk = Buffer.alloc(SHIFT_CHUNK);
    for (let start = blockBytes; start < size; start += SHIFT_CHUNK) {
      const length = Math.min(SHIFT_CHUNK, size - start);
      readExactly(descriptor, chunk, length, start);
      writeExactly(descriptor, chunk.subarray(0, length), start - blockBytes);
    }
    ftruncateSync(descriptor, size - blockBytes);
    return ranges;
  } finally {
    closeSync(descriptor);
  }
}

/** {@link takeRanges} with the file's reads and writes off the event loop. */
async function takeRangesAsync(graphFile: string, dim: number): Promise<Int8Ranges> {
  const handle = await openFile(graphFile, 'r+');
  try {
    const size = (await handle.stat()).size;
    const blockBytes = HEAD_BYTES + 8 * dim;
    const block = Buffer.alloc(blockBytes);
    const { bytesRead } = await handle.read(block, 0, blockBytes, 0);
    const ranges = parseRanges(block.subarray(0, bytesRead), dim);
    const chunk = Buffer.alloc(SHIFT_CHUNK);
    for (let start = blockBytes; start < size; start += SHIFT_CHUNK) {
      const length = Math.min(SHIFT_CHUNK, size - start);
      for (let done = 0; done < length; ) {
        const read = await handle.read(chunk, done, length - done, start + done);
        if (read.bytesRead === 0)
          throw new QuiverError('IO_ERROR', 'a graph file ended while its int8 ranges were moved');
        done += read.bytesRead;
      }
      for (let done = 0; done < length; ) {
        done += (await handle.write(chunk, done, length - done, start - blockBytes + done)).bytesWritten;
      }
    }
    await handle.truncate(size - blockBytes);
    return ranges;
  } finally {
    await handle.close();
  }
}

/**
 * The ranges block at the start of a snapshot's graph range, checked, and the graph's own range after
 * it: the block's bytes continue the range's checksum (the snapshot file is never changed).
 */
function rangesOfRange(range: HnswGraphRange, dim: number): { ranges: Int8Ranges; rest: HnswGraphRange } {
  const block = Buffer.alloc(Math.min(HEAD_BYTES + 8 * dim, range.length));
  const descriptor = openSync(range.path, 'r');
  try {
    const read = readSync(descriptor, block, 0, block.length, range.offset);
    return afterRanges(range, block.subarray(0, read), dim);
  } finally {
    closeSync(descriptor);
  }
}

/** {@link rangesOfRange} with an asynchronous read. */
async function rangesOfRangeAsync(
  range: HnswGraphRange,
  dim: number,
): Promise<{ ranges: Int8Ranges; rest: HnswGraphRange }> {
  const block = Buffer.alloc(Math.min(HEAD_BYTES + 8 * dim, range.length));
  const handle = await openFile(range.path, 'r');
  try {
    const { bytesRead } = await handle.read(block, 0, block.length, range.offset);
    return afterRanges(range, block.subarray(0, bytesRead), dim);
  } finally {
    await handle.close();
  }
}

function afterRanges(range: HnswGraphRange, block: Buffer, dim: number): { ranges: Int8Ranges; rest: HnswGraphRange } {
  const ranges = parseRanges(block, dim);
  return {
    ranges,
    rest: {
      ...range,
      offset: range.offset + block.length,
      length: range.length - block.length,
      crcSeed: crc32(block, range.crcSeed),
    },
  };
}

/**
 * The ranges of a block read from the start of a graph file (`bytes` may be short).
 * @throws QuiverError CORRUPT when the block is missing, damaged or of another dim.
 */
function parseRanges(bytes: Uint8Array, dim: number): Int8Ranges {
  const corrupt = (reason: string) =>
    new QuiverError('CORRUPT', `the snapshot graph could not be loaded (its int8 ranges ${reason})`);
  const block = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (block.length < HEAD_BYTES || !block.subarray(0, 8).equals(MAGIC)) throw corrupt('are missing');
  const version = block.readUInt32LE(8);
  if (version !== 1 && version !== RANGES_VERSION) {
    throw corrupt(`have format version ${version}, not 1 or ${RANGES_VERSION}`);
  }
  const storedDim = block.readUInt32LE(12);
  if (storedDim !== dim) throw corrupt(`are of dim ${storedDim}, not ${dim}`);
  if (block.length < HEAD_BYTES + 8 * dim) throw corrupt('are cut short');
  if (block.readUInt32LE(16) !== crc32(block.subarray(HEAD_BYTES, HEAD_BYTES + 8 * dim))) {
    throw corrupt('fail their checksum');
  }
  const lows = new Float32Array(dim);
  const highs = new Float32Array(dim);
  for (let d = 0; d < dim; d++) {
    lows[d] = block.readFloatLE(HEAD_BYTES + 4 * d);
    highs[d] = block.readFloatLE(HEAD_BYTES + 4 * (dim + d));
    if (!Number.isFinite(lows[d]) || !Number.isFinite(highs[d]) || highs[d]! < lows[d]!) {
      throw corrupt(`give dimension ${d} no finite [low, high]`);
    }
  }
  return version === 1 ? { lows, highs, format: 1 } : { lows, highs };
}

function readExactly(descriptor: number, into: Buffer, length: number, position: number): void {
  for (let done = 0; done < length; ) {
    const read = readSync(descriptor, into, done, length - done, position + done);
    if (read === 0) throw new QuiverError('IO_ERROR', 'a graph file ended while its int8 ranges were moved');
    done += read;
  }
}

function writeExactly(descriptor: number, bytes: Buffer, position: number): void {
  for (let done = 0; done < bytes.length; )
    done += writeSync(descriptor, bytes, done, bytes.length - done, position + done);
}
