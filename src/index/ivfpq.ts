// The IVF-PQ index: coarse k-means lists + 8-bit PQ codes of the vectors, searched by an ADC scan
// of the nearest lists and re-ranked exactly with full vectors fetched through a callback (the
// records in SQLite). Holds no full vector once trained; until then it is exact over a buffer.
// Training calibrates nprobe and rerank (ivfpq-calibration.ts). Must not import src/storage/.
import { QuiverError } from '../errors.js';
import { nativeKernels } from '../native/kernels.js';
import { type Codebook, type CodebookCalibration, readCodebook, writeCodebook } from '../quant/codebook-format.js';
import { trainKMeans } from '../quant/kmeans.js';
import { type ProductQuantizer, trainProductQuantizer } from '../quant/pq.js';
import { SeededRandom } from '../quant/random.js';
import type { Metric } from '../metric.js';
import { exactAmong, FlatIndex } from './flat.js';
import { calibrateIvfPq, MAX_CALIBRATED_RERANK } from './ivfpq-calibration.js';
import { type IvfCodesChunk, readIvfCodes, writeIvfCodes } from './ivfpq-codes-format.js';
import { EXACT_MATCH_LIMIT } from './filtered-limits.js';
import type { AllowedLabels, AnnIndex, Neighbours, PlanFields, SearchEffort, Searched } from './types.js';
import { normalized, normalizedRows } from './vector-math.js';

/** Fixed parameters of an IVF-PQ index; nprobe and rerank only when the user fixed them at creation. */
export interface IvfPqParams {
  /** Coarse lists (k-means centroids). */
  readonly nlist: number;
  /** PQ sub-spaces = bytes per code. */
  readonly m: number;
  /** Lists scanned per query unless the query says otherwise; absent: the calibration chooses. */
  readonly nprobe?: number | undefined;
  /** Candidates re-scored exactly per query (at least k is always used); absent: the calibration chooses. */
  readonly rerank?: number | undefined;
  /**
   * The recall@10 the calibration aims at. Absent for collections created before calibration
   * existed: they keep their stored nprobe and rerank and are not calibrated.
   */
  readonly targetRecall?: number | undefined;
}

/** Where a search's nprobe or rerank came from, strongest first. */
export type IvfPqSettingSource = 'query' | 'collection' | 'calibration' | 'default';

/** Reads the full vectors of `labels` (any order; labels without a record are left out). One read for all. */
export type FetchVectors = (labels: readonly number[]) => Iterable<{ label: number; vector: Float32Array }>;

/** What a search did, for query plans and benchmarks. */
export interface IvfPqSearchStats {
  /** False while the index answers exactly, before training. */
  readonly trained: boolean;
  readonly nprobe: number;
  readonly rerank: number;
  readonly nprobeFrom: IvfPqSettingSource;
  readonly rerankFrom: IvfPqSettingSource;
  /** PQ codes scanned by the ADC kernel (or vectors scored exactly before training). */
  readonly candidatesScanned: number;
  /** Full vectors read and re-scored exactly. */
  readonly reranked: number;
}

/** Bytes the index holds, by kind; `total` is their sum. */
export interface IvfPqMemory {
  /** PQ codes: capacity × m. */
  readonly codes: number;
  /** List membership: the labels in each list plus each label's list number. */
  readonly lists: number;
  /** Coarse centroids and PQ centroids. */
  readonly centroids: number;
  /** Full vectors buffered before training (0 once trained). */
  readonly pending: number;
  readonly total: number;
}

/** Points per centroid below which k-means is unreliable (faiss warns under 39). */
export const TRAINING_POINTS_PER_CENTROID = 39;
/** PQ centroids per sub-space: codes are one byte. */
const PQ_CENTROIDS = 256;
/** PQ sub-space k-means trains on at most this many vectors (64 per centroid): enough, and bounded in time. */
const PQ_TRAINING_POINTS = 16_384;
const KMEANS_ITERATIONS = 20;
const COARSE_SEED = 1;
const PQ_SEED = 2;
/** Used when nothing else gives nprobe or rerank (an untrained index, or a version-1 codebook). */
export const FALLBACK_NPROBE = 16;
export const FALLBACK_RERANK = 100;
/** Sample queries held back from training to calibrate (1 in 20 of the training vectors at most). */
const CALIBRATION_QUERIES = 200;
const CALIBRATION_SEED = 3;
/** Entries per persisted chunk of codes. */
const CHUNK_ENTRIES = 65_536;
/** Growth factors: codes by label capacity (kept small: it bounds the slack in memory), lists by entries. */
const CODE_GROWTH = 1.125;
const LIST_GROWTH = 1.25;

