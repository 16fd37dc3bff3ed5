// The native HNSW graph of src/native.ts: shape checks, padding, the allow-list bitset against an
// exact filtered k-NN in TypeScript, save/load, and searches running while inserts run on other
// native threads. Parity with hnswlib-node lives in test/index/hnsw*.test.ts.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isQuiverError } from '../src/errors.js';
import { normalized } from '../src/index/vector-math.js';
import { createHnswGraph, type HnswSpace, NO_LABEL, type NativeHnswGraph } from '../src/native.js';
import { random } from './helpers/random.js';

const SPACES: readonly HnswSpace[] = ['l2', 'ip', 'cosine'];
const folder = mkdtempSync(join(tmpdir(), 'quiver-native-hnsw-'));
afterAll(() => rmSync(folder, { recursive: true, force: true }));

function randomMatrix(rows: number, dim: number, seed: number): Float32Array {
  const next = random(seed);
  return Float32Array.from({ length: rows * dim }, () => next() * 2 - 1);
}

function sequence(count: number, start = 0): Uint32Array {
  return Uint32Array.from({ length: count }, (_, i) => start + i);
}

function graphOf(space: HnswSpace, vectors: Float32Array, dim: number, threads = 1, m = 16): NativeHnswGraph {
  const graph = createHnswGraph(space, dim);
  graph.init({ maxElements: vectors.length / dim, m, efConstruction: 100, seed: 100 });
  graph.addBatch(vectors, sequence(vectors.length / dim), threads);
  return graph;
}

/** hnswlib's raw distance in float64: squared l2, or 1 - dot (cosine: of the normalised vectors). */
function rawDistance(space: HnswSpace, a: Float32Array, b: Float32Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += space === 'l2' ? (a[i]! - b[i]!) ** 2 : a[i]! * b[i]!;
  return space === 'l2' ? sum : 1 - sum;
}

/** Exact k-NN over the allowed rows, in float64, in hnswlib's raw distance conventions. */
function exactFiltered(
  space: HnswSpace,
  vectors: Float32Array,
  dim: number,
  query: Float32Array,
  k: number,
  allowed: (label: number) => boolean,
): { labels: number[]; distances: number[] } {
  const rows = vectors.length / dim;
  const target = space === 'cosine' ? normalized(query) : query;
  const scored: { label: number; distance: number }[] = [];
  for (let row = 0; row < rows; row++) {
    if (!allowed(row)) continue;
    const stored = vectors.subarray(row * dim, (row + 1) * dim);
    const base = space === 'cosine' ? normalized(stored) : stored;
    scored.push({ label: row, distance: rawDistance(space, target, base) });
  }
  scored.sort((a, b) => a.distance - b.distance || a.label - b.label);
  const best = scored.slice(0, k);
  return { labels: best.map((entry) => entry.label), distances: best.map((entry) => entry.distance) };
}

function bitsetOf(rows: number, allowed: (label: number) => boolean): Uint8Array {
  const bits = new Uint8Array(Math.ceil(rows / 8));
  for (let label = 0; label < rows; label++) if (allowed(label)) bits[label >> 3]! |= 1 << (label & 7);
  return bits;
}

function expectInvalid(call: () => unknown, pattern: RegExp): void {
  try {
    call();
  } catch (error) {
    expect(isQuiverError(error, 'INVALID_ARGUMENT'), String(error)).toBe(true);
    expect((error as Error).message).toMatch(pattern);
    return;
  }
  throw new Error('expected INVALID_ARGUMENT');
}

