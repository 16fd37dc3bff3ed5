// The native HNSW graph of src/native/hnsw-graph.ts: shape checks, padding, the allow-list bitset against an
// exact filtered k-NN in TypeScript, save/load, and searches running while inserts run on other
// native threads. Parity with hnswlib-node lives in test/index/hnsw*.test.ts.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isQuiverError } from '../src/errors.js';
import { normalized } from '../src/index/vector-math.js';
import {
  createHnswGraph,
  type HnswSearchLoop,
  type HnswSpace,
  NO_LABEL,
  type NativeHnswGraph,
} from '../src/native/hnsw-graph.js';
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
      /distances shares memory with queries/,
    );
    // Every pair of an output and an input (or the other output) is checked.
    const words = new Uint32Array(16);
    const pairs: [Partial<{ labels: Uint32Array; distances: Float32Array; allow: Uint32Array }>, RegExp][] = [
      [{ labels: words.subarray(0, 10), allow: words.subarray(8, 10) }, /labels shares memory with allow/],
      [
        { labels: words.subarray(0, 10), distances: new Float32Array(words.buffer, 24, 10) },
        /labels shares memory with distances/,
      ],
      [
        { distances: new Float32Array(words.buffer, 0, 10), allow: words.subarray(8, 16) },
        /distances shares memory with allow/,
      ],
    ];
    for (const [outputs, message] of pairs) {
      expectInvalid(
        () => graph.searchBatch({ queries: query, k: 1, ef: 10, threads: 1, labels, distances, ...outputs }),
        message,
      );
    }
    // Views of one buffer that do not overlap are fine.
    expect(() =>
      graph.searchBatch({
        queries: query,
        k: 1,
        ef: 10,
        threads: 1,
        labels: words.subarray(0, 1),
        distances: new Float32Array(words.buffer, 4, 1),
        allow: words.subarray(2, 16),
      }),
    ).not.toThrow();
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

/**
 * exactAmong: the exact k-NN among a label list, scored over the graph's vectors, against a float64
 * TypeScript reference, and bit for bit the same on every thread count. The graph uses a thread
 * per 2²⁰ multiply-adds (labels × dim) and cuts the list into up to 4 parts per thread of at least
 * 256 labels (native/hnsw-graph.cc), so the threaded case uses 2,300 labels of dim 1,024 (two
 * threads, eight parts).
 */