/**
 * Vectors needed before the index trains: 39 per coarse centroid and per PQ centroid, i.e.
 * 39 × max(nlist, 256) — 9,984 with the defaults.
 */
export function trainingThreshold(nlist: number): number {
  return TRAINING_POINTS_PER_CENTROID * Math.max(nlist, PQ_CENTROIDS);
}

/**
 * Default PQ sub-spaces for a dimension: dim / 8 (8 dimensions per byte), so codes take 1/32 of
 * the float32 vectors and the list bookkeeping and centroids fit in the rest of a 1/16 budget.
 */
export function defaultPqM(dim: number): number {
  return Math.max(1, Math.floor(dim / 8));
}

/** Options a search may override. */
export interface IvfPqSearchOptions {
  readonly nprobe?: number | undefined;
  readonly rerank?: number | undefined;
}

export class IvfPqIndex implements AnnIndex {
  readonly type = 'ivfpq';
  readonly metric: Metric;
  readonly dim: number;
  readonly busy = false;
  readonly failure = undefined;
  readonly params: IvfPqParams;
  readonly #fetch: FetchVectors;
  readonly #onTrain: (vectors: number) => void;
  // Before training: the vectors, searched exactly (FlatIndex normalises for cosine itself).
  #pending: FlatIndex | undefined;
  #pendingVectors: Map<number, Float32Array> | undefined;
  // After training.
  #pq: ProductQuantizer | undefined;
  #calibration: CodebookCalibration | undefined;
  #coarse: Float32Array = new Float32Array(0);
  #codes: Uint8Array = new Uint8Array(0);
  /** List number + 1 of each label; 0 when the label is absent. */
  #listOf: Uint16Array = new Uint16Array(0);
  #lists: Int32Array[] = [];
  #listSizes: Int32Array = new Int32Array(0);
  #capacity = 0;
  #size = 0;
  // Reused per query.
  #candidates = new Int32Array(0);

  /**
   * An empty, untrained index. `fetch` reads full vectors for re-ranking; `onTrain` is told when
   * training starts (with the number of training vectors).
   * @throws QuiverError INVALID_ARGUMENT when nlist is outside 1..65,535, m outside 1..dim or
   *   targetRecall outside (0, 1].
   */
  constructor(
    metric: Metric,
    dim: number,
    params: IvfPqParams,
    fetch: FetchVectors,
    onTrain: (vectors: number) => void = () => {},
  ) {
    if (!Number.isInteger(params.nlist) || params.nlist < 1 || params.nlist > 65_535) {
      throw new QuiverError('INVALID_ARGUMENT', `ivfpq: nlist must be an integer from 1 to 65535, got ${params.nlist}`);
    }
    if (!Number.isInteger(params.m) || params.m < 1 || params.m > dim) {
      throw new QuiverError('INVALID_ARGUMENT', `ivfpq: m must be an integer from 1 to dim ${dim}, got ${params.m}`);
    }
    const target = params.targetRecall;
    if (target !== undefined && !(target > 0 && target <= 1)) {
      throw new QuiverError('INVALID_ARGUMENT', `ivfpq: targetRecall must be above 0 and at most 1, got ${target}`);
    }
    this.metric = metric;
    this.dim = dim;
    this.params = params;
    this.#fetch = fetch;
    this.#onTrain = onTrain;
    this.#pending = new FlatIndex(metric, dim, 1024);
    this.#pendingVectors = new Map();
  }

  /** True once the codebooks exist and vectors are held as codes only. */
  get trained(): boolean {
    return this.#pq !== undefined;
  }

  /** Trained codes are worth keeping; before training the index is rebuilt from the records. */
  get savable(): boolean {
    return this.trained;
  }

  /** The settings chosen at training (undefined before training or for a version-1 codebook). */
  get calibration(): CodebookCalibration | undefined {
    return this.#calibration;
  }

