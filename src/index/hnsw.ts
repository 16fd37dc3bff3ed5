// The HNSW index: QuiverDB's native hnswlib graph (src/native/hnsw-graph.ts) plus the bookkeeping hnswlib
// leaves to its caller — which labels are live or deleted, capacity growth, and ef per query.
// Deleted labels stay in the graph marked deleted; upserting such a label again reuses its slot
// (hnswlib updates the point and unmarks it), so the graph does not grow under churn.
import { QuiverError } from '../errors.js';
import type { Metric } from '../metric.js';
import {
  checkHnswAddArguments,
  createHnswGraph,
  type HnswGraphRange,
  type HnswKernels,
  type Int8Ranges,
  NO_LABEL,
  type NativeHnswGraph,
} from '../native/hnsw-graph.js';
import { defaultThreadCount } from '../native/threads.js';
import { EXACT_MATCH_LIMIT, EXACT_SELECTIVITY_LIMIT, EXACT_WORK_LIMIT, MAX_FILTERED_EF } from './filtered-limits.js';
import { InsertQueue, mergeNeighbours } from './hnsw-queue.js';
import type {
  AllowedLabels,
  AnnIndex,
  BatchNeighbours,
  Neighbours,
  PlanFields,
  SearchEffort,
  Searched,
} from './types.js';

/** Upserts per committed batch from which the graph inserts them on native threads. */
const PARALLEL_UPSERT_MINIMUM = 1000;

export interface HnswParams {
  readonly m: number;
  readonly efConstruction: number;
}

/** Seed of hnswlib's level generator: fixed, so a build from the same records is repeatable. */
const RANDOM_SEED = 100;
/**
 * Queued inserts reach the graph in slices of about this many numbers (rows × dim) per thread, at
 * least 32 rows: a search from the event loop waits for the slice being inserted, so slices are
 * short (64 rows of 128 numbers on 2 threads: tens of milliseconds); each costs one hand-over to
 * the native threads, small beside its inserts.
 */
const QUEUED_SLICE_NUMBERS_PER_THREAD = 4096;

/** A caller of upsertBatchQueued, waiting until every change up to `stamp` is in the graph. */
interface Waiter {
  readonly stamp: number;
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

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
  readonly #int8: boolean; // its vectors are 8-bit codes (hnsw-int8.ts)
  #slots: Uint8Array; // Slot state per label
  #size = 0; // live labels
  #nodes = 0; // labels in the graph, live or deleted: one node each
  #capacity: number; // the graph's max elements
  // Reused by upsert and search so that one-at-a-time calls allocate nothing native-facing.
  #oneLabel = new Uint32Array(1);
  /** While queued inserts run: the committed changes the graph has not received yet. */
  #queue: InsertQueue | undefined;
  /** Stamps order queued changes; a caller of upsertBatchQueued waits for its last stamp. */
  #stamp = 0;
  #waiters: Waiter[] = [];
  #queueThreads = 1;
  /** Set when a queued insert failed: the graph's state is unknown and the index must be rebuilt. */
  #failure: QuiverError | undefined;
  #resultLabels = new Uint32Array(16);
  #resultDistances = new Float32Array(16);

