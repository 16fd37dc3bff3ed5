// How a collection's index is kept between opens, per its kind's persistence: a 'file' kind in a
// snapshot file (written, then read back and verified), a 'state' kind in SQLite, a 'none' kind
// only as a manifest row; the manifest commit with its log truncation; removing snapshot files.
// Must not import the collection class, the derived index or the database.
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { QuiverError } from '../errors.js';
import type { AnnIndex } from '../index/types.js';
import { vectorFileOf } from '../index/vector-file.js';
import { pause, type Steps, step } from '../steps.js';
import { crashPoint } from '../storage/crash-point.js';
import {
  readSnapshotHeadSteps,
  removeSnapshotsExcept,
  type SnapshotRead,
  snapshotName,
  writeSnapshot,
} from '../storage/snapshot-file.js';
import type { CollectionRow, ManifestRow, Store } from '../storage/store.js';
import { checkedRecord } from '../storage/stored-record.js';
import type { IndexContext } from './index-context.js';

/**
 * Saves `ann` (holding every change up to `seq`) as its kind persists (AnnIndex persistence): a
 * 'file' kind to `<collection>/hnsw.<seq>[.<n>].bin`, a 'state' kind to SQLite, and records it in
 * the manifest, then drops older snapshots and the log rows it covers; `committed` runs right after
 * the manifest commit. A 'none' kind (flat) is rebuilt from the records on open: it records only
 * the manifest row. Returns whether a snapshot was written.
 */
export function saveIndex(context: IndexContext, ann: AnnIndex, seq: number, committed: () => void): boolean {
  switch (context.kind.persistence) {
    case 'state':
      return saveState(context, ann, seq, committed);
    case 'none':
      // Nothing to keep: only a manifest row telling readers that the log before seq is gone.
      commitManifest(context, { file: '', seq, checksum: 0, params: JSON.stringify(context.row.index) }, committed);
      return false;
    case 'file':
      if (!ann.savable) {
        // Nothing worth a file yet (an int8 graph before its ranges are learned): rebuilt from the
        // records on open, as flat is.
        commitManifest(context, { file: '', seq, checksum: 0, params: JSON.stringify(context.row.index) }, committed);
        removeSnapshotsExcept(context.directory, undefined);
        return false;
      }
      return saveFile(context, ann, seq, committed);
  }
}

/** Records a snapshot in the manifest and drops the log rows it covers, in one transaction. */
function commitManifest(context: IndexContext, manifest: ManifestRow, committed: () => void): void {
  context.store.transaction(() => {
    context.store.setManifest(context.row.id, manifest);
    context.store.truncateLog(context.row.id, manifest.seq);
  });
  committed();
}

/** Writes a 'file' kind's graph, wrapped in a snapshot file, and records it in the manifest. */
function saveFile(context: IndexContext, ann: AnnIndex, seq: number, committed: () => void): boolean {
  const { writeGraph, liveLabels } = ann;
  const fileHeader = context.kind.fileHeader;
  if (writeGraph === undefined || liveLabels === undefined || fileHeader === undefined) {
    throw new QuiverError('INTERNAL', `index kind '${context.kind.type}' persists to a file but cannot write one`);
  }
  mkdirSync(context.directory, { recursive: true });
  const name = snapshotName(seq, context.store.manifest(context.row.id)?.file);
  const graphFile = join(context.directory, `${name}.graph.tmp`);
  const vectorFile = join(context.directory, vectorFileOf(name));
  let written: { file: string; checksum: number };
  // A graph whose vectors are the records' own is written without them: each vector is on disk once.
  const withoutVectors = ann.writeGraphWithoutVectors !== undefined;
  try {
    if (withoutVectors) ann.writeGraphWithoutVectors!(graphFile);
    else writeGraph.call(ann, graphFile);
    // A kind's float-vector file is in place before its snapshot is (a snapshot never names one
    // that is not there yet); a crash in between leaves an orphan that the next cleanup removes.
    if (ann.writeVectorFile !== undefined) {
      ann.writeVectorFile(`${vectorFile}.tmp`, seq);
      crashPoint('vector-file-before-rename');
      renameSync(`${vectorFile}.tmp`, vectorFile);
    }
    written = writeSnapshot(
      context.directory,
      name,
      { dim: ann.dim, metric: ann.metric, ...fileHeader(context.row.index), seq, withoutVectors },
      liveLabels.call(ann),
      graphFile,
    );
  } finally {
    rmSync(graphFile, { force: true });
    rmSync(`${vectorFile}.tmp`, { force: true });
  }
  crashPoint('snapshot-before-manifest');
  commitManifest(
    context,
    {
      file: `${context.row.name}/${written.file}`,
      seq,
      checksum: written.checksum,
      params: JSON.stringify(context.row.index),
    },
    committed,
  );
  ann.useVectorFile?.(vectorFile, seq);
  crashPoint('snapshot-before-cleanup');
  removeSnapshotsExcept(context.directory, written.file);
  return true;
}

