// Tests for bench/datasets/ground-truth.ts: blocked exact top-k against a naive sort on random data,
// against the siftsmall fixture's official ground truth, the kernel parameter, the native kernel
// against its TypeScript reference, and the cache.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Metric, VectorSet } from '../../bench/datasets/dataset.js';
import {
  type BatchDistanceKernel,
  cachedGroundTruth,
  computeGroundTruth,
  defaultDistanceKernel,
  exactDistance,
  nativeDistanceKernel,
  typescriptDistanceKernel,
} from '../../bench/datasets/ground-truth.js';
import { SeededRandom } from '../../bench/datasets/synthetic.js';
import { readFvecs, readIvecs } from '../../bench/datasets/texmex.js';
import { loadNativeAddon } from '../../src/native/addon.js';

const cacheDir = mkdtempSync(join(tmpdir(), 'quiverdb-ground-truth-test-'));
afterAll(() => rmSync(cacheDir, { recursive: true, force: true }));

function randomSet(count: number, dim: number, seed: number, integers = false): VectorSet {
  const random = new SeededRandom(seed);
  const data = new Float32Array(count * dim);
  for (let index = 0; index < data.length; index++) data[index] = integers ? random.integer(4) : random.gaussian();
  return { count, dim, data };
}

/** The obvious O(n log n)-per-query reference: every distance, sorted by (distance, id). */
function bruteForce(base: VectorSet, queries: VectorSet, metric: Metric, k: number): Int32Array {
  const out = new Int32Array(queries.count * k);
  for (let q = 0; q < queries.count; q++) {
    const ranked = Array.from({ length: base.count }, (_, id) => ({
      id,
      distance: exactDistance(metric, queries.data, q, base.data, id, base.dim),
    }));
    ranked.sort((a, b) => a.distance - b.distance || a.id - b.id);
    for (let rank = 0; rank < k; rank++) out[q * k + rank] = ranked[rank]!.id;
  }
  return out;
}

describe('computeGroundTruth', () => {
  for (const metric of ['l2', 'ip', 'cosine'] as const) {
    // dim 17 exercises the unrolled loop's tail; 700 base rows span several base blocks at small k.
    it(`matches brute force for ${metric}`, () => {
      const base = randomSet(700, 17, 1);
      const queries = randomSet(40, 17, 2);
      const truth = computeGroundTruth(base, queries, metric, { k: 25 });
      expect(truth.k).toBe(25);
      const expected = bruteForce(base, queries, metric, 25);
      // Ranks can differ only where float rounding of the cosine normalisation swaps near-ties; compare sets.
      for (let q = 0; q < queries.count; q++) {
        const got = Array.from(truth.ids.subarray(q * 25, (q + 1) * 25));
        const want = Array.from(expected.subarray(q * 25, (q + 1) * 25));
        if (metric === 'cosine') expect(new Set(got)).toEqual(new Set(want));
        else expect(got).toEqual(want);
      }
      for (let index = 1; index < 25; index++)
        expect(truth.distances[index]!).toBeGreaterThanOrEqual(truth.distances[index - 1]!);
    });
  }

  it('breaks exact ties by the lower id', () => {
    // Integer data in {0..3}^3 over 2000 rows: many exact duplicates and equal distances.
    const base = randomSet(2000, 3, 5, true);
    const queries = randomSet(10, 3, 6, true);
    const truth = computeGroundTruth(base, queries, 'l2', { k: 50 });
    expect(Array.from(truth.ids)).toEqual(Array.from(bruteForce(base, queries, 'l2', 50)));
  });

  it('caps k at the base size and reports progress', () => {
    const calls: number[] = [];
    const truth = computeGroundTruth(randomSet(5, 4, 1), randomSet(70, 4, 2), 'l2', {
      k: 100,
      onProgress: (done) => calls.push(done),
    });
    expect(truth.k).toBe(5);
    expect(calls.at(-1)).toBe(70);
  });

  it('uses the kernel it is given', () => {
    let calls = 0;
    const counting: BatchDistanceKernel = (...args) => {
      calls++;
      typescriptDistanceKernel(...args);
    };
    const base = randomSet(100, 8, 3);
    const queries = randomSet(5, 8, 4);
    const truth = computeGroundTruth(base, queries, 'l2', { k: 10, kernel: counting });
    expect(calls).toBeGreaterThan(0);
    expect(Array.from(truth.ids)).toEqual(Array.from(bruteForce(base, queries, 'l2', 10)));
  });

  it('reproduces the siftsmall fixture ground truth for the first queries', () => {
    const fixture = join(import.meta.dirname, '..', 'fixtures', 'siftsmall');
    const base = readFvecs(join(fixture, 'base.fvecs'));
    const queries = readFvecs(join(fixture, 'query.fvecs'), { limit: 5 });
    const official = readIvecs(join(fixture, 'groundtruth.ivecs'));
    const truth = computeGroundTruth(base, queries, 'l2', { k: 100 });
    for (let q = 0; q < 5; q++) {
      const got = truth.ids.subarray(q * 100, (q + 1) * 100);
      const want = official.data.subarray(q * 100, (q + 1) * 100);
      // The official lists break ties arbitrarily: compare sets, and the nearest neighbour exactly.
      expect(new Set(got)).toEqual(new Set(want));
      expect(got[0]).toBe(want[0]);
    }
  });
});