  /**
   * The nprobe and rerank a search uses, and where each came from: the query's own, else the
   * collection's fixed at creation, else the calibration's (rerank scaled by (size ÷ the
   * calibration's base)^growth: an ADC rank grows with the vectors ranked), else the fallback.
   */
  settings(options: IvfPqSearchOptions = {}): {
    nprobe: number;
    rerank: number;
    nprobeFrom: IvfPqSettingSource;
    rerankFrom: IvfPqSettingSource;
  } {
    const calibration = this.#calibration;
    const [nprobe, nprobeFrom]: [number, IvfPqSettingSource] =
      options.nprobe !== undefined
        ? [options.nprobe, 'query']
        : this.params.nprobe !== undefined
          ? [this.params.nprobe, 'collection']
          : calibration !== undefined
            ? [calibration.nprobe, 'calibration']
            : [FALLBACK_NPROBE, 'default'];
    const [rerank, rerankFrom]: [number, IvfPqSettingSource] =
      options.rerank !== undefined
        ? [options.rerank, 'query']
        : this.params.rerank !== undefined
          ? [this.params.rerank, 'collection']
          : calibration !== undefined
            ? [scaledRerank(calibration, this.size), 'calibration']
            : [FALLBACK_RERANK, 'default'];
    return { nprobe: Math.min(this.params.nlist, nprobe), rerank, nprobeFrom, rerankFrom };
  }

  get size(): number {
    return this.#pending?.size ?? this.#size;
  }

