// A collection: validates batches, commits them to the store (records + oplog in one
// transaction), then updates the in-memory index. Its queries (query.ts, batch-query.ts) and its
// Arrow glue (arrow.ts) are functions of its state (state.ts). Never touches the file system directly.
import type { RecordBatch, Table } from 'apache-arrow';
import type { ColumnBatch } from '../arrow/index.js';
import type { ChangeRecorder } from '../changes/change-feed.js';
import { parsePage, parseRange, readPage, readRange } from './pagination.js';
import { applyInChunks, ProgressReporter, progressOption, queueInChunks } from './upsert-progress.js';
import { arrowBatches, arrowTableOf, columnBatch, exportArrowTo, importArrow } from './arrow.js';
import { DerivedIndex, type IndexEvents } from './derived-index.js';
import { applyUpdate, prepareUpdate } from './update.js';
import { checkStoredLabel, LabelAllocator } from './labels.js';
import {
  answerQueryBatch,
  answerQueryBatchAsync,
  answerQueryIdsBatch,
  answerQueryIdsBatchAsync,
} from './batch-query.js';
import { answerQuery, answerQueryAsync, answerQueryIds, COMPILE, whereOf } from './query.js';
import type { CollectionState } from './state.js';
import { type PreparedBatch, prepareBatch } from './write.js';
import { isQuiverError, QuiverError, toQuiverError } from '../errors.js';
import { filterSelectionSchema, parseOrThrow, toId } from '../schema.js';
import type { Metric } from '../schema.js';
import { HitHeads, type HitSource } from '../query-hits.js';
import { crashPoint } from '../storage/crash-point.js';
import { compileFilter, parseFilter } from '../filter/index.js';
import { Matches } from '../filtered-search.js';
import { type CollectionRow, type CompiledWhere, type Store, type StoredRecord, vectorOf } from '../storage/store.js';
import { checkedRecord } from '../storage/stored-record.js';
import {
  DEFAULT_EMBED_BATCH_SIZE,
  DEFAULT_EMBED_CONCURRENCY,
  type EmbedSettings,
  embedTexts,
} from '../text/embedding.js';
import type { TextSettings } from '../text/settings.js';
import { TextSearch } from '../text/text-search.js';
import type {
  Collection,
  EmbedFunction,
  ExplainedQuery,
  ExplainedTextQuery,
  Filter,
  GetOptions,
  Id,
  IndexSettings,
  Metadata,
  QueryAsyncOptions,
  QueryBatchOptions,
  QueryHit,
  QueryIdHit,
  QueryIdsBatchOptions,
  QueryIdsOptions,
  QueryOptions,
  PageOptions,
  QuiverRecord,
  RecordPage,
  TextRecord,
  UpdateChanges,
  UpdateOptions,
  UpdateSelection,
  UpsertOptions,
  UpsertRecord,
  UpsertResult,
} from '../types.js';
import type {
  ArrowExportOptions,
  ArrowExportResult,
  ArrowImportOptions,
  ArrowImportResult,
  ArrowSource,
} from '../types.js';

/** Filters whose matching labels a collection remembers between writes. */
const MATCH_CACHE_SIZE = 32;

/** True for the `{ filter, ... }` form of get / delete (as opposed to ids). */
function isSelection(value: unknown): value is { filter: Filter; limit?: number } {
  return value !== null && typeof value === 'object' && !Array.isArray(value) && 'filter' in value;
}

/** A committed batch's changes for the index (see DerivedIndex.applyCommitted). */
type CommittedChanges = { label: number; vector: Float32Array }[];

/** How a committed batch reaches the index: at once (upsert) or queued on the threads (upsertAsync). */
type ApplyCommitted = (derived: DerivedIndex, applied: CommittedChanges, seq: number) => void;

export interface CollectionHost {
  readonly store: Store;
  readonly events: IndexEvents;
  readonly path: string;
  readonly readOnly: boolean;
  readonly snapshotThreshold: number;
  /** Native threads for large upsert batches and queryBatch. */
  readonly threads: number;
  /** Records each committed change in the change log (inside the write's transaction). */
  readonly feed: ChangeRecorder;
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
  /** This collection as its query paths and Arrow glue see it (state.ts). */
  readonly #state: CollectionState;
  readonly #collectionId: number;
  #derived: DerivedIndex | undefined;
  /**
   * Hands out labels to new records; built from the records' labels on the first upsert, so an
   * open (and any reader, which never writes) does not read every label.
   */
  #labelAllocator: LabelAllocator | undefined;
  /** Labels matched by recent filters, most recent last; emptied by every write. */
  readonly #matchCache = new Map<string, Matches>();
  /** Where hits are read from, and the record heads remembered after their first read. */
  readonly #hitSource: HitSource;
  readonly #hitHeads: HitHeads;
  /** Collection size when SQLite's statistics were last refreshed from this object. */
  #analyzedSize = 0;
  /** The full-text index, when the collection keeps one. */
  #textSearch: TextSearch | undefined;
  /** The app's embedding function (CollectionOptions.embed), given at each open. */
  #embed: EmbedSettings | undefined;

