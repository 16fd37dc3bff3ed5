// The in-memory ANN index of one collection as a cache of the records: opened from the newest
// verified snapshot plus a replay of the oplog after it, or rebuilt from the records; written
// back as a snapshot; caught up with another process's commits. SQLite stays the truth.
import { isQuiverError, QuiverError } from '../errors.js';
import type { AnnIndex } from '../index/types.js';
import { finish, runAsync, runSync, type Started, type Steps, settle, start } from '../steps.js';
import { crashPoint } from '../storage/crash-point.js';
import type { CollectionRow, Store } from '../storage/store.js';
import { type IndexContext, type IndexEvents, indexContext } from './index-context.js';
import { loadSteps, removeOrphanSnapshots, removeSnapshotFolder, saveIndex } from './persistence.js';
import { allUpserts, RecordBatch } from './record-batch.js';
import { replacedUnderReader, SnapshotReplaced } from './snapshot-replaced.js';

export { SnapshotReplaced };
export type { IndexEvents };

/**
 * Records per batch during a rebuild or a replay: read from SQLite together, then inserted into
 * the index at once (AnnIndex.upsertBatch: one native insert on the database's threads for HNSW,
 * one coarse assignment and PQ encoding for IVF-PQ). A progress report follows each batch.
 */
const RECORD_BATCH = 4096;

export class DerivedIndex {
  readonly #context: IndexContext;
  #ann!: AnnIndex;
  /** Every oplog row up to this seq is reflected in #ann. */
  #appliedSeq = 0;
  /** Log rows written since the last snapshot (what a reopen would have to replay). */
  #logRows = 0;
  /** True when the index was rebuilt because its snapshot was missing or unusable. */
  #snapshotWanted = false;
  /** True when a forced snapshot waits for a queued insert to finish. */
  #snapshotDeferred = false;
  #disposed = false;

  /** Opens the index at once; `later` leaves it to {@link DerivedIndex.openAsync}. */
  constructor(
    store: Store,
    databasePath: string,
    row: CollectionRow,
    events: IndexEvents,
    threads = 1,
    open: 'now' | 'later' = 'now',
  ) {
    this.#context = indexContext(store, databasePath, row, events, threads);
    if (open === 'now') this.#ann = this.#open();
  }

  /**
   * Opens the index as the constructor does — the same steps (#openSteps) — with the long work off
   * the event loop: a snapshot file is read with asynchronous I/O and its graph loaded on a native
   * thread; the log replay and a rebuild insert RECORD_BATCH records at a time with
   * AnnIndex.upsertBatchAsync (native threads for HNSW; flat and IVF-PQ insert on the main thread
   * and yield after each batch). SQLite is read on the main thread, one batch per turn of the event
   * loop, so the reads may see other connections' commits land; a last synchronous step replays
   * the log rows committed since the start (and starts over should a snapshot have truncated the
   * log meanwhile). `assertOpen` runs between batches (it throws CLOSED once the database is
   * closed). Progress and warnings are reported as by the constructor.
   * @throws QuiverError CLOSED, NOT_FOUND (the collection was dropped meanwhile), IO_ERROR
   */
  static async openAsync(
    store: Store,
    databasePath: string,
    row: CollectionRow,
    events: IndexEvents,
    threads: number,
    assertOpen: () => void,
  ): Promise<DerivedIndex> {
    const derived = new DerivedIndex(store, databasePath, row, events, threads, 'later');
    for (;;) {
      try {
        derived.#ann = await runAsync(derived.#openSteps(assertOpen));
        return derived;
      } catch (error) {
        // A reader whose snapshot the writer replaced meanwhile opens again from the new state.
        if (!(error instanceof SnapshotReplaced)) throw error;
      }
    }
  }

  /** The index; one whose queued insert failed is rebuilt from the records first. */
  get ann(): AnnIndex {
    const failure = this.#ann.failure;
    if (failure !== undefined) this.#recover(failure);
    return this.#ann;
  }

  /** True while the index inserts a queued batch (see applyCommittedAsync). */
  get busy(): boolean {
    return this.#ann.busy;
  }

