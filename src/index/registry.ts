// Every index kind, registered once: its stored parameters (defaults, checks, description), its
// factory, and how its state outlives the process. Adding a kind is one folder plus one line in
// KINDS. Must not import src/storage/ (the derived index turns `persistence` into files and rows).
import { QuiverError } from '../errors.js';
import type { Metric } from '../metric.js';
import type { HnswGraphRange } from '../native/hnsw-graph.js';
import { FlatIndex } from './flat.js';
import { HnswIndex } from './hnsw.js';
import { DEFAULT_INT8_RERANK, Int8HnswIndex } from './hnsw-int8.js';
import { defaultPqM, type FetchVectors, IvfPqIndex } from './ivfpq.js';
import type { AnnIndex, Persistence } from './types.js';
import type { IndexSettings } from '../types.js';

/** Fixed parameters of a collection's index, as stored: the public IndexSettings, defaults filled in. */
export type IndexParams = IndexSettings;

export type IndexType = IndexParams['type'];

/** Index options as a caller or a stored row gives them: the type and any numeric settings. */
export type IndexOptionValues = { readonly type: string } & { readonly [key: string]: unknown };

/**
 * What an index needs from its collection: full vectors for a re-rank (IVF-PQ, int8 HNSW), a
 * training report, and where to say that a float-vector file (int8 HNSW) is missing or damaged.
 */
export interface IndexHooks {
  readonly fetchVectors: FetchVectors;
  readonly onTrain: (vectors: number) => void;
  readonly onVectorFileProblem: (message: string) => void;
}

/**
 * A snapshot file's graph: where it lies in the file, with the checksum its bytes must give (the
 * load reads and checks them), and the labels that were live when it was written (already verified).
 */
export interface LoadedFile {
  readonly graph: HnswGraphRange;
  readonly liveLabels: Uint32Array;
  /** The float-vector file that goes with the snapshot (used by kinds that write one), and its seq. */
  readonly vectorFile: { readonly path: string; readonly seq: number };
}

/** Saved state read from SQLite. */
export interface LoadedState {
  readonly codebook: Uint8Array;
  readonly chunks: Uint8Array[];
}

export interface IndexKind<P extends IndexParams = IndexParams> {
  readonly type: P['type'];
  /** A snapshot file ('file'), a codebook and codes in SQLite ('state'), or nothing: rebuilt on open. */
  readonly persistence: Persistence;
  /** The settings a caller may give and that a reopen compares with the stored ones, in message order. */
  readonly settingKeys: readonly string[];
  /** What an absent stored setting means, where it means something (hnsw: vectors 'float32'). */
  readonly settingDefaults?: { readonly [key: string]: unknown };
  /**
   * The stored parameters of a new collection: the options with defaults filled in.
   * @throws QuiverError INVALID_ARGUMENT when they do not fit `dim`
   */
  paramsOf(options: IndexOptionValues | undefined, dim: number): P;
  /** The parameters of a stored row (older rows may lack keys that newer ones have). */
  storedParams(options: IndexOptionValues, dim: number): P;
  /** One line for `quiver info`. */
  describe(params: P): string;
  /** The search effort a query uses when it gives none (undefined: the query's k). */
  defaultEf(params: P): number | undefined;
  /** An empty index sized for `capacity` vectors. */
  create(metric: Metric, dim: number, params: P, capacity: number, hooks: IndexHooks): AnnIndex;
  /** 'file' kinds: the graph of a verified snapshot file, at once. */
  loadFile?(loaded: LoadedFile, metric: Metric, dim: number, params: P, hooks: IndexHooks): AnnIndex;
  /** 'file' kinds: {@link loadFile} off the event loop. */
  loadFileAsync?(loaded: LoadedFile, metric: Metric, dim: number, params: P, hooks: IndexHooks): Promise<AnnIndex>;
  /** 'file' kinds: the header fields a snapshot file records and a load checks. */
  fileHeader?(params: P): { m: number; efConstruction: number };
  /** 'state' kinds: the index from its saved state (the caller replays the log after it). */
  fromState?(metric: Metric, dim: number, params: P, hooks: IndexHooks, state: LoadedState): AnnIndex;
  /** Kinds that persist: the warning text when a collection with records has no saved state. */
  missingMessage?(collection: string, count: number): string;
  /** Kinds that persist: the warning text when the saved state is unusable (`reason` says why). */
  invalidMessage?(collection: string, file: string, reason: string): string;
}

