// The in-memory ANN index of one collection as a cache of the records: opened from the newest
// verified snapshot plus a replay of the oplog after it, or rebuilt from the records (open-steps.ts);
// written back as a snapshot (persistence.ts); caught up with another process's commits. SQLite
// stays the truth.
import type { AnnIndex } from '../index/types.js';
import { runAsync, runSync } from '../steps.js';
import type { CollectionRow, Store } from '../storage/store.js';
import { type IndexContext, type IndexEvents, indexContext } from './index-context.js';
import { emptyIndex, type OpenedIndex, openSteps, rebuildSteps, replay } from './open-steps.js';
import { removeOrphanSnapshots, removeSnapshotFolder, saveIndex } from './persistence.js';
import { allUpserts } from './record-batch.js';
import { SnapshotReplaced } from './snapshot-replaced.js';

export { SnapshotReplaced };
export type { IndexEvents };

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
   * Opens the index as the constructor does — the same steps (openSteps) — with the long work off
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
        derived.#ann = derived.#adopt(await runAsync(openSteps(derived.#context, assertOpen)));
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
        replay(this.#context, this.#ann, this.#appliedSeq);
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

  /** Opens the index at once, in one read transaction: {@link openSteps} run synchronously. */
  #open(): AnnIndex {
    return this.#adopt(this.#context.store.transaction(() => runSync(openSteps(this.#context, () => {}))));
  }

  /** Takes an opened index's place in the log; one rebuilt from the records wants a snapshot. */
  #adopt(opened: OpenedIndex): AnnIndex {
    this.#appliedSeq = opened.appliedSeq;
    this.#logRows = opened.logRows;
    if (opened.rebuilt) this.#snapshotWanted = opened.ann.savable && opened.ann.size > 0;
    return opened.ann;
  }

  /**
   * Builds a new index from every record (the rebuild steps run at once); the caller disposes the
   * old one. A compaction passes its crash point once half the records are read.
   */
  #rebuild(seq: number, compacting = false): AnnIndex {
    const row = this.#context.row;
    const total = this.#context.store.count(row.id);
    const ann = emptyIndex(this.#context, total);
    try {
      runSync(rebuildSteps(this.#context, ann, total, () => {}, compacting));
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
