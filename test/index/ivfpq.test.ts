// IvfPqIndex on its own (no SQLite: full vectors come from an in-memory map through the fetch
// callback): recall on siftsmall with and without re-rank, exact answers before training, delete
// and replace, the memory bound from the index's own accounting, state round trips, calibrated
// recall against exact ground truth, the precedence of settings, and a version 1 codebook.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { generateSynthetic } from '../../bench/datasets/synthetic.js';
import { isQuiverError } from '../../src/errors.js';
import { defaultPqM, type IvfPqParams, IvfPqIndex, trainingThreshold } from '../../src/index/ivfpq.js';
import { writeIvfCodes } from '../../src/index/ivfpq-codes-format.js';
import { nativeKernels } from '../../src/native/kernels.js';
import { SeededRandom } from '../../src/quant/random.js';
import { loadFixture } from '../helpers/fixtures.js';

const DEFAULTS = (dim: number): IvfPqParams => ({ nlist: 256, m: defaultPqM(dim), nprobe: 16, rerank: 100 });

/** An index over `vectors` (label = row) with a map as the record store. */
function build(vectors: readonly Float32Array[], params: IvfPqParams, metric: 'l2' | 'cosine' | 'ip' = 'l2') {
  const stored = new Map<number, Float32Array>();
  let trainings = 0;
  const fetch = (labels: readonly number[]) =>
    labels.flatMap((label) => (stored.has(label) ? [{ label, vector: stored.get(label)! }] : []));
  const index = new IvfPqIndex(metric, vectors[0]!.length, params, fetch, () => trainings++);
  vectors.forEach((vector, label) => {
    stored.set(label, vector);
    index.upsert(label, vector);
  });
  return { index, stored, fetch, trainings: () => trainings };
}

function squaredL2(a: Float32Array, b: Float32Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += (a[i]! - b[i]!) ** 2;
  return sum;
}

/** Exact top-k labels among `stored`, ties by lower label. */
function exactTopK(stored: Map<number, Float32Array>, query: Float32Array, k: number): number[] {
  return [...stored.entries()]
    .map(([label, vector]) => ({ label, distance: squaredL2(query, vector) }))
    .sort((a, b) => a.distance - b.distance || a.label - b.label)
    .slice(0, k)
    .map(({ label }) => label);
}

function recallAt10(found: readonly (readonly number[])[], truth: readonly (readonly number[])[]): number {
  let total = 0;
  found.forEach((labels, q) => {
    const expected = new Set(truth[q]!.slice(0, 10));
    total += labels.filter((label) => expected.has(label)).length / 10;
  });
  return total / found.length;
}

describe('IvfPqIndex on siftsmall (10,000 × 128, defaults nlist 256, m 16, nprobe 16, rerank 100)', () => {
  const fixture = loadFixture('siftsmall');
  const { index, stored, fetch } = build(fixture.base, DEFAULTS(fixture.dim));

  it('trains once the threshold is reached and holds every vector as a code', () => {
    expect(trainingThreshold(256)).toBe(9984);
    expect(index.trained).toBe(true);
    expect(index.size).toBe(10_000);
  });

  it('reaches recall@10 ≥ 0.95 with re-rank, and ≥ 0.6 without', () => {
    const search = (rerank: number) =>
      fixture.queries.map((query) => index.searchWith(query, 10, { rerank }).neighbours.labels);
    // With re-rank: the 100 best ADC candidates of 16 of 256 lists hold nearly every true
    // neighbour (measured 0.964); what is missed sits in lists not probed.
    expect(recallAt10(search(100), fixture.truth)).toBeGreaterThanOrEqual(0.95);
    // rerank = k keeps the ADC top 10 as it is (only re-sorted): 16-byte codes put 8 dimensions
    // in one byte, and their quantisation error reorders close neighbours (measured 0.72).
    const withoutRerank = recallAt10(search(10), fixture.truth);
    expect(withoutRerank).toBeGreaterThanOrEqual(0.6);
    expect(withoutRerank).toBeLessThan(0.95);
  });

  it('returns exact distances for what it returns', () => {
    const query = fixture.queries[3]!;
    const { labels, distances } = index.search(query, 10, 0);
    labels.forEach((label, rank) => {
      expect(distances[rank]).toBeCloseTo(squaredL2(query, stored.get(label)!), -1);
    });
  });

  it('survives an export and import of its state with identical answers', () => {
    const state = index.exportState()!;
    const copy = IvfPqIndex.fromState('l2', fixture.dim, DEFAULTS(fixture.dim), fetch, state.codebook, state.chunks);
    expect(copy.size).toBe(index.size);
    for (const query of fixture.queries.slice(0, 20)) {
      expect(copy.search(query, 10, 0)).toEqual(index.search(query, 10, 0));
    }
    const damaged = state.codebook.slice();
    damaged[100]! ^= 0x10;
    expect(() => IvfPqIndex.fromState('l2', fixture.dim, DEFAULTS(fixture.dim), fetch, damaged, state.chunks)).toThrow(
      expect.objectContaining({ code: 'CORRUPT' }),
    );
    const truncated = state.chunks[0]!.subarray(0, state.chunks[0]!.length - 9);
    let caught: unknown;
    try {
      IvfPqIndex.fromState('l2', fixture.dim, DEFAULTS(fixture.dim), fetch, state.codebook, [truncated]);
    } catch (error) {
      caught = error;
    }
    expect(isQuiverError(caught, 'CORRUPT')).toBe(true);
  });

  it('forgets deleted labels and finds a replaced one at its new place', () => {
    const query = fixture.queries[0]!;
    const before = index.search(query, 10, 0).labels;
    for (const label of before.slice(0, 5)) {
      index.remove(label);
      stored.delete(label);
    }
    const after = index.search(query, 10, 0).labels;
    for (const label of before.slice(0, 5)) expect(after).not.toContain(label);
    expect(index.size).toBe(9995);
    // Replace label 7 by the query itself: it becomes the nearest, at distance 0.
    stored.set(7, query);
    index.upsert(7, query);
    const replaced = index.search(query, 1, 0);
    expect(replaced.labels).toEqual([7]);
    expect(replaced.distances[0]).toBe(0);
    expect(index.size).toBe(9995);
    // A deleted label is reused by a new vector.
    const reused = before[0]!;
    stored.set(reused, fixture.queries[1]!);
    index.upsert(reused, fixture.queries[1]!);
    expect(index.search(fixture.queries[1]!, 1, 0).labels).toEqual([reused]);
  });
});

