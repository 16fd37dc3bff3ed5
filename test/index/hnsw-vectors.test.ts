// HnswIndex.vectorsOf: the exact filtered path reads matching vectors from the graph, so they
// must be exactly what was inserted (unit length for cosine), and a missing label must fail.
import { expect, it } from 'vitest';
import { HnswIndex } from '../../src/index/hnsw.js';
import { normalized } from '../../src/index/vector-math.js';
import { randomVectors } from '../helpers/random.js';

it('returns the inserted vectors, unit length under cosine', () => {
  const vectors = randomVectors(50, 17, 5);
  for (const metric of ['l2', 'cosine'] as const) {
    const index = new HnswIndex(metric, 17, { m: 8, efConstruction: 32 }, 64);
    vectors.forEach((vector, label) => {
      index.upsert(label, vector);
    });
    const labels = Int32Array.from([49, 0, 17]);
    const out = index.vectorsOf(labels);
    labels.forEach((label, row) => {
      const expected = metric === 'cosine' ? normalized(vectors[label]!) : vectors[label]!;
      const actual = out.subarray(row * 17, (row + 1) * 17);
      for (let i = 0; i < 17; i++) expect(actual[i]).toBeCloseTo(expected[i]!, 6);
    });
    expect(() => index.vectorsOf(Int32Array.from([1000]))).toThrowError(
      expect.objectContaining({ code: 'NATIVE_ERROR' }),
    );
    index.dispose();
  }
});

it('exactAmong equals brute force over the given labels, for every metric', () => {
  const vectors = randomVectors(300, 9, 8);
  const queries = randomVectors(5, 9, 9);
  for (const metric of ['l2', 'ip', 'cosine'] as const) {
    const index = new HnswIndex(metric, 9, { m: 8, efConstruction: 32 }, 512);
    vectors.forEach((vector, label) => {
      index.upsert(label, vector);
    });
    const allowed = Int32Array.from({ length: 100 }, (_, i) => i * 3);
    for (const query of queries) {
      const unitQuery = normalized(query);
      const expected = Array.from(allowed)
        .map((label) => {
          const vector = vectors[label]!;
          let distance = 0;
          if (metric === 'l2') for (let i = 0; i < 9; i++) distance += (vector[i]! - query[i]!) ** 2;
          else {
            const base = metric === 'cosine' ? normalized(vector) : vector;
            const target = metric === 'cosine' ? unitQuery : query;
            distance = 1 - base.reduce((sum, x, i) => sum + x * target[i]!, 0);
          }
          return { label, distance };
        })
        .sort((a, b) => a.distance - b.distance || a.label - b.label)
        .slice(0, 7);
      const found = index.exactAmong(query, allowed, 7);
      expect(found.labels).toEqual(expected.map((entry) => entry.label));
      found.distances.forEach((distance, i) => {
        expect(distance).toBeCloseTo(expected[i]!.distance, 4);
      });
    }
    expect(index.exactAmong(queries[0]!, Int32Array.from([3, 6]), 5).labels).toHaveLength(2);
    index.dispose();
  }
});
