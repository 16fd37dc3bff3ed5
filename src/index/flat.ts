// Exact search: every live vector is scored against the query with the native batched kernel.
// Used for small collections, as ground truth, for selective filters, and as the fallback when an
// approximate search comes back short. Holds vectors in one growable Float32Array indexed by label.
import { nativeKernels } from '../native.js';
import type { Metric } from '../schema.js';
import type { AnnIndex, Neighbours } from './types.js';
import { normalized } from './vector-math.js';

export class FlatIndex implements AnnIndex {
  readonly type = 'flat';
  readonly metric: Metric;
  readonly dim: number;
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

  search(query: Float32Array, k: number, _ef: number): Neighbours {
    return this.searchAmong(query, k, this.#liveList());
  }

  /** The k nearest of the given live labels (each at most once), best first. */
  searchAmong(query: Float32Array, k: number, labels: Int32Array): Neighbours {
    return exactAmong(this.metric, query, this.#vectors.subarray(0, this.#highWater * this.dim), this.dim, k, labels);
  }

  dispose(): void {
    this.#vectors = new Float32Array(0);
    this.#live = new Uint8Array(0);
    this.#capacity = 0;
    this.#highWater = 0;
    this.#size = 0;
    this.#liveLabels = undefined;
  }

  #liveList(): Int32Array {
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
 * distance conventions. For 'cosine', `base` must hold normalised rows; the query is normalised here.
 */
export function exactAmong(
  metric: Metric,
  query: Float32Array,
  base: Float32Array,
  dim: number,
  k: number,
  candidates?: Int32Array,
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
    ...(candidates === undefined ? {} : { candidates }),
  });
  return { labels: Array.from(labels), distances: Array.from(distances) };
}
