// Query hits are the stored records: every hit of `query` equals `get` of its id (metadata, text, and the
// vector when asked for), and `queryIds` names the same records, through writes on this connection and
// another's. The hits are read by key and checked without their vectors (src/query-hits.ts).
import { afterEach, describe, expect, it } from 'vitest';
import { type Collection, open, type QueryHit } from '../src/index.js';
import { tempDirectory } from './helpers/fixtures.js';
import { random, randomVectors } from './helpers/random.js';

const DIM = 8;
const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

function directory(): string {
  const { path, cleanup } = tempDirectory('quiver-hits-');
  cleanups.push(cleanup);
  return path;
}

/** 300 records with nested metadata, unicode ids and text on every third one. */
function fill(collection: Collection, seed: number): void {
  const vectors = randomVectors(300, DIM, seed);
  const next = random(seed + 1);
  collection.upsert(
    vectors.map((vector, i) => ({
      id: `doc-${i}-é`,
      vector,
      metadata: { i, tag: `t${i % 7}`, nested: { score: next(), list: [i, 'x'] } },
      ...(i % 3 === 0 ? { text: `passage ${i}` } : {}),
    })),
  );
}

/** Each hit against `get` of its id: the same id, metadata and text, and the vector when returned. */
function expectHitsAreRecords(collection: Collection, hits: QueryHit[], withVectors: boolean, withText = true): void {
  expect(hits.length).toBeGreaterThan(0);
  for (const hit of hits) {
    const record = collection.get(hit.id)!;
    expect(hit.metadata).toEqual(record.metadata);
    if (withText) expect(hit.text).toEqual(record.text);
    else expect(hit).not.toHaveProperty('text');
    if (withVectors) expect(hit.vector).toEqual(record.vector);
    else expect(hit).not.toHaveProperty('vector');
  }
}

describe('query hits equal get of the same ids', () => {
  for (const metric of ['l2', 'cosine'] as const) {
    for (const index of ['hnsw', 'flat'] as const) {
      it(`${metric}, ${index}: with and without vectors and text; queryIds names the same records`, () => {
        const db = open(directory());
        const c = db.collection('c', { dim: DIM, metric, index: { type: index } });
        fill(c, 7);
        for (const vector of randomVectors(10, DIM, 99)) {
          const hits = c.query({ vector, k: 20 });
          expectHitsAreRecords(c, hits, false);
          expectHitsAreRecords(c, c.query({ vector, k: 20, includeVectors: true }), true);
          expectHitsAreRecords(c, c.query({ vector, k: 20, includeText: false }), false, false);
          const ids = c.queryIds({ vector, k: 20 });
          expect(ids.map((hit) => hit.id)).toEqual(hits.map((hit) => hit.id));
          expect(ids.map((hit) => hit.distance)).toEqual(hits.map((hit) => hit.distance));
        }
        const batch = c.queryBatch({ vectors: randomVectors(5, DIM, 3), k: 10 });
        for (const hits of batch) expectHitsAreRecords(c, hits, false);
        db.close();
      });
    }
  }

  it('more hits than one IN list holds (k 600 over 1,000 records) are all read, in order', () => {
    const db = open(directory());
    const c = db.collection('c', { dim: DIM, index: { type: 'flat' } });
    c.upsert(randomVectors(1000, DIM, 5).map((vector, i) => ({ id: `r${i}`, vector, metadata: { i } })));
    const [query] = randomVectors(1, DIM, 6);
    const hits = c.query({ vector: query!, k: 600 });
    expect(hits).toHaveLength(600);
    expect(hits.map((hit) => hit.id)).toEqual(c.queryIds({ vector: query!, k: 600 }).map((hit) => hit.id));
    for (const hit of hits) expect(hit.metadata).toEqual({ i: Number(hit.id.slice(1)) });
    db.close();
  });

  it('queryIds follows upserts, updates and deletes on this connection, with labels reused', () => {
    const db = open(directory());
    const c = db.collection('c', { dim: 2, index: { type: 'flat' } });
    c.upsert([
      { id: 'a', vector: [0, 0] },
      { id: 'b', vector: [10, 10] },
    ]);
    expect(c.queryIds({ vector: [0, 0], k: 1 })[0]!.id).toBe('a');
    c.delete('a');
    expect(c.queryIds({ vector: [0, 0], k: 2 }).map((hit) => hit.id)).toEqual(['b']);
    // 'c' takes the label 'a' released.
    c.upsert([{ id: 'c', vector: [0, 1], metadata: { n: 1 } }]);
    expect(c.queryIds({ vector: [0, 0], k: 2 }).map((hit) => hit.id)).toEqual(['c', 'b']);
    c.upsert([{ id: 'c', vector: [0, 1], metadata: { n: 2 } }]);
    expect(c.query({ vector: [0, 0], k: 1 })[0]).toMatchObject({ id: 'c', metadata: { n: 2 } });
    db.close();
  });

  it("a hit's metadata is its own object: changing it changes neither the record nor the next hit", () => {
    const db = open(directory());
    const c = db.collection('c', { dim: 2, index: { type: 'flat' } });
    c.upsert([{ id: 'a', vector: [0, 0], metadata: { tags: ['x'] } }]);
    const [first] = c.query({ vector: [0, 0], k: 1 });
    (first!.metadata.tags as string[]).push('changed');
    expect(c.query({ vector: [0, 0], k: 1 })[0]!.metadata).toEqual({ tags: ['x'] });
    expect(c.get('a')!.metadata).toEqual({ tags: ['x'] });
    db.close();
  });

  it('a reader sees the ids another connection wrote since its last query', () => {
    const path = directory();
    const writer = open(path);
    const w = writer.collection('c', { dim: 2, index: { type: 'flat' } });
    w.upsert([{ id: 'a', vector: [0, 0] }]);
    const reader = open(path, { readOnly: true });
    const r = reader.collection('c');
    expect(r.queryIds({ vector: [0, 0], k: 1 })[0]!.id).toBe('a');
    w.delete('a');
    w.upsert([{ id: 'z', vector: [0, 0], metadata: { late: true } }]);
    expect(r.queryIds({ vector: [0, 0], k: 1 })[0]!.id).toBe('z');
    expect(r.query({ vector: [0, 0], k: 1 })[0]).toMatchObject({ id: 'z', metadata: { late: true } });
    reader.close();
    writer.close();
  });
});
