// The seeded workload shared by the crash-test writer (a child process) and the test that
// kills it: the same seed gives the same operations, so the test can compute exactly which
// state each acknowledged prefix of operations must leave behind.
import { random } from '../helpers/random.js';

export const DIM = 8;
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
