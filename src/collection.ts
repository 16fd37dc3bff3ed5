// A collection: validates batches, commits them to the store (records + oplog in one
// transaction), then updates the in-memory index, and answers queries from the index with
// records read back from the store. Never touches the file system directly.
import type { RecordBatch, Table } from 'apache-arrow';
import {
  type ArrowExportSource,
  arrowTable,
  type ColumnBatch,
  exportArrowFile,
  recordBatches,
  upsertArrow,
} from './arrow/index.js';
import { DerivedIndex, type IndexEvents } from './derived-index.js';
import { isQuiverError, QuiverError, toQuiverError } from './errors.js';
import { batchRow, HnswIndex } from './index/hnsw.js';
import { IvfPqIndex } from './index/ivfpq.js';
import type { AnnIndex, BatchNeighbours, Neighbours } from './index/types.js';
import { norm } from './index/vector-math.js';
import {
  describe,
  filterSelectionSchema,
  parseOrThrow,
  queryBatchSchema,
  queryIdsBatchSchema,
  queryIdsSchema,
  querySchema,
  toId,
  toMetadataJson,
  toVector,
  copyVector,
} from './schema.js';
import type { Metric } from './schema.js';
import { crashPoint } from './storage/crash-point.js';
import { compileFilter, parseFilter } from './filter/index.js';
import { exactOverRows, type FilteredSearchContext, Matches, searchFiltered } from './filtered-search.js';
import type { CollectionRow, CompiledWhere, Store, StoredRecord } from './storage/store.js';
import { checkedRecord, checkLabel } from './storage/stored-record.js';
import type {
  Collection,
  ExplainedQuery,
  Filter,
  Id,
  IndexSettings,
  Metadata,
  QueryBatchOptions,
  QueryHit,
  QueryIdHit,
  QueryIdsBatchOptions,
  QueryIdsOptions,
  QueryOptions,
  QueryPlan,
  QuiverRecord,
  UpsertRecord,
  UpsertResult,
} from './types.js';
import type {
  ArrowExportOptions,
  ArrowExportResult,
  ArrowImportOptions,
  ArrowImportResult,
  ArrowSource,
} from './types.js';

const DEFAULT_K = 10;
/** Filters whose matching labels a collection remembers between writes. */
const MATCH_CACHE_SIZE = 32;
/** Filters compile against the records table's JSON column. */
const COMPILE = { metadataColumn: 'metadata' } as const;

/** True for the `{ filter, ... }` form of get / delete (as opposed to ids). */
function isSelection(value: unknown): value is { filter: Filter; limit?: number } {
  return value !== null && typeof value === 'object' && !Array.isArray(value) && 'filter' in value;
}
const RECORD_KEYS = new Set(['id', 'vector', 'metadata']);

/** A validated upsert batch: row i is ids[i], numbers i·dim … (i+1)·dim of vectors, metadata[i]. */
interface PreparedBatch {
  readonly ids: readonly string[];
  readonly vectors: Float32Array;
  /** JSON text per row, or one text for every row. */
  readonly metadata: readonly string[] | string;
}

/** The options schema of a batch method: queryBatch's, or queryIdsBatch's (no includeVectors). */
type BatchSchema = typeof queryBatchSchema | typeof queryIdsBatchSchema;

/** The metadata of records given none. */
const EMPTY_METADATA = '{}';

/** A committed batch's changes for the index (see DerivedIndex.applyCommitted). */
type CommittedChanges = { label: number; vector: Float32Array }[];

/** How a committed batch reaches the index: at once (upsert) or queued on the threads (upsertAsync). */
type ApplyCommitted = (derived: DerivedIndex, applied: CommittedChanges, seq: number) => void;

/** A validated queryBatch: `count` query rows of `dim` numbers in `queries`. */
interface PreparedQueryBatch {
  readonly queries: Float32Array;
  readonly count: number;
  /** k as asked; `k` is it capped at the index size. */
  readonly requested: number;
  readonly k: number;
  readonly ef: number;
  readonly where: CompiledWhere | undefined;
}

/**
 * Hands out dense labels: freed labels first (so the index does not grow under churn), then
 * the next never-used label. Allocations inside a failed transaction are rolled back.
 */
class LabelAllocator {
  #free: number[];
  #next: number;
  #journal: number[] = [];

