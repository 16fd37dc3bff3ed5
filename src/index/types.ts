// The one small interface every ANN index implements. Indexes know labels and vectors only:
// never ids, metadata or SQLite (they must not import src/storage/).
import type { Metric } from '../schema.js';

/**
 * Raw distances follow hnswlib's conventions, the same for every index kind:
 * `l2` is the squared Euclidean distance, `ip` is 1 - dot, `cosine` is 1 - dot of the
 * normalised vectors. The collection converts them to user-facing figures.
 */
export interface Neighbours {
  readonly labels: number[];
  readonly distances: number[];
}

/**
 * The answers of a batch search: `count` rows of `k` results, row-major, best first. A row with
 * fewer than k results is padded with NO_LABEL (0xffffffff) and +Infinity. Distances are raw (see
 * {@link Neighbours}).
 */
export interface BatchNeighbours {
  readonly count: number;
  readonly k: number;
  readonly labels: Uint32Array;
  readonly distances: Float32Array;
}

export interface AnnIndex {
  readonly type: 'hnsw' | 'flat' | 'ivfpq';
  readonly metric: Metric;
  readonly dim: number;
  /** Number of live (not deleted) vectors. */
  readonly size: number;
  /** Inserts `vector` under `label`, replacing what the label held before. */
  upsert(label: number, vector: Float32Array): void;
  /** Removes the vector under `label`; a label that is not present is ignored. */
  remove(label: number): void;
  /**
   * The up-to-k nearest live vectors, best first. `ef` is the search effort (ignored by exact
   * indexes). k must not exceed `size`. `threads` (default 1): native threads an exact scan may
   * split one query over (the graph and IVF-PQ searches of one query use one).
   */
  search(query: Float32Array, k: number, ef: number, threads?: number): Neighbours;
  /**
   * Optional: `search` of every row of `queries` (count × dim) in one native call on up to
   * `threads` threads, row i equal to `search` of query i. k must be at least 1 and at most `size`.
   */
  searchBatch?(queries: Float32Array, k: number, ef: number, threads?: number): BatchNeighbours;
  /** Frees native memory. The index is unusable afterwards. */
  dispose(): void;
}
