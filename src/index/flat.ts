// Exact search: every live vector is scored against the query with the native batched kernel,
// on native threads when the caller passes them (the answer is the same for any thread count).
// Used for small collections, as ground truth, for selective filters, and as the fallback when an
// approximate search comes back short. Holds vectors in one growable Float32Array indexed by label.
import { nativeKernels } from '../native/kernels.js';
import type { Metric } from '../metric.js';
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

export class FlatIndex implements AnnIndex {
  readonly type = 'flat';
  readonly metric: Metric;
  readonly dim: number;
  readonly busy = false;
  readonly failure = undefined;
  /** Nothing to keep: a flat index is rebuilt from the records on open. */
  readonly savable = false;
  #vectors: Float32Array;
  #live: Uint8Array;
  #capacity: number;
  #highWater = 0; // one past the highest label ever stored
  #size = 0;
  #liveLabels: Int32Array | undefined; // cache of the live labels, dropped on every change

  constructor(metric: Metric, dim: number, initialCapacity = 1024) {
    this.metric = metric;
    this.dim = dim;
    this.#capacity = Math.max(1, initialCapacity);
    this.#vectors = new Float32Array(this.#capacity * dim);
    this.#live = new Uint8Array(this.#capacity);
  }

  get size(): number {
    return this.#size;
  }

  upsert(label: number, vector: Float32Array): void {
    if (label >= this.#capacity) this.#grow(label + 1);
    this.#vectors.set(this.metric === 'cosine' ? normalized(vector) : vector, label * this.dim);
    if (this.#live[label] === 0) {
      this.#live[label] = 1;
      this.#size++;
      this.#liveLabels = undefined;
    }
    if (label >= this.#highWater) this.#highWater = label + 1;
  }

  remove(label: number): void {
    if (label < this.#capacity && this.#live[label] === 1) {
      this.#live[label] = 0;
      this.#size--;
      this.#liveLabels = undefined;
    }
  }

  /** Inserts the rows of `vectors` under `labels` one by one (a flat index has no faster batch). */
  upsertBatch(labels: Uint32Array, vectors: Float32Array): void {
    for (let row = 0; row < labels.length; row++) {
      this.upsert(labels[row]!, vectors.subarray(row * this.dim, (row + 1) * this.dim));
    }
  }

  /** {@link upsertBatch} on the main thread, then a turn of the event loop. */
  async upsertBatchAsync(labels: Uint32Array, vectors: Float32Array): Promise<void> {
    this.upsertBatch(labels, vectors);
    await new Promise((resolve) => setImmediate(resolve));
  }

  prefersBatch(): boolean {
    return false;
  }

  /** The k nearest live vectors, best first, scored on up to `threads` native threads. */
  search(query: Float32Array, k: number, _ef: number, threads = 1): Neighbours {
    return exactAmong(this.metric, query, this.#stored(), this.dim, k, this.#liveList(), threads);
  }

  /** The k nearest of the given live labels (each at most once), best first. */
  searchAmong(query: Float32Array, k: number, labels: Int32Array, threads = 1): Neighbours {
    return exactAmong(this.metric, query, this.#stored(), this.dim, k, labels, threads);
  }

  searchPlanned(query: Float32Array, k: number, effort: SearchEffort, threads: number): Searched {
    const plan: PlanFields = { strategy: 'exact', candidatesScored: this.#size };
    if (k === 0) return { neighbours: { labels: [], distances: [] }, plan };
    return { neighbours: this.search(query, k, effort.ef, threads), plan };
  }

  /** Exact over the allowed labels: a flat index has no cheaper restricted search. */
  searchAllowed(
    query: Float32Array,
    k: number,
    allowed: AllowedLabels,
    _effort: SearchEffort,
    threads: number,
  ): { neighbours: Neighbours; plan: PlanFields } {
    return {
      neighbours: this.searchAmong(query, k, allowed.labels, threads),
      plan: { candidatesScored: allowed.labels.length },
    };
  }

  exactAmong(query: Float32Array, labels: Int32Array, k: number, threads: number): Neighbours {
    return this.searchAmong(query, k, labels, threads);
  }

  /**
   * The k nearest live labels of each row of `queries` (nq × dim) in one native call on `threads`
   * threads, padded to k with 0xffffffff (as HnswIndex.searchBatch): row i equals `search` of query i.
   * k must be at least 1.
   */
  searchBatch(queries: Float32Array, k: number, _ef: number, threads = 1): BatchNeighbours {
    const count = queries.length / this.dim;
    const labels = new Int32Array(count * k);
    const distances = new Float32Array(count * k);
    const live = this.#liveList();
    nativeKernels.exactTopK({
      metric: this.metric === 'l2' ? 'l2' : 'ip',
      queries: this.metric === 'cosine' ? normalizedRows(queries, this.dim) : queries,
      base: this.#stored(),
      dim: this.dim,
      k,
      labels,
      distances,
      threads,
      ...(live === undefined ? {} : { candidates: live }),
    });
    // -1 padding read as uint32 is 0xffffffff, the padding label of a graph's batch.
    return { count, k, labels: new Uint32Array(labels.buffer), distances };
  }

  dispose(): void {
    this.#vectors = new Float32Array(0);
    this.#live = new Uint8Array(0);
    this.#capacity = 0;
    this.#highWater = 0;
    this.#size = 0;
    this.#liveLabels = undefined;
  }

  /** Rows 0 … highWater - 1 of the vector matrix (dead rows included). */
  #stored(): Float32Array {
    return this.#vectors.subarray(0, this.#highWater * this.dim);
  }

  /** The live labels, or undefined when every stored row is live (a plain scan, no index list). */
  #liveList(): Int32Array | undefined {
    if (this.#size === this.#highWater) return undefined;
    if (this.#liveLabels === undefined) {
      const labels = new Int32Array(this.#size);
      let count = 0;
      for (let label = 0; label < this.#highWater; label++) if (this.#live[label] === 1) labels[count++] = label;
      this.#liveLabels = labels;
    }
    return this.#liveLabels;
  }

  #grow(minimum: number): void {
    let capacity = this.#capacity;
    while (capacity < minimum) capacity *= 2;
    const vectors = new Float32Array(capacity * this.dim);
    vectors.set(this.#vectors);
    const live = new Uint8Array(capacity);
    live.set(this.#live);
    this.#vectors = vectors;
    this.#live = live;
    this.#capacity = capacity;
  }
}

/**
 * Exact k-NN of `query` among rows `candidates` of `base` (rows of `dim`), in hnswlib's raw
 * distance conventions, on up to `threads` native threads. For 'cosine', `base` must hold
 * normalised rows; the query is normalised here.
 */
export function exactAmong(
  metric: Metric,
  query: Float32Array,
  base: Float32Array,
  dim: number,
  k: number,
  candidates?: Int32Array,
  threads = 1,
): Neighbours {
  const available = candidates === undefined ? base.length / dim : candidates.length;
  const wanted = Math.min(k, available);
  if (wanted === 0) return { labels: [], distances: [] };
  const labels = new Int32Array(wanted);
  const distances = new Float32Array(wanted);
  nativeKernels.exactTopK({
    metric: metric === 'l2' ? 'l2' : 'ip',
    queries: metric === 'cosine' ? normalized(query) : query,
    base,
    dim,
    k: wanted,
    labels,
    distances,
    threads,
    ...(candidates === undefined ? {} : { candidates }),
  });
  return { labels: Array.from(labels), distances: Array.from(distances) };
}
