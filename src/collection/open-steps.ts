// The open of a collection's index, written once as steps (steps.ts) for the synchronous and the
// asynchronous open: its saved state (persistence.ts) plus a replay of the log after it, or a
// rebuild from the records, RECORD_BATCH records at a time; then a last synchronous step that
// catches up and checks. Must not import the collection class, the derived index or the database.
import { isQuiverError, QuiverError } from '../errors.js';
import type { AnnIndex } from '../index/types.js';
import { finish, runSync, type Started, type Steps, settle, start } from '../steps.js';
import { crashPoint } from '../storage/crash-point.js';
import type { IndexContext } from './index-context.js';
import { isDamagedRecords, loadSteps } from './persistence.js';
import { RecordBatch } from './record-batch.js';
import { replacedUnderReader, SnapshotReplaced } from './snapshot-replaced.js';

/**
 * Records per batch during a rebuild or a replay: read from SQLite together, then inserted into
 * the index at once (AnnIndex.upsertBatch: one native insert on the database's threads for HNSW,
 * one coarse assignment and PQ encoding for IVF-PQ). A progress report follows each batch.
 */
const RECORD_BATCH = 4096;

/** Where an index stands in the log once it is open. */
export interface LogPosition {
  /** Every oplog row up to this seq is reflected in the index. */
  readonly appliedSeq: number;
  /** Log rows written since the last snapshot (what a reopen would have to replay). */
  readonly logRows: number;
}

/** An opened index, where it stands in the log, and whether it was rebuilt from the records. */
export interface OpenedIndex extends LogPosition {
  readonly ann: AnnIndex;
  /** True when its saved state was missing or unusable (or its kind keeps none). */
  readonly rebuilt: boolean;
}

/**
 * The open algorithm, written once for the constructor (runSync, inside one read transaction) and
 * {@link DerivedIndex.openAsync} (runAsync): the saved state (verified snapshot file or SQLite
 * state) plus a replay of the log after it when it is usable, else a rebuild from the records;
 * then the last synchronous step (finishOpen). Throws
 * SnapshotReplaced for a reader whose snapshot file the writer replaced meanwhile.
 */
export function* openSteps(context: IndexContext, assertOpen: () => void): Steps<OpenedIndex> {
  const row = context.row;
  const kind = context.kind;
  for (;;) {
    // The record count (a scan of the collection's label index: 60-120 ms at a million records) is
    // not needed to load a snapshot file, whose size finishOpen checks against a count of its own:
    // it is taken only for a state kind's progress or a rebuild.
    const begin = context.store.transaction(() => {
      const manifest = context.store.manifest(row.id);
      const skipCount = manifest !== undefined && kind.persistence === 'file';
      return {
        seq: context.store.lastSeq(),
        count: skipCount ? undefined : context.store.count(row.id),
        manifest,
      };
    });
    const manifest = begin.manifest;
    const countNow = () => begin.count ?? context.store.count(row.id);
    if (manifest !== undefined && kind.persistence !== 'none') {
      try {
        const saved = yield* loadSteps(context, manifest, countNow);
        if (saved !== undefined) {
          try {
            assertOpen();
            yield* applySteps(
              context,
              saved,
              context.store.labelsLoggedAfter(row.id, manifest.seq),
              'replay',
              assertOpen,
            );
            const at = finishOpen(context, saved, begin.seq, manifest.seq, true, assertOpen);
            if (at !== undefined) return { ann: saved, ...at, rebuilt: false };
          } catch (error) {
            saved.dispose();
            throw error;
          }
          saved.dispose();
          continue; // a snapshot truncated the log meanwhile: start again from it
        }
      } catch (error) {
        if (isQuiverError(error, 'CLOSED') || isQuiverError(error, 'NOT_FOUND') || isDamagedRecords(error)) throw error;
        if (replacedUnderReader(context.store, manifest.file, error)) throw new SnapshotReplaced(manifest.file);
        context.events.onWarning({
          code: 'SNAPSHOT_INVALID',
          collection: row.name,
          message: kind.invalidMessage?.(row.name, manifest.file, (error as Error).message) ?? (error as Error).message,
          cause: error,
        });
      }
    } else if (countNow() > 0 && kind.missingMessage !== undefined) {
      context.events.onWarning({
        code: 'SNAPSHOT_MISSING',
        collection: row.name,
        message: kind.missingMessage(row.name, countNow()),
      });
    }
    // The rebuild reads the records present now; the last step replays what changed meanwhile.
    assertOpen();
    const total = countNow();
    const ann = emptyIndex(context, total);
    let at: LogPosition | undefined;
    try {
      yield* rebuildSteps(context, ann, total, assertOpen, false);
      at = finishOpen(context, ann, begin.seq, 0, false, assertOpen);
      if (at === undefined) {
        ann.dispose();
        continue;
      }
    } catch (error) {
      ann.dispose();
      throw error;
    }
    return { ann, ...at, rebuilt: true };
  }
}

