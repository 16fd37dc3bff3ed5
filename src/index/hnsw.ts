// The HNSW index: QuiverDB's native hnswlib graph (src/native.ts) plus the bookkeeping hnswlib
// leaves to its caller — which labels are live or deleted, capacity growth, and ef per query.
// Deleted labels stay in the graph marked deleted; upserting such a label again reuses its slot
// (hnswlib updates the point and unmarks it), so the graph does not grow under churn.
import { QuiverError } from '../errors.js';
import { createHnswGraph, defaultThreadCount, type HnswKernels, NO_LABEL, type NativeHnswGraph } from '../native.js';
import type { Metric } from '../schema.js';
import type { AnnIndex, Neighbours } from './types.js';

export interface HnswParams {
  readonly m: number;
  readonly efConstruction: number;
}

/**
 * The answers of a batch search: `count` rows of `k` results, row-major, best first. A row with
 * fewer than k results is padded with {@link NO_LABEL} and +Infinity. Distances are raw (see
 * {@link Neighbours}).
 */
export interface BatchNeighbours {
  readonly count: number;
  readonly k: number;
  readonly labels: Uint32Array;
  readonly distances: Float32Array;
}

/** Seed of hnswlib's level generator: fixed, so a build from the same records is repeatable. */
const RANDOM_SEED = 100;

enum Slot {
  Empty = 0,
  Live = 1,
  Deleted = 2,
}

export class HnswIndex implements AnnIndex {
  readonly type = 'hnsw';
  readonly metric: Metric;
  readonly dim: number;
  readonly params: HnswParams;
  #graph: NativeHnswGraph | undefined;
  #slots: Uint8Array; // Slot state per label
  #size = 0; // live labels
  #nodes = 0; // labels in the graph, live or deleted: one node each
  #capacity: number; // the graph's max elements
  // Reused by upsert and search so that one-at-a-time calls allocate nothing native-facing.
  #oneLabel = new Uint32Array(1);
  #resultLabels = new Uint32Array(16);
  #resultDistances = new Float32Array(16);

