// Tests for bench/datasets/recall.ts against a hand-checked example.

import { describe, expect, it } from 'vitest';
import { recallAtK, tieAwareRecallAtK } from '../../bench/datasets/recall.js';
import { QuiverError } from '../../src/errors.js';

// Two queries, truth depth 4, results depth 3.
const truth = { ids: new Int32Array([1, 2, 3, 4, 10, 11, 12, 13]), stride: 4 };
const found = { ids: new Int32Array([3, 9, 1, 11, 10, 12]), stride: 3 };

describe('recallAtK', () => {
  it('matches the hand-checked example', () => {
    // Query 0: top-1 truth {1}, found {3} → 0; query 1: {10} vs {11} → 0.
    expect(recallAtK(found, truth, 1)).toBe(0);
    // k=2: q0 truth {1,2} vs {3,9} → 0/2; q1 truth {10,11} vs {11,10} → 2/2. Mean 0.5.
    expect(recallAtK(found, truth, 2)).toBe(0.5);
    // k=3: q0 {1,2,3} vs {3,9,1} → 2/3; q1 {10,11,12} vs {11,10,12} → 3/3. Mean 5/6.
    expect(recallAtK(found, truth, 3)).toBeCloseTo(5 / 6, 12);
  });

  it('counts a duplicated id once and ignores missing (−1) entries', () => {
    const repeated = { ids: new Int32Array([1, 1, -1]), stride: 3 };
    expect(recallAtK(repeated, { ids: new Int32Array([1, 2, 3]), stride: 3 }, 3)).toBeCloseTo(1 / 3, 12);
  });

  it('refuses k deeper than either list', () => {
    expect(() => recallAtK(found, truth, 4)).toThrow(QuiverError);
    expect(() => recallAtK({ ids: new Int32Array(10), stride: 10 }, { ids: new Int32Array(2), stride: 2 }, 5)).toThrow(
      /depth/,
    );
  });
});

describe('tieAwareRecallAtK', () => {
  it('accepts an id that ties with the k-th true neighbour', () => {
    // Query 0 at k=2: true distances 1, 2 (k-th = 2); found ids have true distances 2 (a tie, not in the
    // truth list) and 5 → 1/2. Query 1: k-th = 3; found 0.5 and 3 → 2/2. Mean 0.75; plain recall would be lower.
    const results = { ids: new Int32Array([7, 8, 10, 11]), stride: 2 };
    const foundDistances = new Float64Array([2, 5, 0.5, 3]);
    const kth = new Float64Array([2, 3]);
    expect(tieAwareRecallAtK(results, foundDistances, kth, 2)).toBe(0.75);
    // At k=1 the first true distances (1 and 0.5) are the limits: q0's 2 misses, q1's 0.5 ties → 1/2.
    expect(tieAwareRecallAtK(results, foundDistances, new Float64Array([1, 0.5]), 1)).toBe(0.5);
  });

  it('counts a repeated id once', () => {
    const results = { ids: new Int32Array([4, 4]), stride: 2 };
    expect(tieAwareRecallAtK(results, new Float64Array([0, 0]), new Float64Array([1]), 2)).toBe(0.5);
  });

  it('checks the array shapes', () => {
    expect(() => tieAwareRecallAtK(found, new Float64Array(2), new Float64Array(2), 1)).toThrow(
      /one entry per found id/,
    );
  });
});