/**
 * The last, synchronous step of an open: replays what other connections committed after
 * `startSeq` and checks the result, in one read transaction; gives where the index then stands in
 * the log. Undefined when a snapshot truncated the
 * log past `startSeq` meanwhile (the open then starts again). With `checkSize`, a live count that
 * differs from the records is CORRUPT. (Run synchronously, inside the open's own transaction,
 * there is nothing left to replay.)
 * @throws QuiverError CLOSED, NOT_FOUND when the collection was dropped meanwhile, CORRUPT
 */
function finishOpen(
  context: IndexContext,
  ann: AnnIndex,
  startSeq: number,
  logFrom: number,
  checkSize: boolean,
  assertOpen: () => void,
): LogPosition | undefined {
  assertOpen();
  const row = context.row;
  return context.store.transaction(() => {
    const current = context.store.findCollection(row.name);
    if (current === undefined || current.id !== row.id) {
      throw new QuiverError('NOT_FOUND', `collection '${row.name}' was dropped while it was being opened`);
    }
    const manifest = context.store.manifest(row.id);
    if (manifest !== undefined && manifest.seq > startSeq) return undefined;
    replay(context, ann, startSeq);
    const count = context.store.count(row.id);
    if (checkSize && ann.size !== count) {
      throw new QuiverError('CORRUPT', `it holds ${ann.size} live vectors after replay; the records hold ${count}`);
    }
    return { appliedSeq: context.store.lastSeq(), logRows: context.store.logLength(row.id, logFrom) };
  });
}

/** Re-reads every label the log touches after `seq` and applies its current state, at once. */
export function replay(context: IndexContext, ann: AnnIndex, seq: number): void {
  runSync(applySteps(context, ann, context.store.labelsLoggedAfter(context.row.id, seq), 'replay', () => {}));
}

/**
 * Applies the current records of `labels` (distinct) to `ann`, RECORD_BATCH at a time: a label
 * without a record now is removed. Each label gets its current record (or its deletion), so the
 * order of the log within a label is already applied. Run asynchronously, SQLite is read on the
 * main thread while the previous batch goes into the index (AnnIndex.upsertBatchAsync).
 */
function* applySteps(
  context: IndexContext,
  ann: AnnIndex,
  labels: readonly number[],
  phase: 'replay' | 'rebuild',
  assertOpen: () => void,
): Steps<void> {
  const report = (done: number) =>
    context.events.onProgress({ collection: context.row.name, phase, done, total: labels.length });
  let inserting: Started<void> | undefined;
  let done = 0;
  try {
    for (let first = 0; first < labels.length; first += RECORD_BATCH) {
      assertOpen();
      const chunk = labels.slice(first, first + RECORD_BATCH);
      const batch = batchOf(context, context.store.vectorsByLabels(context.row.id, chunk));
      if (inserting !== undefined) yield* finish(inserting);
      if (first > 0) report(done);
      const present = new Set(batch.labels.subarray(0, batch.count));
      for (const label of chunk) if (!present.has(label)) ann.remove(label);
      done = first + chunk.length;
      inserting = yield* startInsert(context, ann, batch);
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
export function* rebuildSteps(
  context: IndexContext,
  ann: AnnIndex,
  total: number,
  assertOpen: () => void,
  compacting: boolean,
): Steps<void> {
  const row = context.row;
  const report = (done: number) => context.events.onProgress({ collection: row.name, phase: 'rebuild', done, total });
  let inserting: Started<void> | undefined;
  let reported = 0;
  let done = 0;
  let after = -1;
  try {
    for (;;) {
      assertOpen();
      const rows = context.store.vectorsAfterLabel(row.id, after, RECORD_BATCH);
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
      inserting = yield* startInsert(context, ann, batch);
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
function startInsert(context: IndexContext, ann: AnnIndex, batch: RecordBatch): Steps<Started<void>> {
  const labels = batch.labels.subarray(0, batch.count);
  const vectors = batch.vectors.subarray(0, batch.count * context.row.dim);
  return start(
    () => {
      if (batch.count > 0) ann.upsertBatch(labels, vectors, context.threads);
    },
    () => (batch.count > 0 ? ann.upsertBatchAsync(labels, vectors, context.threads) : Promise.resolve()),
  );
}

/** Stored rows (label and float32 BLOB) checked into a batch to insert. */
function batchOf(context: IndexContext, rows: readonly { label: number; vector: Uint8Array }[]): RecordBatch {
  const batch = new RecordBatch(context.row.dim, rows.length);
  for (const { label, vector } of rows) batch.add(label, vector, context.row.name);
  return batch;
}

/** An empty index of the collection's kind, sized for `count` records. */
export function emptyIndex(context: IndexContext, count: number): AnnIndex {
  const row = context.row;
  const capacity = Math.max(1024, Math.ceil(count * 1.25));
  return context.kind.create(row.metric, row.dim, row.index, capacity, context.hooks);
}
