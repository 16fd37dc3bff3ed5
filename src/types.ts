// The public types: every interface a user touches, with the JSDoc they read in their editor.
// Implementations live in db.ts and collection/collection.ts and keep their handles in #private fields.
import type { RecordBatch, Table } from 'apache-arrow';
import type { Metric } from './metric.js';
import type { TextSettings, Tokenizer } from './text/settings.js';

export type { Metric, TextSettings, Tokenizer };

/** Full-text options of a collection: `true` for the defaults, or the tokenizer to use. */
export type TextOptions =
  | true
  | {
      /** 'porter' (default): English stems; 'unicode61': whole words; 'trigram': substrings (see docs/text-search.md). */
      tokenizer?: Tokenizer;
      /** Fold diacritics ("café" matches "cafe"); default true. */
      removeDiacritics?: boolean;
    };

/**
 * The app's embedding function: one vector (`dim` finite numbers) per text, in order. Called by
 * `upsertAsync` for records without a vector and by `queryAsync` for a text without a vector.
 */
export type EmbedFunction = (
  texts: string[],
) => Promise<readonly (Float32Array | readonly number[])[]> | readonly (Float32Array | readonly number[])[];

/** A record id: a non-empty string of at most 512 UTF-8 bytes, or a safe integer (stored as its decimal string). */
export type Id = string | number;

/** A vector: `dim` finite numbers. A Float32Array is used without conversion. */
export type VectorInput = readonly number[] | Float32Array;

/** A metadata value as stored and returned: any JSON value (at most 16 levels deep). */
export type MetadataValue = string | number | boolean | null | MetadataValue[] | { [key: string]: MetadataValue };

/** A record's metadata: a plain JSON object. */
export type Metadata = { [key: string]: MetadataValue };

/**
 * Metadata as upsert takes it: JSON values, plus what JSON.stringify would turn into JSON — `undefined`
 * (dropped from objects, null in arrays) and a `Date` (stored as its ISO string).
 */
export type MetadataInput = { [key: string]: MetadataInputValue };
type MetadataInputValue =
  | MetadataValue
  | Date
  | undefined
  | MetadataInputValue[]
  | { [key: string]: MetadataInputValue };

/** Parameters of a collection's index, fixed when the collection is created. */
export type IndexOptions =
  | {
      type: 'hnsw';
      /** Graph degree: links per node per layer (default 16). Higher: better recall, more memory. */
      m?: number;
      /** Candidate list size while building (default 200). Higher: better graph, slower build. */
      efConstruction?: number;
      /** Default search effort per query (default 64); a query's `ef` overrides it. Always at least k. */
      ef?: number;
      /**
       * What the graph holds per vector (default 'float32'). 'int8': 8-bit codes (per-dimension
       * ranges learned from the data), about a quarter of the memory, each query's best `rerank`
       * candidates rescored with the float vectors from the records (see README, "int8 vectors").
       */
      vectors?: 'float32' | 'int8';
      /** int8 only: candidates rescored with the float vectors per query (default 20); a query's `rerank` overrides it. */
      rerank?: number;
    }
  | {
      /** Exact search: every vector is scored. Best for up to tens of thousands of vectors. */
      type: 'flat';
    }
  | {
      /**
       * Compressed: coarse k-means lists + 8-bit PQ codes in memory, exact re-rank from the stored
       * vectors. For collections whose float vectors should not sit in RAM (see docs/ivfpq.md).
       */
      type: 'ivfpq';
      /** Coarse lists (default 256), fixed at creation. Trains once the collection holds 39 × max(nlist, 256) vectors. */
      nlist?: number;
      /** PQ sub-spaces = bytes per vector (default dim / 8, at most dim), fixed at creation. */
      m?: number;
      /**
       * Lists scanned per query, fixed for the collection (default: chosen by calibration at
       * training); a query's `nprobe` overrides it.
       */
      nprobe?: number;
      /**
       * Candidates re-scored exactly with the stored vectors, fixed for the collection (default:
       * chosen by calibration; always at least k); a query's `rerank` overrides it.
       */
      rerank?: number;
      /**
       * The recall@10 that training calibrates nprobe and rerank for, above 0 and at most 1
       * (default 0.95), measured on a sample of the collection's own vectors (docs/ivfpq.md).
       */
      targetRecall?: number;
    };

/** The index settings a collection was created with, all defaults filled in. */
export type IndexSettings =
  | { type: 'hnsw'; m: number; efConstruction: number; ef: number; vectors?: 'float32' }
  | { type: 'hnsw'; m: number; efConstruction: number; ef: number; vectors: 'int8'; rerank: number }
  | { type: 'flat' }
  | {
      type: 'ivfpq';
      nlist: number;
      m: number;
      /** Present only when fixed at creation; otherwise calibration chooses (see `explain`). */
      nprobe?: number;
      rerank?: number;
      /** Absent for collections created before calibration existed (they keep nprobe 16, rerank 100). */
      targetRecall?: number;
    };

export interface CollectionOptions {
  /** Number of dimensions of every vector (1 to 65,536). */
  dim: number;
  /** Distance to rank by (default 'l2'). 'cosine' normalises vectors for the index; stored vectors stay as given. */
  metric?: Metric;
  /** Index kind and parameters (default `{ type: 'hnsw', m: 16, efConstruction: 200, ef: 64 }`). */
  index?: IndexOptions;
  /**
   * Metadata fields (dotted paths, e.g. `'author.name'`) to index in SQLite, so filters on them do
   * not scan every record. Filters on other fields still work. Reopening with more fields adds
   * their indexes; fields are never dropped silently.
   */
  indexes?: string[];
  /**
   * Keep a full-text (FTS5, BM25) index of the records' text, with these tokenizer options, stored
   * with the collection and checked on reopen like `dim`. Reopening an existing collection with
   * `text` builds the index from the stored texts (reported through `onProgress`, phase 'text').
   */
  text?: TextOptions;
  /**
   * The app's embedding function, for `upsertAsync` records and `queryAsync` texts without a
   * vector. Not stored: pass it each time the app opens the collection.
   */
  embed?: EmbedFunction;
  /** Texts per `embed` call (default 32). */
  embedBatchSize?: number;
  /** `embed` calls running at once (default 2). */
  embedConcurrency?: number;
}

/** Something the app may want to know about, which QuiverDB has already handled. */
export interface QuiverWarning {
  /**
   * 'SNAPSHOT_MISSING': a collection with records had no index snapshot (first open after a crash
   * before its first snapshot); the index was rebuilt from the records.
   * 'SNAPSHOT_INVALID': the snapshot failed verification (truncated, bit-flipped, stale, other
   * parameters); the index was rebuilt from the records.
   * 'INDEX_REBUILT': updating the in-memory index failed after a commit; it was rebuilt.
   * 'TEXT_INDEX_MISSING' / 'TEXT_INDEX_INVALID': the full-text index was missing, or did not match
   * the records or was damaged; it was rebuilt from the records' text.
   * 'VECTOR_FILE_INVALID': an int8 HNSW index's float-vector file (beside its snapshot) was missing or
   * damaged; its rescorings read those vectors from the records until the next snapshot writes it anew.
   */
  code:
    | 'SNAPSHOT_MISSING'
    | 'SNAPSHOT_INVALID'
    | 'INDEX_REBUILT'
    | 'TEXT_INDEX_MISSING'
    | 'TEXT_INDEX_INVALID'
    | 'VECTOR_FILE_INVALID';
  collection: string;
  message: string;
  cause?: unknown;
}

