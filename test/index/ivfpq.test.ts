// IvfPqIndex on its own (no SQLite: full vectors come from an in-memory map through the fetch
// callback): recall on siftsmall with and without re-rank, exact answers before training, delete
// and replace, the memory bound from the index's own accounting, and state round trips.
import { describe, expect, it } from 'vitest';
import { isQuiverError } from '../../src/errors.js';
import { defaultPqM, type IvfPqParams, IvfPqIndex, trainingThreshold } from '../../src/index/ivfpq.js';
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
