// What a replica test compares: every record of every collection (by id) and the ids a fixed set
// of queries returns, as plain JSON, so that a writer and replica processes can be compared exactly.
import type { Database } from '../../src/index.js';
import { random } from '../helpers/random.js';

export interface DatabaseState {
  collections: {
    name: string;
    dim: number;
    metric: string;
    index: unknown;
    indexes: string[];
    records: { id: string; vector: number[]; metadata: unknown }[];
    answers: string[][];
  }[];
}

/** Queries per collection, seeded by its name's length and dim. */
const QUERIES = 8;

export function stateOf(db: Database): DatabaseState {
  return {
    collections: db.listCollections().map((info) => {
      const collection = db.collection(info.name);
      const records = collection
        .get({ filter: {}, limit: 1_000_000 })
        .map((record) => ({ id: record.id, vector: Array.from(record.vector), metadata: record.metadata }))
        .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
      const next = random(info.name.length * 1000 + info.dim);
      const answers: string[][] = [];
      for (let q = 0; q < QUERIES; q++) {
        const vector = Array.from({ length: info.dim }, () => next() * 2 - 1);
        // ef above the collection's size: the search is exhaustive, so equal records give equal answers.
        answers.push(collection.queryIds({ vector, k: 10, ef: Math.max(64, info.count + 10) }).map((hit) => hit.id));
      }
      return {
        name: info.name,
        dim: info.dim,
        metric: info.metric,
        index: info.index,
        indexes: info.indexes,
        records,
        answers,
      };
    }),
  };
}

/** A seeded stream of writes: creates, upserts (new and overwriting), deletes by id and filter, a drop. */
export function seededWrites(db: Database, seed: number, rounds: number): void {
  const next = random(seed);
  const dim = 8;
  const docs = db.collection('docs', { dim, metric: 'cosine', indexes: ['group'] });
  const flat = db.collection('flat', { dim, index: { type: 'flat' } });
  const doomed = db.collection('doomed', { dim: 4 });
  doomed.upsert([{ id: 'x', vector: [1, 2, 3, 4] }]);
  for (let round = 0; round < rounds; round++) {
    for (const collection of [docs, flat]) {
      const size = 1 + Math.floor(next() * 40);
      const records = Array.from({ length: size }, (_, i) => ({
        id: `r${Math.floor(next() * 300)}-${i % 2}`,
        vector: Array.from({ length: dim }, () => next() * 2 - 1),
        metadata: { group: Math.floor(next() * 5), round },
      }));
      const unique = [...new Map(records.map((record) => [record.id, record])).values()];
      collection.upsert(unique);
      if (next() < 0.5) collection.delete(Array.from({ length: 5 }, () => `r${Math.floor(next() * 300)}-0`));
      if (next() < 0.1) collection.delete({ filter: { group: Math.floor(next() * 5) } });
    }
    if (round === Math.floor(rounds / 2)) db.dropCollection('doomed');
  }
}