/** Progress of long work on open: loading a snapshot, replaying the log, rebuilding an index. */
export interface QuiverProgress {
  collection: string;
  /**
   * 'train': an ivfpq index trains its codebooks (done 0 of total training vectors, once).
   * 'text': the full-text index is built from the records' text (records done of total).
   */
  phase: 'load' | 'replay' | 'rebuild' | 'train' | 'text';
  /** Items done so far (records for 'rebuild', log labels for 'replay'). */
  done: number;
  total: number;
}

export interface OpenOptions {
  /**
   * 'full' (default): every committed write survives a power loss (SQLite synchronous=FULL).
   * 'normal': a power loss may drop the last commits but never corrupts; a process crash loses nothing.
   */
  durability?: 'full' | 'normal';
  /**
   * Open without writing anything; the database must exist. Any number of read-only opens may
   * sit beside the one writer; they see its commits (automatically before each call, or at
   * `refresh()`).
   */
  readOnly?: boolean;
  /**
   * Log rows after which a collection's index is snapshotted automatically (default 10,000).
   * The effective threshold is never below half the collection's size, so bulk loads stay linear.
   */
  snapshotThreshold?: number;
  /** Called when QuiverDB repaired something on its own (default: `process.emitWarning`). */
  onWarning?: (warning: QuiverWarning) => void;
  /** Called during long work on open (loading, replaying, rebuilding an index). */
  onProgress?: (progress: QuiverProgress) => void;
  /**
   * Native threads for work that can be split: upsert batches of at least 1,000 records are
   * inserted into the graph on this many threads, `queryBatch` spreads its queries over them, and
   * exact scans (flat collections, exact scoring of a filter's matches) split their rows over them
   * (1 to 256; default: the number of logical cores). Exact answers are the same for every count.
   * With 1, every graph is the same from run to run; with more, large batches build equally good
   * graphs in a varying order.
   */
  threads?: number;
  /**
   * Where QuiverDB's native addon is, for apps that unpack native files elsewhere (Electron's
   * `app.asar.unpacked`, a bundled app): a quiver_native `.node` file, or a folder laid out like the
   * quiverdb package (prebuilds/, build/Release/). Wins over the QUIVERDB_NATIVE_PATH environment
   * variable; when given, nothing else is tried. A process loads the addon once, so every open() in
   * it must agree. Default: the package's prebuild for this platform, then build/Release, build/Debug.
   */
  addonPath?: string;
  /**
   * The better_sqlite3.node file to use instead of better-sqlite3's own (an app that ships it
   * elsewhere). Wins over the QUIVERDB_SQLITE_NATIVE_PATH environment variable.
   */
  sqliteAddonPath?: string;
}

/** One record to insert or replace (`I`: its metadata type; see {@link MetadataInputOf}). */
export interface UpsertRecord<I = MetadataInput> {
  id: Id;
  vector: VectorInput;
  /** Defaults to `{}`. Replaces the previous metadata whole on upsert. */
  metadata?: I | undefined;
  /**
   * The record's text (at most 1 MiB of UTF-8), stored with it and returned by `get` and queries;
   * indexed for full-text search when the collection has `text`. Replaced whole on upsert (a
   * record upserted without text has none).
   */
  text?: string;
}

/**
 * A record for `upsertAsync` on a collection opened with `embed`: its vector is computed from its
 * text by the embedding function.
 */
export interface TextRecord<I = MetadataInput> {
  id: Id;
  text: string;
  metadata?: I | undefined;
  vector?: undefined;
}

/** Options of `upsert` and `upsertAsync`. */
export interface UpsertOptions {
  /**
   * Called as the batch goes in: phase 'embed' as `upsertAsync` computes vectors from text (texts
   * done of total), 'write' once the batch is committed (done = total = its records), then 'index'
   * as the index takes it (records done of total, starting at 0). Called synchronously; a throw
   * does not stop the work: the batch is committed and indexed whole, then the call fails with
   * HOOK_FAILED.
   */
  onProgress?: (progress: UpsertProgress) => void;
}

/** Progress of `upsert` and `upsertAsync`. */
export interface UpsertProgress {
  phase: 'embed' | 'write' | 'index';
  done: number;
  total: number;
}

export interface UpsertResult {
  /** Records that did not exist before. */
  inserted: number;
  /** Records whose vector and metadata were replaced. */
  updated: number;
}

/**
 * Where `upsertArrow` reads from: an Arrow Table, one RecordBatch, an iterable or async iterable
 * of RecordBatches (such as a RecordBatchReader), or the path of an Arrow IPC file (.arrow) or
 * stream (.arrows), which is read one record batch at a time.
 */
export type ArrowSource = Table | RecordBatch | Iterable<RecordBatch> | AsyncIterable<RecordBatch> | string;

export interface ArrowImportOptions {
  /** The id column: Utf8, LargeUtf8 or an integer type (default 'id'). */
  idColumn?: string;
  /** The vector column: FixedSizeList or List of Float16, Float32 or Float64 (default 'vector'). */
  vectorColumn?: string;
  /**
   * The text column: Utf8 or LargeUtf8, null for no text (default 'text', used when the source has
   * such a column; a column named here must exist).
   */
  textColumn?: string;
  /** The columns that become metadata (default: every column but the id, vector and text columns). */
  metadataColumns?: readonly string[];
  /** Called after each record batch is written. */
  onProgress?: (progress: ArrowImportProgress) => void;
}

/** Progress of `upsertArrow`, reported after each record batch. */
export interface ArrowImportProgress {
  /** Rows read and written so far. */
  rows: number;
  /** Record batches read and written so far. */
  batches: number;
  inserted: number;
  updated: number;
}

/** What `upsertArrow` did: records inserted and updated, rows and record batches read. */
export interface ArrowImportResult extends UpsertResult {
  rows: number;
  batches: number;
}

export interface ArrowExportOptions {
  /** Only records whose metadata matches this filter (see docs/filters.md); default: all. */
  filter?: Filter;
  /**
   * 'storage' (default): the order records are stored in (fastest); 'id': id order, as `get` and
   * `page` return records (the byte order of the ids' UTF-8).
   */
  order?: 'storage' | 'id';
  /**
   * The columns to write, in order: 'id', 'vector', 'text' and metadata keys (default: id, vector,
   * text when any record has one, then every metadata key in order of first appearance).
   */
  columns?: readonly string[];
  /** Records per record batch (default 4096). */
  batchSize?: number;
  /** Called after each record batch is built. */
  onProgress?: (progress: { rows: number; batches: number }) => void;
}

/** What `exportArrow` wrote. */
export interface ArrowExportResult {
  /** The absolute path of the file. */
  path: string;
  rows: number;
  batches: number;
  /** Size of the file in bytes. */
  bytes: number;
}

/** `get({ filter, limit, offset })`: matching records in id order. */
export interface GetOptions<F = Filter> {
  /** Only records whose metadata matches (see docs/filters.md); default: every record. */
  filter?: F | undefined;
  /** At most this many records (default: all). */
  limit?: number | undefined;
  /** Records to skip first (default 0). */
  offset?: number | undefined;
}

/** `page({ filter, limit, after })`: one page of the keyset cursor. */
export interface PageOptions<F = Filter> {
  filter?: F | undefined;
  /** Records per page: 1 to 10,000 (default 100). */
  limit?: number | undefined;
  /** The `next` of the previous page; undefined for the first page. */
  after?: Id | undefined;
}