describe('native HNSW graph: exactAmong', () => {
  function exactAmong(graph: NativeHnswGraph, query: Float32Array, labels: Uint32Array, k: number, threads = 1) {
    const outLabels = new Uint32Array(k).fill(7);
    const outDistances = new Float32Array(k).fill(-1);
    graph.exactAmong(query, labels, k, outLabels, outDistances, threads);
    return { labels: Array.from(outLabels), distances: Array.from(outDistances) };
  }

  /** Same answer on every thread count; labels equal the reference's, distances within float32 rounding. */
  function expectReferenceAnswer(
    space: HnswSpace,
    graph: NativeHnswGraph,
    vectors: Float32Array,
    dim: number,
    query: Float32Array,
    labels: Uint32Array,
    k: number,
  ) {
    const single = exactAmong(graph, query, labels, k);
    for (const threads of [2, 3, 8]) expect(exactAmong(graph, query, labels, k, threads)).toEqual(single);
    const allowed = new Set(labels);
    const expected = exactFiltered(space, vectors, dim, query, k, (label) => allowed.has(label));
    const found = Math.min(k, labels.length);
    expect(single.labels.slice(0, found)).toEqual(expected.labels);
    single.distances.slice(0, found).forEach((distance, i) => {
      // float32 sums over `dim` terms of magnitude ≤ 4 (l2) or ≤ 1 (ip): well inside 1e-3.
      expect(Math.abs(distance - expected.distances[i]!)).toBeLessThan(1e-3);
    });
    expect(single.labels.slice(found)).toEqual(new Array(k - found).fill(NO_LABEL));
    expect(single.distances.slice(found)).toEqual(new Array(k - found).fill(Number.POSITIVE_INFINITY));
    return single;
  }

  for (const space of SPACES) {
    it(`matches the reference on 1 to 8 threads (${space}, 2,300 of 2,600 labels, dim 1024, k 1, 10, above n)`, () => {
      const dim = 1024;
      const vectors = randomMatrix(2_600, dim, 21);
      const graph = graphOf(space, vectors, dim, 2, 4);
      const next = random(22);
      const labels = sequence(2_600).filter(() => next() < 0.885);
      for (let i = labels.length - 1; i > 0; i--) {
        const j = Math.floor(next() * (i + 1));
        [labels[i], labels[j]] = [labels[j]!, labels[i]!];
      }
      const query = randomMatrix(1, dim, 23);
      for (const k of [1, 10]) expectReferenceAnswer(space, graph, vectors, dim, query, labels, k);
      expectReferenceAnswer(space, graph, vectors, dim, query, labels.subarray(0, 600), 605);
      graph.dispose();
    });
  }

  it('matches the reference at dims 1, 3 and 17, with k above the list and an empty list', () => {
    for (const dim of [1, 3, 17]) {
      const vectors = randomMatrix(300, dim, dim);
      const graph = graphOf('l2', vectors, dim, 1, 4);
      const labels = sequence(100, 150);
      const query = randomMatrix(1, dim, dim + 1);
      expectReferenceAnswer('l2', graph, vectors, dim, query, labels, 10);
      expectReferenceAnswer('l2', graph, vectors, dim, query, labels, 104);
      expectReferenceAnswer('l2', graph, vectors, dim, query, new Uint32Array(0), 3);
      graph.dispose();
    }
  });

  it('breaks ties by the lower label across parts (zeros; duplicates far apart in the list)', () => {
    const dim = 1024;
    const zeros = graphOf('l2', new Float32Array(2_400 * dim), dim, 2, 4);
    const reversed = sequence(2_400).reverse();
    for (const threads of [1, 2, 3]) {
      expect(exactAmong(zeros, new Float32Array(dim), reversed, 4, threads).labels).toEqual([0, 1, 2, 3]);
    }
    zeros.dispose();
    // Labels 1200..2399 hold copies of 0..1199; the list puts each copy in the other half.
    const half = randomMatrix(1_200, dim, 31);
    const vectors = new Float32Array(2_400 * dim);
    vectors.set(half);
    vectors.set(half, 1_200 * dim);
    const graph = graphOf('ip', vectors, dim, 2, 4);
    const list = Uint32Array.from([...sequence(1_200, 1_200), ...sequence(1_200)]);
    const found = expectReferenceAnswer('ip', graph, vectors, dim, randomMatrix(1, dim, 32), list, 6);
    for (let slot = 0; slot < 6; slot += 2) expect(found.labels[slot + 1]).toBe(found.labels[slot]! + 1_200);
    graph.dispose();
  });

  it('rejects bad arguments and labels that are not in the graph', () => {
    const dim = 4;
    const graph = graphOf('l2', randomMatrix(20, dim, 41), dim);
    const query = new Float32Array(dim);
    const out = { labels: new Uint32Array(3), distances: new Float32Array(3) };
    expectInvalid(() => graph.exactAmong(new Float32Array(3), sequence(5), 3, out.labels, out.distances), /query/);
    expectInvalid(() => graph.exactAmong(query, sequence(5), 4, out.labels, out.distances), /outLabels/);
    expectInvalid(() => graph.exactAmong(query, sequence(5), 3, out.labels, out.distances, 0), /threads/);
    expectInvalid(
      () => graph.exactAmong(query, sequence(5), 2, out.labels, new Float32Array(out.labels.buffer, 0, 2)),
      /shares memory/,
    );
    for (const threads of [1, 2]) {
      expect(() => graph.exactAmong(query, Uint32Array.of(1, 99), 2, out.labels, out.distances, threads)).toThrow(
        expect.objectContaining({
          code: 'NATIVE_ERROR',
          message: expect.stringMatching(/label 99 is not in the graph/),
        }),
      );
    }
    graph.dispose();
  });
});