  /** Inserts or replaces `label`. Trains the index when the collection first reaches the threshold. */
  upsert(label: number, vector: Float32Array): void {
    if (this.#pending !== undefined) {
      this.#pending.upsert(label, vector);
      this.#pendingVectors!.set(label, vector);
      if (this.#pending.size >= trainingThreshold(this.params.nlist)) this.#train();
      return;
    }
    this.#encode(Int32Array.of(label), this.#prepared(vector));
  }

  /**
   * Inserts or replaces many labels (distinct) at once: one coarse assignment and one PQ encoding
   * for the whole batch. `vectors` holds labels.length rows of dim numbers.
   */
  upsertBatch(labels: Int32Array | Uint32Array, vectors: Float32Array): void {
    if (labels instanceof Uint32Array) labels = new Int32Array(labels.buffer, labels.byteOffset, labels.length);
    let row = 0;
    while (this.#pending !== undefined && row < labels.length) {
      this.upsert(labels[row]!, vectors.subarray(row * this.dim, (row + 1) * this.dim));
      row++;
    }
    if (row === labels.length) return;
    const remaining = vectors.subarray(row * this.dim, labels.length * this.dim);
    const rest = this.metric === 'cosine' ? normalizedRows(remaining, this.dim) : remaining.slice();
    this.#encode(labels.subarray(row), rest);
  }

  /** {@link upsertBatch} on the main thread, then a turn of the event loop. */
  async upsertBatchAsync(labels: Uint32Array, vectors: Float32Array): Promise<void> {
    this.upsertBatch(labels, vectors);
    await new Promise((resolve) => setImmediate(resolve));
  }

  /** One coarse assignment and one PQ encoding pay off from two vectors on. */
  prefersBatch(count: number): boolean {
    return count > 1;
  }

  remove(label: number): void {
    if (this.#pending !== undefined) {
      this.#pending.remove(label);
      this.#pendingVectors!.delete(label);
      return;
    }
    const list = label < this.#capacity ? this.#listOf[label]! - 1 : -1;
    if (list < 0) return;
    this.#removeFromList(list, label);
    this.#listOf[label] = 0;
    this.#size--;
  }

  search(query: Float32Array, k: number, _ef: number): Neighbours {
    return this.searchWith(query, k, {}).neighbours;
  }

  searchPlanned(query: Float32Array, k: number, effort: SearchEffort): Searched {
    const plan: PlanFields = { strategy: 'exact', candidatesScored: this.size };
    if (k === 0) return { neighbours: { labels: [], distances: [] }, plan };
    const found = this.searchWith(query, k, { nprobe: effort.nprobe, rerank: effort.rerank });
    if (found.stats.trained)
      Object.assign(plan, this.planFields(found.stats), { candidatesScored: found.stats.reranked });
    return { neighbours: found.neighbours, plan };
  }

  /**
   * Before training the index holds the vectors and is exact over the allowed labels; trained, an
   * ADC scan restricted to them (over nprobe / selectivity lists), then the exact re-rank — for more
   * than EXACT_MATCH_LIMIT matches (fewer are scored exactly from the records).
   */
  searchAllowed(
    query: Float32Array,
    k: number,
    allowed: AllowedLabels,
    effort: SearchEffort,
  ): { neighbours: Neighbours | undefined; plan: PlanFields } {
    if (this.trained && allowed.labels.length <= EXACT_MATCH_LIMIT) return { neighbours: undefined, plan: {} };
    const found = this.searchWith(query, k, { nprobe: effort.nprobe, rerank: effort.rerank }, allowed.labels);
    const plan: PlanFields = { candidatesScored: found.stats.trained ? found.stats.reranked : allowed.labels.length };
    if (found.stats.trained) Object.assign(plan, this.planFields(found.stats));
    if (found.neighbours.labels.length === k) return { neighbours: found.neighbours, plan };
    plan.fallback = true;
    return { neighbours: undefined, plan };
  }

  /** Trained, the index holds codes, not vectors: the caller reads them from the records. */
  exactAmong(): undefined {
    return undefined;
  }

  /**
   * The up-to-k nearest live vectors: ADC over the nprobe nearest lists (more lists while they hold
   * fewer than k vectors), the best `rerank` re-scored exactly. With `allowed` (ascending labels of
   * live vectors), only those are candidates; the lists probed widen to nprobe / selectivity, or
   * every allowed label is scanned when that covers the lists anyway.
   */
  searchWith(
    query: Float32Array,
    k: number,
    options: IvfPqSearchOptions,
    allowed?: Int32Array,
  ): { neighbours: Neighbours; stats: IvfPqSearchStats } {
    const chosen = this.settings(options);
    const nprobe = chosen.nprobe;
    const rerank = Math.max(k, chosen.rerank);
    const from = { nprobeFrom: chosen.nprobeFrom, rerankFrom: chosen.rerankFrom };
    if (this.#pending !== undefined) {
      const neighbours =
        allowed === undefined ? this.#pending.search(query, k, 0) : this.#pending.searchAmong(query, k, allowed);
      const scanned = allowed?.length ?? this.#pending.size;
      return {
        neighbours,
        stats: { trained: false, nprobe, rerank, ...from, candidatesScanned: scanned, reranked: 0 },
      };
    }
    const prepared = this.#prepared(query);
    const candidates = this.#gatherCandidates(prepared, k, nprobe, allowed);
    const empty = { labels: [], distances: [] };
    if (candidates.length === 0) {
      return {
        neighbours: empty,
        stats: { trained: true, nprobe, rerank, ...from, candidatesScanned: 0, reranked: 0 },
      };
    }
    const keep = Math.min(rerank, candidates.length);
    const labels = new Int32Array(keep);
    const distances = new Float32Array(keep);
    nativeKernels.adcTopK({
      tables: this.#pq!.adcTable(prepared, this.metric === 'l2' ? 'l2' : 'ip'),
      codes: this.#codes,
      m: this.params.m,
      k: keep,
      labels,
      distances,
      candidates,
    });
    const neighbours = this.#rerank(prepared, k, labels);
    return {
      neighbours,
      stats: { trained: true, nprobe, rerank, ...from, candidatesScanned: candidates.length, reranked: keep },
    };
  }

  /** The fields a trained search adds to a query plan (`explain`). */
  planFields(stats: IvfPqSearchStats): {
    strategy: 'ivfpq';
    nprobe: number;
    rerank: number;
    nprobeFrom: IvfPqSettingSource;
    rerankFrom: IvfPqSettingSource;
    calibration?: CodebookCalibration;
  } {
    const { nprobe, rerank, nprobeFrom, rerankFrom } = stats;
    const calibration = this.#calibration;
    return {
      strategy: 'ivfpq',
      nprobe,
      rerank,
      nprobeFrom,
      rerankFrom,
      ...(calibration === undefined ? {} : { calibration: { ...calibration } }),
    };
  }

  /** Bytes held, by kind (typed arrays' lengths, capacity included). */
  memory(): IvfPqMemory {
    const codes = this.#codes.byteLength;
    let lists = this.#listOf.byteLength + this.#listSizes.byteLength;
    for (const list of this.#lists) lists += list.byteLength;
    const centroids = this.#coarse.byteLength + (this.#pq?.centroids.byteLength ?? 0);
    let pending = 0;
    if (this.#pendingVectors !== undefined) pending = 2 * this.#pendingVectors.size * this.dim * 4; // buffer + flat copy
    return { codes, lists, centroids, pending, total: codes + lists + centroids + pending };
  }

  /** The codebook and the codes, for persistence; undefined before training. */
  exportState(): { codebook: Uint8Array; chunks: Uint8Array[] } | undefined {
    if (this.#pq === undefined) return undefined;
    const codebook = writeCodebook({ pq: this.#pq, coarseCentroids: this.#coarse, calibration: this.#calibration });
    const m = this.params.m;
    const chunks: Uint8Array[] = [];
    let labels: number[] = [];
    let lists: number[] = [];
    const flush = () => {
      const codes = new Uint8Array(labels.length * m);
      labels.forEach((label, at) => {
        codes.set(this.#codes.subarray(label * m, (label + 1) * m), at * m);
      });
      chunks.push(writeIvfCodes({ m, labels: Uint32Array.from(labels), lists: Uint32Array.from(lists), codes }));
      labels = [];
      lists = [];
    };
    for (let label = 0; label < this.#capacity; label++) {
      if (this.#listOf[label] === 0) continue;
      labels.push(label);
      lists.push(this.#listOf[label]! - 1);
      if (labels.length === CHUNK_ENTRIES) flush();
    }
    if (labels.length > 0 || chunks.length === 0) flush();
    return { codebook, chunks };
  }

  /**
   * A trained index from persisted state, checked throughout.
   * @throws QuiverError CORRUPT when the codebook or a chunk is damaged or does not fit the parameters.
   */
  static fromState(
    metric: Metric,
    dim: number,
    params: IvfPqParams,
    fetch: FetchVectors,
    codebookBytes: Uint8Array,
    chunks: readonly Uint8Array[],
    onTrain?: (vectors: number) => void,
  ): IvfPqIndex {
    const codebook: Codebook = readCodebook(codebookBytes);
    const { pq, coarseCentroids, calibration } = codebook;
    if (pq.dim !== dim || pq.m !== params.m || coarseCentroids.length !== params.nlist * dim) {
      throw new QuiverError(
        'CORRUPT',
        `the IVF-PQ codebook is for dim ${pq.dim}, m ${pq.m}, ${coarseCentroids.length / pq.dim} lists; ` +
          `the collection has dim ${dim}, m ${params.m}, nlist ${params.nlist}`,
      );
    }
    if (calibration !== undefined && calibration.targetRecall !== Math.fround(params.targetRecall ?? Number.NaN)) {
      throw new QuiverError(
        'CORRUPT',
        `the IVF-PQ codebook was calibrated for targetRecall ${calibration.targetRecall}; ` +
          `the collection has ${params.targetRecall ?? 'none'}`,
      );
    }
    const index = new IvfPqIndex(metric, dim, params, fetch, onTrain);
    index.#adoptCodebook(pq, coarseCentroids, calibration);
    for (const bytes of chunks) {
      const chunk: IvfCodesChunk = readIvfCodes(bytes, params.m);
      for (let at = 0; at < chunk.labels.length; at++) {
        const label = chunk.labels[at]!;
        const list = chunk.lists[at]!;
        if (list >= params.nlist) throw new QuiverError('CORRUPT', `IVF-PQ codes name list ${list} of ${params.nlist}`);
        const code = chunk.codes.subarray(at * params.m, (at + 1) * params.m);
        if (code.some((byte) => byte >= pq.centroidsPerSubspace)) {
          throw new QuiverError('CORRUPT', `the IVF-PQ code of label ${label} names a PQ centroid that does not exist`);
        }
        if (label < index.#capacity && index.#listOf[label] !== 0) {
          throw new QuiverError('CORRUPT', `IVF-PQ codes hold label ${label} twice`);
        }
        index.#place(label, list, code);
      }
    }
    return index;
  }

  dispose(): void {
    this.#pending?.dispose();
    this.#pending = undefined;
    this.#pendingVectors = undefined;
    this.#codes = new Uint8Array(0);
    this.#listOf = new Uint16Array(0);
    this.#lists = [];
    this.#capacity = 0;
    this.#size = 0;
  }

  // ---- internals ----

  /** The vector the index works with: normalised for cosine, else as given. */
  #prepared(vector: Float32Array): Float32Array {
    return this.metric === 'cosine' ? normalized(vector) : vector;
  }

  /**
   * Trains the coarse centroids and the PQ on the buffered vectors except a seeded sample held
   * back, calibrates nprobe and rerank on that sample (when the collection has a targetRecall),
   * and encodes every buffered vector.
   */
  #train(): void {
    const pendingVectors = this.#pendingVectors!;
    const count = pendingVectors.size;
    this.#onTrain(count);
    const labels = new Int32Array(count);
    const vectors = new Float32Array(count * this.dim);
    let row = 0;
    for (const [label, vector] of pendingVectors) {
      labels[row] = label;
      vectors.set(this.#prepared(vector), row * this.dim);
      row++;
    }
    const target = this.params.targetRecall;
    const held = target === undefined ? 0 : Math.min(CALIBRATION_QUERIES, Math.floor(count / 20));
    const { training, queries } = holdBack(vectors, this.dim, held);
    const { centroids } = trainKMeans(training, this.dim, this.params.nlist, {
      seed: COARSE_SEED,
      maxIterations: KMEANS_ITERATIONS,
    });
    const pq = trainProductQuantizer(training, this.dim, {
      m: this.params.m,
      seed: PQ_SEED,
      maxIterations: KMEANS_ITERATIONS,
      maxTrainingPoints: PQ_TRAINING_POINTS,
    });
    const calibration =
      target === undefined || held === 0
        ? undefined
        : calibrateIvfPq({
            metric: this.metric === 'l2' ? 'l2' : 'ip',
            dim: this.dim,
            base: training,
            queries,
            coarse: centroids,
            pq,
            targetRecall: target,
            nprobe: this.params.nprobe,
            rerank: this.params.rerank,
          });
    this.#pending!.dispose();
    this.#pending = undefined;
    this.#pendingVectors = undefined;
    this.#adoptCodebook(pq, centroids, calibration);
    this.#encode(labels, vectors);
  }

  #adoptCodebook(pq: ProductQuantizer, coarse: Float32Array, calibration: CodebookCalibration | undefined): void {
    this.#pending?.dispose();
    this.#pending = undefined;
    this.#pendingVectors = undefined;
    this.#pq = pq;
    this.#calibration = calibration;
    this.#coarse = coarse;
    this.#lists = Array.from({ length: this.params.nlist }, () => new Int32Array(0));
    this.#listSizes = new Int32Array(this.params.nlist);
  }

  /** Assigns and encodes prepared vectors (labels.length rows) and files them in their lists. */
  #encode(labels: Int32Array, vectors: Float32Array): void {
    const count = labels.length;
    const assignments = new Int32Array(count);
    nativeKernels.kmeansAssign({
      metric: 'l2',
      points: vectors,
      centroids: this.#coarse,
      dim: this.dim,
      assignments,
      distances: new Float32Array(count),
    });
    const codes = this.#pq!.encode(vectors);
    for (let row = 0; row < count; row++) {
      const label = labels[row]!;
      if (label < this.#capacity && this.#listOf[label] !== 0) {
        this.#removeFromList(this.#listOf[label]! - 1, label);
        this.#listOf[label] = 0;
        this.#size--;
      }
      this.#place(label, assignments[row]!, codes.subarray(row * this.params.m, (row + 1) * this.params.m));
    }
  }

  /** Files an absent label in `list` with `code`. */
  #place(label: number, list: number, code: Uint8Array): void {
    if (label >= this.#capacity) this.#grow(label + 1);
    this.#codes.set(code, label * this.params.m);
    this.#listOf[label] = list + 1;
    let entries = this.#lists[list]!;
    const size = this.#listSizes[list]!;
    if (size === entries.length) {
      const grown = new Int32Array(Math.max(8, Math.ceil(entries.length * LIST_GROWTH)));
      grown.set(entries);
      entries = grown;
      this.#lists[list] = grown;
    }
    entries[size] = label;
    this.#listSizes[list] = size + 1;
    this.#size++;
  }

  #removeFromList(list: number, label: number): void {
    const entries = this.#lists[list]!;
    const size = this.#listSizes[list]!;
    const at = entries.subarray(0, size).indexOf(label);
    if (at < 0) throw new QuiverError('INTERNAL', `ivfpq: label ${label} is missing from list ${list}`);
    entries[at] = entries[size - 1]!;
    this.#listSizes[list] = size - 1;
  }

  #grow(minimum: number): void {
    const capacity = Math.max(minimum, Math.ceil(this.#capacity * CODE_GROWTH), 1024);
    const codes = new Uint8Array(capacity * this.params.m);
    codes.set(this.#codes);
    const listOf = new Uint16Array(capacity);
    listOf.set(this.#listOf);
    this.#codes = codes;
    this.#listOf = listOf;
    this.#capacity = capacity;
  }

  /**
   * The labels to scan: the nearest lists in coarse order, at least nprobe of them and more until
   * they hold k candidates. With `allowed`, only allowed labels, over nprobe / selectivity lists.
   */
  #gatherCandidates(query: Float32Array, k: number, nprobe: number, allowed: Int32Array | undefined): Int32Array {
    const nlist = this.params.nlist;
    let probes = nprobe;
    let isAllowed: Uint8Array | undefined;
    if (allowed !== undefined) {
      const selectivity = this.#size === 0 ? 1 : allowed.length / this.#size;
      probes = Math.ceil(nprobe / Math.max(selectivity, 1e-9));
      // When the widened probe covers the lists anyway, the allowed labels are the candidates.
      if (probes >= nlist) return allowed;
      isAllowed = new Uint8Array(this.#capacity);
      for (const label of allowed) if (label < this.#capacity) isAllowed[label] = 1;
    }
    const order = new Int32Array(nlist);
    const distances = new Float32Array(nlist);
    nativeKernels.exactTopK({
      metric: 'l2',
      queries: query,
      base: this.#coarse,
      dim: this.dim,
      k: nlist,
      labels: order,
      distances,
    });
    let needed = 0;
    for (let rank = 0; rank < nlist; rank++) needed += this.#listSizes[order[rank]!]!;
    if (this.#candidates.length < needed) this.#candidates = new Int32Array(Math.ceil(needed * 1.25));
    const candidates = this.#candidates;
    let count = 0;
    for (let rank = 0; rank < nlist; rank++) {
      if (rank >= probes && count >= k) break;
      const list = order[rank]!;
      const entries = this.#lists[list]!;
      const size = this.#listSizes[list]!;
      if (isAllowed === undefined) {
        candidates.set(entries.subarray(0, size), count);
        count += size;
      } else {
        for (let at = 0; at < size; at++) {
          const label = entries[at]!;
          if (isAllowed[label] === 1) candidates[count++] = label;
        }
      }
    }
    return candidates.subarray(0, count);
  }

  /** Exact distances of the kept candidates from their full vectors; the best k of them. */
  #rerank(query: Float32Array, k: number, kept: Int32Array): Neighbours {
    const labels = Array.from(kept).filter((label) => label >= 0);
    const rows: number[] = [];
    const vectors = new Float32Array(labels.length * this.dim);
    for (const { label, vector } of this.#fetch(labels)) {
      vectors.set(this.#prepared(vector), rows.length * this.dim);
      rows.push(label);
    }
    const found = exactAmong(this.metric, query, vectors.subarray(0, rows.length * this.dim), this.dim, k);
    return { labels: found.labels.map((row) => rows[row]!), distances: found.distances };
  }
}

/**
 * The calibrated rerank for an index of `size` vectors: rerank × (size ÷ base)^growth, never below
 * the calibrated one, at most MAX_CALIBRATED_RERANK.
 */
function scaledRerank(calibration: CodebookCalibration, size: number): number {
  const ratio = Math.max(size, calibration.base) / calibration.base;
  const scaled = Math.ceil(calibration.rerank * ratio ** calibration.growth - 1e-9);
  return Math.min(MAX_CALIBRATED_RERANK, Math.max(calibration.rerank, scaled));
}

/** Splits rows into a training set and `held` seeded sample rows (the queries), each row in one of them. */
function holdBack(vectors: Float32Array, dim: number, held: number): { training: Float32Array; queries: Float32Array } {
  const count = vectors.length / dim;
  if (held === 0) return { training: vectors, queries: new Float32Array(0) };
  const random = new SeededRandom(CALIBRATION_SEED);
  const chosen = new Uint8Array(count);
  let picked = 0;
  while (picked < held) {
    const row = random.nextInt(count);
    if (chosen[row] === 0) {
      chosen[row] = 1;
      picked++;
    }
  }
  const training = new Float32Array((count - held) * dim);
  const queries = new Float32Array(held * dim);
  let trainingRow = 0;
  let queryRow = 0;
  for (let row = 0; row < count; row++) {
    const source = vectors.subarray(row * dim, (row + 1) * dim);
    if (chosen[row] === 1) queries.set(source, queryRow++ * dim);
    else training.set(source, trainingRow++ * dim);
  }
  return { training, queries };
}