/** One page of `page()`. */
export interface RecordPage<M = Metadata> {
  records: QuiverRecord<M>[];
  /** Give this as `after` for the next page; undefined when this page is the last. */
  next: string | undefined;
}

/** Which records `update` changes: those of these ids (ids that do not exist are skipped), or every record a filter matches. */
export type UpdateSelection<F = Filter> = { ids: readonly Id[] } | { filter: F };

/** What `update` sets: metadata, text, or both; at least one. */
export interface UpdateChanges<I = MetadataInput> {
  /**
   * With `merge: true` (the default) these keys are merged into the stored metadata at the top
   * level: a key given replaces the stored value whole (nested objects are not merged), a key given
   * as `null` is removed, keys not given are kept. With `merge: false` this object replaces the
   * metadata whole (and `null` is stored as a value).
   */
  metadata?: I;
  /** The new text (indexed when the collection has `text`); `null` removes it; absent: unchanged. */
  text?: string | null;
}

export interface UpdateOptions {
  /** true (default): merge metadata keys into the stored ones; false: replace the metadata whole. */
  merge?: boolean;
}

/** A stored record. `vector` is a copy of the float32 values as given (not normalised). */
export interface QuiverRecord<M = Metadata> {
  id: string;
  vector: Float32Array;
  metadata: M;
  /** The record's text, when it has one. */
  text?: string;
}

/**
 * A metadata filter in the document-database style: equality shorthand (`{ lang: 'en' }`),
 * `$eq $ne $gt $gte $lt $lte $in $nin $exists`, and `$and $or $not`; dotted paths into nested
 * objects, stepping into arrays of objects (a path matches when any value it reaches does); an
 * array field matches `$eq`/`$in` when any element does. See docs/filters.md.
 */
export type Filter<M = Metadata> = IsUntyped<M> extends true ? { readonly [field: string]: unknown } : TypedFilter<M>;

/** True for metadata types that name no keys: `Metadata` (an index signature), `object`, `{}`. */
export type IsUntyped<M> = string extends keyof M ? true : [keyof M] extends [never] ? true : false;

/**
 * The filter of a collection typed `M` (`db.collection<M>(…)`): M's top-level keys with values of
 * their type or operator objects, `$and` / `$or` / `$not`, and dotted paths into nested objects
 * (checked when the query runs, not by the compiler).
 */
export type TypedFilter<M> = { [P in keyof M & string]?: FieldCondition<Exclude<M[P], undefined>> } & {
  $and?: readonly TypedFilter<M>[];
  $or?: readonly TypedFilter<M>[];
  $not?: TypedFilter<M>;
} & { readonly [path: `${string}.${string}`]: unknown };

/** A field's value type, or its elements' type for an array field (which matches when any element does). */
type FilterValue<V> = V extends readonly (infer E)[] ? E : V;

/** What a filter may say of one field whose values have type `V`: a value (equality) or operators. */
export type FieldCondition<V> = FilterValue<V> | FieldOperators<FilterValue<V>>;

/** The operators of one field; several in one object must all hold. */
export interface FieldOperators<V> {
  $eq?: V;
  $ne?: V;
  $gt?: V;
  $gte?: V;
  $lt?: V;
  $lte?: V;
  $in?: readonly V[];
  $nin?: readonly V[];
  /** true: the field is present (null included); false: it is absent. */
  $exists?: boolean;
  $not?: FieldCondition<V>;
}

/** How a hybrid query (vector and text) merges its two candidate lists; see docs/text-search.md. */
export type FusionOptions =
  | {
      /** Reciprocal rank fusion: Σ 1 / (k + rank) over the lists holding the record. */
      method: 'rrf';
      /** Default 60. */
      k?: number;
    }
  | {
      /** alpha × vector + (1 − alpha) × text, each min-max normalised to [0, 1] over its candidates. */
      method: 'weighted';
      /** Weight of the vector side, 0 to 1 (default 0.5). */
      alpha?: number;
    };

export interface QueryOptions<F = Filter> {
  /** The query vector. At least one of `vector` and `text` is needed. */
  vector?: VectorInput;
  /**
   * Words to search for in the records' text (BM25; the collection needs `text`). The text is
   * words only, never query syntax. With `vector` too, the query is hybrid: both candidate lists
   * are fused (`fusion`). A text without any letter or digit matches nothing.
   */
  text?: string;
  /** Hybrid queries: how to fuse (default `{ method: 'rrf', k: 60 }`). */
  fusion?: FusionOptions;
  /** Hybrid queries: candidates taken from each side before fusion (default 50; never fewer than k). */
  candidates?: number;
  /** Return each hit's text (default true; false skips reading it). */
  includeText?: boolean;
  /** Only records whose metadata matches (see {@link Filter}). Still returns min(k, matches) hits. */
  filter?: F;
  /** Return `{ hits, plan }` with how the query was answered, instead of the hits alone. */
  explain?: boolean;
  /** Number of neighbours (1 to 10,000, default 10). Fewer come back when the collection holds fewer. */
  k?: number;
  /** Search effort for HNSW (default: the collection's `ef`); raised to k when lower. Ignored by 'flat'. */
  ef?: number;
  /** ivfpq: lists scanned (default: the collection's `nprobe`). Ignored by other indexes. */
  nprobe?: number;
  /** ivfpq: candidates re-scored exactly (default: the collection's `rerank`; at least k). Ignored by other indexes. */
  rerank?: number;
  /** Also return each hit's stored vector (default false). */
  includeVectors?: boolean;
}

/** Options of `queryBatch` and `queryBatchAsync`: several query vectors, answered together. */
export interface QueryBatchOptions {
  /**
   * The query vectors: an array of vectors (`number[]` or `Float32Array`, `dim` numbers each), or
   * one Float32Array of n × dim numbers, row after row. An empty batch gives `[]`. Needed unless
   * `texts` is given.
   */
  vectors?: Float32Array | readonly VectorInput[];
  /**
   * Text queries, one per query (with `vectors`, as many as there are vectors: hybrid queries).
   * Each is answered as `query` answers it.
   */
  texts?: readonly string[];
  /** As in `query`, for queries with text. */
  fusion?: FusionOptions;
  candidates?: number;
  includeText?: boolean;
  /**
   * Only records whose metadata matches (see {@link Filter}), for every query of the batch; each
   * query is then planned and answered as `query` with the same filter would (one at a time).
   */
  filter?: Filter;
  /** Neighbours per query (1 to 10,000, default 10). Fewer come back when the collection holds fewer. */
  k?: number;
  /** Search effort for HNSW (default: the collection's `ef`); raised to k when lower. Ignored by 'flat'. */
  ef?: number;
  /** Also return each hit's stored vector (default false). */
  includeVectors?: boolean;
}

/** Options of `queryIdsBatch` and `queryIdsBatchAsync`: vector queries as for `queryBatch`, without `includeVectors`. */
export type QueryIdsBatchOptions = Omit<
  QueryBatchOptions,
  'includeVectors' | 'texts' | 'fusion' | 'candidates' | 'includeText' | 'vectors'
> & { vectors: Float32Array | readonly VectorInput[] };

/**
 * One query result. `distance` is in the collection's metric, smaller is closer:
 * 'l2' the Euclidean distance; 'cosine' 1 − cosine similarity; 'ip' 1 − dot product.
 * `score` is the similarity for 'cosine' and 'ip' (1 − distance), absent for 'l2'.
 */