describe('native HNSW graph: shapes', () => {
  const dim = 4;
  const graph = graphOf('l2', randomMatrix(20, dim, 1), dim);

  it('rejects bad shapes in TypeScript before the call', () => {
    const labels = new Uint32Array(10);
    const distances = new Float32Array(10);
    const query = new Float32Array(dim);
    expectInvalid(() => graph.addBatch(new Float32Array(5), sequence(1), 1), /multiple of dim 4/);
    expectInvalid(() => graph.addBatch(new Float32Array(8), sequence(1), 1), /2 rows of dim 4 but labels holds 1/);
    expectInvalid(() => graph.addBatch(new Float32Array(4), Uint32Array.of(NO_LABEL), 1), /reserved/);
    expectInvalid(() => graph.addBatch(new Float32Array(4), sequence(1), 0), /threads/);
    expectInvalid(
      () => graph.addBatch(new Float32Array(4), [1] as unknown as Uint32Array, 1),
      /labels must be a Uint32Array/,
    );
    expectInvalid(() => graph.searchBatch({ queries: query, k: 0, ef: 10, threads: 1, labels, distances }), /k must/);
    expectInvalid(
      () => graph.searchBatch({ queries: new Float32Array(3), k: 1, ef: 10, threads: 1, labels, distances }),
      /multiple of dim/,
    );
    expectInvalid(
      () => graph.searchBatch({ queries: query, k: 11, ef: 10, threads: 1, labels, distances }),
      /labels holds 10 entries but 1 queries × k 11 needs 11/,
    );
    expectInvalid(
      () =>
        graph.searchBatch({
          queries: query,
          k: 1,
          ef: 10,
          threads: 1,
          labels,
          distances,
          allow: new Int32Array(1) as unknown as Uint8Array,
        }),
      /allow must be/,
    );
    const shared = new Float32Array(20);
    expectInvalid(
      () => graph.searchBatch({ queries: shared.subarray(0, 4), k: 1, ef: 10, threads: 1, labels, distances: shared }),
      /shares memory/,
    );
    expectInvalid(() => graph.markDelete(-1), /label must be/);
  });

  it('pads missing results with NO_LABEL and +Infinity, best first', () => {
    const labels = new Uint32Array(2 * 30);
    const distances = new Float32Array(2 * 30);
    const queries = randomMatrix(2, dim, 2);
    expect(graph.searchBatch({ queries, k: 30, ef: 10, threads: 2, labels, distances })).toBe(2);
    for (let q = 0; q < 2; q++) {
      const row = Array.from(labels.subarray(q * 30, q * 30 + 20));
      expect(new Set(row).size).toBe(20);
      expect(row.every((label) => label < 20)).toBe(true);
      for (let i = 1; i < 20; i++) expect(distances[q * 30 + i]!).toBeGreaterThanOrEqual(distances[q * 30 + i - 1]!);
      for (let i = 20; i < 30; i++) {
        expect(labels[q * 30 + i]).toBe(NO_LABEL);
        expect(distances[q * 30 + i]).toBe(Number.POSITIVE_INFINITY);
      }
    }
  });

  it('reports native failures as NATIVE_ERROR and refuses an over-capacity batch whole', () => {
    expect(() => graph.markDelete(999)).toThrow(expect.objectContaining({ code: 'NATIVE_ERROR' }));
    expect(() => graph.addBatch(randomMatrix(2, dim, 3), sequence(2, 100), 1)).toThrow(/resize first/);
    expect(graph.currentCount).toBe(20);
    graph.resize(22);
    graph.addBatch(randomMatrix(2, dim, 3), sequence(2, 100), 1);
    expect(Array.from(graph.labels()).slice(-2)).toEqual([100, 101]);
    expect(graph.maxElements).toBe(22);
  });

  it('raises NATIVE_ERROR after dispose', () => {
    const disposable = graphOf('ip', randomMatrix(4, dim, 4), dim);
    disposable.dispose();
    expect(() => disposable.labels()).toThrow(/disposed/);
  });
});

describe('native HNSW graph: allow-list bitset', () => {
  it('equals the exact filtered k-NN over the allowed labels when ef covers every node', () => {
    const dim = 8;
    const rows = 200;
    const vectors = randomMatrix(rows, dim, 10);
    const queries = randomMatrix(25, dim, 11);
    const k = 10;
    for (const space of SPACES) {
      const graph = graphOf(space, vectors, dim);
      for (const [name, allowed] of [
        ['every third', (label: number) => label % 3 === 0],
        ['a block', (label: number) => label >= 50 && label < 80],
        ['five labels', (label: number) => label % 40 === 7],
      ] as const) {
        const bytes = bitsetOf(rows, allowed);
        const words = new Uint32Array(bytes.buffer.slice(0, Math.floor(bytes.length / 4) * 4));
        const wordsPadded = new Uint32Array(Math.ceil(rows / 32));
        new Uint8Array(wordsPadded.buffer).set(bytes);
        expect(words.length).toBeLessThanOrEqual(wordsPadded.length);
        for (const allow of [bytes, wordsPadded]) {
          const labels = new Uint32Array((queries.length / dim) * k);
          const distances = new Float32Array(labels.length);
          graph.searchBatch({ queries, k, ef: rows, threads: 2, allow, labels, distances });
          for (let q = 0; q < queries.length / dim; q++) {
            const expected = exactFiltered(space, vectors, dim, queries.subarray(q * dim, (q + 1) * dim), k, allowed);
            const found = Array.from(labels.subarray(q * k, (q + 1) * k)).filter((label) => label !== NO_LABEL);
            expect(found, `${space}, ${name}, query ${q}`).toEqual(expected.labels);
            expected.distances.forEach((distance, i) => {
              expect(distances[q * k + i]!).toBeCloseTo(distance, 5);
            });
          }
        }
      }
      graph.dispose();
    }
  });

  it('keeps recall on a larger set with a 20% filter', () => {
    const dim = 24;
    const rows = 4000;
    const vectors = randomMatrix(rows, dim, 20);
    const queries = randomMatrix(50, dim, 21);
    const allowed = (label: number) => (label * 2654435761) % 5 === 0;
    const graph = graphOf('l2', vectors, dim, 2);
    const k = 10;
    const labels = new Uint32Array(50 * k);
    const distances = new Float32Array(50 * k);
    graph.searchBatch({ queries, k, ef: 200, threads: 2, allow: bitsetOf(rows, allowed), labels, distances });
    let hits = 0;
    for (let q = 0; q < 50; q++) {
      const row = labels.subarray(q * k, (q + 1) * k);
      expect(Array.from(row).every(allowed)).toBe(true);
      const truth = new Set(
        exactFiltered('l2', vectors, dim, queries.subarray(q * dim, (q + 1) * dim), k, allowed).labels,
      );
      hits += Array.from(row).filter((label) => truth.has(label)).length;
    }
    // 24-d uniform random data is hard for HNSW; hnswlib reaches about 0.97 here at ef 200. A
    // filter that leaves a fifth of the graph must not cost more than a few points of that.
    expect(hits / (50 * k)).toBeGreaterThan(0.9);
    graph.dispose();
  });
});