  /**
   * `used` must be ascending. Every label a record holds was once fresh, with an upsert logged under
   * a higher seq, so a label at or above `lastSeq` is damage (CORRUPT) — and never a giant free list.
   */
  constructor(used: readonly number[], lastSeq: number, collection: string) {
    const free: number[] = [];
    let expected = 0;
    for (const label of used) {
      checkLabel(label, collection);
      if (label >= lastSeq) {
        throw new QuiverError(
          'CORRUPT',
          `collection '${collection}' has a record with label ${label}, above the ${lastSeq} changes ever logged; run quiver verify`,
        );
      }
      for (; expected < label; expected++) free.push(expected);
      expected = label + 1;
    }
    this.#free = free.reverse(); // pop() yields the lowest free label first
    this.#next = expected;
  }

  /** Labels in use (0: the collection holds no records). */
  get live(): number {
    return this.#next - this.#free.length;
  }

  allocate(): number {
    const label = this.#free.length > 0 ? this.#free.pop()! : this.#next++;
    this.#journal.push(label);
    return label;
  }

  release(label: number): void {
    this.#free.push(label);
  }

  commit(): void {
    this.#journal = [];
  }

  rollback(): void {
    for (let i = this.#journal.length - 1; i >= 0; i--) {
      const label = this.#journal[i]!;
      if (label === this.#next - 1) this.#next--;
      else this.#free.push(label);
    }
    this.#journal = [];
  }
}

export interface CollectionHost {
  readonly store: Store;
  readonly path: string;
  readonly readOnly: boolean;
  readonly events: IndexEvents;
  readonly snapshotThreshold: number;
  /** Native threads for large upsert batches and queryBatch. */
  readonly threads: number;
  /** Throws CLOSED when the database is closed; for readers, catches up with the writer first. */
  assertOpen(): void;
  /** Runs a reader's call in one read transaction (see DatabaseImpl.read); the writer's as it is. */
  read<T>(body: () => T): T;
}

export class CollectionImpl implements Collection {
  readonly name: string;
  readonly dim: number;
  readonly metric: Metric;
  readonly index: IndexSettings;
  readonly #host: CollectionHost;
  readonly #collectionId: number;
  #derived: DerivedIndex | undefined;
  #labels: LabelAllocator;
  /** Labels matched by recent filters, most recent last; emptied by every write. */
  readonly #matchCache = new Map<string, Matches>();
  /** Ids by label for queryIds, built on first use (undefined until then, and after a reload). */
  #ids: (string | undefined)[] | undefined;
  /** Collection size when SQLite's statistics were last refreshed from this object. */
  #analyzedSize = 0;

  /** Opens the collection's index now, or adopts one opened by {@link CollectionImpl.openAsync}. */
  constructor(host: CollectionHost, row: CollectionRow, derived?: DerivedIndex) {
    this.#host = host;
    this.#collectionId = row.id;
    this.name = row.name;
    this.dim = row.dim;
    this.metric = row.metric;
    this.index = row.index;
    this.#labels = new LabelAllocator(host.store.labels(row.id), host.store.lastSeq(), row.name);
    this.#derived = derived ?? new DerivedIndex(host.store, host.path, row, host.events, host.threads);
    if (!host.readOnly) this.#derived.removeOrphanSnapshots();
  }

  /**
   * A collection whose index is loaded, replayed or rebuilt off the event loop (see
   * DerivedIndex.openAsync); the database checks afterwards that it still wants it.
   */
  static async openAsync(host: CollectionHost, row: CollectionRow): Promise<CollectionImpl> {
    const derived = await DerivedIndex.openAsync(host.store, host.path, row, host.events, host.threads, () =>
      host.assertOpen(),
    );
    try {
      return new CollectionImpl(host, row, derived);
    } catch (error) {
      derived.dispose();
      throw error;
    }
  }

  upsert(records: readonly UpsertRecord[]): UpsertResult {
    return this.#upsert(records, this.#applyNow);
  }

  /** The index takes a committed batch before the call returns. */
  readonly #applyNow: ApplyCommitted = (derived, applied, seq) =>
    derived.applyCommitted(applied, seq, this.#host.threads);

  async upsertAsync(records: readonly UpsertRecord[]): Promise<UpsertResult> {
    let indexed: Promise<void> = Promise.resolve();
    let derived: DerivedIndex | undefined;
    let result: UpsertResult;
    try {
      result = this.#upsert(records, (target, applied, seq) => {
        derived = target;
        indexed = target.applyCommittedAsync(applied, seq, this.#host.threads);
      });
    } catch (error) {
      // Failed after the commit (an automatic snapshot): the queued insert goes on regardless.
      indexed.catch(() => {});
      throw error;
    }
    try {
      await indexed;
    } catch (error) {
      if (isQuiverError(error, 'CLOSED')) {
        throw new QuiverError(
          'CLOSED',
          `collection '${this.name}' was closed before its index received the batch; the records are committed, and opening the collection again indexes them`,
          { cause: error },
        );
      }
      throw error;
    }
    if (derived !== undefined && this.#derived === derived) this.#maybeSnapshot(derived);
    return result;
  }

  /** Validates and commits a batch, then hands the committed changes to `apply` for the index. */
  #upsert(records: readonly UpsertRecord[], apply: ApplyCommitted): UpsertResult {
    const derived = this.#writable();
    return this.#write(derived, this.#prepare(records), apply);
  }