  /** Opens the collection's index now, or adopts one opened by {@link CollectionImpl.openAsync}. */
  constructor(host: CollectionHost, row: CollectionRow, derived?: DerivedIndex) {
    this.#host = host;
    this.#collectionId = row.id;
    this.name = row.name;
    this.dim = row.dim;
    this.metric = row.metric;
    this.index = row.index;
    this.#hitSource = { store: host.store, collectionId: row.id, name: row.name, dim: row.dim, metric: row.metric };
    this.#hitHeads = new HitHeads(this.#hitSource);
    const collection = this;
    this.#state = {
      name: row.name,
      dim: row.dim,
      metric: row.metric,
      index: row.index,
      collectionId: row.id,
      store: host.store,
      threads: host.threads,
      get textSearch() {
        return collection.#textSearch;
      },
      get embed() {
        return collection.#embed;
      },
      read: (body) => host.read(body),
      readable: () => this.#readable(),
      writable: () => this.#writable(),
      matches: (where) => this.#matches(where),
      hitSource: this.#hitSource,
      hitHeads: this.#hitHeads,
    };
    // A damaged label (negative, huge, above the log) is CORRUPT at open, as the allocator would find
    // it; the lowest and the highest tell, without reading every label.
    const range = host.store.labelRange(row.id);
    let lowest: number | undefined;
    if (range !== undefined) {
      const lastSeq = host.store.lastSeq();
      lowest = checkStoredLabel(range.lowest, lastSeq, row.name);
      checkStoredLabel(range.highest, lastSeq, row.name);
    }
    this.#derived = derived ?? new DerivedIndex(host.store, host.path, row, host.events, host.threads);
    if (!host.readOnly) this.#derived.removeOrphanSnapshots();
    if (row.textSettings !== undefined) {
      this.#textSearch = this.#newTextSearch(row.textSettings);
      try {
        this.#textSearch.verify();
      } catch (error) {
        this.#derived.dispose();
        throw error;
      }
    }
    if (lowest !== undefined) this.#warmUp(lowest);
  }

  /**
   * One search of the collection's own, before the open returns: with the vector of the record under
   * `label`, k 1, through `queryIds` and `query` as an application calls them. The query path's code
   * is compiled, its statements are prepared and the pages of a hit read now, counted in the open,
   * rather than in the application's first query (measured: docs/benchmarks.md, "Open, memory and
   * disk"). It changes nothing; a failure here is left for the application's own query to meet.
   */
  #warmUp(label: number): void {
    try {
      const [row] = this.#host.store.vectorsByLabels(this.#collectionId, [label]);
      if (row === undefined) return;
      const vector = vectorOf(row.vector, this.dim);
      answerQueryIds(this.#state, { vector, k: 1 });
      answerQuery(this.#state, { vector, k: 1 });
    } catch (error) {
      if (!isQuiverError(error)) throw error;
    }
  }

  /** The full-text settings; undefined when the collection keeps no full-text index. */
  get text(): TextSettings | undefined {
    return this.#textSearch?.settings;
  }

  #newTextSearch(settings: TextSettings): TextSearch {
    return new TextSearch(
      this.#host.store,
      this.#collectionId,
      this.name,
      settings,
      this.#host.events,
      this.#host.readOnly,
    );
  }

  /** Builds a full-text index for a collection that had none (a reopen with `text`), reporting progress. */
  declareText(settings: TextSettings): void {
    this.#writable();
    const search = this.#newTextSearch(settings);
    search.build();
    this.#textSearch = search;
  }

  /** Sets (or, with undefined, clears) the embedding function this object uses. */
  setEmbed(embed: EmbedFunction | undefined, batchSize: number | undefined, concurrency: number | undefined): void {
    this.#embed =
      embed === undefined
        ? undefined
        : {
            embed,
            batchSize: batchSize ?? DEFAULT_EMBED_BATCH_SIZE,
            concurrency: concurrency ?? DEFAULT_EMBED_CONCURRENCY,
          };
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

  upsert(records: readonly UpsertRecord[], options?: UpsertOptions): UpsertResult {
    const onProgress = progressOption(options, 'upsert');
    if (onProgress === undefined) return this.#upsert(records, this.#applyNow);
    const reporter = new ProgressReporter(onProgress);
    const result = this.#upsert(records, (derived, applied, seq) => {
      reporter.report('write', applied.length, applied.length);
      applyInChunks(applied, (chunk) => derived.applyCommitted(chunk, seq, this.#host.threads), reporter);
    });
    reporter.check('the batch is committed and indexed');
    return result;
  }

  /** The index takes a committed batch before the call returns. */
  readonly #applyNow: ApplyCommitted = (derived, applied, seq) =>
    derived.applyCommitted(applied, seq, this.#host.threads);

  async upsertAsync(records: readonly (UpsertRecord | TextRecord)[], options?: UpsertOptions): Promise<UpsertResult> {
    const onProgress = progressOption(options, 'upsertAsync');
    const reporter = onProgress === undefined ? undefined : new ProgressReporter(onProgress);
    // Committed synchronously, as by upsert, unless some records need their vectors from embed first.
    const missing = this.#missingVectors(records);
    const embedded =
      missing.length === 0
        ? (records as readonly UpsertRecord[])
        : await this.#embedMissing(records, missing, reporter);
    let indexed: Promise<void> = Promise.resolve();
    let derived: DerivedIndex | undefined;
    let result: UpsertResult;
    try {
      result = this.#upsert(embedded, (target, applied, seq) => {
        derived = target;
        const threads = this.#host.threads;
        if (reporter === undefined) {
          indexed = target.applyCommittedAsync(applied, seq, threads);
          return;
        }
        reporter.report('write', applied.length, applied.length);
        indexed = queueInChunks(applied, (chunk) => target.applyCommittedAsync(chunk, seq, threads), reporter);
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
    reporter?.check('the batch is committed and indexed');
    return result;
  }

  /**
   * The records with vectors from the collection's `embed` for those that have text and no vector.
   * The whole batch is validated first (as `upsert` would, with a stand-in vector), so a bad record
   * costs no embed call; the records are returned unchanged when none lacks a vector.
   */
  /** Positions of the records of a batch given without a vector (none when the batch is not an array). */
  #missingVectors(records: unknown): number[] {
    const missing: number[] = [];
    if (!Array.isArray(records)) return missing; // #prepare reports it
    records.forEach((record: unknown, i) => {
      if (record !== null && typeof record === 'object' && (record as { vector?: unknown }).vector === undefined) {
        missing.push(i);
      }
    });
    return missing;
  }

  async #embedMissing(
    records: readonly (UpsertRecord | TextRecord)[],
    missing: readonly number[],
    reporter: ProgressReporter | undefined,
  ): Promise<readonly UpsertRecord[]> {
    this.#writable();
    const embed = this.#embed;
    if (embed === undefined) prepareBatch(records as readonly UpsertRecord[], this); // names the first record without a vector
    for (const i of missing) {
      if (typeof records[i]!.text !== 'string') {
        throw new QuiverError(
          'INVALID_ARGUMENT',
          `record ${i} has neither a vector nor a text; give it one of them (embed computes a vector from the text)`,
        );
      }
    }
    // The batch is checked whole (ids, metadata, texts, given vectors) before any embed call.
    const standIn = new Float32Array(this.dim).fill(1);
    const lacking = new Set(missing);
    prepareBatch(
      records.map((record, i) => (lacking.has(i) ? { ...record, vector: standIn } : record)) as UpsertRecord[],
      this,
      true,
    );
    const texts = missing.map((i) => records[i]!.text!);
    const names = missing.map((i) => `record ${i} (id '${String(records[i]!.id)}')`);
    let embeddedCount = 0;
    reporter?.report('embed', 0, texts.length);
    const vectors = await embedTexts(embed!, texts, names, this.dim, this.name, (count) => {
      embeddedCount += count;
      reporter?.report('embed', embeddedCount, texts.length);
    });
    const copy = [...records] as UpsertRecord[];
    missing.forEach((i, row) => {
      copy[i] = { ...records[i]!, vector: vectors.subarray(row * this.dim, (row + 1) * this.dim) };
    });
    return copy;
  }

  /** Validates and commits a batch, then hands the committed changes to `apply` for the index. */
  #upsert(records: readonly UpsertRecord[], apply: ApplyCommitted): UpsertResult {
    const derived = this.#writable();
    return this.#write(derived, prepareBatch(records, this), apply);
  }

  /** One Arrow record batch as one upsert (see columnBatch). */
  #upsertColumns(batch: ColumnBatch): UpsertResult {
    const derived = this.#writable();
    return this.#write(derived, columnBatch(this.#state, batch), this.#applyNow);
  }

  /**
   * The label allocator, built on first use from the records' labels (inside the writer's transaction,
   * so it sees exactly the committed records). @throws QuiverError CORRUPT for a label above the log
   */
  #labels(): LabelAllocator {
    this.#labelAllocator ??= new LabelAllocator(
      this.#host.store.labels(this.#collectionId),
      this.#host.store.lastSeq(),
      this.name,
    );
    return this.#labelAllocator;
  }

  /** Commits a validated batch (records and log in one transaction), then hands it to `apply` for the index. */
  #write(derived: DerivedIndex, batch: PreparedBatch, apply: ApplyCommitted): UpsertResult {
    const store = this.#host.store;
    const { ids, vectors, metadata, texts } = batch;
    const dim = this.dim;
    const textSearch = this.#textSearch;
    const labels = new Array<number>(ids.length);
    let inserted = 0;
    let seq = 0;
    try {
      store.transaction(() => {
        // One statement for the batch's existing labels, none when the collection is empty.
        const allocator = this.#labels();
        const existing = allocator.live === 0 ? undefined : store.labelsOfIds(this.#collectionId, ids);
        const fresh: number[] = [];
        for (let row = 0; row < ids.length; row++) {
          const label = existing?.get(ids[row]!);
          if (label === undefined) {
            labels[row] = allocator.allocate();
            fresh.push(row);
          } else {
            labels[row] = label;
            store.updateRecord(
              this.#collectionId,
              label,
              ids[row]!,
              vectors.subarray(row * dim, (row + 1) * dim),
              typeof metadata === 'string' ? metadata : metadata[row]!,
              texts?.[row] ?? null,
            );
            textSearch?.written(label, texts?.[row] ?? null, true);
          }
        }
        store.insertRecords(this.#collectionId, { ids, labels, vectors, dim, metadata, texts, rows: fresh });
        if (textSearch !== undefined && texts !== undefined) {
          for (const row of fresh) textSearch.written(labels[row]!, texts[row] ?? null, false);
        }
        this.#host.feed.upserts(this.name, { ids, vectors, dim, metadata, texts });
        inserted = fresh.length;
        seq = store.appendLogBatch(this.#collectionId, 'upsert', labels);
        crashPoint('upsert-before-commit');
      });
    } catch (error) {
      this.#labelAllocator?.rollback();
      textSearch?.rolledBack();
      throw toQuiverError(error, `upserting into collection '${this.name}'`);
    }
    textSearch?.committed();
    this.#labelAllocator?.commit();
    for (const label of labels) this.#hitHeads.forget(label); // before anything after the commit can throw
    this.#host.feed.committed();
    crashPoint('upsert-after-commit');
    // Committed: the index follows.
    const applied = labels.map((label, row) => ({ label, vector: vectors.subarray(row * dim, (row + 1) * dim) }));
    apply(derived, applied, seq);
    this.#matchCache.clear();
    this.#maybeSnapshot(derived);
    return { inserted, updated: ids.length - inserted };
  }

  get(id: Id): QuiverRecord | undefined;
  get(ids: readonly Id[]): QuiverRecord[];
  get(options: GetOptions): QuiverRecord[];
  get(idOrIds: Id | readonly Id[] | GetOptions): QuiverRecord | undefined | QuiverRecord[] {
    return this.#host.read(() => this.#get(idOrIds));
  }

  #get(idOrIds: Id | readonly Id[] | GetOptions): QuiverRecord | undefined | QuiverRecord[] {
    this.#readable();
    const store = this.#host.store;
    if (idOrIds !== null && typeof idOrIds === 'object' && !Array.isArray(idOrIds)) {
      const range = parseRange(idOrIds, (filter) => whereOf(filter));
      return readRange(store, this.#collectionId, range, (row) => this.#record(row));
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

  page(options?: PageOptions): RecordPage {
    return this.#host.read(() => {
      this.#readable();
      const request = parsePage(options, (filter) => whereOf(filter));
      return readPage(this.#host.store, this.#collectionId, request, (row) => this.#record(row));
    });
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
        this.#host.feed.deletes(this.name, this.#collectionId, labels);
        for (const label of labels) {
          store.deleteRecord(this.#collectionId, label);
          this.#textSearch?.deleted(label);
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
      this.#textSearch?.rolledBack();
      throw toQuiverError(error, `deleting from collection '${this.name}'`);
    }
    this.#textSearch?.committed();
    if (removed.length === 0) return 0;
    for (const { label } of removed) this.#hitHeads.forget(label); // before anything after the commit can throw
    this.#host.feed.committed();
    derived.applyCommitted(removed, seq);
    this.#matchCache.clear();
    // An allocator not built yet will find these labels free when it reads the records.
    for (const { label } of removed) {
      this.#labelAllocator?.release(label);
    }
    this.#maybeSnapshot(derived);
    return removed.length;
  }

  update(selection: UpdateSelection, changes: UpdateChanges, options?: UpdateOptions): number {
    this.#writable();
    const update = prepareUpdate(selection, changes, options, (filter) => this.#selection({ filter }, 'update').where);
    const target = {
      store: this.#host.store,
      collectionId: this.#collectionId,
      name: this.name,
      dim: this.dim,
      feed: this.#host.feed,
      textSearch: this.#textSearch,
    };
    let updated: readonly number[];
    try {
      updated = this.#host.store.transaction(() => applyUpdate(target, update));
    } catch (error) {
      target.textSearch?.rolledBack();
      throw toQuiverError(error, `updating collection '${this.name}'`);
    }
    for (const label of updated) this.#hitHeads.forget(label); // before anything after the commit can throw
    target.textSearch?.committed();
    if (updated.length > 0) {
      this.#host.feed.committed();
      this.#matchCache.clear();
    }
    return updated.length;
  }

  query(options: QueryOptions & { text: string; explain: true }): ExplainedTextQuery;
  query(options: QueryOptions & { explain: true }): ExplainedQuery;
  query(options: QueryOptions): QueryHit[];
  query(options: QueryOptions): QueryHit[] | ExplainedQuery | ExplainedTextQuery {
    return answerQuery(this.#state, options);
  }

  queryAsync(options: QueryAsyncOptions): Promise<QueryHit[]> {
    return answerQueryAsync(this.#state, options);
  }

  queryIds(options: QueryIdsOptions): QueryIdHit[] {
    return answerQueryIds(this.#state, options);
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

  queryBatch(options: QueryBatchOptions): QueryHit[][] {
    return answerQueryBatch(this.#state, options);
  }

  queryIdsBatch(options: QueryIdsBatchOptions): QueryIdHit[][] {
    return answerQueryIdsBatch(this.#state, options);
  }

  queryBatchAsync(options: QueryBatchOptions): Promise<QueryHit[][]> {
    return answerQueryBatchAsync(this.#state, options);
  }

  queryIdsBatchAsync(options: QueryIdsBatchOptions): Promise<QueryIdHit[][]> {
    return answerQueryIdsBatchAsync(this.#state, options);
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

  upsertArrow(source: ArrowSource, options?: ArrowImportOptions): Promise<ArrowImportResult> {
    return importArrow(this.#state, (batch) => this.#upsertColumns(batch), source, options);
  }

  toArrow(options?: ArrowExportOptions): AsyncIterableIterator<RecordBatch> {
    return arrowBatches(this.#state, options);
  }

  toArrowTable(options?: ArrowExportOptions): Table {
    return arrowTableOf(this.#state, options);
  }

  exportArrow(path: string, options?: ArrowExportOptions): Promise<ArrowExportResult> {
    return exportArrowTo(this.#state, path, options);
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
    this.#hitHeads.clear(); // another connection wrote: read the heads again as hits need them
    this.#matchCache.clear();
    if (this.#derived.catchUp()) {
      this.#textSearch?.catchUp();
      // The writer may have declared a text index since this reader opened the collection.
      const settings =
        this.#textSearch === undefined ? this.#host.store.findCollection(this.name)?.textSettings : undefined;
      if (settings !== undefined) this.#textSearch = this.#newTextSearch(settings);
      return true;
    }
    this.close();
    return false;
  }

  /** Writes a snapshot when the writer has logged changes since the last one. */
  flush(): void {
    if (this.#derived !== undefined && !this.#host.readOnly) this.#derived.snapshot(false);
  }

  /** Removes a dropped collection's files (its snapshot folder) from the database directory. */
  static removeFiles(databasePath: string, name: string): void {
    DerivedIndex.removeFiles(databasePath, name);
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

  /** A stored record as `get` returns it, after every check of {@link checkedRecord}. */
  #record(row: StoredRecord): QuiverRecord {
    const checked = checkedRecord(row, this.dim, this.name);
    const record: QuiverRecord = { id: checked.id, vector: checked.vector, metadata: checked.metadata as Metadata };
    if (checked.text !== undefined) record.text = checked.text;
    return record;
  }
}
