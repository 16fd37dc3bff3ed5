// Semantics of upsert / get / delete / query / count / reopen, and 'flat' against brute force.
import { join } from 'node:path';
import Sqlite from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Database, type Metric, open } from '../src/index.js';
import { tempDirectory } from './helpers/fixtures.js';
import { randomVectors } from './helpers/random.js';

/** Brute force in float64 with the user-facing distance of each metric. */
function bruteForce(vectors: Float32Array[], query: Float32Array, metric: Metric, k: number) {
  const unit = (v: Float32Array) => {
    const length = Math.hypot(...v);
    return Array.from(v, (x) => x / length);
  };
  const scored = vectors.map((vector, i) => {
    let distance = 0;
    if (metric === 'l2') {
      for (let d = 0; d < vector.length; d++) distance += (vector[d]! - query[d]!) ** 2;
      distance = Math.sqrt(distance);
    } else {
      const a = metric === 'cosine' ? unit(vector) : Array.from(vector);
      const b = metric === 'cosine' ? unit(query) : Array.from(query);
      distance = 1 - a.reduce((sum, x, d) => sum + x * b[d]!, 0);
    }
    return { id: String(i), distance };
  });
  scored.sort((a, b) => a.distance - b.distance || Number(a.id) - Number(b.id));
  return scored.slice(0, k);
}

let directory: ReturnType<typeof tempDirectory>;
let db: Database;
beforeEach(() => {
  directory = tempDirectory();
  db = open(directory.path);
});
afterEach(() => {
  db.close();
  directory.cleanup();
});

describe('flat index', () => {
  for (const metric of ['l2', 'cosine', 'ip'] as const) {
    it(`equals brute force exactly for ${metric}`, () => {
      const vectors = randomVectors(500, 17, 7);
      const collection = db.collection('flat', { dim: 17, metric, index: { type: 'flat' } });
      collection.upsert(vectors.map((vector, i) => ({ id: i, vector })));
      for (const query of randomVectors(20, 17, 8)) {
        const expected = bruteForce(vectors, query, metric, 25);
        const hits = collection.query({ vector: query, k: 25 });
        expect(hits.map((hit) => hit.id)).toEqual(expected.map((hit) => hit.id));
        for (const [i, hit] of hits.entries()) expect(hit.distance).toBeCloseTo(expected[i]!.distance, 5);
      }
    });
  }
});

