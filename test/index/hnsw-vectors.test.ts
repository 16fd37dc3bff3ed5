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
