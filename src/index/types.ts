// The one interface every ANN index kind implements, and the shapes it answers in. Indexes know
// labels and vectors only: never ids, metadata or SQLite (they must not import src/storage/).
// A kind is registered once, in registry.ts; nothing outside src/index/ asks which kind it holds.
import type { CodebookCalibration } from '../quant/codebook-format.js';
import type { Metric } from '../metric.js';

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

/** Per-query effort: `ef` for a graph, `nprobe` and `rerank` for IVF-PQ; a kind ignores the others. */
export interface SearchEffort {
  readonly ef: number;
  readonly nprobe?: number | undefined;
  readonly rerank?: number | undefined;
}

/** What a kind's search adds to a query plan (`explain`). */
export interface PlanFields {
  strategy?: 'exact' | 'hnsw' | 'ivfpq';
  ef?: number;
  nprobe?: number;
  rerank?: number;
  nprobeFrom?: 'query' | 'collection' | 'calibration' | 'default';
  rerankFrom?: 'query' | 'collection' | 'calibration' | 'default';
  calibration?: CodebookCalibration;
  candidatesScored?: number;
  /** True when the kind's own search came back short (the caller then scores the matches exactly). */
  fallback?: boolean;
}

/** A search's neighbours with the plan fields of how the kind found them. */
export interface Searched {
  readonly neighbours: Neighbours;
  readonly plan: PlanFields;
}

/** The labels a filter matches (ascending) and the same set as an allow-list bitset. */
export interface AllowedLabels {
  readonly labels: Int32Array;
  /** Bit L % 8 of byte L >> 3 is set for every allowed label L. */
  readonly allow: Uint8Array;
}

export interface AnnIndex {
  /** The kind's name as stored with the collection ('hnsw', 'flat', 'ivfpq'). */
  readonly type: string;
  readonly metric: Metric;
  readonly dim: number;
  /** Number of live (not deleted) vectors. */
  readonly size: number;
  /** True while inserts run off the event loop (a snapshot then waits for them). */
  readonly busy: boolean;
  /** Set when an insert off the event loop failed: the index is unusable and must be rebuilt. */
  readonly failure: Error | undefined;
  /** True when the index holds something a snapshot would keep (a graph, trained codes). */
  readonly savable: boolean;
  /** Inserts `vector` under `label`, replacing what the label held before. */
  upsert(label: number, vector: Float32Array): void;
  /** Removes the vector under `label`; a label that is not present is ignored. */
  remove(label: number): void;
  /**
   * Inserts or replaces the rows of `vectors` under `labels` (distinct), on up to `threads` native
   * threads where the kind can split the work.
   */
  upsertBatch(labels: Uint32Array, vectors: Float32Array, threads?: number): void;
  /**
   * {@link upsertBatch} off the event loop where the kind can (else at once, then a turn of the event
   * loop). Do not modify the arrays before the promise settles.
   */
  upsertBatchAsync(labels: Uint32Array, vectors: Float32Array, threads: number): Promise<void>;
  /** True when a committed batch of `count` upserts is better applied by {@link upsertBatch} than one by one. */
  prefersBatch(count: number, threads: number): boolean;
  /**
   * Optional: queues a batch for insertion off the event loop, visible to searches at once;
   * resolves when the index holds it (see HnswIndex.upsertBatchQueued).
   */
  upsertBatchQueued?(labels: Uint32Array, vectors: Float32Array, threads: number): Promise<void>;
  /**
   * The up-to-k nearest live vectors, best first. `ef` is the search effort (ignored by exact
   * indexes). k must not exceed `size`. `threads` (default 1): native threads an exact scan may
   * split one query over (the graph and IVF-PQ searches of one query use one).
   */
  search(query: Float32Array, k: number, ef: number, threads?: number): Neighbours;
  /** {@link search} with the per-query effort options, and the plan fields of how it searched (k ≥ 0). */
  searchPlanned(query: Float32Array, k: number, effort: SearchEffort, threads: number): Searched;
  /**
   * The up-to-k nearest of `allowed` (live labels), by the kind's own restricted search; neighbours
   * undefined when the caller should score the allowed labels exactly instead (the kind judged exact
   * scoring cheaper, or its search came back short: then `plan.fallback` is true).
   */
  searchAllowed(
    query: Float32Array,
    k: number,
    allowed: AllowedLabels,
    effort: SearchEffort,
    threads: number,
  ): { neighbours: Neighbours | undefined; plan: PlanFields };
  /**
   * Exact k-NN among `labels` (live labels) over the vectors the index holds; undefined when it
   * holds no full vectors (the caller then reads them from the records).
   */
  exactAmong(query: Float32Array, labels: Int32Array, k: number, threads: number): Neighbours | undefined;
  /**
   * Optional: `search` of every row of `queries` (count × dim) in one native call on up to
   * `threads` threads, row i equal to `search` of query i. k must be at least 1 and at most `size`.
   */
  searchBatch?(queries: Float32Array, k: number, ef: number, threads?: number): BatchNeighbours;
  /** Optional: {@link searchBatch} off the event loop; do not modify `queries` before it settles. */
  searchBatchAsync?(queries: Float32Array, k: number, ef: number, threads?: number): Promise<BatchNeighbours>;
  /** 'file' kinds: writes the graph file a snapshot wraps (not while {@link busy}). */
  writeGraph?(graphFile: string): void;
  /**
   * Optional, 'file' kinds whose graph holds the records' own vectors: {@link writeGraph} without
   * them (a snapshot then stores each vector once, in its record). An index loaded from it awaits
   * them: {@link fillVectors} with every record's vector, then {@link finishFill}.
   */
  writeGraphWithoutVectors?(graphFile: string): void;
  /**
   * With writeGraphWithoutVectors: gives a loaded index the float32 rows (bytes) of `labels`;
   * returns the labels the snapshot does not explain (a row that differs from the one written, a
   * label not awaited).
   */
  fillVectors?(labels: Uint32Array, rows: Uint8Array): Uint32Array;
  /** With writeGraphWithoutVectors: ends the fill; returns the live labels that got no row. */
  finishFill?(): Uint32Array;
  /** 'file' kinds: the live labels, ascending, that a snapshot records beside the graph. */
  liveLabels?(): Uint32Array;
  /**
   * Optional, 'file' kinds: writes the float-vector file that goes beside a snapshot covering `seq`
   * (src/index/vector-file.ts) to `path`, fsynced; the caller renames it into place.
   */
  writeVectorFile?(path: string, seq: number): void;
  /** Optional, with writeVectorFile: reads from the float-vector file at `path` (for `seq`) from now on. */
  useVectorFile?(path: string, seq: number): void;
  /** 'state' kinds: what to keep in SQLite; undefined while there is nothing worth keeping. */
  exportState?(): { codebook: Uint8Array; chunks: Uint8Array[] } | undefined;
  /** Frees native memory. The index is unusable afterwards. */
  dispose(): void;
}

/** How a kind's state outlives the process: a snapshot file, rows in SQLite, or nothing (rebuilt). */
export type Persistence = 'file' | 'state' | 'none';
