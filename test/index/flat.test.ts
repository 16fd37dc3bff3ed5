// FlatIndex: search, searchAmong and searchBatch against the TypeScript reference kernel, on one and
// several native threads, with every row live (a plain scan) and after removals (a candidate list).
// 2,600 rows of dim 1,024 pass the 2²⁰ multiply-adds per thread from which the native scan splits.
import { describe, expect, it } from 'vitest';
import { FlatIndex } from '../../src/index/flat.js';
import { normalized } from '../../src/index/vector-math.js';
import { referenceKernels } from '../../src/native-reference.js';
import { randomVectors } from '../helpers/random.js';

const DIM = 1_024;

/** The reference top-k labels among `live` rows (cosine: over normalised rows and query). */
function referenceTopK(
  metric: 'l2' | 'ip' | 'cosine',
  rows: Float32Array[],
  live: number[],
  query: Float32Array,
  k: number,
) {
  const prepare = (vector: Float32Array) => (metric === 'cosine' ? normalized(vector) : vector);
  const base = new Float32Array(rows.length * DIM);
  rows.forEach((row, i) => {
    base.set(prepare(row), i * DIM);
  });
  const labels = new Int32Array(k);
  const distances = new Float32Array(k);
  referenceKernels.exactTopK({
    metric: metric === 'l2' ? 'l2' : 'ip',
    queries: prepare(query),
    base,
    dim: DIM,
    k,
    labels,
    distances,
    candidates: Int32Array.from(live),
  });
  return Array.from(labels).filter((label) => label >= 0);
}

describe('FlatIndex on native threads', () => {
  const rows = randomVectors(2_600, DIM, 91);
  const queries = randomVectors(5, DIM, 92);

  for (const metric of ['l2', 'ip', 'cosine'] as const) {
    it(`gives the reference answer on 1 and 3 threads (${metric})`, () => {
      const index = new FlatIndex(metric, DIM, 16);
      rows.forEach((row, label) => {
        index.upsert(label, row);
      });
      let live = rows.map((_, label) => label);
      for (const phase of ['dense', 'with removals'] as const) {
        if (phase === 'with removals') {
          for (let label = 0; label < rows.length; label += 7) index.remove(label);
          live = live.filter((label) => label % 7 !== 0);
        }
        const flat = new Float32Array(queries.length * DIM);
        queries.forEach((query, row) => {
          flat.set(query, row * DIM);
        });
        const single = index.searchBatch(flat, 10, 0, 1);
        const threaded = index.searchBatch(flat, 10, 0, 3);
        expect(Array.from(threaded.labels)).toEqual(Array.from(single.labels));
        expect(Array.from(threaded.distances)).toEqual(Array.from(single.distances));
        queries.forEach((query, row) => {
          const expected = referenceTopK(metric, rows, live, query, 10);
          for (const threads of [1, 3]) {
            const found = index.search(query, 10, 0, threads);
            expect(found.labels, `${phase}, threads ${threads}`).toEqual(expected);
            // One query alone and in a batch get the same answer, distances included.
            expect(found.labels).toEqual(Array.from(single.labels.subarray(row * 10, row * 10 + 10)));
            expect(found.distances).toEqual(Array.from(single.distances.subarray(row * 10, row * 10 + 10)));
          }
          const among = Int32Array.from(live.filter((label) => label % 3 === 0));
          expect(index.searchAmong(query, 4, among, 3).labels).toEqual(
            referenceTopK(metric, rows, Array.from(among), query, 4),
          );
        });
      }
      index.dispose();
    });
  }
});