describe('records', () => {
  it('upsert of an existing id replaces its vector and metadata', () => {
    const docs = db.collection('docs', { dim: 2 });
    expect(docs.upsert([{ id: 'a', vector: [0, 0], metadata: { v: 1 } }])).toEqual({ inserted: 1, updated: 0 });
    expect(
      docs.upsert([
        { id: 'a', vector: [5, 5], metadata: { v: 2 } },
        { id: 'b', vector: [1, 1] },
      ]),
    ).toEqual({
      inserted: 1,
      updated: 1,
    });
    expect(docs.count()).toBe(2);
    expect(docs.get('a')).toEqual({ id: 'a', vector: new Float32Array([5, 5]), metadata: { v: 2 } });
    const [nearest] = docs.query({ vector: [5, 5], k: 1 });
    expect(nearest).toEqual({ id: 'a', distance: 0, metadata: { v: 2 } });
  });

  it('get returns found records in the order asked and skips missing ids', () => {
    const docs = db.collection('docs', { dim: 2 });
    docs.upsert([
      { id: 'x', vector: [1, 2] },
      { id: 7, vector: [3, 4], metadata: { tags: ['a', 'b'], nested: { deep: null } } },
    ]);
    expect(docs.get(['7', 'missing', 'x']).map((record) => record.id)).toEqual(['7', 'x']);
    expect(docs.get(7)?.metadata).toEqual({ tags: ['a', 'b'], nested: { deep: null } });
    expect(docs.get('missing')).toBeUndefined();
  });

  it('does not keep a reference to the caller’s vector', () => {
    const docs = db.collection('docs', { dim: 2 });
    const vector = new Float32Array([1, 1]);
    docs.upsert([{ id: 'a', vector }]);
    vector[0] = 100;
    expect(docs.get('a')?.vector).toEqual(new Float32Array([1, 1]));
    expect(docs.query({ vector: [1, 1], k: 1 })[0]?.distance).toBe(0);
  });

  it('delete removes records, ignores unknown ids and returns the count', () => {
    const docs = db.collection('docs', { dim: 2 });
    docs.upsert([
      { id: 'a', vector: [0, 0] },
      { id: 'b', vector: [1, 1] },
      { id: 'c', vector: [2, 2] },
    ]);
    expect(docs.delete(['a', 'nope', 'a'])).toBe(1);
    expect(docs.delete('c')).toBe(1);
    expect(docs.count()).toBe(1);
    expect(docs.query({ vector: [0, 0], k: 10 }).map((hit) => hit.id)).toEqual(['b']);
  });

  it('returns what exists when k exceeds the live count, also after deletes', () => {
    for (const type of ['hnsw', 'flat'] as const) {
      const docs = db.collection(`k-${type}`, { dim: 8, index: { type } });
      const vectors = randomVectors(50, 8, 3);
      docs.upsert(vectors.map((vector, i) => ({ id: i, vector })));
      expect(docs.query({ vector: vectors[0]!, k: 10_000 })).toHaveLength(50);
      docs.delete(Array.from({ length: 45 }, (_, i) => i));
      const hits = docs.query({ vector: vectors[0]!, k: 100 });
      expect(hits.map((hit) => hit.id).sort()).toEqual(['45', '46', '47', '48', '49']);
      docs.delete([45, 46, 47, 48, 49]);
      expect(docs.query({ vector: vectors[0]!, k: 5 })).toEqual([]);
    }
  });

  it('returns every hit with its own id and metadata for k in the thousands (hits read in chunks)', () => {
    const docs = db.collection('many-hits', { dim: 2, index: { type: 'flat' } });
    docs.upsert(Array.from({ length: 1500 }, (_, i) => ({ id: `r${i}`, vector: [i, 1], metadata: { i } })));
    // The flat index is exact: hit r is record r, at distance r from [0, 1].
    const hits = docs.query({ vector: [0, 1], k: 1300 });
    expect(hits).toHaveLength(1300);
    hits.forEach((hit, rank) => {
      expect(hit).toEqual({ id: `r${rank}`, distance: rank, metadata: { i: rank } });
    });
  });

  it('reuses labels of deleted records and keeps answers exact under churn', () => {
    const docs = db.collection('churn', { dim: 4 });
    const vectors = randomVectors(200, 4, 11);
    for (let round = 0; round < 5; round++) {
      docs.upsert(vectors.map((vector, i) => ({ id: `${round}-${i}`, vector })));
      if (round > 0) docs.delete(vectors.map((_, i) => `${round - 1}-${i}`));
      expect(docs.count()).toBe(200);
    }
    const hits = docs.query({ vector: vectors[17]!, k: 1 });
    expect(hits[0]).toMatchObject({ id: '4-17', distance: 0 });
  });

  it('after a reopen, hands out freed labels first, whether the deletes came before or after the first upsert', () => {
    const docs = db.collection('relabel', { dim: 4 });
    const vectors = randomVectors(206, 4, 12);
    docs.upsert(vectors.slice(0, 200).map((vector, i) => ({ id: `r${i}`, vector }))); // labels 0..199
    db.close();
    db = open(directory.path);
    const reopened = db.collection('relabel');
    // Deletes before this connection's first upsert, then after it.
    reopened.delete(['r3', 'r5']);
    reopened.upsert(vectors.slice(200, 203).map((vector, i) => ({ id: `x${i}`, vector })));
    reopened.delete(['r7', 'x0']);
    reopened.upsert(vectors.slice(203, 206).map((vector, i) => ({ id: `y${i}`, vector })));
    const sqlite = new Sqlite(join(directory.path, 'quiver.sqlite'), { readonly: true });
    const labelOf = new Map(
      (sqlite.prepare('SELECT id, label FROM records ORDER BY label').all() as { id: string; label: number }[]).map(
        (row) => [row.id, row.label],
      ),
    );
    sqlite.close();
    // x0..x2 took the freed 3 and 5, then the next new label 200 (x0, label 3, is deleted since);
    // y0..y2 the freed 3 and 7, then 201.
    expect([0, 1, 2].map((i) => labelOf.get(`x${i}`))).toEqual([undefined, 5, 200]);
    expect([0, 1, 2].map((i) => labelOf.get(`y${i}`))).toEqual([3, 7, 201]);
    expect(new Set(labelOf.values()).size).toBe(labelOf.size);
    expect(reopened.count()).toBe(202);
    for (const [i, id] of [
      [203, 'y0'],
      [201, 'x1'],
      [10, 'r10'],
    ] as const) {
      expect(reopened.queryIds({ vector: vectors[i]!, k: 1 })[0]).toMatchObject({ id, distance: 0 });
    }
  });

  it('reopening gives back every collection with identical contents and settings', () => {
    const a = db.collection('a', {
      dim: 3,
      metric: 'cosine',
      index: { type: 'hnsw', m: 8, efConstruction: 50, ef: 20 },
    });
    const b = db.collection('b', { dim: 2, metric: 'ip', index: { type: 'flat' } });
    a.upsert([
      { id: 'p', vector: [1, 0, 0], metadata: { lang: 'en' } },
      { id: 'q', vector: [0, 1, 0] },
    ]);
    b.upsert([{ id: 1, vector: [0.5, 0.5] }]);
    a.delete('q');
    const before = db.listCollections();
    db.close();
    db = open(directory.path);
    expect(db.listCollections()).toEqual(before);
    expect(before.map((info) => [info.name, info.count])).toEqual([
      ['a', 1],
      ['b', 1],
    ]);
    expect(db.collection('a').index).toEqual({ type: 'hnsw', m: 8, efConstruction: 50, ef: 20 });
    expect(db.collection('a').get('p')).toEqual({
      id: 'p',
      vector: new Float32Array([1, 0, 0]),
      metadata: { lang: 'en' },
    });
    expect(db.collection('b').query({ vector: [1, 1], k: 3 })).toEqual([
      { id: '1', distance: 0, score: 1, metadata: {} },
    ]);
  });

  it('dropCollection removes the collection and its records', () => {
    const docs = db.collection('docs', { dim: 2 });
    docs.upsert([{ id: 'a', vector: [1, 1] }]);
    expect(db.dropCollection('docs')).toBe(true);
    expect(db.dropCollection('docs')).toBe(false);
    expect(db.listCollections()).toEqual([]);
    expect(() => docs.count()).toThrowError(expect.objectContaining({ code: 'CLOSED' }));
    const again = db.collection('docs', { dim: 5 });
    expect(again.count()).toBe(0);
  });

  it('collection() without options reopens the same object', () => {
    const docs = db.collection('docs', { dim: 2 });
    expect(db.collection('docs')).toBe(docs);
    expect(db.collection('docs', { dim: 2 })).toBe(docs);
  });

  it('includeVectors returns stored vectors with the hits', () => {
    const docs = db.collection('docs', { dim: 2, metric: 'cosine' });
    docs.upsert([{ id: 'a', vector: [3, 4] }]);
    expect(docs.query({ vector: [3, 4], k: 1, includeVectors: true })[0]?.vector).toEqual(new Float32Array([3, 4]));
  });

  it('queryIds gives the ids and distances of query, and follows upserts and deletes', () => {
    const docs = db.collection('ids', { dim: 8, metric: 'cosine' });
    const vectors = randomVectors(300, 8, 21);
    docs.upsert(vectors.map((vector, i) => ({ id: `r${i}`, vector, metadata: { i } })));
    const compare = () => {
      for (const query of randomVectors(10, 8, 22)) {
        const full = docs.query({ vector: query, k: 7 });
        expect(docs.queryIds({ vector: query, k: 7 })).toEqual(
          full.map(({ id, distance, score }) => ({ id, distance, score })),
        );
        expect(docs.queryIds({ vector: query, k: 7, filter: { i: { $lt: 50 } } }).map((hit) => hit.id)).toEqual(
          docs.query({ vector: query, k: 7, filter: { i: { $lt: 50 } } }).map((hit) => hit.id),
        );
      }
    };
    compare();
    docs.delete(Array.from({ length: 100 }, (_, i) => `r${i}`));
    docs.upsert(vectors.slice(0, 40).map((vector, i) => ({ id: `new${i}`, vector, metadata: { i } })));
    compare();
    expect(docs.queryIds({ vector: vectors[0]!, k: 1 })[0]?.id).toBe('new0');
  });
});