/**
 * Writes a 'state' kind's state (an IVF-PQ codebook and codes) to SQLite with the seq it covers,
 * in the same transaction as the manifest row and the log truncation. Before there is anything to
 * keep (IVF-PQ before training) the index is rebuilt from the records, as for flat. Returns
 * whether state was written.
 */
function saveState(context: IndexContext, ann: AnnIndex, seq: number, committed: () => void): boolean {
  const state = ann.exportState?.();
  const params = JSON.stringify(context.row.index);
  context.store.transaction(() => {
    if (state === undefined) context.store.removeIvfpqState(context.row.id);
    else context.store.setIvfpqState(context.row.id, seq, params, state.codebook, state.chunks);
    crashPoint('snapshot-before-manifest');
    commitManifest(context, { file: '', seq, checksum: 0, params }, committed);
  });
  return state !== undefined;
}

/**
 * The index from its saved state, before the log replay: a verified snapshot file ('file' kinds)
 * or the state in SQLite ('state' kinds). Undefined when there is none to load (IVF-PQ or an int8
 * HNSW graph snapshotted before training). Throws (CORRUPT, IO_ERROR) when the saved state is unusable.
 * `count` gives the number of records, asked only for a state kind's progress report.
 */
export function* loadSteps(
  context: IndexContext,
  manifest: ManifestRow,
  count: () => number,
): Steps<AnnIndex | undefined> {
  const row = context.row;
  const kind = context.kind;
  if (kind.persistence === 'file') return manifest.file === '' ? undefined : yield* loadFileSteps(context, manifest);
  const state = context.store.ivfpqState(row.id);
  if (state === undefined || kind.fromState === undefined) return undefined;
  if (state.seq !== manifest.seq) {
    throw new QuiverError('CORRUPT', `they cover seq ${state.seq}; the manifest says ${manifest.seq}`);
  }
  if (state.params !== JSON.stringify(row.index)) {
    throw new QuiverError(
      'CORRUPT',
      `they were built with ${state.params}; the collection has ${JSON.stringify(row.index)}`,
    );
  }
  context.events.onProgress({ collection: row.name, phase: 'load', done: 0, total: count() });
  return kind.fromState(row.metric, row.dim, row.index, context.hooks, state);
}

/**
 * Verifies the manifest's snapshot file's header and live labels against the manifest and the
 * collection, then loads the graph it holds: the index reads it from the file in one pass and checks
 * the payload checksum as it reads (a damaged graph is CORRUPT, and nothing of it is kept).
 */
function* loadFileSteps(context: IndexContext, manifest: ManifestRow): Steps<AnnIndex> {
  const row = context.row;
  const { loadFile, loadFileAsync } = context.kind;
  if (loadFile === undefined || loadFileAsync === undefined) {
    throw new QuiverError('INTERNAL', `index kind '${context.kind.type}' persists to a file but cannot load one`);
  }
  if (manifest.params !== JSON.stringify(row.index)) {
    throw new QuiverError(
      'CORRUPT',
      `it was built with ${manifest.params}; the collection has ${JSON.stringify(row.index)}`,
    );
  }
  const file = join(context.directory, '..', manifest.file);
  const snapshot = yield* readSnapshotHeadSteps(file);
  verifySnapshot(context, manifest, snapshot);
  const loaded = {
    graph: {
      path: file,
      offset: snapshot.graphOffset,
      length: snapshot.graphLength,
      crcSeed: snapshot.labelsChecksum,
      crcExpected: snapshot.checksum,
      withoutVectors: snapshot.header.withoutVectors === true,
    },
    liveLabels: snapshot.liveLabels,
    vectorFile: { path: vectorFileOf(file), seq: manifest.seq },
  };
  let ann: AnnIndex;
  try {
    ann = yield* step(
      () => loadFile(loaded, row.metric, row.dim, row.index, context.hooks),
      () => loadFileAsync(loaded, row.metric, row.dim, row.index, context.hooks),
    );
  } catch (error) {
    throw existsSync(file) ? error : removedWhileRead(file, error);
  }
  if (loaded.graph.withoutVectors) {
    try {
      yield* fillSteps(context, ann, manifest.seq);
    } catch (error) {
      ann.dispose();
      throw error;
    }
  }
  crashPoint('snapshot-loaded');
  return ann;
}

/** Errors of records that fail their own checksum, found while filling a graph: the open fails with them. */
const damagedRecords = new WeakSet<QuiverError>();

/** True for an error of damaged records (CORRUPT), which a rebuild from those records cannot mend. */
export function isDamagedRecords(error: unknown): boolean {
  return error instanceof QuiverError && damagedRecords.has(error);
}

/**
 * Checks the records of `labels` (those present) against their own checksums: one that fails is
 * damage in the records themselves, CORRUPT naming it, which the open passes on instead of rebuilding.
 */
function checkRecords(store: Store, row: CollectionRow, labels: readonly number[]): void {
  try {
    for (const record of store.recordsByLabels(row.id, labels, true)) {
      if (record !== undefined) checkedRecord(record, row.dim, row.name);
    }
  } catch (error) {
    if (error instanceof QuiverError) damagedRecords.add(error);
    throw error;
  }
}