  get logRows(): number {
    return this.#logRows;
  }

  /**
   * Brings the index up to date with commits made by another connection (a reader following a
   * writer). Returns false when the collection no longer exists.
   */
  catchUp(): boolean {
    return this.#context.store.transaction(() => {
      const row = this.#context.store.findCollection(this.#context.row.name);
      if (row === undefined || row.id !== this.#context.row.id) return false;
      const manifest = this.#context.store.manifest(this.#context.row.id);
      if (manifest !== undefined && manifest.seq > this.#appliedSeq) {
        // The writer snapshotted and truncated the log past what we applied: reload (the old index
        // stays until the new one is whole, so a failed reload leaves this object usable).
        const reloaded = this.#open();
        this.#ann.dispose();
        this.#ann = reloaded;
      } else {
        this.#replay(this.#ann, this.#appliedSeq);
        this.#appliedSeq = this.#context.store.lastSeq();
      }
      return true;
    });
  }

  /**
   * Applies a committed batch to the index: a vector for an upserted label, undefined for a
   * deleted one. Should the index fail half-way, it is rebuilt from the records, which already
   * hold the batch. A batch of upserts the kind prefers whole (AnnIndex.prefersBatch: on `threads`
   * native threads for HNSW, one encoding for IVF-PQ) goes in as one AnnIndex.upsertBatch.
   */
  applyCommitted(
    changes: readonly { label: number; vector: Float32Array | undefined }[],
    seq: number,
    threads = 1,
  ): void {
    try {
      const ann = this.#ann;
      if (changes.length > 0 && allUpserts(changes) && ann.prefersBatch(changes.length, threads)) {
        // Labels within a committed batch are distinct.
        const { labels, vectors } = rowsOf(changes, ann.dim);
        ann.upsertBatch(labels, vectors, threads);
      } else {
        for (const { label, vector } of changes) {
          if (vector === undefined) ann.remove(label);
          else ann.upsert(label, vector);
        }
      }
    } catch (error) {
      this.#recover(error);
      return;
    }
    this.#appliedSeq = seq;
    this.#logRows += changes.length;
  }

  /**
   * {@link applyCommitted} for upserts with the insert off the event loop, where the index can queue
   * it (AnnIndex.upsertBatchQueued): the batch is queued at once (searches see it, scored exactly
   * until the graph holds it; later changes queue behind it) and the promise resolves when the
   * graph holds it — or when the index was compacted or rebuilt meanwhile from the records, which
   * hold the batch. Other batches and indexes are applied synchronously. Rejects with CLOSED when
   * the index is disposed first.
   */
  async applyCommittedAsync(
    changes: readonly { label: number; vector: Float32Array | undefined }[],
    seq: number,
    threads: number,
  ): Promise<void> {
    const ann = this.#ann;
    if (ann.upsertBatchQueued === undefined || changes.length === 0 || !allUpserts(changes)) {
      this.applyCommitted(changes, seq, threads);
      return;
    }
    let queued: Promise<void>;
    try {
      const { labels, vectors } = rowsOf(changes, ann.dim);
      queued = ann.upsertBatchQueued(labels, vectors, threads);
    } catch (error) {
      this.#recover(error);
      return;
    }
    this.#appliedSeq = seq;
    this.#logRows += changes.length;
    try {
      await queued;
    } catch (error) {
      if (this.#disposed) throw error;
      if (this.#ann === ann) this.#recover(error);
      return; // else compacted or rebuilt meanwhile, from records that hold the batch
    }
    if (this.#snapshotDeferred && !this.busy) {
      this.#snapshotDeferred = false;
      this.snapshot(true);
    }
  }

  /** Rebuilds the index from the records after updating it failed (the records hold every commit). */
  #recover(error: unknown): void {
    this.#context.events.onWarning({
      code: 'INDEX_REBUILT',
      collection: this.#context.row.name,
      message: `updating the index of '${this.#context.row.name}' failed (${(error as Error).message}); rebuilt it from the records`,
      cause: error,
    });
    this.#ann.dispose();
    this.#ann = this.#rebuild(this.#context.store.lastSeq());
  }

  /**
   * Saves the index as its kind persists (AnnIndex persistence): a 'file' kind to
   * `<collection>/hnsw.<seq>[.<n>].bin`, a 'state' kind to SQLite, and records it in the manifest,
   * then drops older snapshots and the log rows it covers. A 'none' kind (flat) is rebuilt from the
   * records on open: it records only the manifest row. Returns whether a snapshot was written.
   * While the index inserts a queued batch nothing is written: a forced snapshot is written once
   * the batch is in.
   */
  snapshot(force = false): boolean {
    const ann = this.#ann;
    if (ann.busy) {
      // The graph lags the log until its queued insert is in: a forced snapshot follows then.
      this.#snapshotDeferred ||= force;
      return false;
    }
    const current =
      this.#logRows === 0 && !this.#snapshotWanted && this.#context.store.manifest(this.#context.row.id) !== undefined;
    if (!force && current) return false;
    // A snapshot commits its manifest row and drops the log rows it covers: none are left to replay.
    return saveIndex(this.#context, ann, this.#appliedSeq, () => {
      this.#logRows = 0;
      this.#snapshotWanted = false;
    });
  }

  /** Rebuilds the index from the live records, without tombstones, and snapshots it. */
  compact(): void {
    const fresh = this.#rebuild(this.#context.store.lastSeq(), true);
    this.#ann.dispose();
    this.#ann = fresh;
    this.snapshot(true);
  }

  dispose(): void {
    this.#disposed = true;
    this.#ann.dispose();
  }

  /** Removes the collection's snapshot folder (after the collection was dropped). */
  static removeFiles(databasePath: string, name: string): void {
    removeSnapshotFolder(databasePath, name);
  }

  /** Opens the index at once, in one read transaction: {@link #openSteps} run synchronously. */
  #open(): AnnIndex {
    return this.#context.store.transaction(() => runSync(this.#openSteps(() => {})));
  }

  /**
   * The open algorithm, written once for the constructor (runSync, inside one read transaction) and
   * {@link DerivedIndex.openAsync} (runAsync): the saved state (verified snapshot file or SQLite
   * state) plus a replay of the log after it when it is usable, else a rebuild from the records;
   * then the last synchronous step (#finishOpen). Sets #appliedSeq and #logRows. Throws
   * SnapshotReplaced for a reader whose snapshot file the writer replaced meanwhile.
   */
  *#openSteps(assertOpen: () => void): Steps<AnnIndex> {
    const row = this.#context.row;
    const kind = this.#context.kind;
    for (;;) {
      const begin = this.#context.store.transaction(() => ({
        seq: this.#context.store.lastSeq(),
        count: this.#context.store.count(row.id),
        manifest: this.#context.store.manifest(row.id),
      }));
      const manifest = begin.manifest;
      if (manifest !== undefined && kind.persistence !== 'none') {
        try {
          const saved = yield* loadSteps(this.#context, manifest, begin.count);
          if (saved !== undefined) {
            try {
              assertOpen();
              yield* this.#applySteps(
                saved,
                this.#context.store.labelsLoggedAfter(row.id, manifest.seq),
                'replay',
                assertOpen,
              );
              if (this.#finishOpen(saved, begin.seq, manifest.seq, true, assertOpen)) return saved;
            } catch (error) {
              saved.dispose();
              throw error;
            }
            saved.dispose();
            continue; // a snapshot truncated the log meanwhile: start again from it
          }
        } catch (error) {
          if (isQuiverError(error, 'CLOSED') || isQuiverError(error, 'NOT_FOUND')) throw error;
          if (replacedUnderReader(this.#context.store, manifest.file, error)) throw new SnapshotReplaced(manifest.file);
          this.#context.events.onWarning({
            code: 'SNAPSHOT_INVALID',
            collection: row.name,
            message:
              kind.invalidMessage?.(row.name, manifest.file, (error as Error).message) ?? (error as Error).message,
            cause: error,
          });
        }
      } else if (begin.count > 0 && kind.missingMessage !== undefined) {
        this.#context.events.onWarning({
          code: 'SNAPSHOT_MISSING',
          collection: row.name,
          message: kind.missingMessage(row.name, begin.count),
        });
      }
      // The rebuild reads the records present now; the last step replays what changed meanwhile.
      assertOpen();
      const ann = this.#emptyIndex(begin.count);
      try {
        yield* this.#rebuildSteps(ann, begin.count, assertOpen, false);
        if (!this.#finishOpen(ann, begin.seq, 0, false, assertOpen)) {
          ann.dispose();
          continue;
        }
      } catch (error) {
        ann.dispose();
        throw error;
      }
      this.#snapshotWanted = ann.savable && ann.size > 0;
      return ann;
    }
  }

  /**
   * The last, synchronous step of an open: replays what other connections committed after
   * `startSeq` and checks the result, in one read transaction. False when a snapshot truncated the
   * log past `startSeq` meanwhile (the open then starts again). With `checkSize`, a live count that
   * differs from the records is CORRUPT. (Run synchronously, inside the open's own transaction,
   * there is nothing left to replay.)
   * @throws QuiverError CLOSED, NOT_FOUND when the collection was dropped meanwhile, CORRUPT
   */
  #finishOpen(ann: AnnIndex, startSeq: number, logFrom: number, checkSize: boolean, assertOpen: () => void): boolean {
    assertOpen();
    const row = this.#context.row;
    return this.#context.store.transaction(() => {
      const current = this.#context.store.findCollection(row.name);
      if (current === undefined || current.id !== row.id) {
        throw new QuiverError('NOT_FOUND', `collection '${row.name}' was dropped while it was being opened`);
      }
      const manifest = this.#context.store.manifest(row.id);
      if (manifest !== undefined && manifest.seq > startSeq) return false;
      this.#replay(ann, startSeq);
      const count = this.#context.store.count(row.id);
      if (checkSize && ann.size !== count) {
        throw new QuiverError('CORRUPT', `it holds ${ann.size} live vectors after replay; the records hold ${count}`);
      }
      this.#appliedSeq = this.#context.store.lastSeq();
      this.#logRows = this.#context.store.logLength(row.id, logFrom);
      return true;
    });
  }

  /** Re-reads every label the log touches after `seq` and applies its current state, at once. */
  #replay(ann: AnnIndex, seq: number): void {
    runSync(
      this.#applySteps(ann, this.#context.store.labelsLoggedAfter(this.#context.row.id, seq), 'replay', () => {}),
    );
  }

  /**
   * Applies the current records of `labels` (distinct) to `ann`, RECORD_BATCH at a time: a label
   * without a record now is removed. Each label gets its current record (or its deletion), so the
   * order of the log within a label is already applied. Run asynchronously, SQLite is read on the
   * main thread while the previous batch goes into the index (AnnIndex.upsertBatchAsync).
   */
  *#applySteps(
    ann: AnnIndex,
    labels: readonly number[],
    phase: 'replay' | 'rebuild',
    assertOpen: () => void,
  ): Steps<void> {
    const report = (done: number) =>
      this.#context.events.onProgress({ collection: this.#context.row.name, phase, done, total: labels.length });
    let inserting: Started<void> | undefined;
    let done = 0;
    try {
      for (let first = 0; first < labels.length; first += RECORD_BATCH) {
        assertOpen();
        const chunk = labels.slice(first, first + RECORD_BATCH);
        const batch = this.#batchOf(this.#context.store.vectorsByLabels(this.#context.row.id, chunk));
        if (inserting !== undefined) yield* finish(inserting);
        if (first > 0) report(done);
        const present = new Set(batch.labels.subarray(0, batch.count));
        for (const label of chunk) if (!present.has(label)) ann.remove(label);
        done = first + chunk.length;
        inserting = yield* this.#startInsert(ann, batch);
      }
      if (inserting !== undefined) yield* finish(inserting);
      if (labels.length > 0) report(done);
    } finally {
      // On an early exit, let a running native insert finish before the caller disposes the index.
      if (inserting !== undefined) yield* settle(inserting);
    }
  }

  /**
   * Inserts every record into the empty `ann`, a page of RECORD_BATCH records at a time in label
   * order (the next page is read while the previous one goes in, when run asynchronously). A
   * compaction passes its crash point once half the records are read.
   */
  *#rebuildSteps(ann: AnnIndex, total: number, assertOpen: () => void, compacting: boolean): Steps<void> {
    const row = this.#context.row;
    const report = (done: number) =>
      this.#context.events.onProgress({ collection: row.name, phase: 'rebuild', done, total });
    let inserting: Started<void> | undefined;
    let reported = 0;
    let done = 0;
    let after = -1;
    try {
      for (;;) {
        assertOpen();
        const rows = this.#context.store.vectorsAfterLabel(row.id, after, RECORD_BATCH);
        if (rows.length === 0) break;
        const batch = new RecordBatch(row.dim, rows.length);
        for (const { label, vector } of rows) {
          batch.add(label, vector, row.name);
          done++;
          if (compacting && done === Math.ceil(total / 2)) crashPoint('compact-mid-build');
        }
        after = rows[rows.length - 1]!.label;
        if (inserting !== undefined) {
          yield* finish(inserting);
          report(reported);
        }
        inserting = yield* this.#startInsert(ann, batch);
        reported = done;
      }
      if (inserting !== undefined) {
        yield* finish(inserting);
        report(reported);
      }
    } finally {
      if (inserting !== undefined) yield* settle(inserting);
    }
  }

  /** Starts inserting a batch's records (distinct labels) into `ann`; see {@link finish}. */
  #startInsert(ann: AnnIndex, batch: RecordBatch): Steps<Started<void>> {
    const labels = batch.labels.subarray(0, batch.count);
    const vectors = batch.vectors.subarray(0, batch.count * this.#context.row.dim);
    return start(
      () => {
        if (batch.count > 0) ann.upsertBatch(labels, vectors, this.#context.threads);
      },
      () => (batch.count > 0 ? ann.upsertBatchAsync(labels, vectors, this.#context.threads) : Promise.resolve()),
    );
  }

  /** Stored rows (label and float32 BLOB) checked into a batch to insert. */
  #batchOf(rows: readonly { label: number; vector: Uint8Array }[]): RecordBatch {
    const batch = new RecordBatch(this.#context.row.dim, rows.length);
    for (const { label, vector } of rows) batch.add(label, vector, this.#context.row.name);
    return batch;
  }

  /** An empty index of the collection's kind, sized for `count` records. */
  #emptyIndex(count: number): AnnIndex {
    const row = this.#context.row;
    const capacity = Math.max(1024, Math.ceil(count * 1.25));
    return this.#context.kind.create(row.metric, row.dim, row.index, capacity, this.#context.hooks);
  }

  /**
   * Builds a new index from every record (the rebuild steps run at once); the caller disposes the
   * old one. A compaction passes its crash point once half the records are read.
   */
  #rebuild(seq: number, compacting = false): AnnIndex {
    const row = this.#context.row;
    const total = this.#context.store.count(row.id);
    const ann = this.#emptyIndex(total);
    try {
      runSync(this.#rebuildSteps(ann, total, () => {}, compacting));
    } catch (error) {
      ann.dispose();
      throw error;
    }
    this.#appliedSeq = seq;
    this.#logRows = this.#context.store.logLength(row.id, 0);
    return ann;
  }

  /** Removes snapshot files the manifest does not name (left by a crash mid-snapshot). */
  removeOrphanSnapshots(): void {
    removeOrphanSnapshots(this.#context);
  }
}

/** The labels and vectors of a committed batch of upserts, as one batch. */
function rowsOf(
  changes: readonly { label: number; vector: Float32Array }[],
  dim: number,
): { labels: Uint32Array; vectors: Float32Array } {
  const vectors = new Float32Array(changes.length * dim);
  changes.forEach((change, row) => {
    vectors.set(change.vector, row * dim);
  });
  return { labels: Uint32Array.from(changes, (change) => change.label), vectors };
}
