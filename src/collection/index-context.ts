// What the open steps (open-steps.ts) and the persistence of a collection's index (persistence.ts)
// need of it: the store, the collection's row and kind, where its snapshots live, where progress and
// warnings go. Must not import the collection class, the derived index or the database.
import { join } from 'node:path';
import { type IndexHooks, type IndexKind, indexKind } from '../index/registry.js';
import { type CollectionRow, type Store, vectorOf } from '../storage/store.js';
import type { QuiverProgress, QuiverWarning } from '../types.js';

export interface IndexEvents {
  readonly onWarning: (warning: QuiverWarning) => void;
  readonly onProgress: (progress: QuiverProgress) => void;
}

/** One collection's index as its open steps and its persistence see it (built once by DerivedIndex). */
export interface IndexContext {
  readonly store: Store;
  readonly row: CollectionRow;
  readonly kind: IndexKind;
  /** `<database>/<collection>`, where snapshots live. */
  readonly directory: string;
  readonly events: IndexEvents;
  /** Native threads for batched inserts (rebuild, replay). */
  readonly threads: number;
  /** What an index needs from the collection (see IndexHooks). */
  readonly hooks: IndexHooks;
}

export function indexContext(
  store: Store,
  databasePath: string,
  row: CollectionRow,
  events: IndexEvents,
  threads: number,
): IndexContext {
  return {
    store,
    row,
    kind: indexKind(row.index),
    directory: join(databasePath, row.name),
    events,
    threads,
    hooks: {
      /** Reads full vectors for an IVF-PQ re-rank: one statement for all labels. */
      fetchVectors: (labels: readonly number[]) =>
        store
          .vectorsByLabels(row.id, labels)
          .map(({ label, vector }) => ({ label, vector: vectorOf(vector, row.dim) })),
      /** Reports an IVF-PQ index's training as progress. */
      onTrain: (vectors: number) =>
        events.onProgress({ collection: row.name, phase: 'train', done: 0, total: vectors }),
      /** A float-vector file (int8 HNSW) that cannot be used: the records answer instead. */
      onVectorFileProblem: (message: string) =>
        events.onWarning({ code: 'VECTOR_FILE_INVALID', collection: row.name, message }),
    },
  };
}
