// Recall of the default HNSW index and exactness of 'flat' against the fixtures' ground truth.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Database, open } from '../src/index.js';
import { type Fixture, loadFixture, meanRecall, tempDirectory } from './helpers/fixtures.js';

describe('siftsmall (10,000 x 128, L2)', () => {
  const directory = tempDirectory();
  let db: Database;
  let sift: Fixture;

  beforeAll(() => {
    sift = loadFixture('siftsmall');
    db = open(directory.path, { durability: 'normal' });
    const collection = db.collection('sift', { dim: sift.dim, metric: 'l2' });
    collection.upsert(sift.base.map((vector, i) => ({ id: i, vector })));
  });
  afterAll(() => {
    db.close();
    directory.cleanup();
  });

  it('reaches recall@10 >= 0.95 with default parameters', () => {
    const collection = db.collection('sift');
    const found = sift.queries.map((vector) => collection.query({ vector, k: 10 }).map((hit) => hit.id));
    // 0.95 is the bar; hnswlib with m=16, efConstruction=200, ef=64 measures ~0.99 here,
    // so a drop below 0.95 means the index or the label mapping is broken, not noise.
    expect(meanRecall(found, sift.truth, 10)).toBeGreaterThanOrEqual(0.95);
  });

  it('reports Euclidean distances that match the vectors', () => {
    const collection = db.collection('sift');
    const query = sift.queries[0]!;
    const [first] = collection.query({ vector: query, k: 1 });
    const nearest = sift.base[Number(first!.id)]!;
    let squared = 0;
    for (let i = 0; i < query.length; i++) squared += (query[i]! - nearest[i]!) ** 2;
    expect(first!.distance).toBeCloseTo(Math.sqrt(squared), 2);
    expect(first!.score).toBeUndefined();
  });

  it('survives a reopen with identical answers', () => {
    const collection = db.collection('sift');
    const before = sift.queries.slice(0, 20).map((vector) => collection.query({ vector, k: 10 }));
    db.close();
    db = open(directory.path);
    const reopened = db.collection('sift');
    expect(reopened.count()).toBe(10_000);
    const after = sift.queries.slice(0, 20).map((vector) => reopened.query({ vector, k: 10 }));
    expect(after).toEqual(before);
  });
});

describe('cohere-wiki-1k (900 x 768) with cosine and ip', () => {
  const directory = tempDirectory();
  let db: Database;
  afterAll(() => {
    db?.close();
    directory.cleanup();
  });

  for (const metric of ['cosine', 'ip'] as const) {
    for (const type of ['hnsw', 'flat'] as const) {
      it(`${type} ${metric} matches groundtruth_${metric}.ivecs`, () => {
        const cohere = loadFixture('cohere-wiki-1k', `groundtruth_${metric}.ivecs`);
        db ??= open(directory.path, { durability: 'normal' });
        const collection = db.collection(`${type}-${metric}`, { dim: cohere.dim, metric, index: { type } });
        collection.upsert(cohere.base.map((vector, i) => ({ id: i, vector })));
        const found = cohere.queries.map((vector) => collection.query({ vector, k: 10 }).map((hit) => hit.id));
        const recall = meanRecall(found, cohere.truth, 10);
        // flat is exact: only float32-vs-float64 rounding of near-ties may differ from the truth.
        // hnsw over 900 vectors with ef 64 visits most of the graph: 0.95 leaves room for a rare miss.
        expect(recall).toBeGreaterThanOrEqual(type === 'flat' ? 0.995 : 0.95);
        const hits = collection.query({ vector: cohere.queries[0]!, k: 5 });
        for (const hit of hits) expect(hit.score).toBeCloseTo(1 - hit.distance, 6);
      });
    }
  }
});