  /** `kernels` 'hnswlib' makes the graph bit-identical to hnswlib-node's (see {@link HnswKernels}). */
  constructor(metric: Metric, dim: number, params: HnswParams, initialCapacity = 1024, kernels: HnswKernels = 'simd') {
    this.metric = metric;
    this.dim = dim;
    this.params = params;
    this.#capacity = Math.max(16, initialCapacity);
    this.#graph = createHnswGraph(metric, dim, kernels);
    this.#graph.init({
      maxElements: this.#capacity,
      m: params.m,
      efConstruction: params.efConstruction,
      seed: RANDOM_SEED,
    });
    this.#slots = new Uint8Array(this.#capacity);
  }

  /**
   * Loads a graph written by `writeGraph` (or by the hnswlib-node path before it: same format).
   * `liveLabels` are the labels that were live when it was written; every other label in the
   * graph is treated as deleted. Throws CORRUPT when the graph is unreadable, holds another dim,
   * or does not hold every live label.
   */
  static load(
    graphFile: string,
    metric: Metric,
    dim: number,
    params: HnswParams,
    liveLabels: Uint32Array,
    kernels: HnswKernels = 'simd',
  ): HnswIndex {
    const index = new HnswIndex(metric, dim, params, 16, kernels);
    try {
      index.#open().load(graphFile);
    } catch (error) {
      index.dispose();
      throw HnswIndex.#corrupt(error);
    }
    index.#adoptLoaded(liveLabels);
    return index;
  }

  /** {@link HnswIndex.load} with the file read and the graph built off the event loop. */
  static async loadAsync(
    graphFile: string,
    metric: Metric,
    dim: number,
    params: HnswParams,
    liveLabels: Uint32Array,
    kernels: HnswKernels = 'simd',
  ): Promise<HnswIndex> {
    const index = new HnswIndex(metric, dim, params, 16, kernels);
    try {
      await index.#open().loadAsync(graphFile);
    } catch (error) {
      index.dispose();
      throw HnswIndex.#corrupt(error);
    }
    index.#adoptLoaded(liveLabels);
    return index;
  }

  /** Writes hnswlib's graph file (deleted nodes included; `liveLabels()` tells them apart). */
  writeGraph(graphFile: string): void {
    this.#open().save(graphFile);
  }

  /**
   * Exact k-NN of `query` among `labels` (live labels of this graph), scored over the graph's own
   * vectors without copying them out, on up to `threads` native threads (the same answer for any
   * count). Distances in hnswlib's raw conventions, best first, ties to the lower label.
   */
  exactAmong(query: Float32Array, labels: Int32Array | Uint32Array, k: number, threads = 1): Neighbours {
    const wanted = Math.min(k, labels.length);
    if (wanted === 0) return { labels: [], distances: [] };
    const outLabels = new Uint32Array(wanted);
    const outDistances = new Float32Array(wanted);
    const candidates =
      labels instanceof Uint32Array ? labels : new Uint32Array(labels.buffer, labels.byteOffset, labels.length);
    this.#open().exactAmong(query, candidates, wanted, outLabels, outDistances, threads);
    return { labels: Array.from(outLabels), distances: Array.from(outDistances) };
  }

  /** The stored vectors of `labels`, row after row (unit vectors for cosine), read from the graph. */
  vectorsOf(labels: Int32Array | Uint32Array): Float32Array {
    const out = new Float32Array(labels.length * this.dim);
    this.#open().readVectors(labels instanceof Uint32Array ? labels : Uint32Array.from(labels), out);
    return out;
  }

  /** The live labels, ascending. */
  liveLabels(): Uint32Array {
    const labels = new Uint32Array(this.#size);
    let count = 0;
    for (let label = 0; label < this.#slots.length; label++) {
      if (this.#slots[label] === Slot.Live) labels[count++] = label;
    }
    return labels;
  }

  get size(): number {
    return this.#size;
  }

  upsert(label: number, vector: Float32Array): void {
    const graph = this.#open();
    this.#oneLabel[0] = label;
    this.#prepareInsert(this.#oneLabel);
    graph.addBatch(vector, this.#oneLabel, 1);
    this.#markLive(this.#oneLabel);
  }

  /**
   * Inserts or replaces `labels.length` vectors (rows of `vectors`) on `threads` native threads.
   * Labels must be distinct. With threads 1 the graph is the one `upsert` would build, one label
   * at a time; with more, a graph of the same quality that varies from run to run.
   * @throws QuiverError INVALID_ARGUMENT on a bad shape or a repeated label, NATIVE_ERROR when
   * the addon fails (the index is then unusable: rebuild it).
   */
  upsertBatch(labels: Uint32Array, vectors: Float32Array, threads = defaultThreadCount()): void {
    const graph = this.#open();
    this.#prepareInsert(labels);
    graph.addBatch(vectors, labels, threads);
    this.#markLive(labels);
  }

  /**
   * {@link HnswIndex.upsertBatch} off the event loop. The labels count as live (in `size` and
   * `liveLabels()`) from the call on; searches wait natively until the insert is done. Do not
   * modify `labels` or `vectors` before the promise settles. Should it reject (NATIVE_ERROR), the
   * bookkeeping is ahead of the graph: dispose the index and rebuild it.
   */
  async upsertBatchAsync(labels: Uint32Array, vectors: Float32Array, threads = defaultThreadCount()): Promise<void> {
    const graph = this.#open();
    this.#prepareInsert(labels);
    const pending = graph.addBatchAsync(vectors, labels, threads);
    this.#markLive(labels);
    await pending;
  }

  remove(label: number): void {
    if (this.#slots[label] !== Slot.Live) return;
    this.#open().markDelete(label);
    this.#slots[label] = Slot.Deleted;
    this.#size--;
  }

  search(query: Float32Array, k: number, ef: number): Neighbours {
    const graph = this.#open();
    if (this.#size === 0 || k < 1) return { labels: [], distances: [] };
    const wanted = Math.min(k, this.#size);
    if (this.#resultLabels.length < wanted) {
      this.#resultLabels = new Uint32Array(wanted);
      this.#resultDistances = new Float32Array(wanted);
    }
    graph.searchBatch({
      queries: query,
      k: wanted,
      ef: Math.max(ef, wanted),
      threads: 1,
      labels: this.#resultLabels,
      distances: this.#resultDistances,
    });
    const labels: number[] = [];
    const distances: number[] = [];
    for (let i = 0; i < wanted; i++) {
      const label = this.#resultLabels[i]!;
      if (label === NO_LABEL) break;
      labels.push(label);
      distances.push(this.#resultDistances[i]!);
    }
    return { labels, distances };
  }

  /**
   * The k nearest live labels of each row of `queries` (nq × dim), on `threads` native threads;
   * with `allow`, only labels whose bit is set (bit L % 8 of byte L >> 3) are considered.
   * Each row equals what `search` returns for that query, padded to k.
   * @throws QuiverError INVALID_ARGUMENT on a bad shape, NATIVE_ERROR when the addon fails.
   */
  searchBatch(
    queries: Float32Array,
    k: number,
    ef: number,
    threads = defaultThreadCount(),
    allow?: Uint8Array,
  ): BatchNeighbours {
    const graph = this.#open();
    const count = this.#queryCount(queries);
    const labels = new Uint32Array(count * k);
    const distances = new Float32Array(count * k);
    graph.searchBatch({ queries, k, ef: Math.max(ef, k), threads, labels, distances, ...(allow ? { allow } : {}) });
    return { count, k, labels, distances };
  }

  /** {@link HnswIndex.searchBatch} off the event loop; do not modify `queries` or `allow` before it settles. */
  async searchBatchAsync(
    queries: Float32Array,
    k: number,
    ef: number,
    threads = defaultThreadCount(),
    allow?: Uint8Array,
  ): Promise<BatchNeighbours> {
    const graph = this.#open();
    const count = this.#queryCount(queries);
    const labels = new Uint32Array(count * k);
    const distances = new Float32Array(count * k);
    await graph.searchBatchAsync({
      queries,
      k,
      ef: Math.max(ef, k),
      threads,
      labels,
      distances,
      ...(allow ? { allow } : {}),
    });
    return { count, k, labels, distances };
  }

  dispose(): void {
    // Frees the native graph now (after any running native call on it finishes) rather than
    // whenever the wrapper is collected.
    this.#graph?.dispose();
    this.#graph = undefined;
    this.#slots = new Uint8Array(0);
    this.#size = 0;
    this.#nodes = 0;
  }

  #open(): NativeHnswGraph {
    if (this.#graph === undefined) throw new QuiverError('CLOSED', 'the HNSW index was disposed');
    return this.#graph;
  }

  static #corrupt(error: unknown): QuiverError {
    const reason = error instanceof Error ? error.message : String(error);
    return new QuiverError('CORRUPT', `the snapshot graph could not be loaded (${reason})`, { cause: error });
  }

  /** Rebuilds the bookkeeping from a freshly loaded graph. */
  #adoptLoaded(liveLabels: Uint32Array): void {
    const graph = this.#open();
    const present = graph.labels(); // ascending
    const highest = present.length > 0 ? present[present.length - 1]! : 0;
    const slots = new Uint8Array(Math.max(16, highest + 1));
    for (const label of present) slots[label] = Slot.Deleted;
    for (const label of liveLabels) {
      if (slots[label] !== Slot.Deleted) {
        this.dispose();
        throw new QuiverError('CORRUPT', `the snapshot graph lacks live label ${label}`);
      }
      slots[label] = Slot.Live;
    }
    this.#slots = slots;
    this.#size = liveLabels.length;
    this.#nodes = present.length;
    this.#capacity = graph.maxElements;
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

  /**
   * Grows the slots and the graph so that `labels` fit; rejects repeated labels (their order
   * between threads would be arbitrary). Changes no slot state.
   */
  #prepareInsert(labels: Uint32Array): void {
    let highest = -1;
    for (const label of labels) highest = Math.max(highest, label);
    if (highest >= this.#slots.length) this.#growSlots(highest + 1);
    let fresh = 0;
    if (labels.length === 1) {
      fresh = this.#slots[labels[0]!] === Slot.Empty ? 1 : 0;
    } else {
      const seen = new Uint8Array(highest + 1);
      for (let i = 0; i < labels.length; i++) {
        const label = labels[i]!;
        if (seen[label] === 1) {
          throw new QuiverError(
            'INVALID_ARGUMENT',
            `labels[${i}] repeats label ${label}; a batch needs distinct labels`,
          );
        }
        seen[label] = 1;
        if (this.#slots[label] === Slot.Empty) fresh++;
      }
    }
    if (this.#nodes + fresh > this.#capacity) {
      const capacity = Math.max(this.#capacity * 2, this.#nodes + fresh, 16);
      this.#open().resize(capacity);
      this.#capacity = capacity;
    }
  }

  /** After a successful (or started, for async) insert: the labels are live nodes. */
  #markLive(labels: Uint32Array): void {
    for (const label of labels) {
      const state = this.#slots[label]!;
      if (state === Slot.Empty) this.#nodes++;
      if (state !== Slot.Live) this.#size++;
      this.#slots[label] = Slot.Live;
    }
  }

  #growSlots(minimum: number): void {
    let length = Math.max(this.#slots.length, 16);
    while (length < minimum) length *= 2;
    const slots = new Uint8Array(length);
    slots.set(this.#slots);
    this.#slots = slots;
  }
}

/** Row `row` of a batch answer as {@link Neighbours}: its results up to the first padding slot. */
export function batchRow(batch: BatchNeighbours, row: number): Neighbours {
  const labels: number[] = [];
  const distances: number[] = [];
  for (let i = row * batch.k; i < (row + 1) * batch.k; i++) {
    const label = batch.labels[i]!;
    if (label === NO_LABEL) break;
    labels.push(label);
    distances.push(batch.distances[i]!);
  }
  return { labels, distances };
}