const number = (options: IndexOptionValues | undefined, key: string): number | undefined =>
  options?.[key] as number | undefined;

type HnswStored = Extract<IndexParams, { type: 'hnsw' }>;

/**
 * The vectors and rerank of hnsw parameters: both only for int8 vectors (absent means float32, so
 * float collections keep the parameters, and snapshots, they had before int8 existed).
 */
function hnswVectors(options: IndexOptionValues | undefined): { vectors?: 'int8'; rerank?: number } {
  const vectors = options?.vectors ?? 'float32';
  const rerank = number(options, 'rerank');
  if (vectors === 'float32') {
    if (rerank !== undefined) {
      throw new QuiverError(
        'INVALID_ARGUMENT',
        `options.index.rerank is ${rerank}; it applies to an hnsw index with vectors 'int8' only`,
      );
    }
    return {};
  }
  if (vectors !== 'int8') {
    throw new QuiverError(
      'INVALID_ARGUMENT',
      `options.index.vectors must be 'float32' or 'int8', got ${String(vectors)}`,
    );
  }
  // Why 20: docs/architecture.md, "int8 HNSW".
  return { vectors, rerank: rerank ?? DEFAULT_INT8_RERANK };
}

const int8FileOptions = (hooks: IndexHooks) => ({ onVectorFileProblem: hooks.onVectorFileProblem });

/** The arguments of Int8HnswIndex.load and loadAsync for a snapshot file's graph and its float-vector file. */
const int8Load = (
  loaded: LoadedFile,
  metric: Metric,
  dim: number,
  params: HnswStored & { vectors: 'int8' },
  hooks: IndexHooks,
) =>
  [
    loaded.graph,
    metric,
    dim,
    params,
    loaded.liveLabels,
    hooks.fetchVectors,
    'simd',
    int8FileOptions(hooks),
    loaded.vectorFile,
  ] as const;

const hnsw: IndexKind<HnswStored> = {
  type: 'hnsw',
  persistence: 'file',
  settingKeys: ['m', 'efConstruction', 'ef', 'vectors', 'rerank'],
  settingDefaults: { vectors: 'float32' },
  paramsOf: (options) =>
    ({
      type: 'hnsw',
      m: number(options, 'm') ?? 16,
      efConstruction: number(options, 'efConstruction') ?? 200,
      ef: number(options, 'ef') ?? 64,
      ...hnswVectors(options),
    }) as HnswStored,
  storedParams: (options, dim) => hnsw.paramsOf(options, dim),
  describe: (params) =>
    `hnsw m=${params.m} efConstruction=${params.efConstruction} ef=${params.ef}` +
    (params.vectors === 'int8' ? ` vectors=int8 rerank=${params.rerank}` : ''),
  defaultEf: (params) => params.ef,
  create: (metric, dim, params, capacity, hooks) =>
    params.vectors === 'int8'
      ? new Int8HnswIndex(metric, dim, params, capacity, hooks.fetchVectors, 'simd', int8FileOptions(hooks))
      : new HnswIndex(metric, dim, params, capacity),
  loadFile: (loaded, metric, dim, params, hooks) =>
    params.vectors === 'int8'
      ? Int8HnswIndex.load(...int8Load(loaded, metric, dim, params, hooks))
      : HnswIndex.load(loaded.graph, metric, dim, params, loaded.liveLabels),
  loadFileAsync: (loaded, metric, dim, params, hooks) =>
    params.vectors === 'int8'
      ? Int8HnswIndex.loadAsync(...int8Load(loaded, metric, dim, params, hooks))
      : HnswIndex.loadAsync(loaded.graph, metric, dim, params, loaded.liveLabels),
  fileHeader: (params) => ({ m: params.m, efConstruction: params.efConstruction }),
  missingMessage: (collection, count) =>
    `collection '${collection}' has no index snapshot; rebuilding it from its ${count} records`,
  invalidMessage: (collection, file, reason) =>
    `the index snapshot of '${collection}' (${file}) is unusable: ${reason}; rebuilding it from the records`,
};