export interface QueryHit<M = Metadata> {
  id: string;
  /** Vector queries: the distance. Text and hybrid queries: −score (still smaller is better). */
  distance: number;
  /** Vector queries: the similarity (cosine, ip). Text queries: the BM25 score. Hybrid: the fused score. */
  score?: number;
  metadata: M;
  /** The record's text, when it has one (unless the query said `includeText: false`). */
  text?: string;
  vector?: Float32Array;
  /** `queryAsync` with a rerank hook: the score it gave this hit (the hits are ordered by it). */
  rerankScore?: number;
}

/** How a query was answered; returned by `query({ ..., explain: true })`. */
/** What an ivfpq index's training chose (docs/ivfpq.md, "Calibration"). */
export interface IvfPqCalibration {
  /** Lists probed. */
  nprobe: number;
  /** Candidates re-ranked at `base` vectors; queries use rerank × (max(size, base) ÷ base)^growth. */
  rerank: number;
  targetRecall: number;
  /** recall@10 of these settings on the held-back sample (below the target when none reached it). */
  expectedRecall: number;
  /** Vectors the sample queries were ranked among (the training set). */
  base: number;
  /** Sample queries, held back from training. */
  queries: number;
  /**
   * How the rerank grows with the collection, in [0.5, 1]: measured at training (1 = in proportion;
   * 1 for codebooks written before it was measured). docs/ivfpq.md, "Calibration".
   */
  growth: number;
}

export interface QueryPlan {
  /**
   * 'exact': every matching vector scored; 'hnsw': the graph, restricted to the matching labels;
   * 'ivfpq': an ADC scan of PQ codes (restricted to the matching labels), re-ranked exactly.
   */
  strategy: 'exact' | 'hnsw' | 'ivfpq';
  /** Records the filter matches (counted exactly by the label scan), or the collection size without a filter. */
  matches: number;
  /** Records in the collection. */
  total: number;
  /** matches / total. */
  selectivity: number;
  /** The HNSW search effort used, after widening for selectivity (hnsw strategy only). */
  ef?: number;
  /** ivfpq: lists probed and candidates re-ranked (ivfpq strategy only). */
  nprobe?: number;
  rerank?: number;
  /**
   * ivfpq: where nprobe and rerank came from — the query, the collection (fixed at creation),
   * the calibration made at training (rerank scaled with the collection's size), or the default.
   */
  nprobeFrom?: 'query' | 'collection' | 'calibration' | 'default';
  rerankFrom?: 'query' | 'collection' | 'calibration' | 'default';
  /** ivfpq: the settings training chose and the recall@10 it expects of them (absent before training). */
  calibration?: IvfPqCalibration;
  /** Exact distance computations made (the exact strategy and any fallback). */
  candidatesScored: number;
  /** True when the graph search came back short and exact search over the matches answered instead. */
  fallback: boolean;
  /** SQLite's plan for the label scan (shows whether a declared field index was used). */
  labelScan: string[];
}

/** A query's hits with the plan that produced them (`query({ ..., explain: true })`). */
export interface ExplainedQuery<H = QueryHit> {
  hits: H[];
  plan: QueryPlan;
}

/** One candidate of a text or hybrid query, as `explain` shows it (ranks count from 1). */
export interface TextQueryCandidate {
  id: string;
  rank: number;
  /** Text side: the BM25 score. */
  score?: number;
  /** Vector side: the distance in the collection's metric. */
  distance?: number;
}

/** How a text or hybrid query was answered: `query({ text, ..., explain: true })`. */
export interface TextQueryPlan {
  strategy: 'text' | 'hybrid';
  /** The words searched for, as taken from the text. */
  words: string[];
  /** Hybrid: the fusion used, defaults filled in. */
  fusion?: { method: 'rrf'; k: number } | { method: 'weighted'; alpha: number };
  /** Candidates asked of each side. */
  candidates: number;
  /** Text side: its candidates, best first. */
  text: TextQueryCandidate[];
  /** Hybrid: the vector side's candidates, best first, and its plan. */
  vector?: { candidates: TextQueryCandidate[]; plan: QueryPlan };
  /** Hybrid: every candidate with its fused score and its rank and raw score on each side. */
  fused?: {
    id: string;
    score: number;
    vectorRank?: number;
    vectorDistance?: number;
    textRank?: number;
    textScore?: number;
  }[];
}

/** A text or hybrid query's hits with the plan that produced them. */
export interface ExplainedTextQuery<H = QueryHit> {
  hits: H[];
  plan: TextQueryPlan;
}

/** A rerank hook: given the query text and the retrieved hits (with text and metadata), one score per hit, higher is better. */
export type RerankFunction = (query: string, hits: QueryHit[]) => Promise<readonly number[]> | readonly number[];

/** Options of `queryAsync`: those of `query`, and a rerank hook. */
export interface QueryAsyncOptions<F = Filter> extends Omit<QueryOptions<F>, 'rerank' | 'explain'> {
  /**
   * A number: ivfpq's exact re-rank depth, as in `query`. An object: retrieve `candidates` hits
   * (default max(k, 50)), score them with `score(text, hits)` and return the k best by that score.
   * Needs `text`.
   */
  rerank?: number | { candidates?: number; score: RerankFunction };
}

/** Options of `queryIds`: a vector query without the options about what each hit carries. */
export type QueryIdsOptions<F = Filter> = Omit<
  QueryOptions<F>,
  'includeVectors' | 'explain' | 'text' | 'fusion' | 'candidates' | 'includeText' | 'vector'
> & { vector: VectorInput };

/** A `queryIds` result: the id and distance (and score) of a hit, without its record. */
export interface QueryIdHit {
  id: string;
  distance: number;
  score?: number;
}

/** What `listCollections()` reports of each collection. */
export interface CollectionInfo {
  name: string;
  dim: number;
  metric: Metric;
  index: IndexSettings;
  /** Metadata fields with SQLite indexes (CollectionOptions.indexes). */
  indexes: string[];
  /** The full-text settings, when the collection keeps a full-text index. */
  text?: TextSettings;
  count: number;
}

/** Metadata as upsert takes it in a collection typed `M`; untyped collections take any {@link MetadataInput}. */
export type MetadataInputOf<M> = IsUntyped<M> extends true ? MetadataInput : M;

/** Metadata as `update` merges it into a collection typed `M`: some of M's keys, null removing one. */
export type MetadataPatch<M> = IsUntyped<M> extends true ? MetadataInput : { [P in keyof M]?: M[P] | null | undefined };

/** `score` is always there in the hits of 'cosine' and 'ip' collections (and of text queries). */
export type ScoreOf<K extends Metric> = [K] extends ['cosine' | 'ip'] ? { score: number } : unknown;

/** A query hit of a collection typed `M` with metric `K`. */
export type HitOf<M, K extends Metric> = QueryHit<M> & ScoreOf<K>;

/** A `queryIds` hit of a collection with metric `K`. */
export type IdHitOf<K extends Metric> = QueryIdHit & ScoreOf<K>;

/**
 * A named set of vectors with metadata, all of one dimension and metric. `M` types the metadata
 * (upsert takes it, get and queries return it, filters know its keys) and `K` the metric (hits of
 * 'cosine' and 'ip' collections have a `score`): see `db.collection<M, K>()`. Neither is checked
 * against the stored records: they are what the app promises to write.
 */
export interface Collection<M extends object = Metadata, K extends Metric = Metric> {
  readonly name: string;
  readonly dim: number;
  readonly metric: K;
  readonly index: IndexSettings;
  /** The full-text settings; undefined when the collection keeps no full-text index. */
  readonly text: TextSettings | undefined;