describe("native HNSW graph: the sorted search loop against hnswlib's", () => {
  // Random float data: no two distances tie, so both loops expand the same nodes in the same order.
  // One thread: the insert order, and so the graph, is fixed.
  function builtWith(loop: HnswSearchLoop, space: HnswSpace, vectors: Float32Array, dim: number): NativeHnswGraph {
    const graph = createHnswGraph(space, dim, 'simd', loop);
    graph.init({ maxElements: vectors.length / dim, m: 12, efConstruction: 80, seed: 100 });
    graph.addBatch(vectors, sequence(vectors.length / dim), 1);
    return graph;
  }

  function answers(graph: NativeHnswGraph, queries: Float32Array, k: number, ef: number) {
    const count = queries.length / graph.dim;
    const labels = new Uint32Array(count * k);
    const distances = new Float32Array(count * k);
    graph.searchBatch({ queries, k, ef, threads: 1, labels, distances });
    return { labels: Array.from(labels), distances: Array.from(distances) };
  }

  for (const space of SPACES) {
    it(`${space}: builds the byte-identical graph and answers with the same labels and distances`, () => {
      const dim = 24;
      const vectors = randomMatrix(2500, dim, 60);
      const sorted = builtWith('sorted', space, vectors, dim);
      const heaps = builtWith('hnswlib', space, vectors, dim);
      const sortedFile = join(folder, `sorted-${space}.graph`);
      const heapsFile = join(folder, `heaps-${space}.graph`);
      sorted.save(sortedFile);
      heaps.save(heapsFile);
      expect(readFileSync(sortedFile).equals(readFileSync(heapsFile))).toBe(true);

      const queries = randomMatrix(80, dim, 61);
      for (const [k, ef] of [
        [1, 1],
        [10, 10],
        [10, 64],
        [50, 300],
      ] as const) {
        expect(answers(sorted, queries, k, ef)).toEqual(answers(heaps, queries, k, ef));
      }
      sorted.dispose();
      heaps.dispose();
    });
  }

  it("after a delete, inserts and searches take hnswlib's loop on both (same graph, same answers)", () => {
    const dim = 16;
    const vectors = randomMatrix(1200, dim, 62);
    const graphs = (['sorted', 'hnswlib'] as const).map((loop) => {
      const graph = createHnswGraph('l2', dim, 'simd', loop);
      graph.init({ maxElements: 1200, m: 8, efConstruction: 40, seed: 100 });
      graph.addBatch(vectors.subarray(0, 800 * dim), sequence(800), 1);
      graph.markDelete(3);
      graph.addBatch(vectors.subarray(800 * dim), sequence(400, 800), 1);
      return graph;
    });
    const files = graphs.map((graph, i) => {
      const file = join(folder, `deleted-${i}.graph`);
      graph.save(file);
      return readFileSync(file);
    });
    expect(files[0]!.equals(files[1]!)).toBe(true);
    const queries = randomMatrix(40, dim, 63);
    const [sorted, heaps] = graphs.map((graph) => answers(graph, queries, 10, 50));
    expect(sorted).toEqual(heaps);
    expect(sorted!.labels).not.toContain(3);
    for (const graph of graphs) graph.dispose();
  });

  it('inserts and updates on two threads into a graph with deleted nodes (the two-heap search under node locks)', () => {
    const dim = 16;
    const vectors = randomMatrix(3000, dim, 65);
    const graph = createHnswGraph('l2', dim);
    graph.init({ maxElements: 3000, m: 8, efConstruction: 40, seed: 100 });
    graph.addBatch(vectors.subarray(0, 1500 * dim), sequence(1500), 2);
    const deleted = Array.from({ length: 50 }, (_, i) => i * 30);
    for (const label of deleted) graph.markDelete(label);
    // Labels 1500-2799 are new; labels 1000-1199 get the vectors of rows 2800-2999 (an update
    // undeletes a deleted label, as hnswlib's addPoint does).
    const labels = Uint32Array.from([...sequence(1300, 1500), ...sequence(200, 1000)]);
    graph.addBatch(vectors.subarray(1500 * dim), labels, 2);
    expect(graph.currentCount).toBe(2800);
    expect(Array.from(graph.labels())).toEqual(Array.from(sequence(2800)));
    const stillDeleted = new Set(deleted.filter((label) => label < 1000 || label >= 1200));
    const rowOf = (label: number) => (label >= 1000 && label < 1200 ? label + 1800 : label);
    const live = Array.from(sequence(2800)).filter((label) => !stillDeleted.has(label));
    const queries = new Float32Array(live.length * dim);
    live.forEach((label, i) => {
      queries.set(vectors.subarray(rowOf(label) * dim, (rowOf(label) + 1) * dim), i * dim);
    });
    const found = answers(graph, queries, 10, 40);
    let self = 0;
    live.forEach((label, i) => {
      if (found.labels[i * 10] === label) self++;
    });
    // Each live vector is its own nearest (distance 0); HNSW may miss a few at ef 40.
    expect(self / live.length).toBeGreaterThan(0.98);
    expect(found.labels.some((label) => stillDeleted.has(label))).toBe(false);
    // The updated labels that had been deleted are live again: each is among its new vector's 10 nearest.
    const undeleted = deleted.filter((label) => label >= 1000 && label < 1200);
    expect(undeleted.length).toBe(6);
    for (const label of undeleted) {
      const own = answers(graph, vectors.subarray(rowOf(label) * dim, (rowOf(label) + 1) * dim), 10, 100);
      expect(own.labels, `label ${label}`).toContain(label);
    }
    graph.dispose();
  });

  it('inserts into a loaded graph whose file says efConstruction 0 (the list keeps one slot)', () => {
    const dim = 8;
    const vectors = randomMatrix(300, dim, 64);
    const graph = builtWith('sorted', 'l2', vectors.subarray(0, 200 * dim), dim);
    graph.resize(300);
    const file = join(folder, 'ef-construction-0.graph');
    graph.save(file);
    const bytes = readFileSync(file);
    // hnswlib's header: six size_t, two 32-bit ints, maxM, maxM0, M, mult, then efConstruction.
    expect(bytes.readBigUInt64LE(88)).toBe(80n);
    bytes.writeBigUInt64LE(0n, 88);
    writeFileSync(file, bytes);
    const loaded = createHnswGraph('l2', dim);
    loaded.load(file);
    loaded.addBatch(vectors.subarray(200 * dim), sequence(100, 200), 1);
    expect(loaded.currentCount).toBe(300);
    const { labels } = answers(loaded, vectors.subarray(250 * dim, 251 * dim), 1, 300);
    expect(labels).toEqual([250]);
    graph.dispose();
    loaded.dispose();
  });

  it('rejects an unknown loop', () => {
    expectInvalid(
      () => createHnswGraph('l2', 4, 'simd', 'heap' as HnswSearchLoop),
      /loop must be 'sorted' or 'hnswlib'/,
    );
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
  it('refuses to save where the file cannot be written, with NATIVE_ERROR, leaving the graph as it was', () => {
    const dim = 4;
    const graph = graphOf('l2', randomMatrix(30, dim, 32), dim);
    const missingFolder = join(folder, 'no-such-folder', 'graph.graph');
    expect(() => graph.save(missingFolder)).toThrow(
      expect.objectContaining({ code: 'NATIVE_ERROR', message: expect.stringMatching(/cannot write the graph file/) }),
    );
    const file = join(folder, 'after-failed-save.graph');
    graph.save(file);
    const loaded = createHnswGraph('l2', dim);
    loaded.load(file);
    expect(Array.from(loaded.labels())).toEqual(Array.from(sequence(30)));
    graph.dispose();
    loaded.dispose();
  });
});

describe('native HNSW graph: reading damaged graph files', () => {
  // hnswlib's file: a 96-byte header (six size_t, two 32-bit ints, four size_t-or-double fields,
  // efConstruction), the elements' level-0 blocks (links, vector, label), then per element a
  // 32-bit byte count and its upper-layer links.
  const dim = 4;
  const rows = 200;
  const header = 96;
  const saved = (() => {
    const graph = graphOf('l2', randomMatrix(rows, dim, 70), dim, 1, 8);
    const file = join(folder, 'damage-source.graph');
    graph.save(file);
    graph.dispose();
    return readFileSync(file);
  })();
  const element = Number(saved.readBigUInt64LE(24)); // size_data_per_element_
  const upperStart = header + rows * element;

  function loadBytes(bytes: Buffer, name: string): NativeHnswGraph {
    const file = join(folder, name);
    writeFileSync(file, bytes);
    const graph = createHnswGraph('l2', dim);
    graph.load(file);
    return graph;
  }

  function expectDamaged(bytes: Buffer, name: string, reason: RegExp): void {
    expect(() => loadBytes(bytes, name)).toThrow(expect.objectContaining({ code: 'NATIVE_ERROR' }));
    expect(() => loadBytes(bytes, name)).toThrow(reason);
  }

  it('loads the undamaged file and saves it back byte for byte', () => {
    const graph = loadBytes(saved, 'undamaged.graph');
    const back = join(folder, 'undamaged-back.graph');
    graph.save(back);
    expect(readFileSync(back).equals(saved)).toBe(true);
    graph.dispose();
  });

  it('refuses a file cut short, with bytes after its end, or with a neighbour past the last element', () => {
    expectDamaged(saved.subarray(0, upperStart - 10), 'short.graph', /ends early/);
    expectDamaged(Buffer.concat([saved, Buffer.from([0])]), 'long.graph', /bytes follow its last element/);
    const badNeighbour = Buffer.from(saved);
    badNeighbour.writeUInt32LE(1, header + 7 * element); // element 7: one neighbour …
    badNeighbour.writeUInt32LE(rows + 5, header + 7 * element + 4); // … that does not exist
    expectDamaged(badNeighbour, 'neighbour.graph', /element 7's layer-0 links/);
    const badCount = Buffer.from(saved);
    badCount.writeBigUInt64LE(BigInt(rows + 1), 16); // more elements than its capacity
    expectDamaged(badCount, 'count.graph', /201 elements in a capacity of 200/);
  });

  it('refuses upper-layer links that are not whole lists, or that reach above the top layer', () => {
    const damaged = Buffer.from(saved);
    damaged.writeUInt32LE(6, upperStart); // element 0's upper links: 6 bytes
    expectDamaged(damaged, 'upper.graph', /element 0's upper links/);
    const lowTop = Buffer.from(saved);
    lowTop.writeInt32LE(0, 48); // maxlevel_ 0, yet some elements have upper layers
    expectDamaged(lowTop, 'top.graph', /is above the top layer/);
  });

  it('refuses an entry point that is not an element', () => {
    const damaged = Buffer.from(saved);
    damaged.writeUInt32LE(rows, 52); // enterpoint_node_
    expectDamaged(damaged, 'entry.graph', /entry point is not an element/);
  });

  /** Each element's offset of its upper-layer links (after its 32-bit byte count) and their byte count. */
  function upperLists(): { offset: number; bytes: number }[] {
    const lists: { offset: number; bytes: number }[] = [];
    for (let i = 0, position = upperStart; i < rows; i++) {
      const bytes = saved.readUInt32LE(position);
      lists.push({ offset: position + 4, bytes });
      position += 4 + bytes;
    }
    return lists;
  }

  it('refuses an entry point below the top layer, or an upper-layer link to an element not on that layer', () => {
    const lists = upperLists();
    const groundFloor = lists.findIndex((list) => list.bytes === 0);
    expect(saved.readInt32LE(48)).toBeGreaterThan(0); // the top layer is above layer 0
    const lowEntry = Buffer.from(saved);
    lowEntry.writeUInt32LE(groundFloor, 52);
    expectDamaged(lowEntry, 'low-entry.graph', /entry point is not on the top layer/);

    // An element on layer 1 with a link there: point that link at an element of layer 0 only.
    const linked = lists.findIndex((list) => list.bytes > 0 && saved.readUInt16LE(list.offset) > 0);
    const badLink = Buffer.from(saved);
    badLink.writeUInt32LE(groundFloor, lists[linked]!.offset + 4);
    expectDamaged(
      badLink,
      'layer-link.graph',
      new RegExp(`element ${linked} links on layer 1 to element ${groundFloor}, which is not on that layer`),
    );
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
