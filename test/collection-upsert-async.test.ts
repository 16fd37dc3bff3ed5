// collection.upsertAsync: the same commits and answers as upsert; while the graph inserts the
// batch, reads answer from the committed state (checked against a Map model scored by brute
// force), writes queue behind it, and snapshot / compact / close stay safe.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Collection, type Database, open, type QueryHit, type UpsertRecord } from '../src/index.js';
import { tempDirectory } from './helpers/fixtures.js';
import { randomVectors } from './helpers/random.js';

const DIM = 16;
const INDEX = { type: 'hnsw' as const, m: 12, efConstruction: 64, ef: 64 };

let directory: ReturnType<typeof tempDirectory>;
const databases: Database[] = [];
beforeEach(() => {
  directory = tempDirectory();
});
afterEach(() => {
  for (const db of databases.splice(0)) db.close();
  directory.cleanup();
});

function openDatabase(name: string, threads: number): Database {
  const db = open(join(directory.path, name), { threads, onWarning: () => {} });
  databases.push(db);
  return db;
}

function records(count: number, seed: number, firstId = 0): UpsertRecord[] {
  return randomVectors(count, DIM, seed).map((vector, i) => ({
    id: firstId + i,
    vector,
    metadata: { even: (firstId + i) % 2 === 0 },
  }));
}

type Model = Map<string, { vector: Float32Array; even: boolean }>;

function apply(model: Model, batch: readonly UpsertRecord[]): void {
  for (const { id, vector, metadata } of batch) {
    model.set(String(id), { vector: Float32Array.from(vector), even: metadata?.['even'] === true });
  }
}

function euclidean(a: Float32Array, b: Float32Array): number {
  return Math.sqrt(a.reduce((sum, value, i) => sum + (value - b[i]!) ** 2, 0));
}

/**
 * Checks a query's hits against the model: each hit is a live record at the distance of its
 * current vector, there are min(k, matches) of them, and they hold `expected` of the true k nearest.
 */
function checkHits(hits: QueryHit[], model: Model, query: Float32Array, k: number, even?: boolean): number {
  const candidates = [...model].filter(([, record]) => even === undefined || record.even === even);
  const truth = candidates
    .map(([id, record]) => ({ id, distance: euclidean(query, record.vector) }))
    .sort((a, b) => a.distance - b.distance)
    .slice(0, k);
  expect(hits).toHaveLength(truth.length);
  for (const hit of hits) {
    const record = model.get(hit.id);
    expect(record).toBeDefined();
    expect(hit.distance).toBeCloseTo(euclidean(query, record!.vector), 4);
    if (even !== undefined) expect(hit.metadata['even']).toBe(even);
  }
  return hits.filter((hit) => truth.some((best) => best.id === hit.id)).length / Math.max(1, truth.length);
}

/** Every read of the collection against the model; returns the lowest recall@10 seen. */
function checkCollection(docs: Collection, model: Model, queries: Float32Array[]): number {
  expect(docs.count()).toBe(model.size);
  expect(docs.count({ filter: { even: true } })).toBe([...model.values()].filter((record) => record.even).length);
  let recall = 1;
  for (const query of queries) {
    recall = Math.min(recall, checkHits(docs.query({ vector: query, k: 10 }), model, query, 10));
    recall = Math.min(
      recall,
      checkHits(docs.query({ vector: query, k: 10, filter: { even: true } }), model, query, 10, true),
    );
    expect(docs.queryIds({ vector: query, k: 10 }).map((hit) => hit.id)).toEqual(
      docs.query({ vector: query, k: 10 }).map((hit) => hit.id),
    );
  }
  const [batch] = docs.queryBatch({ vectors: queries.slice(0, 1), k: 10 });
  expect(batch).toEqual(docs.query({ vector: queries[0]!, k: 10 }));
  return recall;
}