  /**
   * Inserts records, or replaces those whose id exists. The batch is validated whole first: one
   * bad record rejects the batch and nothing is written. When this returns, the batch is committed.
   * A record's `text` is stored in the same transaction (and indexed, when the collection has `text`).
   * @example
   * docs.upsert([{ id: 'a', vector: [0.1, 0.2, 0.3], text: 'How to reset the device', metadata: { lang: 'en' } }]);
   * docs.upsert(manyRecords, { onProgress: ({ phase, done, total }) => console.log(phase, done, total) });
   * @throws {QuiverError} INVALID_ARGUMENT (also a record without a vector: use `embed` and
   *   `upsertAsync`; a text over 1 MiB), DIMENSION_MISMATCH, NOT_FINITE, INVALID_ID, INVALID_METADATA,
   *   READ_ONLY, CLOSED, IO_ERROR; HOOK_FAILED when `onProgress` threw (the batch is committed and indexed)
   */
  upsert(records: readonly UpsertRecord<MetadataInputOf<M>>[], options?: UpsertOptions): UpsertResult;

  /**
   * `upsert` with the HNSW graph insert off the event loop, for bulk loads in an Electron main
   * process or a server. The batch is validated and committed exactly as by `upsert`, before this
   * returns its promise; the graph then inserts it on the database's `threads` native threads, in
   * short slices, and the promise resolves when the graph holds it.
   *
   * Meanwhile the collection answers from the committed state, batch included: `count`, `get` and
   * every query see it at once — a query scores the records the graph does not hold yet exactly and
   * merges them with the graph's answer for the others, waiting natively at most for the slice being
   * inserted, never for the whole batch. Writes queue behind the batch (their records commit at
   * once); `snapshot()` returns false and snapshots once the batch is in; `compact()` rebuilds
   * from the records and the promise resolves; `close()` skips this collection's snapshot (its
   * next open replays the log) and the promise rejects with CLOSED — the records stay committed.
   * 'flat' and 'ivfpq' collections update their index synchronously, as `upsert` does.
   *
   * On a collection opened with `embed`, records with `text` and no `vector` get their vectors from
   * it first, in batches of `embedBatchSize` texts with `embedConcurrency` calls at once; the batch
   * is validated before the first call and committed only once every vector is in and checked.
   * @example
   * const { inserted } = await docs.upsertAsync(records); // the event loop stays free meanwhile
   * await notes.upsertAsync([{ id: 'n1', text: 'Buy milk' }]); // vector from the collection's embed
   * await docs.upsertAsync(records, { onProgress: ({ phase, done, total }) => bar.update(done, total) });
   * @throws {QuiverError} INVALID_ARGUMENT, DIMENSION_MISMATCH, NOT_FINITE, INVALID_ID, INVALID_METADATA,
   *   READ_ONLY, CLOSED (also when the collection closes before the graph holds the batch), IO_ERROR,
   *   as a rejected promise; nothing is written when the batch is invalid. From `embed`: a wrong
   *   length is DIMENSION_MISMATCH, NaN or ±Infinity NOT_FINITE (both name the record); a rejection,
   *   a throw or a wrong number of vectors is HOOK_FAILED (the app's error as `cause`). HOOK_FAILED also
   *   when `onProgress` threw (after the batch is committed and indexed)
   */
  upsertAsync(
    records: readonly (UpsertRecord<MetadataInputOf<M>> | TextRecord<MetadataInputOf<M>>)[],
    options?: UpsertOptions,
  ): Promise<UpsertResult>;

  /**
   * Reads records by id. One id gives the record or undefined; an array gives the records
   * found, in the order asked, skipping ids that do not exist.
   * @example
   * const one = docs.get('a');          // QuiverRecord | undefined
   * const some = docs.get(['a', 'b']);  // QuiverRecord[]
   * @throws {QuiverError} INVALID_ID, INVALID_ARGUMENT, CLOSED, CORRUPT (a damaged record or SQLite page), IO_ERROR
   */
  get(id: Id): QuiverRecord<M> | undefined;
  get(ids: readonly Id[]): QuiverRecord<M>[];
  /**
   * Reads the records whose metadata matches a filter (default: every record) in id order — the
   * byte order of the ids' UTF-8 — skipping the first `offset` (default 0) and returning at most
   * `limit` (default: all). For paging through a collection that changes meanwhile, `page` is stable
   * where an offset is not.
   * @example
   * const english = docs.get({ filter: { lang: 'en' }, limit: 100 });
   * const third = docs.get({ limit: 20, offset: 40 }); // records 41 to 60 by id
   * @throws {QuiverError} INVALID_FILTER, INVALID_ARGUMENT, CLOSED, CORRUPT (a damaged record or SQLite page), IO_ERROR
   */
  get(options: GetOptions<Filter<M>>): QuiverRecord<M>[];

  /**
   * One page of records in id order (as `get`), for paging through a collection that may change
   * meanwhile: pass the `next` of one page as `after` of the following call; `next` is undefined on
   * the last page. Each page starts after the last id of the one before, so a record that exists
   * throughout is returned exactly once, whatever is inserted or deleted between calls (records
   * inserted meanwhile appear when their id comes after the cursor). At most `limit` records a page
   * (default 100, at most 10,000).
   * @example
   * let after: string | undefined;
   * do {
   *   const { records, next } = docs.page({ filter: { lang: 'en' }, limit: 500, after });
   *   for (const record of records) console.log(record.id);
   *   after = next;
   * } while (after !== undefined);
   * @throws {QuiverError} INVALID_FILTER, INVALID_ARGUMENT, INVALID_ID, CLOSED, CORRUPT, IO_ERROR
   */
  page(options?: PageOptions<Filter<M>>): RecordPage<M>;

  /**
   * Deletes records by id; ids that do not exist are ignored. Returns how many were deleted.
   * @example
   * docs.delete(['a', 'b']); // 2
   * @throws {QuiverError} INVALID_ID, INVALID_ARGUMENT, READ_ONLY, CLOSED, IO_ERROR
   */
  delete(ids: Id | readonly Id[]): number;
  /**
   * Deletes every record whose metadata matches a filter, in one transaction. Returns how many.
   * An invalid filter writes nothing.
   * @example
   * docs.delete({ filter: { year: { $lt: 2000 } } }); // 12
   * @throws {QuiverError} INVALID_FILTER, INVALID_ARGUMENT, READ_ONLY, CLOSED, IO_ERROR
   */
  delete(options: { filter: Filter<M> }): number;

  /**
   * Changes the metadata and/or text of existing records without touching their vectors: one
   * transaction, no index work, each record's checksum recomputed, the full-text index updated when
   * the text changes, and one 'update' change per record in the change log (carrying the record's
   * whole metadata and text afterwards). Returns how many records were updated. The whole call is
   * validated first: bad input writes nothing. See {@link UpdateChanges} for the merge rules.
   * @example
   * docs.update({ ids: ['a', 'b'] }, { metadata: { reviewed: true, draft: null } }); // 2; 'draft' removed
   * docs.update({ filter: { lang: 'en' } }, { metadata: { lang: 'en-GB' } });
   * docs.update({ ids: ['a'] }, { metadata: { lang: 'fr' }, text: 'Bonjour' }, { merge: false });
   * @throws {QuiverError} INVALID_ARGUMENT, INVALID_ID, INVALID_METADATA, INVALID_FILTER, READ_ONLY,
   *   CLOSED, CORRUPT (a damaged record: nothing is written), IO_ERROR
   */
  update(
    selection: UpdateSelection<Filter<M>>,
    changes: UpdateChanges<MetadataInputOf<M>>,
    options: UpdateOptions & { merge: false },
  ): number;
  update(
    selection: UpdateSelection<Filter<M>>,
    changes: UpdateChanges<MetadataPatch<M>>,
    options?: UpdateOptions & { merge?: true },
  ): number;