/** Whether the addon is built here; without it the native kernel cannot be compared (and is not the default). */
const addonLoads = (() => {
  try {
    loadNativeAddon();
    return true;
  } catch {
    return false;
  }
})();

describe('the native batched kernel', () => {
  it('is the default exactly when the addon loads', () => {
    expect(defaultDistanceKernel().name).toBe(addonLoads ? 'native' : 'typescript');
  });

  // dim 1, 3, 17 and 128: no full lane, a tail only, lanes plus tail, lanes only.
  for (const dim of [1, 3, 17, 128]) {
    it.runIf(addonLoads)(`gives the reference distances at dim ${dim}`, () => {
      const base = randomSet(300, dim, 11);
      const queries = randomSet(7, dim, 12);
      for (const metric of ['l2', 'ip'] as const) {
        const native = new Float64Array(7 * 250);
        const reference = new Float64Array(7 * 250);
        // A base window that starts inside the set, as the blocked loop passes it.
        nativeDistanceKernel(queries.data, 7, base.data, 50, 250, dim, metric, native);
        typescriptDistanceKernel(queries.data, 7, base.data, 50, 250, dim, metric, reference);
        for (let index = 0; index < native.length; index++) {
          // float32 accumulation against float64: relative error of a few ulps per addition.
          const tolerance = 1e-5 * Math.max(1, Math.abs(reference[index]!), dim);
          expect(Math.abs(native[index]! - reference[index]!)).toBeLessThanOrEqual(tolerance);
        }
      }
    });
  }

  for (const metric of ['l2', 'ip', 'cosine'] as const) {
    it.runIf(addonLoads)(`gives the same ground truth as the TypeScript kernel for ${metric}`, () => {
      const base = randomSet(1500, 24, 21);
      const queries = randomSet(40, 24, 22);
      const native = computeGroundTruth(base, queries, metric, { k: 30, kernel: nativeDistanceKernel });
      const reference = computeGroundTruth(base, queries, metric, { k: 30, kernel: typescriptDistanceKernel });
      // Both are rescored in float64, so ids and distances agree exactly, ties included.
      expect(Array.from(native.ids)).toEqual(Array.from(reference.ids));
      expect(Array.from(native.distances)).toEqual(Array.from(reference.distances));
    });
  }

  it.runIf(addonLoads)('breaks exact ties by the lower id like the reference', () => {
    const base = randomSet(2000, 3, 5, true);
    const queries = randomSet(10, 3, 6, true);
    const truth = computeGroundTruth(base, queries, 'l2', { k: 50, kernel: nativeDistanceKernel });
    expect(Array.from(truth.ids)).toEqual(Array.from(bruteForce(base, queries, 'l2', 50)));
  });
});

describe('cachedGroundTruth', () => {
  it('computes once, then reads the cache; a different metric or k is another entry', () => {
    const base = randomSet(300, 6, 7);
    const queries = randomSet(12, 6, 8);
    const first = cachedGroundTruth(base, queries, 'l2', cacheDir, { k: 20 });
    const second = cachedGroundTruth(base, queries, 'l2', cacheDir, { k: 20 });
    expect(first.fromCache).toBe(false);
    expect(second.fromCache).toBe(true);
    expect(second.ids).toEqual(first.ids);
    expect(second.distances).toEqual(first.distances);
    expect(cachedGroundTruth(base, queries, 'ip', cacheDir, { k: 20 }).fromCache).toBe(false);
    expect(cachedGroundTruth(base, queries, 'l2', cacheDir, { k: 10 }).fromCache).toBe(false);
  });
});