describe('IvfPqIndex before training', () => {
  it('answers exactly (the vectors are buffered until the threshold)', () => {
    const random = new SeededRandom(11);
    const vectors = Array.from({ length: 500 }, () => Float32Array.from({ length: 24 }, () => random.nextGaussian()));
    const { index, stored, trainings } = build(vectors, { nlist: 16, m: 3, nprobe: 2, rerank: 20 });
    expect(index.trained).toBe(false);
    expect(trainings()).toBe(0);
    for (const query of vectors.slice(0, 20)) {
      const found = index.searchWith(query, 5, {});
      expect(found.stats.trained).toBe(false);
      expect(found.neighbours.labels).toEqual(exactTopK(stored, query, 5));
    }
    index.remove(0);
    stored.delete(0);
    expect(index.search(vectors[0]!, 5, 0).labels).toEqual(exactTopK(stored, vectors[0]!, 5));
  });
});

describe('IvfPqIndex memory', () => {
  it('holds codes, lists and centroids in at most 1/16 of the float vectors plus 4-byte ids', () => {
    // 40,000 × 128 synthetic vectors with the defaults: codes 16 B, list entry 4 B (the id) and list
    // number 2 B per vector, up to 12.5% / 25% more for growth room, plus (256 + 256) × 128 × 4 B of
    // centroids, a fixed cost: with the growth room the bound holds from about 30,000 128-d vectors.
    const random = new SeededRandom(5);
    const dim = 128;
    const count = 40_000;
    const centres = Array.from({ length: 50 }, () => Float32Array.from({ length: dim }, () => random.nextGaussian()));
    const vectors = Array.from({ length: count }, () => {
      const centre = centres[random.nextInt(centres.length)]!;
      return Float32Array.from(centre, (value) => value + 0.3 * random.nextGaussian());
    });
    const { index } = build(vectors, DEFAULTS(dim));
    const memory = index.memory();
    expect(index.trained).toBe(true);
    expect(memory.pending).toBe(0);
    const floatBytes = count * dim * 4;
    expect(memory.codes + memory.lists + memory.centroids).toBeLessThanOrEqual(floatBytes / 16 + count * 4);
  });

  it('chooses m = dim / 8 by default, 1/32 of float32 for the codes', () => {
    expect(defaultPqM(128)).toBe(16);
    expect(defaultPqM(768)).toBe(96);
    expect(defaultPqM(784)).toBe(98);
    expect(defaultPqM(3)).toBe(1);
  });
});