  /**
   * One Arrow record batch as one upsert. Its ids (unique, valid), vectors (`dim` finite numbers
   * each, non-zero under cosine) and metadata given as JSON text were checked by the Arrow reader;
   * metadata objects are checked here as upsert checks them. Messages name "record i" of the
   * batch, which the reader turns into its row.
   */
  #upsertColumns(batch: ColumnBatch): UpsertResult {
    const derived = this.#writable();
    if (batch.vectors.length !== batch.ids.length * this.dim) {
      throw new QuiverError(
        'INTERNAL',
        `an Arrow batch of ${batch.ids.length} ids came with ${batch.vectors.length} numbers (dim ${this.dim})`,
      );
    }
    const metadata =
      batch.metadata === undefined
        ? EMPTY_METADATA
        : 'json' in batch.metadata
          ? batch.metadata.json
          : batch.metadata.objects.map((value, row) => toMetadataJson(value, `record ${row}.metadata`));
    return this.#write(derived, { ids: batch.ids, vectors: batch.vectors, metadata }, this.#applyNow);
  }

  /** Commits a validated batch (records and log in one transaction), then hands it to `apply` for the index. */
  #write(derived: DerivedIndex, batch: PreparedBatch, apply: ApplyCommitted): UpsertResult {
    const store = this.#host.store;
    const { ids, vectors, metadata } = batch;
    const dim = this.dim;
    const labels = new Array<number>(ids.length);
    let inserted = 0;
    let seq = 0;
    try {
      store.transaction(() => {
        // One statement for the batch's existing labels, none when the collection is empty.
        const existing = this.#labels.live === 0 ? undefined : store.labelsOfIds(this.#collectionId, ids);
        const fresh: number[] = [];
        for (let row = 0; row < ids.length; row++) {
          const label = existing?.get(ids[row]!);
          if (label === undefined) {
            labels[row] = this.#labels.allocate();
            fresh.push(row);
          } else {
            labels[row] = label;
            store.updateRecord(
              this.#collectionId,
              label,
              ids[row]!,
              vectors.subarray(row * dim, (row + 1) * dim),
              typeof metadata === 'string' ? metadata : metadata[row]!,
            );
          }
        }
        store.insertRecords(this.#collectionId, { ids, labels, vectors, dim, metadata, rows: fresh });
        inserted = fresh.length;
        seq = store.appendLogBatch(this.#collectionId, 'upsert', labels);
        crashPoint('upsert-before-commit');
      });
    } catch (error) {
      this.#labels.rollback();
      throw toQuiverError(error, `upserting into collection '${this.name}'`);
    }
    this.#labels.commit();
    crashPoint('upsert-after-commit');
    // Committed: the index follows.
    const applied = labels.map((label, row) => ({ label, vector: vectors.subarray(row * dim, (row + 1) * dim) }));
    apply(derived, applied, seq);
    this.#matchCache.clear();
    if (this.#ids !== undefined) for (let row = 0; row < ids.length; row++) this.#ids[labels[row]!] = ids[row];
    this.#maybeSnapshot(derived);
    return { inserted, updated: ids.length - inserted };
  }

  get(id: Id): QuiverRecord | undefined;
  get(ids: readonly Id[]): QuiverRecord[];
  get(options: { filter: Filter; limit?: number }): QuiverRecord[];
  get(idOrIds: Id | readonly Id[] | { filter: Filter; limit?: number }): QuiverRecord | undefined | QuiverRecord[] {
    return this.#host.read(() => this.#get(idOrIds));
  }

  #get(idOrIds: Id | readonly Id[] | { filter: Filter; limit?: number }): QuiverRecord | undefined | QuiverRecord[] {
    this.#readable();
    const store = this.#host.store;
    if (isSelection(idOrIds)) {
      const { where, limit } = this.#selection(idOrIds, 'get');
      const found: QuiverRecord[] = [];
      let after = -1;
      while (found.length < limit) {
        const page = store.recordsAfterLabel(this.#collectionId, after, Math.min(1000, limit - found.length), where);
        for (const row of page) found.push(this.#record(row));
        if (page.length === 0) break;
        after = page[page.length - 1]!.label;
      }
      return found;
    }
    const read = (id: string): QuiverRecord | undefined => {
      const row = store.recordById(this.#collectionId, id);
      return row === undefined ? undefined : this.#record(row);
    };
    if (!Array.isArray(idOrIds)) return read(toId(idOrIds, 'id'));
    const ids = (idOrIds as readonly unknown[]).map((id, i) => toId(id, `ids[${i}]`));
    const found: QuiverRecord[] = [];
    for (const id of ids) {
      const record = read(id);
      if (record !== undefined) found.push(record);
    }
    return found;
  }

  delete(idOrIds: Id | readonly Id[] | { filter: Filter }): number {
    const derived = this.#writable();
    const store = this.#host.store;
    // Everything is validated before the transaction: a bad id or filter writes nothing.
    const where = isSelection(idOrIds) ? this.#selection(idOrIds, 'delete').where : undefined;
    const ids = isSelection(idOrIds)
      ? []
      : Array.isArray(idOrIds)
        ? (idOrIds as readonly unknown[]).map((id, i) => toId(id, `ids[${i}]`))
        : [toId(idOrIds, 'id')];
    const removed: { label: number; vector: undefined }[] = [];
    let seq = 0;
    try {
      store.transaction(() => {
        const labels =
          where === undefined
            ? [...store.labelsOfIds(this.#collectionId, [...new Set(ids)]).values()]
            : Array.from(store.labelsMatching(this.#collectionId, where));
        for (const label of labels) {
          store.deleteRecord(this.#collectionId, label);
          removed.push({ label, vector: undefined });
        }
        if (removed.length > 0) {
          seq = store.appendLogBatch(
            this.#collectionId,
            'delete',
            removed.map((change) => change.label),
          );
        }
      });
    } catch (error) {
      throw toQuiverError(error, `deleting from collection '${this.name}'`);
    }
    if (removed.length === 0) return 0;
    derived.applyCommitted(removed, seq);
    this.#matchCache.clear();
    for (const { label } of removed) {
      this.#labels.release(label);
      if (this.#ids !== undefined) this.#ids[label] = undefined;
    }
    this.#maybeSnapshot(derived);
    return removed.length;
  }

  query(options: QueryOptions & { explain: true }): ExplainedQuery;
  query(options: QueryOptions): QueryHit[];
  query(options: QueryOptions): QueryHit[] | ExplainedQuery {
    const parsed = parseOrThrow(querySchema, options, 'query');
    return this.#host.read(() => {
      const { neighbours, plan } = this.#search(parsed);
      const hits = this.#hydrate(neighbours, parsed.includeVectors === true);
      return parsed.explain === true ? { hits, plan } : hits;
    });
  }

  queryIds(options: QueryIdsOptions): QueryIdHit[] {
    const parsed = parseOrThrow(queryIdsSchema, options, 'queryIds');
    return this.#host.read(() => this.#idHits(this.#search(parsed).neighbours));
  }

  /** Hits with ids and distances only, from the in-memory id table (no SQLite read). */
  #idHits(neighbours: Neighbours): QueryIdHit[] {
    const ids = this.#idTable();
    const hits: QueryIdHit[] = [];
    for (let i = 0; i < neighbours.labels.length; i++) {
      const id = ids[neighbours.labels[i]!];
      if (id === undefined) {
        throw new QuiverError('INTERNAL', `label ${neighbours.labels[i]} of collection '${this.name}' has no record`);
      }
      const raw = neighbours.distances[i]!;
      hits.push(
        this.metric === 'l2' ? { id, distance: Math.sqrt(Math.max(0, raw)) } : { id, distance: raw, score: 1 - raw },
      );
    }
    return hits;
  }

  /** A query's filter compiled to SQL; undefined for no filter or one that matches everything (`{}`). */
  #where(filter: unknown): CompiledWhere | undefined {
    if (filter === undefined) return undefined;
    const node = parseFilter(filter);
    return node.kind === 'and' && node.children.length === 0 ? undefined : compileFilter(node, COMPILE);
  }

  /** The labels a filter matches: from the cache until the next write, else one SQL scan. */
  #matches(where: CompiledWhere): Matches {
    const key = `${where.sql}\u0000${JSON.stringify(where.params)}`;
    let matches = this.#matchCache.get(key);
    if (matches === undefined) {
      matches = new Matches(this.#host.store.labelsMatching(this.#collectionId, where));
      if (this.#matchCache.size >= MATCH_CACHE_SIZE) this.#matchCache.delete(this.#matchCache.keys().next().value!);
    } else {
      this.#matchCache.delete(key); // re-inserted below: the Map's order is the recency order
    }
    this.#matchCache.set(key, matches);
    return matches;
  }

  /** The ids of the live records by label, read once and then kept up to date by every write. */
  #idTable(): (string | undefined)[] {
    if (this.#ids === undefined) {
      const ids: (string | undefined)[] = [];
      for (const { label, id } of this.#host.store.idsByLabel(this.#collectionId)) ids[label] = id;
      this.#ids = ids;
    }
    return this.#ids;
  }

  /** Validated query options → the neighbours (raw distances) and the plan that found them. */
  #search(parsed: {
    vector: unknown;
    k?: number | undefined;
    ef?: number | undefined;
    nprobe?: number | undefined;
    rerank?: number | undefined;
    filter?: unknown;
    explain?: boolean | undefined;
  }): { neighbours: Neighbours; plan: QueryPlan } {
    const ann = this.#readable().ann;
    const where = this.#where(parsed.filter);
    const vector = toVector(parsed.vector, this.dim, 'query vector', this.name);
    if (this.metric === 'cosine' && norm(vector) === 0) {
      throw new QuiverError('INVALID_ARGUMENT', 'query vector is all zeros; cosine distance needs a non-zero vector');
    }
    const explain = parsed.explain === true;
    const requested = parsed.k ?? DEFAULT_K;
    const ef = parsed.ef ?? (this.index.type === 'hnsw' ? this.index.ef : requested);
    let neighbours: Neighbours;
    let plan: QueryPlan;
    if (where !== undefined) {
      ({ neighbours, plan } = searchFiltered(
        this.#filteredContext(ann),
        vector,
        requested,
        ef,
        where,
        this.#matches(where),
        explain,
        {
          nprobe: parsed.nprobe,
          rerank: parsed.rerank,
        },
      ));
    } else {
      const k = Math.min(requested, ann.size);
      plan = {
        strategy: ann.type === 'hnsw' ? 'hnsw' : 'exact',
        matches: ann.size,
        total: ann.size,
        selectivity: ann.size === 0 ? 0 : 1,
        ...(ann.type === 'hnsw' ? { ef: Math.max(ef, k) } : {}),
        candidatesScored: ann.type === 'hnsw' ? 0 : ann.size,
        fallback: false,
        labelScan: [],
      };
      if (ann instanceof IvfPqIndex && k > 0) {
        const found = ann.searchWith(vector, k, { nprobe: parsed.nprobe, rerank: parsed.rerank });
        neighbours = found.neighbours;
        if (found.stats.trained) {
          Object.assign(plan, ann.planFields(found.stats));
          plan.candidatesScored = found.stats.reranked;
        }
      } else {
        neighbours = k === 0 ? { labels: [], distances: [] } : ann.search(vector, k, ef, this.#host.threads);
      }
      if (neighbours.labels.length < k) {
        // An approximate search can come back short when many nodes are deleted or the graph is
        // poorly connected; the exact answer from the stored vectors is always complete.
        neighbours = this.#exactFromStore(vector, k);
        plan.fallback = true;
        plan.candidatesScored = ann.size;
      }
    }
    return { neighbours, plan };
  }

  queryBatch(options: QueryBatchOptions): QueryHit[][] {
    const includeVectors = (options as { includeVectors?: unknown } | undefined)?.includeVectors === true;
    return this.#batch(options, queryBatchSchema, 'queryBatch', (neighbours) =>
      this.#hydrate(neighbours, includeVectors),
    );
  }

  queryIdsBatch(options: QueryIdsBatchOptions): QueryIdHit[][] {
    return this.#batch(options, queryIdsBatchSchema, 'queryIdsBatch', (neighbours) => this.#idHits(neighbours));
  }

  queryBatchAsync(options: QueryBatchOptions): Promise<QueryHit[][]> {
    const includeVectors = (options as { includeVectors?: unknown } | undefined)?.includeVectors === true;
    return this.#batchAsync(options, queryBatchSchema, 'queryBatch', (neighbours) =>
      this.#hydrate(neighbours, includeVectors),
    );
  }

  queryIdsBatchAsync(options: QueryIdsBatchOptions): Promise<QueryIdHit[][]> {
    return this.#batchAsync(options, queryIdsBatchSchema, 'queryIdsBatch', (neighbours) => this.#idHits(neighbours));
  }

  /** A batch of queries answered at once: `hitsOf` turns each query's neighbours into its hits. */
  #batch<T>(options: unknown, schema: BatchSchema, method: string, hitsOf: (neighbours: Neighbours) => T[]): T[][] {
    return this.#host.read(() => {
      const ann = this.#readable().ann;
      const batch = this.#prepareQueryBatch(options, schema, method, ann.size);
      if (batch.where !== undefined) return this.#answerFilteredBatch(ann, batch, batch.where, hitsOf);
      return this.#answerBatch(ann, batch, this.#searchBatch(ann, batch), hitsOf);
    });
  }

  /** {@link #batch} with the graph search off the event loop. */
  async #batchAsync<T>(
    options: unknown,
    schema: BatchSchema,
    method: string,
    hitsOf: (neighbours: Neighbours) => T[],
  ): Promise<T[][]> {
    const ann = this.#readable().ann;
    const batch = this.#prepareQueryBatch(options, schema, method, ann.size);
    if (batch.where !== undefined) return this.#answerFilteredBatch(ann, batch, batch.where, hitsOf);
    // Only the graph has an asynchronous search; the other indexes answer as #batch does.
    if (!(ann instanceof HnswIndex) || batch.k === 0) {
      return this.#answerBatch(ann, batch, this.#searchBatch(ann, batch), hitsOf);
    }
    const seq = this.#host.store.lastSeq();
    let found: BatchNeighbours;
    try {
      found = await ann.searchBatchAsync(batch.queries, batch.k, batch.ef, this.#host.threads);
    } catch (error) {
      // A close, compaction or reload disposed the graph under the search: CLOSED, or start over.
      if (this.#readable().ann !== ann) return this.#batch(options, schema, method, hitsOf);
      throw error;
    }
    // The labels are only valid for the state the search saw; if a write or a reload came in
    // meanwhile, answer again from the current state (synchronously, so nothing can interleave; for
    // a reader, in one read transaction that also holds the record reads).
    return this.#host.read(() => {
      if (this.#readable().ann !== ann || this.#host.store.lastSeq() !== seq) {
        return this.#batch(options, schema, method, hitsOf);
      }
      return this.#answerBatch(ann, batch, found, hitsOf);
    });
  }

