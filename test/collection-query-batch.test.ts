// collection.queryBatch / queryBatchAsync and the `threads` open option: each answer equals
// query() for the same vector, on HNSW and flat collections, with 1 or 2 threads; a batch upsert
// large enough for the native parallel insert keeps the collection complete and searchable.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Database, open, type QueryHit } from '../src/index.js';
import { tempDirectory } from './helpers/fixtures.js';
import { randomVectors } from './helpers/random.js';

let directory: ReturnType<typeof tempDirectory>;
let db: Database | undefined;
beforeEach(() => {
  directory = tempDirectory();
});
afterEach(() => {
  db?.close();
  db = undefined;
  directory.cleanup();
});

const ids = (hits: readonly QueryHit[]) => hits.map((hit) => hit.id);

describe('queryBatch', () => {
  for (const threads of [1, 2]) {
    it(`equals query() per vector on HNSW and flat collections (threads ${threads})`, async () => {
      db = open(directory.path, { threads });
      const vectors = randomVectors(1500, 16, 5);
      const queries = randomVectors(20, 16, 6);
      for (const [name, index] of [
        ['graph', { type: 'hnsw' as const, m: 12, efConstruction: 64, ef: 32 }],
        ['exact', { type: 'flat' as const }],
      ] as const) {
        const docs = db.collection(name, { dim: 16, metric: 'cosine', index });
        // 1,500 records in one batch: the HNSW collection inserts them natively on `threads` threads.
        docs.upsert(vectors.map((vector, i) => ({ id: i, vector, metadata: { i } })));
        docs.delete(['3', '4']);
        expect(docs.count()).toBe(1498);
        const single = queries.map((vector) => docs.query({ vector, k: 7, includeVectors: true }));
        const flat = new Float32Array(queries.length * 16);
        queries.forEach((query, row) => {
          flat.set(query, row * 16);
        });
        expect(docs.queryBatch({ vectors: queries, k: 7, includeVectors: true })).toEqual(single);
        expect(docs.queryBatch({ vectors: flat, k: 7, includeVectors: true })).toEqual(single);
        expect(
          docs.queryBatch({ vectors: queries.map((query) => Array.from(query)), k: 7, includeVectors: true }),
        ).toEqual(single);
        expect(await docs.queryBatchAsync({ vectors: flat, k: 7, includeVectors: true })).toEqual(single);
        expect(docs.queryBatch({ vectors: [], k: 3 })).toEqual([]);
        // The ids-only batch: what queryIds gives per vector, without reading the records.
        const singleIds = queries.map((vector) => docs.queryIds({ vector, k: 7 }));
        expect(singleIds.map((hits) => hits.map((hit) => hit.id))).toEqual(single.map(ids));
        expect(docs.queryIdsBatch({ vectors: flat, k: 7 })).toEqual(singleIds);
        expect(await docs.queryIdsBatchAsync({ vectors: queries, k: 7 })).toEqual(singleIds);
        // A filter applies to every query of the batch, as in query().
        for (const filter of [{ i: { $lt: 700 } }, { i: { $in: [5, 6, 7, 8, 900] } }]) {
          const filtered = queries.map((vector) => docs.query({ vector, k: 7, filter }));
          expect(docs.queryBatch({ vectors: flat, k: 7, filter })).toEqual(filtered);
          expect(await docs.queryBatchAsync({ vectors: queries, k: 7, filter })).toEqual(filtered);
          const filteredIds = queries.map((vector) => docs.queryIds({ vector, k: 7, filter }));
          expect(docs.queryIdsBatch({ vectors: flat, k: 7, filter })).toEqual(filteredIds);
        }
        // Every inserted vector finds itself first.
        const self = docs.queryBatch({ vectors: vectors.slice(100, 200), k: 1 });
        expect(self.filter((hits, i) => hits[0]?.id === String(100 + i)).length).toBeGreaterThanOrEqual(99);
      }
    });
  }

  it('gives every record when k exceeds the collection, and [] per query when it is empty', async () => {
    db = open(directory.path, { threads: 2 });
    const docs = db.collection('docs', { dim: 4 });
    expect(docs.queryBatch({ vectors: [[1, 2, 3, 4]], k: 5 })).toEqual([[]]);
    docs.upsert(randomVectors(6, 4, 7).map((vector, i) => ({ id: i, vector })));
    const [first, second] = await docs.queryBatchAsync({ vectors: randomVectors(2, 4, 8), k: 100 });
    expect(ids(first!).sort()).toEqual(['0', '1', '2', '3', '4', '5']);
    expect(ids(second!)).toHaveLength(6);
  });

  it('answers from the current state when a write lands while an async search runs', async () => {
    db = open(directory.path, { threads: 2 });
    const docs = db.collection('docs', { dim: 8 });
    const vectors = randomVectors(300, 8, 9);
    docs.upsert(vectors.map((vector, i) => ({ id: i, vector })));
    const pending = docs.queryBatchAsync({ vectors: vectors.slice(0, 5), k: 1 });
    docs.delete(['0', '1', '2', '3', '4']);
    const answers = await pending;
    for (const hits of answers) expect(['0', '1', '2', '3', '4']).not.toContain(hits[0]!.id);
    const pendingIds = docs.queryIdsBatchAsync({ vectors: vectors.slice(5, 10), k: 1 });
    docs.delete(['5', '6', '7', '8', '9']);
    for (const hits of await pendingIds) expect(['5', '6', '7', '8', '9']).not.toContain(hits[0]!.id);
  });

  it('validates the whole batch first', () => {
    db = open(directory.path);
    const docs = db.collection('docs', { dim: 3, metric: 'cosine' });
    docs.upsert([{ id: 'a', vector: [1, 0, 0] }]);
    const code = (call: () => unknown) => {
      try {
        call();
      } catch (error) {
        return (error as { code?: string }).code;
      }
      return 'none';
    };
    expect(code(() => docs.queryBatch({ vectors: new Float32Array(4) }))).toBe('INVALID_ARGUMENT');
    expect(
      code(() =>
        docs.queryBatch({
          vectors: [
            [1, 0, 0],
            [1, 0],
          ],
        }),
      ),
    ).toBe('DIMENSION_MISMATCH');
    expect(code(() => docs.queryBatch({ vectors: [[1, 0, Number.NaN]] }))).toBe('NOT_FINITE');
    expect(code(() => docs.queryBatch({ vectors: [[0, 0, 0]] }))).toBe('INVALID_ARGUMENT');
    expect(code(() => docs.queryBatch({ vectors: [[1, 0, 0]], k: 0 }))).toBe('INVALID_ARGUMENT');
    expect(code(() => docs.queryBatch({ vectors: [[1, 0, 0]], extra: 1 } as never))).toBe('INVALID_ARGUMENT');
    expect(code(() => docs.queryIdsBatch({ vectors: [[1, 0]] }))).toBe('DIMENSION_MISMATCH');
    expect(code(() => docs.queryIdsBatch({ vectors: [[1, 0, 0]], includeVectors: true } as never))).toBe(
      'INVALID_ARGUMENT',
    );
    expect(() => docs.queryIdsBatch({ vectors: new Float32Array(4) })).toThrow(/queryIdsBatch\.vectors/);
    expect(code(() => open(directory.path, { threads: 0 }))).toBe('INVALID_ARGUMENT');
  });

  it('raises CLOSED after close, also for a search already running', async () => {
    db = open(directory.path);
    const docs = db.collection('docs', { dim: 4 });
    docs.upsert(randomVectors(50, 4, 10).map((vector, i) => ({ id: i, vector })));
    const pending = docs.queryBatchAsync({ vectors: randomVectors(3, 4, 11), k: 2 });
    db.close();
    db = undefined;
    await expect(pending).rejects.toMatchObject({ code: 'CLOSED' });
    expect(() => docs.queryBatch({ vectors: [[1, 2, 3, 4]] })).toThrow(expect.objectContaining({ code: 'CLOSED' }));
  });
});