  /**
   * A query with `explain: true`: the hits together with the plan that produced them — the
   * strategy the planner chose (exact search over the matches, or HNSW restricted to them), the
   * match count, the search effort and the candidates scored.
   * @example
   * const { hits, plan } = docs.query({ vector: q, k: 10, filter: { lang: 'en' }, explain: true });
   * console.log(plan.strategy, plan.matches, plan.candidatesScored);
   * @throws {QuiverError} as for query
   */
  query(options: QueryOptions<Filter<M>> & { text: string; explain: true }): ExplainedTextQuery<HitOf<M, K>>;
  /**
   * A vector query with `explain: true` (see above).
   * @example
   * const { plan } = docs.query({ vector: q, explain: true });
   * @throws {QuiverError} as for query
   */
  query(options: QueryOptions<Filter<M>> & { explain: true }): ExplainedQuery<HitOf<M, K>>;

  /**
   * The k best records, best first: nearest to `vector`; or best BM25 matches of `text` (the
   * collection needs `text`); or, given both, the fusion of both candidate lists (reciprocal rank
   * fusion unless `fusion` says otherwise). A filter applies to both sides; min(k, matches) hits
   * come back whenever that many records match. With `explain` and `text`, the plan lists each
   * side's candidates with ranks and raw scores and the fused scores.
   * @example
   * const hits = docs.query({ vector: q, k: 10 });
   * for (const { id, distance, metadata } of hits) console.log(id, distance, metadata);
   * const passages = docs.query({ text: 'reset the device', k: 5 });             // BM25
   * const hybrid = docs.query({ vector: q, text: 'reset device', k: 5 });       // RRF, k = 60
   * @throws {QuiverError} INVALID_ARGUMENT (neither vector nor text; text on a collection without
   *   `text`; a rerank hook, which needs queryAsync), DIMENSION_MISMATCH, NOT_FINITE, INVALID_FILTER,
   *   CLOSED, CORRUPT (a damaged record or SQLite page), IO_ERROR
   */
  query(options: QueryOptions<Filter<M>>): HitOf<M, K>[];

  /**
   * `query` for apps that compute vectors with the collection's `embed`: a `text` without a
   * `vector` is embedded and the query runs hybrid (text-only when the collection has no `embed`).
   * With `rerank: { candidates, score }`, `candidates` hits are retrieved, passed to `score` with the
   * query text, and the k best by its scores come back, each keeping its original score beside
   * `rerankScore`.
   * @example
   * const hits = await notes.queryAsync({ text: 'groceries', k: 5 });
   * const reranked = await notes.queryAsync({
   *   text: 'groceries',
   *   k: 5,
   *   rerank: { candidates: 50, score: async (query, hits) => crossEncoder(query, hits) },
   * });
   * @throws {QuiverError} the codes of `query`; from `embed` DIMENSION_MISMATCH / NOT_FINITE (naming
   *   the query text) or HOOK_FAILED with its error as `cause`; from `score` a rejection, a throw,
   *   a wrong count or a non-finite score is HOOK_FAILED; INVALID_ARGUMENT for a rerank hook without text
   */
  queryAsync(options: QueryAsyncOptions<Filter<M>>): Promise<HitOf<M, K>[]>;

  /**
   * `query` returning only ids and distances: no record is read from SQLite per hit, so it is the
   * fastest way to search when the app keeps its own data by id. The ids of all records are kept
   * in memory from the first call on (about the size of the ids).
   * @example
   * const nearest = docs.queryIds({ vector: q, k: 10 }); // [{ id: 'a', distance: 0.12 }, ...]
   * @throws {QuiverError} as for query
   */
  queryIds(options: QueryIdsOptions<Filter<M>>): IdHitOf<K>[];

  /**
   * The k nearest records of each of several vectors: `result[i]` is what `query` returns for
   * `vectors[i]`. HNSW and flat collections search on the database's `threads` native threads at
   * once (a flat batch in one exact scan; its answers equal `query`'s, distances included); the
   * whole batch is validated before any search.
   * @example
   * const [forA, forB] = docs.queryBatch({ vectors: [embeddingA, embeddingB], k: 5 });
   * // or n × dim numbers in one Float32Array, row after row:
   * const answers = docs.queryBatch({ vectors: matrix, k: 10, ef: 128 });
   * @throws {QuiverError} INVALID_ARGUMENT (bad options; vector i all zeros under cosine; a flat
   *   Float32Array whose length is not a multiple of dim), INVALID_FILTER, DIMENSION_MISMATCH,
   *   NOT_FINITE, CLOSED
   */
  queryBatch(options: QueryBatchOptions): HitOf<M, K>[][];

  /**
   * `queryBatch` with the graph search off the event loop, on native threads; the records are
   * then read on the main thread. The vectors are copied first, so the caller may reuse them at
   * once. Should the collection change while the search runs, the answer is recomputed from its
   * new state.
   * @example
   * const answers = await docs.queryBatchAsync({ vectors: questions, k: 10 });
   * @throws {QuiverError} the codes of `queryBatch`, as a rejected promise
   */
  queryBatchAsync(options: QueryBatchOptions): Promise<HitOf<M, K>[][]>;

  /**
   * `queryBatch` returning only ids and distances, as `queryIds` does for one query: no record is
   * read from SQLite, so the whole batch runs at the speed of the native threads.
   * @example
   * const answers = docs.queryIdsBatch({ vectors: matrix, k: 10 }); // [[{ id, distance }, ...], ...]
   * @throws {QuiverError} the codes of `queryBatch`
   */
  queryIdsBatch(options: QueryIdsBatchOptions): IdHitOf<K>[][];

  /**
   * `queryIdsBatch` with the graph search off the event loop; recomputed from the new state should
   * the collection change while it runs, as `queryBatchAsync`.
   * @example
   * const answers = await docs.queryIdsBatchAsync({ vectors: questions, k: 10 });
   * @throws {QuiverError} the codes of `queryBatch`, as a rejected promise
   */
  queryIdsBatchAsync(options: QueryIdsBatchOptions): Promise<IdHitOf<K>[][]>;

  /**
   * Number of records in the collection.
   * @example
   * docs.count(); // 1000
   * @throws {QuiverError} CLOSED, CORRUPT (a damaged record or SQLite page), IO_ERROR
   */
  count(): number;
  /**
   * Number of records whose metadata matches a filter.
   * @example
   * docs.count({ filter: { lang: 'en' } }); // 412
   * @throws {QuiverError} INVALID_FILTER, INVALID_ARGUMENT, CLOSED, CORRUPT (a damaged record or SQLite page), IO_ERROR
   */
  count(options: { filter: Filter<M> }): number;

  /**
   * Writes the index to disk now (atomically) and truncates the log it covers, so the next open
   * loads it instead of replaying. Snapshots also happen on close and automatically. Returns
   * whether a file was written ('flat' indexes are rebuilt from the records and need none; while
   * an `upsertAsync` batch is still going into the graph it returns false, and the snapshot is
   * written once the batch is in).
   * @example
   * docs.snapshot();
   * @throws {QuiverError} READ_ONLY, CLOSED, IO_ERROR
   */
  snapshot(): boolean;

