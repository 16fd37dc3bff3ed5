// The changes an HNSW graph has not received yet while queued inserts run off the event loop: the
// latest committed vector (or deletion) per label, with exact search over those vectors, so that
// a search of graph + queue answers from the committed state. Knows nothing of the graph itself.
import type { Metric } from '../metric.js';
import { exactAmong } from './flat.js';
import type { Neighbours } from './types.js';
import { normalized } from './vector-math.js';

/** One queued change: the vector to insert, or null for a deletion; `stamp` orders changes. */
export interface QueuedChange {
  readonly vector: Float32Array | null;
  readonly stamp: number;
}

/** Upserts handed to the graph at once: distinct labels and their rows, plus the deletions taken. */
export interface QueueSlice {
  readonly labels: Uint32Array;
  readonly vectors: Float32Array;
  readonly deletions: number[];
}

/**
 * The queued vectors as rows: the in-flight upserts first, then the waiting ones in stamp order
 * (the order `take` hands them out), so a landed insert only moves `start` past its rows.
 */
interface QueuedRows {
  readonly labels: Int32Array;
  /** Row by label. */
  readonly rowOf: Map<number, number>;
  /** Rows normalised for cosine. */
  readonly base: Float32Array;
  /** Rows before this one are in the graph now. */
  start: number;
}

export class InsertQueue {
  readonly #metric: Metric;
  readonly #dim: number;
  /** Changes not handed to the graph yet, latest per label, in stamp order (oldest first). */
  readonly #waiting = new Map<number, QueuedChange>();
  /** Deletions among #waiting. */
  #waitingDeletions = 0;
  /** Changes of the insert the graph is running now; a newer change of a label is in #waiting. */
  #inFlight = new Map<number, QueuedChange>();
  /** Built on first use after a change other than a landed insert. */
  #rows: QueuedRows | undefined;

  constructor(metric: Metric, dim: number) {
    this.#metric = metric;
    this.#dim = dim;
  }

  /** The latest queued change of `label`, if it has one. */
  latest(label: number): QueuedChange | undefined {
    return this.#waiting.get(label) ?? this.#inFlight.get(label);
  }

  /** True while changes wait for the graph or are being inserted. */
  get pending(): boolean {
    return this.#waiting.size > 0 || this.#inFlight.size > 0;
  }

  /** True when changes wait to be taken. */
  get waiting(): boolean {
    return this.#waiting.size > 0;
  }

