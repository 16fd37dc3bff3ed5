// The in-memory ANN index of one collection as a cache of the records: opened from the newest
// verified snapshot plus a replay of the oplog after it, or rebuilt from the records; written
// back as a snapshot; caught up with another process's commits. SQLite stays the truth.
import { mkdirSync, rmSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { isQuiverError, QuiverError } from './errors.js';
import { FlatIndex } from './index/flat.js';
import { HnswIndex, type HnswParams } from './index/hnsw.js';
import { type IvfPqParams, IvfPqIndex } from './index/ivfpq.js';
import type { AnnIndex } from './index/types.js';
import { crashPoint } from './storage/crash-point.js';
import {
  readSnapshot,
  readSnapshotAsync,
  removeSnapshotsExcept,
  temporaryGraphPath,
  type SnapshotRead,
  snapshotName,
  writeSnapshot,
} from './storage/snapshot-file.js';
import { type CollectionRow, type ManifestRow, type Store, vectorOf } from './storage/store.js';
import { checkLabel } from './storage/stored-record.js';
import type { QuiverProgress, QuiverWarning } from './types.js';

export interface IndexEvents {
  readonly onWarning: (warning: QuiverWarning) => void;
  readonly onProgress: (progress: QuiverProgress) => void;
}

/**
 * Records per batch during a rebuild or a replay: read from SQLite together, then inserted into
 * the index at once (one native insert on the database's threads for HNSW, one coarse assignment
 * and PQ encoding for IVF-PQ). A progress report follows each batch.
 */
const RECORD_BATCH = 4096;
/** Upserts per committed batch from which the HNSW graph inserts them on native threads. */
const PARALLEL_UPSERT_MINIMUM = 1000;

/** Labels and their vectors read from SQLite rows, handed to an index at once. */
class RecordBatch {
  readonly labels: Uint32Array;
  readonly vectors: Float32Array;
  readonly #dim: number;
  readonly #bytes: Uint8Array;
  count = 0;

  constructor(dim: number, capacity: number) {
    this.#dim = dim;
    this.labels = new Uint32Array(capacity);
    this.vectors = new Float32Array(capacity * dim);
    this.#bytes = new Uint8Array(this.vectors.buffer);
  }

  get full(): boolean {
    return this.count === this.labels.length;
  }

  /**
   * Appends a stored vector (a float32 BLOB of dim numbers) under its label.
   * @throws QuiverError CORRUPT on a label out of range, a wrong length or a number that is not finite
   */
  add(label: number, blob: Uint8Array, collection: string): void {
    const bytes = this.#dim * 4;
    checkLabel(label, collection);
    if (!(blob instanceof Uint8Array) || blob.byteLength !== bytes) {
      throw new QuiverError(
        'CORRUPT',
        `the record under label ${label} of collection '${collection}' has a stored vector of ${blob?.byteLength} bytes; expected ${bytes} (dim ${this.#dim}); run quiver verify`,
      );
    }
    const at = this.count * this.#dim;
    this.#bytes.set(blob, at * 4);
    for (let i = at; i < at + this.#dim; i++) {
      const value = this.vectors[i]!;
      if (value - value !== 0) {
        throw new QuiverError(
          'CORRUPT',
          `the record under label ${label} of collection '${collection}' has a stored vector holding ${value}; run quiver verify`,
        );
      }
    }
    this.labels[this.count++] = label;
  }
}

function allUpserts(
  changes: readonly { label: number; vector: Float32Array | undefined }[],
): changes is readonly { label: number; vector: Float32Array }[] {
  return changes.every((change) => change.vector !== undefined);
}
/**
 * Thrown by a reader's open when the snapshot file its read transaction names is gone: the writer
 * replaced it (and removed the old one) after that transaction began. Nothing is wrong: the call
 * starts again in a new read transaction (DatabaseImpl.read), which names the new file.
 */
export class SnapshotReplaced extends Error {}

/** Per store, the snapshot files a reader already found missing once: missing again is damage, not a race. */
const missingSnapshots = new WeakMap<Store, Set<string>>();

/** True when a reader should start again rather than warn: `file` is missing for the first time. */
function replacedUnderReader(store: Store, file: string, error: unknown): boolean {
  if (!store.readOnly) return false;
  let cause: unknown = error;
  while (cause instanceof Error && (cause as { code?: unknown }).code !== 'ENOENT') cause = cause.cause;
  if (!(cause instanceof Error)) return false;
  let seen = missingSnapshots.get(store);
  if (seen === undefined) {
    seen = new Set();
    missingSnapshots.set(store, seen);
  }
  if (seen.has(file)) return false;
  seen.add(file);
  return true;
}

export class DerivedIndex {
  readonly #store: Store;
  readonly #row: CollectionRow;
  readonly #directory: string; // <database>/<collection>, where snapshots live
  readonly #events: IndexEvents;
  /** Native threads for batched HNSW inserts (rebuild, replay). */
  readonly #threads: number;
  #ann: AnnIndex;
  /** Every oplog row up to this seq is reflected in #ann. */
  #appliedSeq = 0;
  /** Log rows written since the last snapshot (what a reopen would have to replay). */
  #logRows = 0;
  /** True when the index was rebuilt because its snapshot was missing or unusable. */
  #snapshotWanted = false;
  /** True when a forced snapshot waits for a queued insert to finish. */
  #snapshotDeferred = false;
  #disposed = false;

  /** Opens the index at once; `later` leaves an empty placeholder for {@link DerivedIndex.openAsync}. */
  constructor(
    store: Store,
    databasePath: string,
    row: CollectionRow,
    events: IndexEvents,
    threads = 1,
    open: 'now' | 'later' = 'now',
  ) {
    this.#store = store;
    this.#row = row;
    this.#directory = join(databasePath, row.name);
    this.#events = events;
    this.#threads = threads;
    this.#ann = open === 'now' ? this.#open() : new FlatIndex(row.metric, row.dim, 1);
  }

  /**
   * Opens the index as the constructor does, with the long work off the event loop: an HNSW
   * snapshot is read with asynchronous I/O and loaded on a native thread; the log replay and a
   * rebuild insert RECORD_BATCH records at a time on the native threads (flat and IVF-PQ indexes
   * insert on the main thread and yield after each batch; IVF-PQ loads its saved codes as the
   * constructor does). SQLite is read on the main thread, one batch per turn of the event loop, so
   * the reads may see other connections' commits land; a last synchronous step replays the log
   * rows committed since the start. `assertOpen` runs between batches (it throws CLOSED once the
   * database is closed). Progress and warnings are reported as by the constructor.
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
    const ann = await derived.#openAsync(assertOpen);
    derived.#ann.dispose();
    derived.#ann = ann;
    return derived;
  }

  /** The index; one whose queued insert failed is rebuilt from the records first. */
  get ann(): AnnIndex {
    const ann = this.#ann;
    if (ann instanceof HnswIndex && ann.failure !== undefined) this.#recover(ann.failure);
    return this.#ann;
  }

  /** True while an HNSW graph inserts a queued batch (see applyCommittedAsync). */
  get busy(): boolean {
    return this.#ann instanceof HnswIndex && this.#ann.busy;
  }

  get logRows(): number {
    return this.#logRows;
  }

  /**
   * Brings the index up to date with commits made by another connection (a reader following a
   * writer). Returns false when the collection no longer exists.
   */
  catchUp(): boolean {
    return this.#store.transaction(() => {
      const row = this.#store.findCollection(this.#row.name);
      if (row === undefined || row.id !== this.#row.id) return false;
      const manifest = this.#store.manifest(this.#row.id);
      if (manifest !== undefined && manifest.seq > this.#appliedSeq) {
        // The writer snapshotted and truncated the log past what we applied: reload (the old index
        // stays until the new one is whole, so a failed reload leaves this object usable).
        const reloaded = this.#open();
        this.#ann.dispose();
        this.#ann = reloaded;
      } else {
        this.#replay(this.#ann, this.#appliedSeq);
        this.#appliedSeq = this.#store.lastSeq();
      }
      return true;
    });
  }

  /**
   * Applies a committed batch to the index: a vector for an upserted label, undefined for a
   * deleted one. Should the index fail half-way, it is rebuilt from the records, which already
   * hold the batch. With `threads` > 1, a batch of at least PARALLEL_UPSERT_MINIMUM upserts goes to an
   * HNSW graph as one native insert on that many threads.
   */
  applyCommitted(
    changes: readonly { label: number; vector: Float32Array | undefined }[],
    seq: number,
    threads = 1,
  ): void {
    try {
      const ann = this.#ann;
      if (threads > 1 && ann instanceof HnswIndex && changes.length >= PARALLEL_UPSERT_MINIMUM && allUpserts(changes)) {
        // One native batch on `threads` threads; labels within a committed batch are distinct.
        const labels = Uint32Array.from(changes, (change) => change.label);
        const vectors = new Float32Array(changes.length * ann.dim);
        changes.forEach((change, row) => {
          vectors.set(change.vector, row * ann.dim);
        });
        ann.upsertBatch(labels, vectors, threads);
      } else if (ann instanceof IvfPqIndex && changes.length > 1 && allUpserts(changes)) {
        // One coarse assignment and one PQ encoding for the whole batch (labels are distinct).
        const vectors = new Float32Array(changes.length * ann.dim);
        changes.forEach((change, row) => {
          vectors.set(change.vector, row * ann.dim);
        });
        ann.upsertBatch(
          Int32Array.from(changes, (change) => change.label),
          vectors,
        );
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
   * {@link applyCommitted} for upserts with an HNSW graph's insert off the event loop: the batch
   * is queued at once (searches see it, scored exactly until the graph holds it; later changes
   * queue behind it) and the promise resolves when the graph holds it — or when the index was
   * compacted or rebuilt meanwhile from the records, which hold the batch. Other batches and
   * indexes are applied synchronously. Rejects with CLOSED when the index is disposed first.
   */
  async applyCommittedAsync(
    changes: readonly { label: number; vector: Float32Array | undefined }[],
    seq: number,
    threads: number,
  ): Promise<void> {
    const ann = this.#ann;
    if (!(ann instanceof HnswIndex) || changes.length === 0 || !allUpserts(changes)) {
      this.applyCommitted(changes, seq, threads);
      return;
    }
    let queued: Promise<void>;
    try {
      const vectors = new Float32Array(changes.length * ann.dim);
      changes.forEach((change, row) => {
        vectors.set(change.vector, row * ann.dim);
      });
      queued = ann.upsertBatchQueued(
        Uint32Array.from(changes, (change) => change.label),
        vectors,
        threads,
      );
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
    this.#events.onWarning({
      code: 'INDEX_REBUILT',
      collection: this.#row.name,
      message: `updating the index of '${this.#row.name}' failed (${(error as Error).message}); rebuilt it from the records`,
      cause: error,
    });
    this.#ann.dispose();
    this.#ann = this.#rebuild(this.#store.lastSeq());
  }

  /**
   * Writes the index to `<collection>/hnsw.<seq>[.<n>].bin` and records it in the manifest, then drops
   * older snapshots and the log rows it covers. Flat indexes are rebuilt from the records on
   * open and have nothing to snapshot. Returns whether a snapshot was written. While an HNSW graph
   * inserts a queued batch nothing is written: a forced snapshot is written once the batch is in.
   */
  snapshot(force = false): boolean {
    const ann = this.#ann;
    if (ann instanceof HnswIndex && ann.busy) {
      // The graph lags the log until its queued insert is in: a forced snapshot follows then.
      this.#snapshotDeferred ||= force;
      return false;
    }
    const current = this.#logRows === 0 && !this.#snapshotWanted && this.#store.manifest(this.#row.id) !== undefined;
    if (!force && current) return false;
    const seq = this.#appliedSeq;
    if (ann instanceof IvfPqIndex) return this.#snapshotIvfpq(ann, seq);
    if (!(ann instanceof HnswIndex)) {
      // A flat index is rebuilt from the records on open: it needs no file, only a manifest row
      // telling readers that the log before seq is gone.
      this.#commitManifest({ file: '', seq, checksum: 0, params: JSON.stringify(this.#row.index) });
      return false;
    }
    mkdirSync(this.#directory, { recursive: true });
    const name = snapshotName(seq, this.#store.manifest(this.#row.id)?.file);
    const graphFile = join(this.#directory, `${name}.graph.tmp`);
    let written: { file: string; checksum: number };
    try {
      ann.writeGraph(graphFile);
      written = writeSnapshot(
        this.#directory,
        name,
        { dim: ann.dim, metric: ann.metric, m: ann.params.m, efConstruction: ann.params.efConstruction, seq },
        ann.liveLabels(),
        graphFile,
      );
    } finally {
      rmSync(graphFile, { force: true });
    }
    crashPoint('snapshot-before-manifest');
    this.#commitManifest({
      file: `${this.#row.name}/${written.file}`,
      seq,
      checksum: written.checksum,
      params: JSON.stringify(this.#row.index),
    });
    crashPoint('snapshot-before-cleanup');
    removeSnapshotsExcept(this.#directory, written.file);
    return true;
  }

  /**
   * Writes an IVF-PQ index's codebook and codes to SQLite with the seq they cover, in the same
   * transaction as the manifest row and the log truncation. Before training there is nothing to
   * keep (the index is rebuilt from the records), as for flat. Returns whether state was written.
   */
  #snapshotIvfpq(ann: IvfPqIndex, seq: number): boolean {
    const state = ann.exportState();
    const params = JSON.stringify(this.#row.index);
    this.#store.transaction(() => {
      if (state === undefined) this.#store.removeIvfpqState(this.#row.id);
      else this.#store.setIvfpqState(this.#row.id, seq, params, state.codebook, state.chunks);
      crashPoint('snapshot-before-manifest');
      this.#commitManifest({ file: '', seq, checksum: 0, params });
    });
    return state !== undefined;
  }

  /** Records a snapshot in the manifest and drops the log rows it covers, in one transaction. */
  #commitManifest(manifest: ManifestRow): void {
    this.#store.transaction(() => {
      this.#store.setManifest(this.#row.id, manifest);
      this.#store.truncateLog(this.#row.id, manifest.seq);
    });
    this.#logRows = 0;
    this.#snapshotWanted = false;
  }

  /** Rebuilds the index from the live records, without tombstones, and snapshots it. */
  compact(): void {
    const fresh = this.#rebuild(this.#store.lastSeq(), true);
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
    rmSync(join(databasePath, name), { recursive: true, force: true });
  }

  /** Opens the index: verified snapshot + replay when possible, else a rebuild from the records. */
  #open(): AnnIndex {
    return this.#store.transaction(() => {
      const seq = this.#store.lastSeq();
      const count = this.#store.count(this.#row.id);
      if (this.#row.index.type === 'hnsw') {
        const manifest = this.#store.manifest(this.#row.id);
        if (manifest !== undefined) {
          try {
            const ann = this.#loadSnapshot(manifest);
            this.#replay(ann, manifest.seq);
            if (ann.size !== count) {
              ann.dispose();
              throw new QuiverError(
                'CORRUPT',
                `it holds ${ann.size} live vectors after replay; the records hold ${count}`,
              );
            }
            this.#appliedSeq = seq;
            this.#logRows = this.#store.logLength(this.#row.id, manifest.seq);
            return ann;
          } catch (error) {
            if (replacedUnderReader(this.#store, manifest.file, error)) throw new SnapshotReplaced(manifest.file);
            this.#events.onWarning({
              code: 'SNAPSHOT_INVALID',
              collection: this.#row.name,
              message: `the index snapshot of '${this.#row.name}' (${manifest.file}) is unusable: ${(error as Error).message}; rebuilding it from the records`,
              cause: error,
            });
          }
        } else if (count > 0) {
          this.#events.onWarning({
            code: 'SNAPSHOT_MISSING',
            collection: this.#row.name,
            message: `collection '${this.#row.name}' has no index snapshot; rebuilding it from its ${count} records`,
          });
        }
      } else if (this.#row.index.type === 'ivfpq') {
        const loaded = this.#openIvfpq(this.#row.index, seq, count);
        if (loaded !== undefined) return loaded;
      }
      const ann = this.#rebuild(seq);
      this.#snapshotWanted =
        (this.#row.index.type === 'hnsw' || (ann instanceof IvfPqIndex && ann.trained)) && count > 0;
      return ann;
    });
  }

  #loadSnapshot(manifest: ManifestRow): HnswIndex {
    const params = this.#snapshotParams(manifest);
    const file = this.#snapshotPath(manifest);
    const graphFile = temporaryGraphPath(dirname(file));
    try {
      const snapshot = readSnapshot(file, graphFile);
      crashPoint('snapshot-load-copied');
      this.#verifySnapshot(manifest, snapshot);
      return HnswIndex.load(graphFile, this.#row.metric, this.#row.dim, params, snapshot.liveLabels);
    } finally {
      rmSync(graphFile, { force: true });
    }
  }

  /** {@link #loadSnapshot} with the file read asynchronously and the graph built on a native thread. */
  async #loadSnapshotAsync(manifest: ManifestRow): Promise<HnswIndex> {
    const params = this.#snapshotParams(manifest);
    const file = this.#snapshotPath(manifest);
    const graphFile = temporaryGraphPath(dirname(file));
    try {
      const snapshot = await readSnapshotAsync(file, graphFile);
      crashPoint('snapshot-load-copied');
      this.#verifySnapshot(manifest, snapshot);
      return await HnswIndex.loadAsync(graphFile, this.#row.metric, this.#row.dim, params, snapshot.liveLabels);
    } finally {
      await rm(graphFile, { force: true });
    }
  }

  /** The graph parameters of an HNSW collection, when the manifest's snapshot was built with them. */
  #snapshotParams(manifest: ManifestRow): HnswParams {
    const row = this.#row;
    if (row.index.type !== 'hnsw') throw new QuiverError('INTERNAL', 'only HNSW indexes have snapshots');
    if (manifest.params !== JSON.stringify(row.index)) {
      throw new QuiverError(
        'CORRUPT',
        `it was built with ${manifest.params}; the collection has ${JSON.stringify(row.index)}`,
      );
    }
    return row.index;
  }

  #snapshotPath(manifest: ManifestRow): string {
    return join(this.#directory, '..', manifest.file);
  }

  /** Checks a verified snapshot file against the manifest and the collection; reports the load. */
  #verifySnapshot(manifest: ManifestRow, snapshot: SnapshotRead): void {
    const row = this.#row;
    const { header } = snapshot;
    if (snapshot.checksum !== manifest.checksum)
      throw new QuiverError('CORRUPT', 'its checksum differs from the manifest');
    if (header.seq !== manifest.seq) {
      throw new QuiverError('CORRUPT', `it covers seq ${header.seq}; the manifest says ${manifest.seq} (stale file)`);
    }
    if (header.dim !== row.dim || header.metric !== row.metric) {
      throw new QuiverError(
        'CORRUPT',
        `it holds dim ${header.dim} ${header.metric}; the collection is dim ${row.dim} ${row.metric}`,
      );
    }
    if (row.index.type !== 'hnsw' || header.m !== row.index.m || header.efConstruction !== row.index.efConstruction) {
      throw new QuiverError('CORRUPT', 'its graph parameters differ from the collection');
    }
    this.#events.onProgress({ collection: row.name, phase: 'load', done: 0, total: snapshot.liveLabels.length });
  }

  /** The body of {@link DerivedIndex.openAsync}: the index, with #appliedSeq and #logRows set. */
  async #openAsync(assertOpen: () => void): Promise<AnnIndex> {
    const row = this.#row;
    const start = this.#store.transaction(() => ({
      seq: this.#store.lastSeq(),
      count: this.#store.count(row.id),
      manifest: this.#store.manifest(row.id),
    }));
    if (row.index.type === 'ivfpq' && start.manifest !== undefined) {
      return this.#open(); // the saved codes load from SQLite, as in the constructor
    }
    if (row.index.type === 'hnsw') {
      const manifest = start.manifest;
      if (manifest !== undefined) {
        try {
          const ann = await this.#loadSnapshotAsync(manifest);
          try {
            assertOpen();
            await this.#applyAsync(ann, this.#store.labelsLoggedAfter(row.id, manifest.seq), 'replay', assertOpen);
            if (!this.#finishOpen(ann, start.seq, manifest.seq, true, assertOpen)) {
              ann.dispose();
              return this.#open();
            }
          } catch (error) {
            ann.dispose();
            throw error;
          }
          return ann;
        } catch (error) {
          if (isQuiverError(error, 'CLOSED') || isQuiverError(error, 'NOT_FOUND')) throw error;
          // A reader whose snapshot the writer replaced meanwhile opens again from the new state.
          if (replacedUnderReader(this.#store, manifest.file, error)) return this.#openAsync(assertOpen);
          this.#events.onWarning({
            code: 'SNAPSHOT_INVALID',
            collection: row.name,
            message: `the index snapshot of '${row.name}' (${manifest.file}) is unusable: ${(error as Error).message}; rebuilding it from the records`,
            cause: error,
          });
        }
      } else if (start.count > 0) {
        this.#events.onWarning({
          code: 'SNAPSHOT_MISSING',
          collection: row.name,
          message: `collection '${row.name}' has no index snapshot; rebuilding it from its ${start.count} records`,
        });
      }
    } else if (row.index.type === 'ivfpq' && start.count > 0) {
      this.#events.onWarning({
        code: 'SNAPSHOT_MISSING',
        collection: row.name,
        message: `collection '${row.name}' has no saved IVF-PQ codes; rebuilding them from its ${start.count} records`,
      });
    }
    // The rebuild reads the records of the labels present now; the last step replays what changed.
    assertOpen();
    const ann = this.#emptyIndex(start.count);
    try {
      await this.#applyAsync(ann, this.#store.labels(row.id), 'rebuild', assertOpen);
      if (!this.#finishOpen(ann, start.seq, 0, false, assertOpen)) {
        ann.dispose();
        return this.#open();
      }
    } catch (error) {
      ann.dispose();
      throw error;
    }
    this.#snapshotWanted = (row.index.type === 'hnsw' || (ann instanceof IvfPqIndex && ann.trained)) && ann.size > 0;
    return ann;
  }

  /**
   * Applies the current records of `labels` to `ann`, RECORD_BATCH at a time: SQLite is read on
   * the main thread while the previous batch goes into an HNSW graph on the native threads; other
   * indexes insert synchronously and yield to the event loop after each batch.
   */
  async #applyAsync(
    ann: AnnIndex,
    labels: readonly number[],
    phase: 'replay' | 'rebuild',
    assertOpen: () => void,
  ): Promise<void> {
    const report = (done: number) =>
      this.#events.onProgress({ collection: this.#row.name, phase, done, total: labels.length });
    let inserting: Promise<void> = Promise.resolve();
    let done = 0;
    try {
      for (let start = 0; start < labels.length; start += RECORD_BATCH) {
        assertOpen();
        const chunk = labels.slice(start, start + RECORD_BATCH);
        const rows = this.#store.vectorsByLabels(this.#row.id, chunk);
        const batch = new RecordBatch(this.#row.dim, rows.length);
        for (const { label, vector } of rows) batch.add(label, vector, this.#row.name);
        await inserting;
        if (start > 0) report(done);
        // A label without a record now was deleted (replay) or meanwhile (rebuild).
        const present = new Set(batch.labels);
        for (const label of chunk) if (!present.has(label)) ann.remove(label);
        done = start + chunk.length;
        if (ann instanceof HnswIndex) {
          inserting =
            batch.count === 0
              ? Promise.resolve()
              : ann.upsertBatchAsync(
                  batch.labels,
                  batch.vectors.subarray(0, batch.count * this.#row.dim),
                  this.#threads,
                );
        } else {
          this.#insert(ann, batch);
          await new Promise((resolve) => setImmediate(resolve));
        }
      }
      await inserting;
      if (labels.length > 0) report(done);
    } finally {
      // On an early exit, let a running native insert finish before the caller disposes the graph.
      await inserting.catch(() => {});
    }
  }

  /**
   * The last, synchronous step of an async open: replays what other connections committed after
   * `startSeq` and checks the result, in one read transaction. False when a snapshot truncated the
   * log past `startSeq` meanwhile (the caller then opens synchronously). With `checkSize`, a live
   * count that differs from the records is CORRUPT.
   * @throws QuiverError CLOSED, NOT_FOUND when the collection was dropped meanwhile, CORRUPT
   */
  #finishOpen(ann: AnnIndex, startSeq: number, logFrom: number, checkSize: boolean, assertOpen: () => void): boolean {
    assertOpen();
    const row = this.#row;
    return this.#store.transaction(() => {
      const current = this.#store.findCollection(row.name);
      if (current === undefined || current.id !== row.id) {
        throw new QuiverError('NOT_FOUND', `collection '${row.name}' was dropped while it was being opened`);
      }
      const manifest = this.#store.manifest(row.id);
      if (manifest !== undefined && manifest.seq > startSeq) return false;
      this.#replay(ann, startSeq);
      const count = this.#store.count(row.id);
      if (checkSize && ann.size !== count) {
        throw new QuiverError('CORRUPT', `it holds ${ann.size} live vectors after replay; the records hold ${count}`);
      }
      this.#appliedSeq = this.#store.lastSeq();
      this.#logRows = this.#store.logLength(row.id, logFrom);
      return true;
    });
  }

  /**
   * Loads a trained IVF-PQ index from its persisted codebook and codes and replays the log after
   * them. Undefined (after a warning when state was expected) means: rebuild from the records.
   */
  #openIvfpq(params: IvfPqParams, seq: number, count: number): IvfPqIndex | undefined {
    const row = this.#row;
    const manifest = this.#store.manifest(row.id);
    const state = this.#store.ivfpqState(row.id);
    if (manifest === undefined) {
      if (count > 0) {
        this.#events.onWarning({
          code: 'SNAPSHOT_MISSING',
          collection: row.name,
          message: `collection '${row.name}' has no saved IVF-PQ codes; rebuilding them from its ${count} records`,
        });
      }
      return undefined;
    }
    if (state === undefined) return undefined; // snapshotted before training: nothing to load
    try {
      if (state.seq !== manifest.seq) {
        throw new QuiverError('CORRUPT', `they cover seq ${state.seq}; the manifest says ${manifest.seq}`);
      }
      if (state.params !== JSON.stringify(row.index)) {
        throw new QuiverError(
          'CORRUPT',
          `they were built with ${state.params}; the collection has ${JSON.stringify(row.index)}`,
        );
      }
      this.#events.onProgress({ collection: row.name, phase: 'load', done: 0, total: count });
      const ann = IvfPqIndex.fromState(
        row.metric,
        row.dim,
        params,
        this.#fetchVectors,
        state.codebook,
        state.chunks,
        this.#onTrain,
      );
      try {
        this.#replay(ann, manifest.seq);
        if (ann.size !== count) {
          throw new QuiverError(
            'CORRUPT',
            `they hold ${ann.size} live vectors after replay; the records hold ${count}`,
          );
        }
      } catch (error) {
        ann.dispose();
        throw error;
      }
      this.#appliedSeq = seq;
      this.#logRows = this.#store.logLength(row.id, manifest.seq);
      return ann;
    } catch (error) {
      this.#events.onWarning({
        code: 'SNAPSHOT_INVALID',
        collection: row.name,
        message: `the IVF-PQ codebook or codes of '${row.name}' are unusable: ${(error as Error).message}; retraining them from the records`,
        cause: error,
      });
      return undefined;
    }
  }

  /** Reads full vectors for an IVF-PQ re-rank: one statement for all labels. */
  readonly #fetchVectors = (labels: readonly number[]) =>
    this.#store
      .vectorsByLabels(this.#row.id, labels)
      .map(({ label, vector }) => ({ label, vector: vectorOf(vector, this.#row.dim) }));

  /** Reports an IVF-PQ index's training as progress. */
  readonly #onTrain = (vectors: number) =>
    this.#events.onProgress({ collection: this.#row.name, phase: 'train', done: 0, total: vectors });

  /**
   * Re-reads every label the log touches after `seq` and applies its current state, RECORD_BATCH
   * labels at a time. The log's labels are distinct and each gets its current record (or its
   * deletion), so the order of the log within a label is already applied.
   */
  #replay(ann: AnnIndex, seq: number): void {
    const labels = this.#store.labelsLoggedAfter(this.#row.id, seq);
    for (let start = 0; start < labels.length; start += RECORD_BATCH) {
      const chunk = labels.slice(start, start + RECORD_BATCH);
      this.#insert(ann, this.#readCurrent(ann, chunk));
      this.#reportReplay(start + chunk.length, labels.length);
    }
  }

  #reportReplay(done: number, total: number): void {
    this.#events.onProgress({ collection: this.#row.name, phase: 'replay', done, total });
  }

  /**
   * Reads the current records of `labels` (one statement) into a batch to insert, and removes from
   * `ann` the labels that no longer have a record.
   */
  #readCurrent(ann: AnnIndex, labels: readonly number[]): RecordBatch {
    const rows = this.#store.vectorsByLabels(this.#row.id, labels);
    const batch = new RecordBatch(this.#row.dim, rows.length);
    for (const { label, vector } of rows) batch.add(label, vector, this.#row.name);
    const present = new Set(batch.labels);
    for (const label of labels) if (!present.has(label)) ann.remove(label);
    return batch;
  }

  /** Inserts or replaces the batch's records (distinct labels) in `ann`. */
  #insert(ann: AnnIndex, batch: RecordBatch): void {
    if (batch.count === 0) return;
    const dim = this.#row.dim;
    const labels = batch.labels.subarray(0, batch.count);
    const vectors = batch.vectors.subarray(0, batch.count * dim);
    if (ann instanceof HnswIndex) ann.upsertBatch(labels, vectors, this.#threads);
    else if (ann instanceof IvfPqIndex) ann.upsertBatch(new Int32Array(labels.buffer, 0, batch.count), vectors);
    else {
      for (let row = 0; row < batch.count; row++) {
        ann.upsert(labels[row]!, vectors.subarray(row * dim, (row + 1) * dim));
      }
    }
  }

  /** An empty index of the collection's kind, sized for `count` records. */
  #emptyIndex(count: number): AnnIndex {
    const row = this.#row;
    const capacity = Math.max(1024, Math.ceil(count * 1.25));
    return row.index.type === 'hnsw'
      ? new HnswIndex(row.metric, row.dim, row.index, capacity)
      : row.index.type === 'ivfpq'
        ? new IvfPqIndex(row.metric, row.dim, row.index, this.#fetchVectors, this.#onTrain)
        : new FlatIndex(row.metric, row.dim, capacity);
  }

  /**
   * Builds a new index from every record, RECORD_BATCH records at a time; the caller disposes the
   * old one. A compaction passes its crash point once half the records are read.
   */
  #rebuild(seq: number, compacting = false): AnnIndex {
    const row = this.#row;
    const total = this.#store.count(row.id);
    const ann = this.#emptyIndex(total);
    try {
      let batch = new RecordBatch(row.dim, Math.min(RECORD_BATCH, Math.max(total, 1)));
      let done = 0;
      const flush = () => {
        this.#insert(ann, batch);
        this.#events.onProgress({ collection: row.name, phase: 'rebuild', done, total });
        batch = new RecordBatch(row.dim, RECORD_BATCH);
      };
      for (const { label, vector } of this.#store.vectors(row.id)) {
        batch.add(label, vector, this.#row.name);
        done++;
        if (compacting && done === Math.ceil(total / 2)) crashPoint('compact-mid-build');
        if (batch.full) flush();
      }
      if (batch.count > 0) flush();
    } catch (error) {
      ann.dispose();
      throw error;
    }
    this.#appliedSeq = seq;
    this.#logRows = this.#store.logLength(row.id, 0);
    return ann;
  }

  /** Removes snapshot files the manifest does not name (left by a crash mid-snapshot). */
  removeOrphanSnapshots(): void {
    const manifest = this.#store.manifest(this.#row.id);
    removeSnapshotsExcept(this.#directory, manifest?.file.split('/').pop());
  }
}