  /**
   * Rebuilds the index from the live records, dropping the space of deleted ones, and snapshots it.
   * @example
   * docs.compact();
   * @throws {QuiverError} READ_ONLY, CLOSED, IO_ERROR
   */
  compact(): void;

  /**
   * Upserts the rows of Arrow data: an id column, a vector column, and every other column as
   * metadata (see docs/arrow.md for the type mapping). Reads one record batch at a time; each batch
   * is validated whole and written as one upsert. A bad row rejects its batch, naming the row
   * (counted from 0 across the source) and the column; earlier batches stay written.
   * @example
   * const { inserted, updated } = await docs.upsertArrow('./embeddings.arrow', { idColumn: 'doc_id' });
   * await docs.upsertArrow(table); // an apache-arrow Table
   * @throws {QuiverError} INVALID_ARGUMENT (missing or unsupported column, null vector), DIMENSION_MISMATCH,
   *   NOT_FINITE, INVALID_ID (null, empty or repeated id), INVALID_METADATA, CORRUPT (unreadable or truncated
   *   IPC file), READ_ONLY, CLOSED, IO_ERROR
   */
  upsertArrow(source: ArrowSource, options?: ArrowImportOptions): Promise<ArrowImportResult>;

  /**
   * The records as Arrow record batches, in label order: `id` (Utf8), `vector`
   * (FixedSizeList<Float32>), then one column per metadata key, typed when its values share one
   * type, else Utf8 JSON text. The schema is fixed by a first pass over the matching metadata.
   * @example
   * for await (const batch of docs.toArrow({ filter: { lang: 'en' }, columns: ['id', 'vector'] })) {
   *   console.log(batch.numRows);
   * }
   * @throws {QuiverError} INVALID_ARGUMENT, INVALID_FILTER, CLOSED, CORRUPT
   */
  toArrow(options?: ArrowExportOptions): AsyncIterableIterator<RecordBatch>;

  /**
   * The records as one Arrow Table, like `toArrow` but whole in memory: for small collections.
   * @example
   * const table = docs.toArrowTable({ columns: ['id', 'lang'] });
   * @throws {QuiverError} INVALID_ARGUMENT, INVALID_FILTER, CLOSED, CORRUPT
   */
  toArrowTable(options?: ArrowExportOptions): Table;

  /**
   * Writes the records to an Arrow IPC stream (path ending in .arrows) or file (any other path), as
   * `toArrow` yields them, atomically: a temporary file is written, fsynced and renamed over `path`.
   * @example
   * await docs.exportArrow('./docs.arrow', { filter: { year: { $gte: 2020 } } });
   * @throws {QuiverError} INVALID_ARGUMENT, INVALID_FILTER, CLOSED, CORRUPT, IO_ERROR
   */
  exportArrow(path: string, options?: ArrowExportOptions): Promise<ArrowExportResult>;
}

/** An open database directory. */
export interface Database {
  /** The directory this database lives in. */
  readonly path: string;
  readonly readOnly: boolean;

  /**
   * Opens a collection, creating it when `options` are given and it does not exist. Reopening
   * with options checks them against the stored settings; without options, the stored settings are used.
   * @example
   * const docs = db.collection('docs', { dim: 384, metric: 'cosine' });
   * const again = db.collection('docs'); // same settings, same object
   * @throws {QuiverError} NOT_FOUND (no such collection and no options), SETTINGS_MISMATCH,
   *   INVALID_ARGUMENT, READ_ONLY, CLOSED
   */
  collection<M extends object = Metadata, K extends Metric = Metric>(
    name: string,
    options?: CollectionOptions & { metric?: K },
  ): Collection<M, K>;

  /**
   * `collection` with the long work of opening an existing collection off the event loop, for
   * Electron main processes and servers: an HNSW snapshot is read with asynchronous file I/O and
   * loaded on a native thread; the log replay and, when the snapshot is missing or unusable, the
   * rebuild from the records insert into the graph on the database's `threads` native threads,
   * 4,096 records at a time. The records are read from SQLite on the main thread, one batch per turn
   * of the event loop. `onProgress` and `onWarning` report as for `collection`. ('flat' and
   * 'ivfpq' rebuilds run on the main thread and yield after each batch; an 'ivfpq' index with saved
   * codes loads them as `collection` does.) A collection already open resolves at once to the same
   * object; so does one created by this call. Concurrent calls for one name share one open; a
   * `collection(name)` call meanwhile opens it synchronously, and this call then resolves to that object.
   * @example
   * const db = open('./my.quiver', { onProgress: ({ phase, done, total }) => console.log(phase, done, total) });
   * const docs = await db.collectionAsync('docs'); // the event loop stays free while it loads
   * @throws {QuiverError} NOT_FOUND (no such collection and no options, or dropped while opening),
   *   SETTINGS_MISMATCH, INVALID_ARGUMENT, READ_ONLY, CLOSED (also when the database closes while it
   *   opens), IO_ERROR, as a rejected promise
   */
  collectionAsync<M extends object = Metadata, K extends Metric = Metric>(
    name: string,
    options?: CollectionOptions & { metric?: K },
  ): Promise<Collection<M, K>>;

  /**
   * Every collection with its settings and record count, by name.
   * @example
   * for (const { name, count } of db.listCollections()) console.log(name, count);
   * @throws {QuiverError} CLOSED, CORRUPT (damaged stored settings or SQLite page), IO_ERROR
   */
  listCollections(): CollectionInfo[];

  /**
   * Deletes a collection and all its records. Returns false when it did not exist.
   * Collection objects for it raise CLOSED afterwards.
   * @example
   * db.dropCollection('docs'); // true
   * @throws {QuiverError} INVALID_ARGUMENT, READ_ONLY, CLOSED, IO_ERROR
   */
  dropCollection(name: string): boolean;

  /**
   * For a read-only database: catches up with the writer's commits now. Reads do this on their
   * own when another connection has committed; a writer has nothing to catch up with.
   * @example
   * reader.refresh();
   * @throws {QuiverError} CLOSED
   */
  refresh(): void;

  /**
   * Compacts every collection's index and rewrites the SQLite file without free pages.
   * @example
   * db.compact();
   * @throws {QuiverError} READ_ONLY, CLOSED, IO_ERROR
   */
  compact(): void;

  /**
   * The seq of the newest committed change (0: none yet). A write's changes are at or below the
   * value read right after it returns: hand it to a replica's `waitFor` for read-your-writes.
   * @example
   * docs.upsert([{ id: 'a', vector: [1, 2, 3] }]);
   * const seq = db.changeSeq();
   * @throws {QuiverError} CLOSED
   */
  changeSeq(): number;

  /**
   * The committed changes after a seq, in commit order (see {@link Change}); at most `limit`.
   * @example
   * for (const change of db.changes({ after: 0, limit: 100 })) console.log(change.seq, change.op, change.id);
   * @throws {QuiverError} CHANGES_EXPIRED (changes after `after` were trimmed: bootstrap again from a backup),
   *   NOT_FOUND (no such consumer), INVALID_ARGUMENT, CORRUPT, CLOSED
   */
  changes(options?: ChangesOptions): Change[];

