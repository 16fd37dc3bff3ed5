// Exact search: every live vector is scored against the query. Used for small collections,
// as ground truth, and as the fallback when an approximate search comes back short.
// Holds vectors in one growable Float32Array indexed by label.
import type { Metric } from '../schema.js';
import { TopK } from './top-k.js';
import type { AnnIndex, Neighbours } from './types.js';
import { normalized, rawDistance } from './vector-math.js';

export class FlatIndex implements AnnIndex {
  readonly type = 'flat';
  readonly metric: Metric;
  readonly dim: number;
  #vectors: Float32Array;
  #live: Uint8Array;
  #capacity: number;
  #highWater = 0; // one past the highest label ever stored
  #size = 0;

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
    }
    if (label >= this.#highWater) this.#highWater = label + 1;
  }

  remove(label: number): void {
    if (label < this.#capacity && this.#live[label] === 1) {
      this.#live[label] = 0;
      this.#size--;
    }
  }

  search(query: Float32Array, k: number, _ef: number): Neighbours {
    const target = this.metric === 'cosine' ? normalized(query) : query;
    const best = new TopK(Math.max(1, Math.min(k, this.#size)));
    for (let label = 0; label < this.#highWater; label++) {
      if (this.#live[label] === 0) continue;
      best.push(rawDistance(this.metric, target, this.#vectors, label), label);
    }
    return this.#size === 0 ? { labels: [], distances: [] } : best.sorted();
  }

  dispose(): void {
    this.#vectors = new Float32Array(0);
    this.#live = new Uint8Array(0);
    this.#capacity = 0;
    this.#highWater = 0;
    this.#size = 0;
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