describe('IvfPqIndex calibration', () => {
  /** recall@10 of the index's answers (with `options`) against exact top-10 of `base` (rows of dim). */
  function measuredRecall(
    index: IvfPqIndex,
    base: Float32Array,
    queries: Float32Array,
    dim: number,
    options: { nprobe?: number; rerank?: number } = {},
  ): number {
    const queryCount = queries.length / dim;
    const truth = new Int32Array(queryCount * 10);
    nativeKernels.exactTopK({
      metric: 'l2',
      queries,
      base,
      dim,
      k: 10,
      labels: truth,
      distances: new Float32Array(queryCount * 10),
    });
    const found: number[][] = [];
    const expected: number[][] = [];
    for (let query = 0; query < queryCount; query++) {
      const vector = queries.subarray(query * dim, (query + 1) * dim);
      found.push(index.searchWith(vector, 10, options).neighbours.labels);
      expected.push([...truth.subarray(query * 10, (query + 1) * 10)]);
    }
    return recallAt10(found, expected);
  }

  function buildRows(base: Float32Array, dim: number, params: IvfPqParams) {
    const fetch = (labels: readonly number[]) =>
      labels.map((label) => ({ label, vector: base.subarray(label * dim, (label + 1) * dim) }));
    const index = new IvfPqIndex('l2', dim, params, fetch);
    index.upsertBatch(
      Int32Array.from({ length: base.length / dim }, (_, row) => row),
      base,
    );
    return { index, fetch };
  }

  it('reaches recall@10 ≥ 0.95 on siftsmall with calibrated settings, and says where they came from', () => {
    const fixture = loadFixture('siftsmall');
    const base = new Float32Array(fixture.base.length * fixture.dim);
    fixture.base.forEach((vector, row) => {
      base.set(vector, row * fixture.dim);
    });
    const queries = new Float32Array(fixture.queries.length * fixture.dim);
    fixture.queries.forEach((vector, row) => {
      queries.set(vector, row * fixture.dim);
    });
    const { index } = buildRows(base, fixture.dim, { nlist: 256, m: 16, targetRecall: 0.95 });
    const calibration = index.calibration!;
    // 200 sample queries held back from the 9,984 training vectors; the rest are the base.
    expect(calibration).toMatchObject({ targetRecall: Math.fround(0.95), queries: 200, base: 9784 });
    expect(calibration.expectedRecall).toBeGreaterThanOrEqual(0.95);
    // The siftsmall queries are not base vectors: the calibration aims at 0.95 plus one standard
    // error of its 200-query sample (≈ 0.965), so 0.95 holds on them with room (measured 0.967).
    expect(measuredRecall(index, base, queries, fixture.dim)).toBeGreaterThanOrEqual(0.95);
    expect(index.searchWith(fixture.queries[0]!, 10, {}).stats).toMatchObject({
      nprobe: calibration.nprobe,
      rerank: Math.max(
        calibration.rerank,
        Math.ceil(calibration.rerank * (10_000 / 9784) ** calibration.growth - 1e-9),
      ),
      nprobeFrom: 'calibration',
      rerankFrom: 'calibration',
    });
    // A query's own settings win over the calibration.
    expect(index.searchWith(fixture.queries[0]!, 10, { nprobe: 3, rerank: 40 }).stats).toMatchObject({
      nprobe: 3,
      rerank: 40,
      nprobeFrom: 'query',
      rerankFrom: 'query',
    });
  });

  it('reaches recall@10 ≥ 0.95 on clustered near-duplicates (two seeds), where rerank decides', () => {
    for (const seed of [1, 2]) {
      // 12,000 × 64 (the benchmark uses 30,000): 100 clusters, 10% near copies. 8-byte codes cannot
      // order a cluster's vectors, so the calibration buys recall with re-ranked candidates. The
      // calibration aims at 0.95 plus one standard error; measured 0.964 (seed 1), 0.967 (seed 2).
      const data = generateSynthetic({ kind: 'near-duplicates', n: 12_000, queries: 100, seed });
      const { index } = buildRows(data.base, 64, { nlist: 256, m: 8, targetRecall: 0.95 });
      expect(index.calibration!.expectedRecall, `seed ${seed}`).toBeGreaterThanOrEqual(0.95);
      expect(measuredRecall(index, data.base, data.queries, 64), `seed ${seed}`).toBeGreaterThanOrEqual(0.95);
    }
  });

  it('scales the rerank with the measured growth: linear for near-duplicates, slower for clusters, recall ≥ 0.95 at 3-4× the base', () => {
    // Near-duplicates: a cluster of indistinguishable codes grows with the collection, and so does
    // the needed rerank; measured 0.82-0.86 between the subset and the base, plus the margin: 1.
    const duplicates = generateSynthetic({ kind: 'near-duplicates', n: 30_000, queries: 100, seed: 42 });
    const near = buildRows(duplicates.base, 64, { nlist: 256, m: 8, targetRecall: 0.95 }).index;
    expect(near.calibration!.growth).toBe(1);
    const nearRerank = near.searchWith(duplicates.queries.subarray(0, 64), 10, {}).stats.rerank;
    expect(nearRerank).toBe(Math.ceil((near.calibration!.rerank * 30_000) / near.calibration!.base - 1e-9));
    expect(measuredRecall(near, duplicates.base, duplicates.queries, 64)).toBeGreaterThanOrEqual(0.95);
    // The default clustered distribution: the needed rerank grows far more slowly (measured 0.08,
    // used 0.58), so 40,000 vectors re-rank about 2.2× the base's rerank instead of 4.1×.
    const clusters = generateSynthetic({ n: 40_000, dim: 128, queries: 100, seed: 42 });
    const slow = buildRows(clusters.base, 128, { nlist: 256, m: 16, targetRecall: 0.95 }).index;
    const { growth, rerank, base } = slow.calibration!;
    expect(growth).toBeGreaterThanOrEqual(0.5);
    expect(growth).toBeLessThan(1);
    const stats = slow.searchWith(clusters.queries.subarray(0, 128), 10, {}).stats;
    expect(stats.rerank).toBe(Math.ceil(rerank * (40_000 / base) ** growth - 1e-9));
    expect(stats.rerank).toBeLessThan(Math.ceil((rerank * 40_000) / base));
    expect(measuredRecall(slow, clusters.base, clusters.queries, 128)).toBeGreaterThanOrEqual(0.95);
  });

  it('keeps what the user fixed and calibrates the rest; the calibration survives export and import', () => {
    const data = generateSynthetic({ kind: 'near-duplicates', n: 10_500, queries: 50, seed: 3 });
    const params: IvfPqParams = { nlist: 256, m: 8, nprobe: 2, targetRecall: 0.9 };
    const { index, fetch } = buildRows(data.base, 64, params);
    const calibration = index.calibration!;
    expect(calibration.nprobe).toBe(2);
    expect(calibration.targetRecall).toBe(Math.fround(0.9));
    const query = data.queries.subarray(0, 64);
    expect(index.searchWith(query, 10, {}).stats).toMatchObject({ nprobe: 2, nprobeFrom: 'collection' });
    expect(index.searchWith(query, 10, {}).stats.rerankFrom).toBe('calibration');

    const state = index.exportState()!;
    const copy = IvfPqIndex.fromState('l2', 64, params, fetch, state.codebook, state.chunks);
    expect(copy.calibration).toEqual(calibration);
    expect(copy.searchWith(query, 10, {})).toEqual(index.searchWith(query, 10, {}));
    // A codebook calibrated for another target does not belong to this collection.
    expect(() =>
      IvfPqIndex.fromState('l2', 64, { ...params, targetRecall: 0.95 }, fetch, state.codebook, state.chunks),
    ).toThrow(expect.objectContaining({ code: 'CORRUPT' }));
  });

  it('rejects a targetRecall outside (0, 1]', () => {
    const fetch = () => [];
    for (const targetRecall of [0, -0.5, 1.01, Number.NaN]) {
      expect(() => new IvfPqIndex('l2', 8, { nlist: 4, m: 2, targetRecall }, fetch)).toThrow(
        expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
      );
    }
  });
});