  /**
   * Follows the change log: yields every change after `after` (or the consumer's cursor), then each
   * new commit as it lands, until `signal` aborts or the loop breaks.
   * @example
   * for await (const change of db.watch({ after: db.changeSeq() })) console.log(change.op, change.id);
   * @throws {QuiverError} CHANGES_EXPIRED, NOT_FOUND, INVALID_ARGUMENT, CORRUPT, CLOSED (from the iterator)
   */
  watch(options?: WatchOptions): AsyncIterableIterator<Change>;

  /**
   * Registers a named consumer whose cursor holds the change log: changes after its cursor stay
   * until it passes them (or the retention limit drops them). New consumers start at `after`
   * (default: the newest change, so they see only what comes next); an existing one is returned
   * unchanged unless `after` is given. A read-only opener may register and move consumers.
   * @example
   * db.registerConsumer('search-sync', { after: 0 });
   * @throws {QuiverError} CHANGES_EXPIRED (`after` is below what is kept), INVALID_ARGUMENT, CLOSED
   */
  registerConsumer(name: string, options?: { after?: number }): ChangeConsumerInfo;

  /**
   * Moves a consumer's cursor forward to `seq` (never back): the changes up to it are handled.
   * @example
   * const page = db.changes({ consumer: 'search-sync' });
   * if (page.length > 0) db.commitConsumer('search-sync', page[page.length - 1]!.seq);
   * @throws {QuiverError} NOT_FOUND, INVALID_ARGUMENT (beyond the newest change), CLOSED
   */
  commitConsumer(name: string, seq: number): void;

  /**
   * Removes a consumer (its changes may then be trimmed). Returns false when there was none.
   * @example
   * db.removeConsumer('search-sync');
   * @throws {QuiverError} INVALID_ARGUMENT, CLOSED
   */
  removeConsumer(name: string): boolean;

  /**
   * The registered consumers and their cursors, by name.
   * @example
   * for (const { name, seq } of db.listConsumers()) console.log(name, seq);
   * @throws {QuiverError} CLOSED
   */
  listConsumers(): ChangeConsumerInfo[];

  /**
   * Sets how many changes (rows) or how old (ageMs) the log may keep for consumers that fell behind;
   * `{}` removes the limit. Trims at once.
   * @example
   * db.setChangeRetention({ rows: 1_000_000, ageMs: 7 * 24 * 3600_000 });
   * @throws {QuiverError} INVALID_ARGUMENT, READ_ONLY, CLOSED
   */
  setChangeRetention(retention: ChangeRetention): void;

  /**
   * The change log's extent, retention, consumers and disk cost.
   * @example
   * const { rows, bytes } = db.changeFeedInfo();
   * @throws {QuiverError} CLOSED
   */
  changeFeedInfo(): ChangeFeedInfo;

  /**
   * Writes a consistent copy of the database, as of one commit, into the directory `path` (created;
   * it must be empty or missing) while the writer goes on: SQLite's online backup of quiver.sqlite,
   * then the index snapshots its manifest names. `open(path)` reads it as it is (an index whose
   * snapshot changed meanwhile is rebuilt from the records on open).
   * @example
   * const { changeSeq } = await db.backup('./backups/2026-12-05');
   * @throws {QuiverError} INVALID_ARGUMENT (path not empty), IO_ERROR, CLOSED, as a rejected promise
   */
  backup(path: string): Promise<BackupResult>;

  /**
   * Snapshots every open collection's index, then closes the database, its collections and the
   * writer lock. Idempotent. Using them afterwards raises CLOSED. A collection whose `upsertAsync`
   * batch is still going into the graph is closed without a snapshot (its records are committed:
   * the next open replays the log) and that promise rejects with CLOSED, as does a pending
   * `collectionAsync`. Should the snapshot or SQLite's close fail (a full disk), everything is
   * closed all the same and the writer lock released, then the failure is thrown.
   * @example
   * db.close();
   * @throws {QuiverError} IO_ERROR (the snapshot or the close failed; the records stay committed)
   */
  close(): void;
}

/** What a change of kind 'create' or 'index' carries about its collection. */
export interface CollectionSettingsChange {
  /** 'create': the collection's dim. */
  dim?: number;
  /** 'create': its metric. */
  metric?: Metric;
  /** 'create': its index settings, defaults filled in. */
  index?: IndexSettings;
  /** 'create': the metadata fields declared with it; 'index': the fields declared since. */
  indexes?: string[];
  /** 'create': its full-text settings, when created with text search; 'index': those of a text index declared since. */
  text?: TextSettings;
}

/**
 * One committed change, as it was committed at its seq. Ops: 'upsert' (id, vector, metadata, and
 * text when records carry text), 'delete' (id), 'update' (id, and the record's whole metadata and
 * its text, absent when it has none, after the update), 'create' (settings), 'index'
 * (settings.indexes: metadata fields declared later, or settings.text: a full-text index declared
 * later), 'drop'.
 */
export interface Change {
  /** Position in the database's change log: rising, without gaps, in commit order. */
  seq: number;
  collection: string;
  op: 'upsert' | 'update' | 'delete' | 'create' | 'index' | 'drop';
  id?: string;
  vector?: Float32Array;
  metadata?: Metadata;
  text?: string;
  settings?: CollectionSettingsChange;
  /** When the change was committed (Unix time in milliseconds, the writer's clock). */
  committedAt: number;
}

export interface ChangesOptions {
  /** Return the changes with a seq above this one (default 0, or the consumer's cursor). */
  after?: number;
  /** At most this many changes (1 to 100,000; default 1,000). */
  limit?: number;
  /** Read from this registered consumer's cursor when `after` is not given. */
  consumer?: string;
}

export interface WatchOptions {
  /** Follow from the changes after this seq (default 0, or the consumer's cursor). */
  after?: number;
  /** Start from this registered consumer's cursor (moving it is up to the app: `commitConsumer`). */
  consumer?: string;
  /** Ends the iteration. */
  signal?: AbortSignal;
  /** How often to look for commits of other processes, in ms (default 20). Commits of this handle wake it at once. */
  pollMs?: number;
}

/**
 * How long the change log keeps changes that a registered consumer has not passed yet. Changes
 * that every consumer has passed (all of them, when there is none) are removed anyway.
 */
export interface ChangeRetention {
  /** Keep at most this many of the newest changes. */
  rows?: number;
  /** Keep no change older than this, in milliseconds. */
  ageMs?: number;
}

/** A named cursor stored in the database: every change up to `seq` is handled. */
export interface ChangeConsumerInfo {
  name: string;
  seq: number;
  /** When the cursor last moved (Unix time in ms). */
  updatedAt: number;
}

/** The state of the change log, and what retention costs on disk. */
export interface ChangeFeedInfo {
  /** The database's random id, fixed at creation (a backup keeps it): published message ids are `databaseId:seq`. */
  databaseId: string;
  /** The newest change ever committed (0: none). */
  lastSeq: number;
  /** The oldest change still kept (lastSeq + 1 when none is kept). */
  firstSeq: number;
  /** Changes kept. */
  rows: number;
  /** Bytes their ids, vectors, metadata, text and settings hold (SQLite's pages add a little). */
  bytes: number;
  retention: ChangeRetention;
  consumers: ChangeConsumerInfo[];
}

/** What `db.backup` wrote. */
export interface BackupResult {
  /** The backup's directory. */
  path: string;
  /** The copy holds every change up to this seq and none after it. */
  changeSeq: number;
  /** Index snapshot files copied beside quiver.sqlite. */
  snapshots: number;
  /** Bytes written. */
  bytes: number;
}
