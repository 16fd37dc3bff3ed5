// The seeded workload shared by the crash-test writer (a child process) and the test that
// kills it: the same seed gives the same operations, so the test can compute exactly which
// state each acknowledged prefix of operations must leave behind. An ivfpq collection starts
// from BASE_COUNT base records (written before the writer starts) so that it is trained and its
// codebook and codes are saved and replayed like a graph snapshot; an int8 hnsw collection from
// the first INT8_BASE_COUNT of them, so that its ranges are learned and its graph snapshotted.
import type { CollectionOptions } from '../../src/index.js';
import { random } from '../helpers/random.js';

export const DIM = 8;
/** The index kinds the crash tests run over. */
export type IndexKind = 'hnsw' | 'hnsw-int8' | 'flat' | 'ivfpq';
/** The collection's settings per kind: the writer and the test's preparation use the same. */
export function collectionOptions(kind: IndexKind): CollectionOptions {
  const index: CollectionOptions['index'] =
    kind === 'hnsw'
      ? { type: 'hnsw', m: 8, efConstruction: 64, ef: 64 }
      : kind === 'hnsw-int8'
        ? { type: 'hnsw', m: 8, efConstruction: 64, ef: 64, vectors: 'int8' }
        : kind === 'flat'
          ? { type: 'flat' }
          : { type: 'ivfpq', nlist: 16, m: 4 };
  return { dim: DIM, index, text: true };
}
/** Base records of an ivfpq collection: 39 × 256, exactly the vectors its training needs. */
export const BASE_COUNT = 39 * 256;
/** Base records of an int8 hnsw collection: the vectors before its ranges are learned. */
export const INT8_BASE_COUNT = 1000;
/** The base records an ivfpq collection starts from (ids `base-<n>`, no text), always the same. */
export function baseRecords(): { id: string; vector: number[]; metadata: { op: number } }[] {
  const next = random(20261205);
  return Array.from({ length: BASE_COUNT }, (_, n) => ({
    id: `base-${n}`,
    vector: Array.from({ length: DIM }, () => Math.fround(next() * 2 - 1)),
    metadata: { op: -1 },
  }));
}
/** Words the records' texts draw from; the test searches for each. */
export const TEXT_WORDS = ['alpha', 'bravo', 'charlie', 'delta', 'echo'];
const ID_POOL = 200;

export type Operation =
  | { kind: 'upsert'; records: { id: string; vector: number[]; metadata: { op: number }; text?: string }[] }
  | { kind: 'delete'; ids: string[] }
  | { kind: 'snapshot' }
  | { kind: 'compact' };

/** `count` operations for `seed`: mostly upserts and deletes, with snapshots and compactions. */
export function workload(seed: number, count: number): Operation[] {
  const next = random(seed);
  const operations: Operation[] = [];
  for (let op = 0; op < count; op++) {
    const roll = next();
    if (roll < 0.55) {
      const size = 1 + Math.floor(next() * 60);
      const ids = new Set<string>();
      while (ids.size < size) ids.add(String(Math.floor(next() * ID_POOL)));
      operations.push({
        kind: 'upsert',
        records: [...ids].map((id) => {
          const record = {
            id,
            vector: Array.from({ length: DIM }, () => Math.fround(next() * 2 - 1)),
            metadata: { op },
          };
          // Most records carry text: one of TEXT_WORDS and the operation's own word.
          return next() < 0.7
            ? { ...record, text: `note ${TEXT_WORDS[Math.floor(next() * TEXT_WORDS.length)]} op${op}` }
            : record;
        }),
      });
    } else if (roll < 0.8) {
      const size = 1 + Math.floor(next() * 30);
      operations.push({
        kind: 'delete',
        ids: Array.from({ length: size }, () => String(Math.floor(next() * ID_POOL))),
      });
    } else if (roll < 0.92) {
      operations.push({ kind: 'snapshot' });
    } else {
      operations.push({ kind: 'compact' });
    }
  }
  return operations;
}

export type Model = Map<string, { vector: number[]; metadata: { op: number }; text?: string }>;

/** The state after applying the first `count` operations to an empty collection. */
export function modelAfter(operations: readonly Operation[], count: number): Model {
  const model: Model = new Map();
  for (const operation of operations.slice(0, count)) {
    if (operation.kind === 'upsert') {
      for (const record of operation.records) model.set(record.id, { ...record });
    } else if (operation.kind === 'delete') {
      for (const id of operation.ids) model.delete(id);
    }
  }
  return model;
}