describe('IvfPqIndex from a version 1 codebook (before calibration)', () => {
  it('searches with the stored nprobe and rerank, or the fallback when none is stored', () => {
    const directory = join(import.meta.dirname, '..', 'fixtures', 'codebook-v1');
    const codebook = new Uint8Array(readFileSync(join(directory, 'codebook.qvcb')));
    // The fixture: dim 6, m 2, 4 centroids per sub-space, 3 lists. Four vectors, one per code.
    const vectors = [0, 1, 2, 3].map((row) => Float32Array.from({ length: 6 }, (_, axis) => row + axis / 10));
    const fetch = (labels: readonly number[]) => labels.map((label) => ({ label, vector: vectors[label]! }));
    const chunk = writeIvfCodes({
      m: 2,
      labels: Uint32Array.of(0, 1, 2, 3),
      lists: Uint32Array.of(0, 1, 2, 0),
      codes: Uint8Array.of(0, 0, 1, 1, 2, 2, 3, 3),
    });
    const old = IvfPqIndex.fromState('l2', 6, { nlist: 3, m: 2, nprobe: 2, rerank: 4 }, fetch, codebook, [chunk]);
    expect(old.calibration).toBeUndefined();
    const found = old.searchWith(vectors[2]!, 1, {});
    expect(found.stats).toMatchObject({ nprobe: 2, rerank: 4, nprobeFrom: 'collection', rerankFrom: 'collection' });
    const bare = IvfPqIndex.fromState('l2', 6, { nlist: 3, m: 2 }, fetch, codebook, [chunk]);
    expect(bare.searchWith(vectors[2]!, 1, {}).stats).toMatchObject({
      nprobe: 3, // the fallback 16, at most nlist
      rerank: 100,
      nprobeFrom: 'default',
      rerankFrom: 'default',
    });
    // Every list probed and every code re-ranked: the exact answer.
    expect(bare.search(vectors[2]!, 1, 0).labels).toEqual([2]);
  });
});