const flat: IndexKind<Extract<IndexParams, { type: 'flat' }>> = {
  type: 'flat',
  persistence: 'none',
  settingKeys: [],
  paramsOf: () => ({ type: 'flat' }),
  storedParams: () => ({ type: 'flat' }),
  describe: () => 'flat',
  defaultEf: () => undefined,
  create: (metric, dim, _params, capacity) => new FlatIndex(metric, dim, capacity),
};

type IvfPqStored = Extract<IndexParams, { type: 'ivfpq' }>;

/** nprobe, rerank and targetRecall are kept only when present: otherwise training calibrates them. */
function optionalIvfPq(options: IndexOptionValues | undefined): Pick<IvfPqStored, 'nprobe' | 'rerank'> {
  const nprobe = number(options, 'nprobe');
  const rerank = number(options, 'rerank');
  return { ...(nprobe === undefined ? {} : { nprobe }), ...(rerank === undefined ? {} : { rerank }) };
}

const ivfpq: IndexKind<IvfPqStored> = {
  type: 'ivfpq',
  persistence: 'state',
  settingKeys: ['nlist', 'm', 'nprobe', 'rerank', 'targetRecall'],
  paramsOf: (options, dim) => {
    const m = number(options, 'm') ?? defaultPqM(dim);
    if (m > dim) {
      throw new QuiverError('INVALID_ARGUMENT', `options.index.m is ${m}; ivfpq needs m ≤ dim ${dim} (bytes per code)`);
    }
    return {
      type: 'ivfpq',
      nlist: number(options, 'nlist') ?? 256,
      m,
      ...optionalIvfPq(options),
      // Why 0.95 and the other defaults: docs/ivfpq.md.
      targetRecall: number(options, 'targetRecall') ?? 0.95,
    };
  },
  storedParams: (options, dim) => {
    const targetRecall = number(options, 'targetRecall');
    return {
      type: 'ivfpq',
      nlist: number(options, 'nlist') ?? 256,
      m: number(options, 'm') ?? defaultPqM(dim),
      ...optionalIvfPq(options),
      ...(targetRecall === undefined ? {} : { targetRecall }),
    };
  },
  describe: (params) => {
    const fixed = [
      params.nprobe === undefined ? '' : ` nprobe=${params.nprobe}`,
      params.rerank === undefined ? '' : ` rerank=${params.rerank}`,
      params.targetRecall === undefined ? '' : ` targetRecall=${params.targetRecall}`,
    ];
    return `ivfpq nlist=${params.nlist} m=${params.m}${fixed.join('')}`;
  },
  defaultEf: () => undefined,
  create: (metric, dim, params, _capacity, hooks) =>
    new IvfPqIndex(metric, dim, params, hooks.fetchVectors, hooks.onTrain),
  fromState: (metric, dim, params, hooks, state) =>
    IvfPqIndex.fromState(metric, dim, params, hooks.fetchVectors, state.codebook, state.chunks, hooks.onTrain),
  missingMessage: (collection, count) =>
    `collection '${collection}' has no saved IVF-PQ codes; rebuilding them from its ${count} records`,
  invalidMessage: (collection, _file, reason) =>
    `the IVF-PQ codebook or codes of '${collection}' are unusable: ${reason}; retraining them from the records`,
};

/** The registry: one line per kind. */
const KINDS: { readonly [T in IndexType]: IndexKind<Extract<IndexParams, { type: T }>> } = { hnsw, flat, ivfpq };

/** The kind of stored parameters, or of an index type name. */
export function indexKind(of: IndexParams | IndexType): IndexKind {
  const type = typeof of === 'string' ? of : of.type;
  const kind = KINDS[type] as IndexKind | undefined;
  if (kind === undefined) throw new QuiverError('INTERNAL', `unknown index type '${type}'`);
  return kind;
}

/** The registered type names, in registration order. */
export const INDEX_TYPES = Object.keys(KINDS) as IndexType[];