describe('native HNSW graph: files', () => {
  it('saves and loads (sync and async) to the same answers; refuses a graph of another dim', async () => {
    const dim = 16;
    const vectors = randomMatrix(300, dim, 30);
    const graph = graphOf('cosine', vectors, dim);
    graph.markDelete(5);
    const file = join(folder, 'round-trip.graph');
    graph.save(file);
    const queries = randomMatrix(10, dim, 31);
    const answer = (target: NativeHnswGraph) => {
      const labels = new Uint32Array(10 * 5);
      const distances = new Float32Array(10 * 5);
      target.searchBatch({ queries, k: 5, ef: 32, threads: 1, labels, distances });
      return { labels, distances };
    };
    const loaded = createHnswGraph('cosine', dim);
    loaded.load(file);
    const loadedAsync = createHnswGraph('cosine', dim);
    await loadedAsync.loadAsync(file);
    expect(answer(loaded)).toEqual(answer(graph));
    expect(answer(loadedAsync)).toEqual(answer(graph));
    expect(Array.from(loaded.labels())).toEqual(Array.from(sequence(300)));
    expect(Array.from(answer(loaded).labels)).not.toContain(5);

    const wrongDim = createHnswGraph('cosine', dim + 1);
    expect(() => wrongDim.load(file)).toThrow(/dim 17/);
    await expect(wrongDim.loadAsync(join(folder, 'missing.graph'))).rejects.toThrow(/cannot open/);
    writeFileSync(join(folder, 'truncated.graph'), new Uint8Array(40));
    expect(() => wrongDim.load(join(folder, 'truncated.graph'))).toThrow(
      expect.objectContaining({ code: 'NATIVE_ERROR' }),
    );
    for (const target of [graph, loaded, loadedAsync, wrongDim]) target.dispose();
  });
});

describe('native HNSW graph: searches while inserts run on other native threads', () => {
  it('never returns a torn result and ends complete', async () => {
    const dim = 32;
    const rows = 6000;
    const chunk = 500;
    const vectors = randomMatrix(rows, dim, 40);
    const graph = createHnswGraph('l2', dim);
    graph.init({ maxElements: rows, m: 12, efConstruction: 64, seed: 100 });
    graph.addBatch(vectors.subarray(0, chunk * dim), sequence(chunk), 1);

    const k = 10;
    const queries = randomMatrix(64, dim, 41);
    const checked: number[] = [];
    let inserting = true;
    const inserts = (async () => {
      for (let start = chunk; start < rows; start += chunk) {
        await graph.addBatchAsync(vectors.subarray(start * dim, (start + chunk) * dim), sequence(chunk, start), 2);
      }
      inserting = false;
    })();
    const searches = (async () => {
      while (inserting || checked.length < 4) {
        const labels = new Uint32Array(64 * k);
        const distances = new Float32Array(64 * k);
        await graph.searchBatchAsync({ queries, k, ef: 40, threads: 2, labels, distances });
        for (let q = 0; q < 64; q++) {
          const row = Array.from(labels.subarray(q * k, (q + 1) * k));
          expect(row.every((label) => label < rows)).toBe(true);
          expect(new Set(row).size).toBe(k);
          for (let i = 1; i < k; i++) {
            expect(distances[q * k + i]!).toBeGreaterThanOrEqual(distances[q * k + i - 1]!);
          }
        }
        checked.push(graph.currentCount);
      }
    })();
    await Promise.all([inserts, searches]);
    expect(checked.length).toBeGreaterThanOrEqual(4);
    expect(graph.currentCount).toBe(rows);
    expect(Array.from(graph.labels())).toEqual(Array.from(sequence(rows)));
    // Every inserted vector is found as its own nearest neighbour (distance 0).
    const labels = new Uint32Array(rows);
    const distances = new Float32Array(rows);
    graph.searchBatch({ queries: vectors, k: 1, ef: 40, threads: 2, labels, distances });
    let self = 0;
    for (let row = 0; row < rows; row++) if (labels[row] === row) self++;
    expect(self / rows).toBeGreaterThan(0.99);
    graph.dispose();
  });
});
