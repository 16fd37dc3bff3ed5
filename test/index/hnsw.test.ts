// HnswIndex (QuiverDB's native graph) against the hnswlib-node path it replaced
// (test/helpers/hnsw-reference.ts): the same calls with the same seed build byte-identical graph
// files, answer with the same labels and distances, and read each other's files — including the
// hnsw-v1 fixture written by the old path.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isQuiverError } from '../../src/errors.js';
import { HnswIndex } from '../../src/index/hnsw.js';
import type { Neighbours } from '../../src/index/types.js';
import type { Metric } from '../../src/schema.js';
import { loadFixture, tempDirectory } from '../helpers/fixtures.js';
import { ReferenceHnswIndex } from '../helpers/hnsw-reference.js';
import { randomVectors } from '../helpers/random.js';

const METRICS: readonly Metric[] = ['l2', 'ip', 'cosine'];
const PARAMS = { m: 12, efConstruction: 80 };
const temporary = tempDirectory('quiver-hnsw-');
afterAll(() => temporary.cleanup());

interface Searchable {
  search(query: Float32Array, k: number, ef: number): Neighbours;
}

/** The same churn on any index: inserts from a small capacity (so it resizes), deletes, re-upserts. */
function churn(
  index: { upsert(label: number, vector: Float32Array): void; remove(label: number): void },
  vectors: readonly Float32Array[],
): void {
  vectors.forEach((vector, label) => {
    index.upsert(label, vector);
  });
  for (let label = 3; label < vectors.length; label += 9) index.remove(label);
  for (let label = 2; label < vectors.length; label += 13) index.upsert(label, vectors[(label * 7) % vectors.length]!);
  for (let label = 3; label < vectors.length; label += 27) index.upsert(label, vectors[label]!); // undelete
}

function expectSameAnswers(
  actual: Searchable,
  expected: Searchable,
  queries: readonly Float32Array[],
  k: number,
  ef: number,
): void {
  queries.forEach((query, q) => {
    const got = actual.search(query, k, ef);
    const want = expected.search(query, k, ef);
    expect(got.labels, `query ${q}`).toEqual(want.labels);
    expect(got.distances, `query ${q}`).toEqual(want.distances);
  });
}

describe('HnswIndex builds the graph hnswlib-node builds', () => {
  for (const metric of METRICS) {
    it(`${metric}: byte-identical graph files and identical answers after inserts, deletes and updates`, () => {
      const vectors = randomVectors(700, 20, 1000 + metric.length);
      const queries = randomVectors(40, 20, 2000);
      const reference = new ReferenceHnswIndex(metric, 20, PARAMS, 64);
      const native = new HnswIndex(metric, 20, PARAMS, 64);
      churn(reference, vectors);
      churn(native, vectors);
      expect(native.size).toBe(reference.size);
      expect(native.liveLabels()).toEqual(reference.liveLabels());
      const referenceFile = join(temporary.path, `reference-${metric}.graph`);
      const nativeFile = join(temporary.path, `native-${metric}.graph`);
      reference.writeGraph(referenceFile);
      native.writeGraph(nativeFile);
      expect(readFileSync(nativeFile).equals(readFileSync(referenceFile))).toBe(true);
      for (const [k, ef] of [
        [1, 10],
        [10, 10],
        [10, 64],
        [50, 20],
      ] as const) {
        expectSameAnswers(native, reference, queries, k, ef);
      }
      reference.dispose();
      native.dispose();
    });
  }

  it('siftsmall (first 3,000 vectors): upsertBatch with one thread builds the same graph as upsert one by one', () => {
    const { base, queries } = loadFixture('siftsmall');
    const vectors = base.slice(0, 3000);
    const flat = new Float32Array(vectors.length * 128);
    vectors.forEach((vector, row) => {
      flat.set(vector, row * 128);
    });
    const labels = Uint32Array.from(vectors, (_, row) => row);
    // Equal capacity: hnswlib's file records max elements, which a batch grows in one step.
    const batched = new HnswIndex('l2', 128, PARAMS, 4096);
    batched.upsertBatch(labels, flat, 1);
    const reference = new ReferenceHnswIndex('l2', 128, PARAMS, 4096);
    vectors.forEach((vector, label) => {
      reference.upsert(label, vector);
    });
    const batchedFile = join(temporary.path, 'sift-batched.graph');
    const referenceFile = join(temporary.path, 'sift-reference.graph');
    batched.writeGraph(batchedFile);
    reference.writeGraph(referenceFile);
    expect(readFileSync(batchedFile).equals(readFileSync(referenceFile))).toBe(true);
    expectSameAnswers(batched, reference, queries.slice(0, 50), 10, 40);
    batched.dispose();
    reference.dispose();
  });
});