  /** The smallest stamp not yet in the graph (Infinity when everything is). */
  get oldestStamp(): number {
    let oldest = Number.POSITIVE_INFINITY;
    for (const change of this.#inFlight.values()) oldest = Math.min(oldest, change.stamp);
    const first = this.#waiting.values().next();
    return first.done === true ? oldest : Math.min(oldest, first.value.stamp);
  }

  /** Queues `label`'s new state; it replaces any older queued change of the label. */
  set(label: number, vector: Float32Array | null, stamp: number): void {
    const previous = this.#waiting.get(label);
    if (previous !== undefined) {
      this.#waiting.delete(label); // re-inserted at the end: the map stays in stamp order
      if (previous.vector === null) this.#waitingDeletions--;
    }
    this.#waiting.set(label, { vector, stamp });
    if (vector === null) this.#waitingDeletions++;
    this.#rows = undefined;
  }

  /**
   * Takes every waiting deletion and up to `limit` waiting upserts, oldest first, as the next
   * insert; the upserts stay visible (in flight) until {@link landed}.
   */
  take(limit: number): QueueSlice {
    const deletions: number[] = [];
    const taken: [number, QueuedChange][] = [];
    for (const [label, change] of this.#waiting) {
      if (change.vector === null) deletions.push(label);
      else if (taken.length < limit) taken.push([label, change]);
      if (taken.length === limit && deletions.length === this.#waitingDeletions) break;
    }
    for (const label of deletions) this.#waiting.delete(label);
    this.#waitingDeletions = 0;
    const labels = new Uint32Array(taken.length);
    const vectors = new Float32Array(taken.length * this.#dim);
    for (const [row, [label, change]] of taken.entries()) {
      this.#waiting.delete(label);
      this.#inFlight.set(label, change);
      labels[row] = label;
      vectors.set(change.vector!, row * this.#dim);
    }
    return { labels, vectors, deletions };
  }

  /** The insert taken last is in the graph. */
  landed(): void {
    // The rows begin with the in-flight upserts that no newer change supersedes: skip them.
    if (this.#rows !== undefined) {
      for (const label of this.#inFlight.keys()) if (!this.#waiting.has(label)) this.#rows.start++;
    }
    this.#inFlight = new Map();
  }

  /** Forgets everything queued (the graph is gone). */
  clear(): void {
    this.#waiting.clear();
    this.#waitingDeletions = 0;
    this.#inFlight.clear();
    this.#rows = undefined;
  }

  /** Every label with a queued change (a deletion included). */
  *labels(): Generator<number> {
    for (const label of this.#inFlight.keys()) if (!this.#waiting.has(label)) yield label;
    yield* this.#waiting.keys();
  }

  /**
   * The allow-list for a graph search beside this queue: `allow` (bit L % 8 of byte L >> 3; all of
   * the graph's `span` labels when undefined) without the labels that have a queued change, whose
   * graph node is stale, absent or being rewritten.
   */
  graphAllowList(allow: Uint8Array | undefined, span: number): Uint8Array {
    const out = allow === undefined ? new Uint8Array((span + 7) >> 3).fill(0xff) : allow.slice();
    for (const label of this.labels()) {
      const byte = label >> 3;
      if (byte < out.length) out[byte]! &= ~(1 << (label & 7));
    }
    return out;
  }

  /** Exact k-NN of `query` among the queued vectors whose label `allow` holds (all without it). */
  nearest(query: Float32Array, k: number, allow?: Uint8Array): Neighbours {
    const rows = this.#queuedRows();
    let candidates: Int32Array | undefined;
    if (allow !== undefined || rows.start > 0) {
      const kept: number[] = [];
      for (let row = rows.start; row < rows.labels.length; row++) {
        const label = rows.labels[row]!;
        if (allow === undefined || ((allow[label >> 3] ?? 0) >> (label & 7)) & 1) kept.push(row);
      }
      candidates = Int32Array.from(kept);
    }
    return this.#score(rows, query, k, candidates);
  }

  /** Exact k-NN of `query` among those of `labels` that have a queued vector. */
  nearestAmong(query: Float32Array, labels: Iterable<number>, k: number): Neighbours {
    const rows = this.#queuedRows();
    const kept: number[] = [];
    for (const label of labels) {
      const row = rows.rowOf.get(label);
      if (row !== undefined && row >= rows.start) kept.push(row);
    }
    return this.#score(rows, query, k, Int32Array.from(kept));
  }

  /** The latest queued vector of `label` as the graph stores it (normalised for cosine). */
  vectorOf(label: number): Float32Array | undefined {
    const vector = this.latest(label)?.vector;
    if (vector === null || vector === undefined) return undefined;
    return this.#metric === 'cosine' ? normalized(vector) : vector;
  }

  #score(rows: QueuedRows, query: Float32Array, k: number, candidates: Int32Array | undefined): Neighbours {
    if (rows.labels.length === 0 || candidates?.length === 0) return { labels: [], distances: [] };
    const found = exactAmong(this.#metric, query, rows.base, this.#dim, k, candidates);
    return { labels: found.labels.map((row) => rows.labels[row]!), distances: found.distances };
  }

  #queuedRows(): QueuedRows {
    if (this.#rows === undefined) {
      const labels: number[] = [];
      for (const label of this.labels()) if (this.latest(label)!.vector !== null) labels.push(label);
      const base = new Float32Array(labels.length * this.#dim);
      const rowOf = new Map<number, number>();
      labels.forEach((label, row) => {
        base.set(this.vectorOf(label)!, row * this.#dim);
        rowOf.set(label, row);
      });
      this.#rows = { labels: Int32Array.from(labels), rowOf, base, start: 0 };
    }
    return this.#rows;
  }
}

/** The k best of two best-first answers over disjoint labels. */
export function mergeNeighbours(a: Neighbours, b: Neighbours, k: number): Neighbours {
  const labels: number[] = [];
  const distances: number[] = [];
  let i = 0;
  let j = 0;
  while (labels.length < k && (i < a.labels.length || j < b.labels.length)) {
    if (j >= b.labels.length || (i < a.labels.length && a.distances[i]! <= b.distances[j]!)) {
      labels.push(a.labels[i]!);
      distances.push(a.distances[i++]!);
    } else {
      labels.push(b.labels[j]!);
      distances.push(b.distances[j++]!);
    }
  }
  return { labels, distances };
}
