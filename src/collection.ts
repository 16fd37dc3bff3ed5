// A collection: validates batches, commits them to the store (records + oplog in one
// transaction), then updates the in-memory index, and answers queries from the index with
// records read back from the store. Never touches the file system directly.
import type { RecordBatch, Table } from 'apache-arrow';
import { type ArrowExportSource, arrowTable, exportArrowFile, recordBatches, upsertArrow } from './arrow/index.js';
import { DerivedIndex, type IndexEvents } from './derived-index.js';
import { QuiverError, toQuiverError } from './errors.js';
import type { Neighbours } from './index/types.js';
import { TopK } from './index/top-k.js';
import { norm, normalized, rawDistance } from './index/vector-math.js';
import { describe, parseOrThrow, querySchema, toId, toMetadataJson, toVector } from './schema.js';
import type { Metric } from './schema.js';
import { crashPoint } from './storage/crash-point.js';
import { type CollectionRow, type Store, vectorOf } from './storage/store.js';
import type {
  Collection,
  Id,
  IndexSettings,
  Metadata,
  QueryHit,
  QueryOptions,
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
const RECORD_KEYS = new Set(['id', 'vector', 'metadata']);

interface PreparedRecord {
  readonly id: string;
  readonly vector: Float32Array;
  readonly metadata: string;
}

/**
 * Hands out dense labels: freed labels first (so the index does not grow under churn), then
 * the next never-used label. Allocations inside a failed transaction are rolled back.
 */
class LabelAllocator {
  #free: number[];
  #next: number;
  #journal: number[] = [];

  /** `used` must be ascending. */
  constructor(used: readonly number[]) {
    const free: number[] = [];
    let expected = 0;
    for (const label of used) {
      for (; expected < label; expected++) free.push(expected);
      expected = label + 1;
    }
    this.#free = free.reverse(); // pop() yields the lowest free label first
    this.#next = expected;
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
  /** Throws CLOSED when the database is closed; for readers, catches up with the writer first. */
  assertOpen(): void;
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

  constructor(host: CollectionHost, row: CollectionRow) {
    this.#host = host;
    this.#collectionId = row.id;
    this.name = row.name;
    this.dim = row.dim;
    this.metric = row.metric;
    this.index = row.index;
    this.#labels = new LabelAllocator(host.store.labels(row.id));
    this.#derived = new DerivedIndex(host.store, host.path, row, host.events);
    if (!host.readOnly) this.#derived.removeOrphanSnapshots();
  }

  upsert(records: readonly UpsertRecord[]): UpsertResult {
    const derived = this.#writable();
    const prepared = this.#prepare(records);
    const store = this.#host.store;
    const applied: { label: number; vector: Float32Array }[] = [];
    let inserted = 0;
    let seq = 0;
    try {
      store.transaction(() => {
        for (const record of prepared) {
          let label = store.labelOf(this.#collectionId, record.id);
          if (label === undefined) {
            label = this.#labels.allocate();
            store.insertRecord(this.#collectionId, record.id, label, record.vector, record.metadata);
            inserted++;
          } else {
            store.updateRecord(this.#collectionId, label, record.vector, record.metadata);
          }
          seq = store.appendLog(this.#collectionId, 'upsert', label);
          applied.push({ label, vector: record.vector });
        }
        crashPoint('upsert-before-commit');
      });
    } catch (error) {
      this.#labels.rollback();
      throw toQuiverError(error, `upserting into collection '${this.name}'`);
    }
    this.#labels.commit();
    crashPoint('upsert-after-commit');
    // Committed: the index follows.
    derived.applyCommitted(applied, seq);
    this.#maybeSnapshot(derived);
    return { inserted, updated: prepared.length - inserted };
  }

  get(id: Id): QuiverRecord | undefined;
  get(ids: readonly Id[]): QuiverRecord[];
  get(idOrIds: Id | readonly Id[]): QuiverRecord | undefined | QuiverRecord[] {
    this.#readable();
    const store = this.#host.store;
    const read = (id: string): QuiverRecord | undefined => {
      const row = store.recordById(this.#collectionId, id);
      if (row === undefined || row.vector === undefined) return undefined;
      return { id: row.id, vector: vectorOf(row.vector, this.dim), metadata: JSON.parse(row.metadata) as Metadata };
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

  delete(idOrIds: Id | readonly Id[]): number {
    const derived = this.#writable();
    const ids = Array.isArray(idOrIds)
      ? (idOrIds as readonly unknown[]).map((id, i) => toId(id, `ids[${i}]`))
      : [toId(idOrIds, 'id')];
    const store = this.#host.store;
    const removed: { label: number; vector: undefined }[] = [];
    let seq = 0;
    try {
      store.transaction(() => {
        for (const id of new Set(ids)) {
          const label = store.labelOf(this.#collectionId, id);
          if (label === undefined) continue;
          store.deleteRecord(this.#collectionId, label);
          seq = store.appendLog(this.#collectionId, 'delete', label);
          removed.push({ label, vector: undefined });
        }
      });
    } catch (error) {
      throw toQuiverError(error, `deleting from collection '${this.name}'`);
    }
    if (removed.length === 0) return 0;
    derived.applyCommitted(removed, seq);
    for (const { label } of removed) this.#labels.release(label);
    this.#maybeSnapshot(derived);
    return removed.length;
  }

  query(options: QueryOptions): QueryHit[] {
    const ann = this.#readable().ann;
    const parsed = parseOrThrow(querySchema, options, 'query');
    const vector = toVector(parsed.vector, this.dim, 'query vector', this.name);
    if (this.metric === 'cosine' && norm(vector) === 0) {
      throw new QuiverError('INVALID_ARGUMENT', 'query vector is all zeros; cosine distance needs a non-zero vector');
    }
    const k = Math.min(parsed.k ?? DEFAULT_K, ann.size);
    if (k === 0) return [];
    const ef = parsed.ef ?? (this.index.type === 'hnsw' ? this.index.ef : k);
    let neighbours = ann.search(vector, k, ef);
    if (neighbours.labels.length < k) {
      // An approximate search can come back short when many nodes are deleted or the graph is
      // poorly connected; the exact answer from the stored vectors is always complete.
      neighbours = this.#exactFromStore(vector, k);
    }
    return this.#hydrate(neighbours, parsed.includeVectors === true);
  }

  count(): number {
    return this.#readable().ann.size;
  }

  snapshot(): boolean {
    return this.#writable().snapshot(true);
  }

  compact(): void {
    this.#writable().compact();
  }

  async upsertArrow(source: ArrowSource, options?: ArrowImportOptions): Promise<ArrowImportResult> {
    this.#writable();
    return upsertArrow(this, source, options);
  }

  toArrow(options?: ArrowExportOptions): AsyncIterableIterator<RecordBatch> {
    this.#readable();
    return recordBatches(this.#arrowSource(), options);
  }

  toArrowTable(options?: ArrowExportOptions): Table {
    this.#readable();
    return arrowTable(this.#arrowSource(), options);
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
      readPage: (afterLabel, limit, withVectors, where) => {
        this.#readable();
        return this.#host.store.recordsAfterLabel(this.#collectionId, afterLabel, limit, withVectors, where);
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
  }

  /** Validates a whole batch before anything is written. */
  #prepare(records: readonly UpsertRecord[]): PreparedRecord[] {
    if (!Array.isArray(records)) {
      throw new QuiverError('INVALID_ARGUMENT', `upsert takes an array of records, got ${describe(records)}`);
    }
    const seen = new Map<string, number>();
    const prepared: PreparedRecord[] = [];
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
      const { id: rawId, vector: rawVector, metadata } = record as Record<string, unknown>;
      const id = toId(rawId, `${where}.id`);
      const earlier = seen.get(id);
      if (earlier !== undefined) {
        throw new QuiverError(
          'INVALID_ID',
          `${where}.id '${id}' repeats record ${earlier}; ids must be unique within a batch`,
        );
      }
      seen.set(id, i);
      const vector = toVector(rawVector, this.dim, `${where}.vector`, this.name);
      if (this.metric === 'cosine' && norm(vector) === 0) {
        throw new QuiverError(
          'INVALID_ARGUMENT',
          `${where}.vector is all zeros; cosine distance needs a non-zero vector`,
        );
      }
      // Copy so that later changes to the caller's array cannot reach the index.
      prepared.push({ id, vector: Float32Array.from(vector), metadata: toMetadataJson(metadata, `${where}.metadata`) });
    }
    return prepared;
  }

  #exactFromStore(query: Float32Array, k: number): Neighbours {
    const target = this.metric === 'cosine' ? normalized(query) : query;
    const best = new TopK(k);
    for (const { label, vector } of this.#host.store.vectors(this.#collectionId)) {
      const stored = vectorOf(vector, this.dim);
      best.push(rawDistance(this.metric, target, this.metric === 'cosine' ? normalized(stored) : stored, 0), label);
    }
    return best.sorted();
  }

  #hydrate(neighbours: Neighbours, includeVectors: boolean): QueryHit[] {
    const rows = this.#host.store.recordsByLabels(this.#collectionId, neighbours.labels, includeVectors);
    const byLabel = new Map(rows.map((row) => [row.label, row]));
    const hits: QueryHit[] = [];
    for (let i = 0; i < neighbours.labels.length; i++) {
      const row = byLabel.get(neighbours.labels[i]!);
      if (row === undefined) {
        throw new QuiverError('INTERNAL', `label ${neighbours.labels[i]} of collection '${this.name}' has no record`);
      }
      const raw = neighbours.distances[i]!;
      const metadata = JSON.parse(row.metadata) as Metadata;
      const hit: QueryHit =
        this.metric === 'l2'
          ? { id: row.id, distance: Math.sqrt(Math.max(0, raw)), metadata }
          : { id: row.id, distance: raw, score: 1 - raw, metadata };
      if (includeVectors && row.vector !== undefined) hit.vector = vectorOf(row.vector, this.dim);
      hits.push(hit);
    }
    return hits;
  }
}