describe('one graph file, both implementations', () => {
  it('loads a file written by either into the other, with the same answers', () => {
    const vectors = randomVectors(400, 16, 3000);
    const queries = randomVectors(30, 16, 3001);
    const reference = new ReferenceHnswIndex('cosine', 16, PARAMS, 64);
    churn(reference, vectors);
    const file = join(temporary.path, 'shared.graph');
    reference.writeGraph(file);
    const live = reference.liveLabels();
    const native = HnswIndex.load(file, 'cosine', 16, PARAMS, live);
    const reloaded = ReferenceHnswIndex.load(file, 'cosine', 16, PARAMS, live);
    expect(native.size).toBe(live.length);
    expect(native.liveLabels()).toEqual(live);
    expectSameAnswers(native, reloaded, queries, 10, 32);
    // Further inserts into both loaded graphs stay identical (same level generator state).
    const more = randomVectors(100, 16, 3002);
    more.forEach((vector, i) => {
      native.upsert(400 + i, vector);
      reloaded.upsert(400 + i, vector);
    });
    const back = join(temporary.path, 'shared-native.graph');
    const backReference = join(temporary.path, 'shared-reference.graph');
    native.writeGraph(back);
    reloaded.writeGraph(backReference);
    expect(readFileSync(back).equals(readFileSync(backReference))).toBe(true);
    expectSameAnswers(
      ReferenceHnswIndex.load(back, 'cosine', 16, PARAMS, native.liveLabels()),
      native,
      queries,
      10,
      32,
    );
    for (const index of [reference, native, reloaded]) index.dispose();
  });

  it('raises CORRUPT for a missing live label, a graph of another dim, or an unreadable file', async () => {
    const vectors = randomVectors(50, 8, 4000);
    const index = new HnswIndex('l2', 8, PARAMS, 64);
    vectors.forEach((vector, label) => {
      index.upsert(label, vector);
    });
    const file = join(temporary.path, 'small.graph');
    index.writeGraph(file);
    const corrupt = (call: () => unknown) => {
      try {
        call();
      } catch (error) {
        return isQuiverError(error, 'CORRUPT') ? (error as Error).message : `not CORRUPT: ${String(error)}`;
      }
      return 'no error';
    };
    expect(corrupt(() => HnswIndex.load(file, 'l2', 8, PARAMS, Uint32Array.of(1, 77)))).toMatch(/lacks live label 77/);
    expect(corrupt(() => HnswIndex.load(file, 'l2', 9, PARAMS, Uint32Array.of()))).toMatch(/dim 9/);
    expect(corrupt(() => HnswIndex.load(join(temporary.path, 'none'), 'l2', 8, PARAMS, Uint32Array.of()))).toMatch(
      /could not be loaded/,
    );
    await expect(HnswIndex.loadAsync(file, 'l2', 9, PARAMS, Uint32Array.of())).rejects.toThrow(/dim 9/);
    index.dispose();
  });
});

describe('the hnsw-v1 fixture (graphs written by the hnswlib-node path)', () => {
  const folder = join(import.meta.dirname, '..', 'fixtures', 'hnsw-v1');
  const expected = JSON.parse(readFileSync(join(folder, 'expected.json'), 'utf8')) as {
    dim: number;
    params: { m: number; efConstruction: number };
    k: number;
    ef: number;
    graphs: Record<
      string,
      { file: string; liveLabels: number[]; results: { labels: number[]; distances: number[] }[] }
    >;
  };
  const readRows = (name: string) => {
    const bytes = readFileSync(join(folder, name));
    const data = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
    return Array.from({ length: data.length / expected.dim }, (_, row) =>
      data.subarray(row * expected.dim, (row + 1) * expected.dim),
    );
  };
  const queries = readRows('queries.f32');
  const vectors = readRows('vectors.f32');

  for (const metric of ['l2', 'cosine'] as const) {
    it(`${metric}: loads (sync and async) and answers exactly as recorded`, async () => {
      const graph = expected.graphs[metric]!;
      const file = join(folder, graph.file);
      const live = Uint32Array.from(graph.liveLabels);
      const loaded = HnswIndex.load(file, metric, expected.dim, expected.params, live);
      const loadedAsync = await HnswIndex.loadAsync(file, metric, expected.dim, expected.params, live);
      const reference = ReferenceHnswIndex.load(file, metric, expected.dim, expected.params, live);
      for (const index of [loaded, loadedAsync]) {
        expect(index.liveLabels()).toEqual(live);
        queries.forEach((query, q) => {
          const found = index.search(query, expected.k, expected.ef);
          expect(found.labels).toEqual(graph.results[q]!.labels);
          expect(found.distances).toEqual(graph.results[q]!.distances);
        });
        expectSameAnswers(index, reference, queries, expected.k, expected.ef);
      }
      // The loaded graph keeps working: re-insert a deleted label and find it.
      loaded.upsert(0, vectors[0]!);
      expect(loaded.search(vectors[0]!, 1, 16).labels).toEqual([0]);
      for (const index of [loaded, loadedAsync, reference]) index.dispose();
    });
  }
});