/** Labels per read of the records when a graph's vectors are filled from them. */
const FILL_LABELS = 8192;

/**
 * Fills a graph loaded without vectors from the records, and checks what the snapshot does not
 * explain against the log after it (see {@link fillFromRecords}); anything left is damage: a record
 * that fails its own checksum is CORRUPT; otherwise the snapshot is unusable (the open warns and
 * rebuilds).
 */
function* fillSteps(context: IndexContext, ann: AnnIndex, seq: number): Steps<void> {
  const row = context.row;
  const unexplained = yield* fillFromRecords(context.store, row, ann);
  if (unexplained.length === 0) return;
  // A snapshot written meanwhile (by the writer, while a reader's asynchronous open filled) may have
  // truncated the log that explains them: the open's last step sees the new manifest and starts again.
  if (context.store.manifest(row.id)?.seq !== seq) return;
  const unlogged = notLoggedAfter(context.store, row.id, seq, unexplained);
  if (unlogged.length === 0) return;
  checkRecords(context.store, row, unlogged);
  throw new QuiverError(
    'CORRUPT',
    `the vectors of ${unlogged.length} record(s) (label ${unlogged[0]} first) differ from the snapshot's, and the log does not say why`,
  );
}

/**
 * Fills a graph loaded without vectors (AnnIndex.fillVectors) from the records, FILL_LABELS labels
 * at a time in label order (Store.vectorRun: one statement per run, no row objects), and ends the
 * fill. Each vector is checked against the CRC-32 the snapshot kept for it. Returns the labels the
 * snapshot does not explain: a vector that differs, a record the graph does not await, a live label
 * without a record. The log after the snapshot must explain each (the replay then applies them).
 * @throws QuiverError CORRUPT for a vector of the wrong length (naming its record when its checksum fails)
 */
export function* fillFromRecords(store: Store, row: CollectionRow, ann: AnnIndex): Steps<number[]> {
  const unexplained: number[] = [];
  const highest = store.highestLabel(row.id);
  for (let first = 0; highest !== undefined && first <= highest; first += FILL_LABELS) {
    const run = store.vectorRun(row.id, first, FILL_LABELS, row.dim);
    if (run === undefined) {
      // A vector of the wrong length: the run's records, checked one by one, name it.
      const labels = Array.from({ length: Math.min(FILL_LABELS, highest - first + 1) }, (_, i) => first + i);
      checkRecords(store, row, labels);
      throw new QuiverError(
        'CORRUPT',
        `the vectors of labels ${first}-${first + FILL_LABELS - 1} are not dim ${row.dim}`,
      );
    }
    if (run.labels.length > 0) for (const label of ann.fillVectors!(run.labels, run.vectors)) unexplained.push(label);
    if (first + FILL_LABELS <= highest) yield* pause();
  }
  for (const label of ann.finishFill!()) unexplained.push(label);
  return unexplained;
}

/** Those of `labels` that the log of the collection does not touch after `seq`. */
export function notLoggedAfter(store: Store, collectionId: number, seq: number, labels: readonly number[]): number[] {
  if (labels.length === 0) return [];
  const logged = new Set(store.labelsLoggedAfter(collectionId, seq));
  return labels.filter((label) => !logged.has(label));
}

/**
 * The error of a graph load whose snapshot file is gone: the index opens the file again after its
 * header was read, and a writer may have replaced and removed it in between. Its cause carries
 * ENOENT, as a failed read of a missing file does, so that a reader starts again from the new
 * manifest (replacedUnderReader) instead of rebuilding.
 */
function removedWhileRead(file: string, error: unknown): QuiverError {
  const missing = Object.assign(new Error(`snapshot ${file} was removed while it was being read`, { cause: error }), {
    code: 'ENOENT',
  });
  return new QuiverError('IO_ERROR', missing.message, { cause: missing });
}

/** Checks a verified snapshot file against the manifest and the collection; reports the load. */
function verifySnapshot(context: IndexContext, manifest: ManifestRow, snapshot: SnapshotRead): void {
  const row = context.row;
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
  const expected = context.kind.fileHeader?.(row.index);
  if (expected === undefined || header.m !== expected.m || header.efConstruction !== expected.efConstruction) {
    throw new QuiverError('CORRUPT', 'its graph parameters differ from the collection');
  }
  context.events.onProgress({
    collection: row.name,
    phase: 'load',
    done: 0,
    total: snapshot.liveLabels.length,
  });
}

/** Removes snapshot files the manifest does not name (left by a crash mid-snapshot). */
export function removeOrphanSnapshots(context: IndexContext): void {
  const manifest = context.store.manifest(context.row.id);
  removeSnapshotsExcept(context.directory, manifest?.file.split('/').pop());
}

/** Removes a collection's snapshot folder (after the collection was dropped). */
export function removeSnapshotFolder(databasePath: string, name: string): void {
  rmSync(join(databasePath, name), { recursive: true, force: true });
}