describe('upsertAsync', () => {
  it('commits and answers as upsert does (threads 1: the same graph)', async () => {
    const sync = openDatabase('sync', 1).collection('docs', { dim: DIM, index: INDEX });
    const async = openDatabase('async', 1).collection('docs', { dim: DIM, index: INDEX });
    const first = records(1500, 1);
    const second = records(800, 2, 1000); // 500 updates, 300 new
    expect(sync.upsert(first)).toEqual({ inserted: 1500, updated: 0 });
    expect(await async.upsertAsync(first)).toEqual({ inserted: 1500, updated: 0 });
    expect(sync.upsert(second)).toEqual({ inserted: 300, updated: 500 });
    expect(await async.upsertAsync(second)).toEqual({ inserted: 300, updated: 500 });
    for (const query of randomVectors(20, DIM, 3)) {
      expect(async.query({ vector: query, k: 10, includeVectors: true })).toEqual(
        sync.query({ vector: query, k: 10, includeVectors: true }),
      );
    }
    expect(async.get(['1000', '1799'])).toEqual(sync.get(['1000', '1799']));
  });

  it('answers from the committed state while the graph inserts, with writes queued behind', async () => {
    const db = openDatabase('db', 2);
    const docs = db.collection('docs', { dim: DIM, index: INDEX });
    const model: Model = new Map();
    const base = records(500, 4);
    docs.upsert(base);
    apply(model, base);
    // 5,000 rows of dim 16 land in slices of 512 on 2 threads.
    const batch = records(5000, 5, 300); // ids 300-499 replace records in the graph
    const pending = docs.upsertAsync(batch);
    apply(model, batch);
    const queries = [...randomVectors(6, DIM, 6), batch[4000]!.vector as Float32Array];
    let recall = checkCollection(docs, model, queries);
    // A record of the pending batch finds itself, exactly.
    expect(docs.query({ vector: batch[4000]!.vector, k: 1 })[0]).toMatchObject({ id: '4300', distance: 0 });
    expect(docs.get('4300')?.vector).toEqual(batch[4000]!.vector);

    // Writes while it runs: deletions and replacements of graph records and pending ones.
    expect(docs.delete(['0', '400', '4300', '5000'])).toBe(4);
    for (const id of ['0', '400', '4300', '5000']) model.delete(id);
    const replacements = records(3, 7, 4301);
    docs.upsert(replacements);
    apply(model, replacements);
    recall = Math.min(recall, checkCollection(docs, model, queries));
    expect(docs.query({ vector: batch[4000]!.vector, k: 1 })[0]?.id).not.toBe('4300');

    const later = docs.upsertAsync(records(100, 8, 9000));
    apply(model, records(100, 8, 9000));
    expect(await pending).toEqual({ inserted: 4800, updated: 200 });
    await later;
    recall = Math.min(recall, checkCollection(docs, model, queries));
    // ef 64 over ≤ 5,300 vectors of dim 16: the graph part is near exact, queued records are exact.
    expect(recall).toBeGreaterThanOrEqual(0.9);

    db.close();
    const reopened = openDatabase('db', 2).collection('docs');
    expect(checkCollection(reopened, model, queries)).toBeGreaterThanOrEqual(0.9);
  });

  it('defers snapshot() until the batch is in, and resolves across a compaction', async () => {
    const db = openDatabase('db', 2);
    const docs = db.collection('docs', { dim: DIM, index: INDEX });
    const model: Model = new Map();
    const batch = records(4000, 9);
    const pending = docs.upsertAsync(batch);
    apply(model, batch);
    expect(docs.snapshot()).toBe(false);
    await pending;
    expect(readdirSync(join(directory.path, 'db', 'docs')).filter((name) => name.endsWith('.bin'))).toHaveLength(1);
    // The deferred snapshot covers the batch: a reader loads it with no log to replay.
    const phases: string[] = [];
    const reader = open(join(directory.path, 'db'), { readOnly: true, onProgress: ({ phase }) => phases.push(phase) });
    expect(reader.collection('docs').count()).toBe(4000);
    expect(phases).toEqual(['load']);
    reader.close();

    const more = records(4000, 10, 4000);
    const compacted = docs.upsertAsync(more);
    apply(model, more);
    docs.compact(); // rebuilt from the records, which hold the batch
    await compacted;
    expect(checkCollection(docs, model, randomVectors(4, DIM, 11))).toBeGreaterThanOrEqual(0.9);
  });

  it('rejects with CLOSED when the database closes first; the records stay committed', async () => {
    const db = open(join(directory.path, 'db'), { threads: 2 });
    const docs = db.collection('docs', { dim: DIM, index: INDEX });
    const model: Model = new Map();
    const batch = records(4000, 12);
    const pending = docs.upsertAsync(batch);
    apply(model, batch);
    db.close();
    await expect(pending).rejects.toMatchObject({ code: 'CLOSED' });
    await expect(docs.upsertAsync(records(1, 13))).rejects.toMatchObject({ code: 'CLOSED' });
    const reopened = openDatabase('db', 2).collection('docs');
    expect(checkCollection(reopened, model, randomVectors(4, DIM, 14))).toBeGreaterThanOrEqual(0.9);
  });

  it('rejects a bad batch whole, writing nothing, and READ_ONLY on a reader', async () => {
    const db = openDatabase('db', 2);
    const docs = db.collection('docs', { dim: DIM, index: INDEX });
    docs.upsert(records(10, 15));
    const bad = [...records(5, 16, 100), { id: 'x', vector: [1, 2] }];
    await expect(docs.upsertAsync(bad)).rejects.toMatchObject({ code: 'DIMENSION_MISMATCH' });
    await expect(docs.upsertAsync([{ id: '', vector: new Float32Array(DIM) }])).rejects.toMatchObject({
      code: 'INVALID_ID',
    });
    expect(docs.count()).toBe(10);
    const reader = open(join(directory.path, 'db'), { readOnly: true, onWarning: () => {} });
    databases.push(reader);
    await expect(reader.collection('docs').upsertAsync(records(1, 17))).rejects.toMatchObject({ code: 'READ_ONLY' });
  });

  it('updates flat and ivfpq indexes as upsert does', async () => {
    const db = openDatabase('db', 2);
    for (const index of [{ type: 'flat' as const }, { type: 'ivfpq' as const, nlist: 4, m: 4 }]) {
      const docs = db.collection(index.type, { dim: DIM, index });
      const model: Model = new Map();
      const batch = records(300, 18);
      expect(await docs.upsertAsync(batch)).toEqual({ inserted: 300, updated: 0 });
      apply(model, batch);
      expect(checkCollection(docs, model, randomVectors(3, DIM, 19))).toBe(1);
    }
  });
});