  count(options?: { filter: Filter }): number {
    return this.#host.read(() => {
      const ann = this.#readable().ann;
      if (options === undefined) return ann.size;
      return this.#host.store.countMatching(this.#collectionId, this.#selection(options, 'count').where);
    });
  }

  /** Validates `{ filter, limit? }` and compiles the filter. */
  #selection(options: unknown, method: string): { where: CompiledWhere; limit: number } {
    const parsed = parseOrThrow(filterSelectionSchema, options, method);
    if (method !== 'get' && parsed.limit !== undefined) {
      throw new QuiverError('INVALID_ARGUMENT', `${method}() takes { filter } only; limit is for get()`);
    }
    return {
      where: compileFilter(parseFilter(parsed.filter), COMPILE),
      limit: parsed.limit ?? Number.POSITIVE_INFINITY,
    };
  }

  snapshot(): boolean {
    return this.#writable().snapshot(true);
  }

  compact(): void {
    this.#writable().compact();
  }

  async upsertArrow(source: ArrowSource, options?: ArrowImportOptions): Promise<ArrowImportResult> {
    this.#writable();
    const target = {
      name: this.name,
      dim: this.dim,
      metric: this.metric,
      upsertColumns: (batch: ColumnBatch) => this.#upsertColumns(batch),
    };
    return upsertArrow(target, source, options);
  }

  toArrow(options?: ArrowExportOptions): AsyncIterableIterator<RecordBatch> {
    this.#readable();
    return recordBatches(this.#arrowSource(), options);
  }

  toArrowTable(options?: ArrowExportOptions): Table {
    return this.#host.read(() => {
      this.#readable();
      return arrowTable(this.#arrowSource(), options);
    });
  }

  async exportArrow(path: string, options?: ArrowExportOptions): Promise<ArrowExportResult> {
    this.#readable();
    return exportArrowFile(this.#arrowSource(), path, options);
  }

  /** The store's records of this collection, page by page, for the Arrow export. */
  #arrowSource(): ArrowExportSource {
    return {
      name: this.name,
      dim: this.dim,
      metric: this.metric,
      readPage: (afterLabel, limit, where) => {
        this.#readable();
        const rows = this.#host.store.recordsAfterLabel(this.#collectionId, afterLabel, limit, where);
        // Each record is checked (checksum, vector, metadata) before it is exported.
        for (const row of rows) checkedRecord(row, this.dim, this.name);
        return rows;
      },
    };
  }

  /** Number of log rows written since the last snapshot (what a reopen would replay). */
  get logLength(): number {
    return this.#readable().logRows;
  }

  /**
   * Catches up with another connection's commits; returns false (and closes this object) when
   * the collection was dropped there. For read-only databases.
   */
  catchUp(): boolean {
    if (this.#derived === undefined) return false;
    this.#ids = undefined; // another connection wrote: read the ids again on next use
    this.#matchCache.clear();
    if (this.#derived.catchUp()) return true;
    this.close();
    return false;
  }

  /** Writes a snapshot when the writer has logged changes since the last one. */
  flush(): void {
    if (this.#derived !== undefined && !this.#host.readOnly) this.#derived.snapshot(false);
  }

  /** Frees the index; further calls raise CLOSED. */
  close(): void {
    this.#derived?.dispose();
    this.#derived = undefined;
  }

  #readable(): DerivedIndex {
    this.#host.assertOpen();
    if (this.#derived === undefined) {
      throw new QuiverError(
        'CLOSED',
        `collection '${this.name}' was closed or dropped; open it again from the database`,
      );
    }
    return this.#derived;
  }

  #writable(): DerivedIndex {
    const derived = this.#readable();
    if (this.#host.readOnly) {
      throw new QuiverError(
        'READ_ONLY',
        `the database was opened with readOnly: true; collection '${this.name}' cannot be written`,
      );
    }
    return derived;
  }

  #maybeSnapshot(derived: DerivedIndex): void {
    if (derived.logRows >= Math.max(this.#host.snapshotThreshold, derived.ann.size / 2)) derived.snapshot(false);
    // Each time the collection doubles, refresh SQLite's statistics so filters on declared fields
    // use their indexes (one pass over the records' indexes, log2(n) times in all).
    if (derived.ann.size >= 2 * this.#analyzedSize + 100) {
      this.#host.store.analyze();
      this.#analyzedSize = derived.ann.size;
    }
  }

  /** Validates a whole batch before anything is written; the vectors are copied into one array. */
  #prepare(records: readonly UpsertRecord[]): PreparedBatch {
    if (!Array.isArray(records)) {
      throw new QuiverError('INVALID_ARGUMENT', `upsert takes an array of records, got ${describe(records)}`);
    }
    const dim = this.dim;
    const seen = new Map<string, number>();
    const ids: string[] = new Array(records.length);
    const metadata: string[] = new Array(records.length);
    // The caller's vectors are copied, so later changes to them cannot reach the index.
    const vectors = new Float32Array(records.length * dim);
    for (let i = 0; i < records.length; i++) {
      const record: unknown = records[i];
      const where = `record ${i}`;
      if (record === null || typeof record !== 'object' || Array.isArray(record)) {
        throw new QuiverError(
          'INVALID_ARGUMENT',
          `${where} is ${describe(record)}; expected { id, vector, metadata? }`,
        );
      }
      for (const key of Object.keys(record)) {
        if (!RECORD_KEYS.has(key)) {
          throw new QuiverError(
            'INVALID_ARGUMENT',
            `${where} has unknown field '${key}'; a record has id, vector and metadata`,
          );
        }
      }
      const { id: rawId, vector: rawVector, metadata: rawMetadata } = record as Record<string, unknown>;
      const id = toId(rawId, `${where}.id`);
      const earlier = seen.get(id);
      if (earlier !== undefined) {
        throw new QuiverError(
          'INVALID_ID',
          `${where}.id '${id}' repeats record ${earlier}; ids must be unique within a batch`,
        );
      }
      seen.set(id, i);
      copyVector(rawVector, vectors, i * dim, dim, `${where}.vector`, this.name);
      if (this.metric === 'cosine' && norm(vectors.subarray(i * dim, (i + 1) * dim)) === 0) {
        throw new QuiverError(
          'INVALID_ARGUMENT',
          `${where}.vector is all zeros; cosine distance needs a non-zero vector`,
        );
      }
      ids[i] = id;
      metadata[i] = toMetadataJson(rawMetadata, `${where}.metadata`);
    }
    return { ids, vectors, metadata };
  }

  /** Validates a whole queryBatch call; `k` comes back capped at the index size (0 when empty). */
  #prepareQueryBatch(options: unknown, schema: BatchSchema, method: string, size: number): PreparedQueryBatch {
    const parsed = parseOrThrow(schema, options, method);
    const where = this.#where(parsed.filter);
    const dim = this.dim;
    let count: number;
    let rowOf: (row: number) => unknown;
    if (parsed.vectors instanceof Float32Array) {
      const flat = parsed.vectors;
      if (flat.length % dim !== 0) {
        throw new QuiverError(
          'INVALID_ARGUMENT',
          `${method}.vectors is a Float32Array of ${flat.length} numbers, not whole rows of dim ${dim} (collection '${this.name}')`,
        );
      }
      count = flat.length / dim;
      rowOf = (row) => flat.subarray(row * dim, (row + 1) * dim);
    } else {
      const list = parsed.vectors;
      count = list.length;
      rowOf = (row) => list[row];
    }
    // Copied, so that the caller may reuse its arrays while an async search runs.
    const queries = new Float32Array(count * dim);
    for (let row = 0; row < count; row++) {
      const vector = toVector(rowOf(row), dim, `${method}.vectors[${row}]`, this.name);
      if (this.metric === 'cosine' && norm(vector) === 0) {
        throw new QuiverError(
          'INVALID_ARGUMENT',
          `${method}.vectors[${row}] is all zeros; cosine distance needs a non-zero vector`,
        );
      }
      queries.set(vector, row * dim);
    }
    const requested = parsed.k ?? DEFAULT_K;
    const k = Math.min(requested, size);
    const ef = parsed.ef ?? (this.index.type === 'hnsw' ? this.index.ef : requested);
    return { queries, count, requested, k, ef, where };
  }

  /** What the filter planner needs of this collection to search `ann`. */
  #filteredContext(ann: AnnIndex): FilteredSearchContext {
    return {
      store: this.#host.store,
      collectionId: this.#collectionId,
      ann,
      metric: this.metric,
      dim: this.dim,
      threads: this.#host.threads,
    };
  }

  /** A filtered batch: each query planned and searched exactly as query() with the same filter. */
  #answerFilteredBatch<T>(
    ann: AnnIndex,
    batch: PreparedQueryBatch,
    where: CompiledWhere,
    hitsOf: (neighbours: Neighbours) => T[],
  ): T[][] {
    const context = this.#filteredContext(ann);
    const answers: T[][] = [];
    for (let row = 0; row < batch.count; row++) {
      const query = batch.queries.subarray(row * this.dim, (row + 1) * this.dim);
      const { neighbours } = searchFiltered(
        context,
        query,
        batch.requested,
        batch.ef,
        where,
        this.#matches(where),
        false,
      );
      answers.push(hitsOf(neighbours));
    }
    return answers;
  }

  /** The whole batch in one native call on the database's threads, where the index has one. */
  #searchBatch(ann: AnnIndex, batch: PreparedQueryBatch): BatchNeighbours | undefined {
    return batch.k > 0 ? ann.searchBatch?.(batch.queries, batch.k, batch.ef, this.#host.threads) : undefined;
  }

  /** Hits per query from a batch answer (or, without one, from `ann.search`), as `query` gives them. */
  #answerBatch<T>(
    ann: AnnIndex,
    batch: PreparedQueryBatch,
    found: BatchNeighbours | undefined,
    hitsOf: (neighbours: Neighbours) => T[],
  ): T[][] {
    const answers: T[][] = [];
    for (let row = 0; row < batch.count; row++) {
      if (batch.k === 0) {
        answers.push([]);
        continue;
      }
      const query = batch.queries.subarray(row * this.dim, (row + 1) * this.dim);
      let neighbours = found === undefined ? ann.search(query, batch.k, batch.ef) : batchRow(found, row);
      // Short, as in query(): the exact answer from the stored vectors is always complete.
      if (neighbours.labels.length < batch.k) neighbours = this.#exactFromStore(query, batch.k);
      answers.push(hitsOf(neighbours));
    }
    return answers;
  }

  #exactFromStore(query: Float32Array, k: number): Neighbours {
    return exactOverRows(this, query, k, this.#host.store.vectors(this.#collectionId));
  }

  /** A stored record as `get` returns it, after every check of {@link checkedRecord}. */
  #record(row: StoredRecord): QuiverRecord {
    const record = checkedRecord(row, this.dim, this.name);
    return { id: record.id, vector: record.vector, metadata: record.metadata as Metadata };
  }

  #hydrate(neighbours: Neighbours, includeVectors: boolean): QueryHit[] {
    const rows = this.#host.store.recordsByLabels(this.#collectionId, neighbours.labels);
    const byLabel = new Map(rows.map((row) => [row.label, row]));
    const hits: QueryHit[] = [];
    for (let i = 0; i < neighbours.labels.length; i++) {
      const row = byLabel.get(neighbours.labels[i]!);
      if (row === undefined) {
        throw new QuiverError('INTERNAL', `label ${neighbours.labels[i]} of collection '${this.name}' has no record`);
      }
      const raw = neighbours.distances[i]!;
      const record = checkedRecord(row, this.dim, this.name);
      const metadata = record.metadata as Metadata;
      const hit: QueryHit =
        this.metric === 'l2'
          ? { id: row.id, distance: Math.sqrt(Math.max(0, raw)), metadata }
          : { id: row.id, distance: raw, score: 1 - raw, metadata };
      if (includeVectors) hit.vector = record.vector;
      hits.push(hit);
    }
    return hits;
  }
}