  /**
   * `kernels` 'hnswlib' makes the graph bit-identical to hnswlib-node's (hnswlib's kernels, and its
   * search loop with them: see {@link HnswKernels} and HnswSearchLoop in native/hnsw-graph.ts).
   */
  constructor(
    metric: Metric,
    dim: number,
    params: HnswParams,
    initialCapacity = 1024,
    kernels: HnswKernels = 'simd',
    ranges?: Int8Ranges,
  ) {
    this.metric = metric;
    this.dim = dim;
    this.params = params;
    this.#capacity = Math.max(16, initialCapacity);
    this.#int8 = ranges !== undefined;
    // With `ranges`: an int8 graph (its vectors as 8-bit codes, queries as 16-bit values; see hnsw-int8.ts).
    this.#graph = createHnswGraph(metric, dim, kernels, kernels === 'simd' ? 'sorted' : 'hnswlib', ranges);
    this.#graph.init({
      maxElements: this.#capacity,
      m: params.m,
      efConstruction: params.efConstruction,
      seed: RANDOM_SEED,
    });
    this.#slots = new Uint8Array(this.#capacity);
  }

  /**
   * Loads a graph written by `writeGraph` (or by the hnswlib-node path before it: same format),
   * from a whole graph file or from its range inside a snapshot file (read straight into native
   * memory and checksummed as it is read). `liveLabels` are the labels that were live when it was
   * written; every other label in the graph is treated as deleted. Throws CORRUPT when the graph
   * is unreadable or damaged (a wrong checksum), holds another dim, or does not hold every live label.
   */
  static load(
    graph: string | HnswGraphRange,
    metric: Metric,
    dim: number,
    params: HnswParams,
    liveLabels: Uint32Array,
    kernels: HnswKernels = 'simd',
    ranges?: Int8Ranges,
  ): HnswIndex {
    const index = new HnswIndex(metric, dim, params, 16, kernels, ranges);
    try {
      if (typeof graph === 'string') index.#open().load(graph);
      else index.#open().loadRange(graph);
    } catch (error) {
      index.dispose();
      throw HnswIndex.#corrupt(error);
    }
    index.#adoptLoaded(liveLabels);
    return index;
  }

  /** {@link HnswIndex.load} with the file read and the graph built off the event loop. */
  static async loadAsync(
    graph: string | HnswGraphRange,
    metric: Metric,
    dim: number,
    params: HnswParams,
    liveLabels: Uint32Array,
    kernels: HnswKernels = 'simd',
    ranges?: Int8Ranges,
  ): Promise<HnswIndex> {
    const index = new HnswIndex(metric, dim, params, 16, kernels, ranges);
    try {
      if (typeof graph === 'string') await index.#open().loadAsync(graph);
      else await index.#open().loadRangeAsync(graph);
    } catch (error) {
      index.dispose();
      throw HnswIndex.#corrupt(error);
    }
    index.#adoptLoaded(liveLabels);
    return index;
  }

  /**
   * Writes hnswlib's graph file (deleted nodes included; `liveLabels()` tells them apart).
   * @throws QuiverError INTERNAL while a queued insert runs (the graph lags the live labels).
   */
  writeGraph(graphFile: string): void {
    if (this.#queue !== undefined) {
      throw new QuiverError('INTERNAL', 'the HNSW graph cannot be written while a queued insert runs');
    }
    this.#open().save(graphFile);
  }

  /**
   * Writes the graph without its live vectors, which the records hold (a snapshot's graph; see
   * native/hnsw-file.h): links, labels, a CRC-32 per stored vector and the deleted nodes' vectors.
   * A graph loaded from it awaits its vectors: {@link fillVectors}, then {@link finishFill}.
   * @throws QuiverError INTERNAL while a queued insert runs, or for an int8 graph (its codes are not the records' vectors).
   */
  writeGraphWithoutVectors(graphFile: string): void {
    if (this.#queue !== undefined) {
      throw new QuiverError('INTERNAL', 'the HNSW graph cannot be written while a queued insert runs');
    }
    if (this.#int8) throw new QuiverError('INTERNAL', "an int8 graph's snapshot keeps its codes");
    this.#open().save(graphFile, true);
  }

  /**
   * Gives a graph loaded without vectors the float32 rows (bytes, rows.byteLength = labels.length ×
   * dim × 4) of `labels`. Returns the labels whose row differs from the one the graph was written
   * with, and those the graph does not await (absent, deleted in it, or given before): only the
   * log after the snapshot may explain them.
   */
  fillVectors(labels: Uint32Array, rows: Uint8Array): Uint32Array {
    return this.#open().fillVectors(labels, rows);
  }

  /**
   * Ends the fill: returns the live labels that got no row (deleted since the snapshot, if the log
   * says so). Each keeps a stand-in vector, the mean of its filled neighbours', until it is removed.
   */
  finishFill(): Uint32Array {
    return this.#open().finishFill();
  }

  /**
   * Exact k-NN of `query` among `labels` (live labels of this graph), scored over the graph's own
   * vectors without copying them out, on up to `threads` native threads (the same answer for any
   * count). Distances in hnswlib's raw conventions, best first, ties to the lower label.
   */
  exactAmong(query: Float32Array, labels: Int32Array | Uint32Array, k: number, threads = 1): Neighbours {
    if (this.#queue !== undefined) return this.#exactAmongQueued(this.#queue, query, labels, k, threads);
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
    if (this.#queue !== undefined) return this.#vectorsOfQueued(this.#queue, labels);
    const out = new Float32Array(labels.length * this.dim);
    this.#open().readVectors(labels instanceof Uint32Array ? labels : Uint32Array.from(labels), out);
    return out;
  }

  /** The live labels, ascending (queued changes included). */
  liveLabels(): Uint32Array {
    if (this.#queue !== undefined) return this.#liveLabelsQueued(this.#queue);
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
    if (this.#queue !== undefined) {
      this.#enqueue(this.#queue, label, vector);
      return;
    }
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
    if (this.#queue !== undefined) {
      this.#enqueueBatch(this.#queue, labels, vectors);
      return;
    }
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
    if (this.#queue !== undefined) return this.upsertBatchQueued(labels, vectors, threads);
    this.#prepareInsert(labels);
    const pending = graph.addBatchAsync(vectors, labels, threads);
    this.#markLive(labels);
    await pending;
  }

  /**
   * Queues `labels.length` vectors (rows of `vectors`; distinct labels) for insertion off the event
   * loop on `threads` native threads, in slices, and resolves when the graph holds them (or newer
   * changes of their labels). Until then every method answers for the queued state: `size` and
   * `liveLabels()` count them at once, searches score queued vectors exactly beside a graph search
   * that skips their labels (waiting natively at most for the slice being inserted), and `upsert`,
   * `upsertBatch` and `remove` queue behind them. Do not modify `vectors` before it settles.
   * Rejects with CLOSED when the index is disposed first; with NATIVE_ERROR when the graph fails,
   * after which every call throws that error ({@link failure}): dispose the index and rebuild it.
   * @throws QuiverError INVALID_ARGUMENT on a bad shape, a repeated label or a bad thread count.
   */
  upsertBatchQueued(labels: Uint32Array, vectors: Float32Array, threads = defaultThreadCount()): Promise<void> {
    this.#open();
    if (!Number.isInteger(threads) || threads < 1 || threads > 256) {
      throw new QuiverError('INVALID_ARGUMENT', `threads must be an integer from 1 to 256, got ${threads}`);
    }
    const queue = this.#queue ?? new InsertQueue(this.metric, this.dim);
    this.#enqueueBatch(queue, labels, vectors);
    this.#queueThreads = threads;
    const done = new Promise<void>((resolve, reject) => {
      this.#waiters.push({ stamp: this.#stamp, resolve, reject });
    });
    if (this.#queue === undefined) {
      this.#queue = queue;
      void this.#drain(queue);
    }
    return done;
  }

  /** True while queued inserts run (see {@link upsertBatchQueued}). */
  get busy(): boolean {
    return this.#queue !== undefined;
  }

  /** A graph is always worth a snapshot: rebuilding it costs far more than loading it. */
  get savable(): boolean {
    return true;
  }

  /** One native insert on `threads` threads pays off for a batch of PARALLEL_UPSERT_MINIMUM upserts. */
  prefersBatch(count: number, threads: number): boolean {
    return threads > 1 && count >= PARALLEL_UPSERT_MINIMUM;
  }

  /** The error of a failed queued insert: the index is unusable and must be rebuilt. */
  get failure(): QuiverError | undefined {
    return this.#failure;
  }

  remove(label: number): void {
    if (this.#queue !== undefined) {
      if (this.#isLive(this.#queue, label)) this.#enqueue(this.#queue, label, null);
      return;
    }
    if (this.#slots[label] !== Slot.Live) return;
    this.#open().markDelete(label);
    this.#slots[label] = Slot.Deleted;
    this.#size--;
  }

  search(query: Float32Array, k: number, ef: number): Neighbours {
    const graph = this.#open();
    if (this.#size === 0 || k < 1) return { labels: [], distances: [] };
    // Beside queued changes: the batch path, which merges their exact answers with the graph's.
    if (this.#queue !== undefined) return batchRow(this.searchBatch(query, Math.min(k, this.#size), ef, 1), 0);
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

  searchPlanned(query: Float32Array, k: number, effort: SearchEffort): Searched {
    const plan: PlanFields = { strategy: 'hnsw', ef: Math.max(effort.ef, k), candidatesScored: 0 };
    return { neighbours: k === 0 ? { labels: [], distances: [] } : this.search(query, k, effort.ef), plan };
  }

  /**
   * The graph search restricted to the allowed labels by a native allow-list, its effort widened as
   * the filter gets more selective; undefined neighbours when exact scoring of the matches is
   * cheaper or the search came back short.
   */
  searchAllowed(
    query: Float32Array,
    k: number,
    allowed: AllowedLabels,
    effort: SearchEffort,
  ): { neighbours: Neighbours | undefined; plan: PlanFields } {
    const matches = allowed.labels.length;
    const selectivity = this.#size === 0 ? 0 : matches / this.#size;
    const exactIsCheaper =
      matches <= EXACT_MATCH_LIMIT ||
      (selectivity <= EXACT_SELECTIVITY_LIMIT && matches * this.dim <= EXACT_WORK_LIMIT);
    if (exactIsCheaper) return { neighbours: undefined, plan: {} };
    // hnswlib keeps only allowed nodes in its result list but walks through all of them, so a
    // selective filter needs a longer list to find k allowed ones: widen ef by 1/sqrt(selectivity).
    const widened = Math.min(MAX_FILTERED_EF, matches, Math.ceil(Math.max(effort.ef, k) / Math.sqrt(selectivity)));
    const plan: PlanFields = { strategy: 'hnsw', ef: Math.max(widened, k) };
    const found = this.searchBatch(query, k, plan.ef!, 1, allowed.allow);
    const neighbours: Neighbours = { labels: [], distances: [] };
    for (let i = 0; i < k; i++) {
      const label = found.labels[i]!;
      if (label === NO_LABEL) break;
      neighbours.labels.push(label);
      neighbours.distances.push(found.distances[i]!);
    }
    if (neighbours.labels.length === k) return { neighbours, plan };
    plan.fallback = true;
    return { neighbours: undefined, plan };
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
    const batch = this.#batchSearch(queries, k, ef, threads, allow);
    this.#open().searchBatch(batch.request);
    return batch.finish();
  }

  /** {@link HnswIndex.searchBatch} off the event loop; do not modify `queries` or `allow` before it settles. */
  async searchBatchAsync(
    queries: Float32Array,
    k: number,
    ef: number,
    threads = defaultThreadCount(),
    allow?: Uint8Array,
  ): Promise<BatchNeighbours> {
    // The pair answers for the state at this call; the caller re-answers if a write lands meanwhile.
    const batch = this.#batchSearch(queries, k, ef, threads, allow);
    await this.#open().searchBatchAsync(batch.request);
    return batch.finish();
  }

  /**
   * The native request of a batch search and how to finish its answer. With queued changes: their
   * exact answers now, and a graph search that skips their labels, merged by `finish`.
   */
  #batchSearch(queries: Float32Array, k: number, ef: number, threads: number, allow: Uint8Array | undefined) {
    this.#open();
    const count = this.#queryCount(queries);
    const labels = new Uint32Array(count * k);
    const distances = new Float32Array(count * k);
    const queue = this.#queue;
    const fromQueue = queue === undefined ? undefined : this.#nearestQueued(queue, queries, count, k, allow);
    const allowed = queue === undefined ? allow : queue.graphAllowList(allow, this.#slots.length);
    const request = {
      queries,
      k,
      ef: Math.max(ef, k),
      threads,
      labels,
      distances,
      ...(allowed ? { allow: allowed } : {}),
    };
    const finish = (): BatchNeighbours => {
      const found = { count, k, labels, distances };
      if (fromQueue !== undefined) mergeIntoBatch(found, fromQueue);
      return found;
    };
    return { request, finish };
  }

  dispose(): void {
    // Queued changes die with the graph; whoever waits for them learns it.
    const waiters = this.#waiters;
    this.#waiters = [];
    this.#queue?.clear();
    this.#queue = undefined;
    for (const waiter of waiters) {
      waiter.reject(new QuiverError('CLOSED', 'the HNSW index was disposed before its queued insert finished'));
    }
    // Frees the native graph now (after any running native call on it finishes) rather than
    // whenever the wrapper is collected.
    this.#graph?.dispose();
    this.#graph = undefined;
    this.#slots = new Uint8Array(0);
    this.#size = 0;
    this.#nodes = 0;
  }

  #open(): NativeHnswGraph {
    if (this.#failure !== undefined) throw this.#failure;
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

  /** True when `label` is live once the queued changes are in. */
  #isLive(queue: InsertQueue, label: number): boolean {
    const queued = queue.latest(label);
    return queued === undefined ? this.#slots[label] === Slot.Live : queued.vector !== null;
  }

  /** Queues a label's new state (a vector, or null to delete it); `size` follows at once. */
  #enqueue(queue: InsertQueue, label: number, vector: Float32Array | null): void {
    const wasLive = this.#isLive(queue, label);
    queue.set(label, vector, ++this.#stamp);
    this.#size += Number(vector !== null) - Number(wasLive);
  }

  #enqueueBatch(queue: InsertQueue, labels: Uint32Array, vectors: Float32Array): void {
    checkHnswAddArguments(this.dim, vectors, labels, 1);
    checkDistinctLabels(labels);
    for (let row = 0; row < labels.length; row++) {
      this.#enqueue(queue, labels[row]!, vectors.subarray(row * this.dim, (row + 1) * this.dim));
    }
  }

  /**
   * Hands the queue to the graph slice after slice until it is empty: deletions synchronously
   * (quick), upserts on the native threads. Settles the waiters whose changes are in.
   */
  async #drain(queue: InsertQueue): Promise<void> {
    let failure: unknown;
    try {
      while (queue.waiting) {
        const graph = this.#open();
        const slice = queue.take(this.#sliceRows());
        for (const label of slice.deletions) {
          if (this.#slots[label] !== Slot.Live) continue;
          graph.markDelete(label);
          this.#slots[label] = Slot.Deleted;
        }
        if (slice.labels.length > 0) {
          this.#prepareInsert(slice.labels);
          await graph.addBatchAsync(slice.vectors, slice.labels, this.#queueThreads);
          if (this.#queue !== queue) return; // disposed meanwhile; its waiters were told
          for (const label of slice.labels) {
            if (this.#slots[label] === Slot.Empty) this.#nodes++;
            this.#slots[label] = Slot.Live;
          }
        }
        queue.landed();
        this.#settle(queue.oldestStamp);
      }
    } catch (error) {
      failure = error;
    }
    if (this.#queue !== queue) return;
    this.#queue = undefined;
    if (failure === undefined) {
      this.#settle(Number.POSITIVE_INFINITY);
      return;
    }
    // The graph holds part of the queue at best: nothing it answers can be trusted any more.
    this.#failure =
      failure instanceof QuiverError
        ? failure
        : new QuiverError('NATIVE_ERROR', `a queued HNSW insert failed (${String(failure)})`, { cause: failure });
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const waiter of waiters) waiter.reject(this.#failure);
  }

  /** Resolves the waiters whose last change has a stamp below `oldest` (the oldest not yet in). */
  #settle(oldest: number): void {
    const waiting: Waiter[] = [];
    for (const waiter of this.#waiters) {
      if (waiter.stamp < oldest) waiter.resolve();
      else waiting.push(waiter);
    }
    this.#waiters = waiting;
  }

  #sliceRows(): number {
    return Math.max(32, Math.min(4096, Math.floor((QUEUED_SLICE_NUMBERS_PER_THREAD * this.#queueThreads) / this.dim)));
  }

  /** Exact answers among the queued vectors for each of `count` query rows. */
  #nearestQueued(
    queue: InsertQueue,
    queries: Float32Array,
    count: number,
    k: number,
    allow: Uint8Array | undefined,
  ): Neighbours[] {
    const answers: Neighbours[] = [];
    for (let row = 0; row < count; row++) {
      answers.push(queue.nearest(queries.subarray(row * this.dim, (row + 1) * this.dim), k, allow));
    }
    return answers;
  }

  #exactAmongQueued(
    queue: InsertQueue,
    query: Float32Array,
    labels: Int32Array | Uint32Array,
    k: number,
    threads: number,
  ): Neighbours {
    const inGraph = Uint32Array.from(labels).filter((label) => queue.latest(label) === undefined);
    let fromGraph: Neighbours = { labels: [], distances: [] };
    const wanted = Math.min(k, inGraph.length);
    if (wanted > 0) {
      const outLabels = new Uint32Array(wanted);
      const outDistances = new Float32Array(wanted);
      this.#open().exactAmong(query, inGraph, wanted, outLabels, outDistances, threads);
      fromGraph = { labels: Array.from(outLabels), distances: Array.from(outDistances) };
    }
    return mergeNeighbours(fromGraph, queue.nearestAmong(query, labels, k), k);
  }

  #vectorsOfQueued(queue: InsertQueue, labels: Int32Array | Uint32Array): Float32Array {
    const out = new Float32Array(labels.length * this.dim);
    const inGraph: number[] = [];
    labels.forEach((label, row) => {
      const queued = queue.vectorOf(label);
      if (queued === undefined) inGraph.push(row);
      else out.set(queued, row * this.dim);
    });
    if (inGraph.length > 0) {
      const read = new Float32Array(inGraph.length * this.dim);
      this.#open().readVectors(
        Uint32Array.from(inGraph, (row) => labels[row]!),
        read,
      );
      inGraph.forEach((row, i) => {
        out.set(read.subarray(i * this.dim, (i + 1) * this.dim), row * this.dim);
      });
    }
    return out;
  }

  #liveLabelsQueued(queue: InsertQueue): Uint32Array {
    const live: number[] = [];
    for (let label = 0; label < this.#slots.length; label++) {
      if (this.#slots[label] === Slot.Live && queue.latest(label) === undefined) live.push(label);
    }
    for (const label of queue.labels()) if (queue.latest(label)!.vector !== null) live.push(label);
    return Uint32Array.from(live.sort((a, b) => a - b));
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
/** Rejects a batch that names a label twice (INVALID_ARGUMENT naming the first repeat). */
export function checkDistinctLabels(labels: Uint32Array): void {
  if (labels.length < 2) return;
  const seen = new Set<number>();
  for (let i = 0; i < labels.length; i++) {
    if (seen.has(labels[i]!)) {
      throw new QuiverError(
        'INVALID_ARGUMENT',
        `labels[${i}] repeats label ${labels[i]}; a batch needs distinct labels`,
      );
    }
    seen.add(labels[i]!);
  }
}

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

/** Merges per-row answers over queued labels into a batch answer over the graph's other labels. */
function mergeIntoBatch(batch: BatchNeighbours, others: readonly Neighbours[]): void {
  const { k, labels, distances } = batch;
  others.forEach((other, row) => {
    const merged = mergeNeighbours(batchRow(batch, row), other, k);
    for (let i = 0; i < k; i++) {
      labels[row * k + i] = merged.labels[i] ?? NO_LABEL;
      distances[row * k + i] = merged.distances[i] ?? Number.POSITIVE_INFINITY;
    }
  });
}
