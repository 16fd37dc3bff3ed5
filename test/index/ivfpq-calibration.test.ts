// The calibration's measurement against a brute-force count written out directly (per sample query
// and true neighbour: which lists are probed, which vectors' ADC distance is not worse), and its
// choice of settings on hand-made ranking errors: the target plus the sample's standard error, the
// cheapest pair, fixed settings kept, the best effort when nothing reaches the target.
import { describe, expect, it } from 'vitest';
import {
  aimedRecall,
  calibrateIvfPq,
  chooseSettings,
  expectedRecall,
  measureGrowth,
  measureRankingError,
  nprobeLadder,
  type RankingError,
} from '../../src/index/ivfpq-calibration.js';
import { trainKMeans } from '../../src/quant/kmeans.js';
import { trainProductQuantizer } from '../../src/quant/pq.js';
import { SeededRandom } from '../../src/quant/random.js';

function squaredL2(a: Float32Array, b: Float32Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += (a[i]! - b[i]!) ** 2;
  return sum;
}

describe('measureRankingError', () => {
  it('counts, for each sample neighbour, the vectors of the probed lists an ADC scan keeps before it', () => {
    const random = new SeededRandom(7);
    const dim = 6;
    const count = 600;
    const base = Float32Array.from({ length: count * dim }, () => random.nextGaussian());
    const queries = Float32Array.from({ length: 12 * dim }, () => random.nextGaussian());
    const coarse = trainKMeans(base, dim, 8, { seed: 1, maxIterations: 5 }).centroids;
    const pq = trainProductQuantizer(base, dim, { m: 2, seed: 2, maxIterations: 5 });
    const error = measureRankingError({ metric: 'l2', dim, base, queries, coarse, pq, targetRecall: 0.9 });
    expect(error.nprobes).toEqual([1, 2, 3, 4, 6, 8]);
    expect([error.events, error.base, error.queries]).toEqual([120, 600, 12]);

    // The same numbers, brute force: decoded codes give ADC (l2) distances exactly.
    const row = (data: Float32Array, at: number) => data.subarray(at * dim, (at + 1) * dim);
    const decoded = pq.decode(pq.encode(base));
    const nearest = (vector: Float32Array) => {
      let best = 0;
      for (let list = 1; list < 8; list++)
        if (squaredL2(vector, row(coarse, list)) < squaredL2(vector, row(coarse, best))) best = list;
      return best;
    };
    const listOf = Array.from({ length: count }, (_, at) => nearest(row(base, at)));
    const expected = error.nprobes.map(() => [] as number[]);
    for (let query = 0; query < 12; query++) {
      const vector = row(queries, query);
      const truth = Array.from({ length: count }, (_, at) => at)
        .sort((a, b) => squaredL2(vector, row(base, a)) - squaredL2(vector, row(base, b)) || a - b)
        .slice(0, 10);
      const listOrder = Array.from({ length: 8 }, (_, list) => list).sort(
        (a, b) => squaredL2(vector, row(coarse, a)) - squaredL2(vector, row(coarse, b)) || a - b,
      );
      const adc = Array.from({ length: count }, (_, at) => squaredL2(vector, row(decoded, at)));
      for (const neighbour of truth) {
        error.nprobes.forEach((nprobe, step) => {
          const probed = new Set(listOrder.slice(0, nprobe));
          if (!probed.has(listOf[neighbour]!)) {
            expected[step]!.push(Number.POSITIVE_INFINITY);
            return;
          }
          let ahead = 0;
          for (let at = 0; at < count; at++) {
            if (at !== neighbour && probed.has(listOf[at]!) && adc[at]! <= adc[neighbour]!) ahead++;
          }
          expected[step]!.push(ahead + 1);
        });
      }
    }
    // Float32 sums of table entries and float64 distances can order near-ties differently: allow
    // a rank to differ by one, and the counts of unprobed neighbours to agree exactly.
    error.nprobes.forEach((_, step) => {
      const sorted = expected[step]!.sort((a, b) => a - b);
      const measured = [...error.needed[step]!];
      expect(measured.filter((value) => value === Number.POSITIVE_INFINITY).length).toBe(
        sorted.filter((value) => value === Number.POSITIVE_INFINITY).length,
      );
      measured.forEach((value, at) => {
        if (Number.isFinite(value)) expect(Math.abs(value - sorted[at]!)).toBeLessThanOrEqual(1);
      });
    });
    // With every list probed and every vector re-ranked, every neighbour is found.
    expect(expectedRecall(error, error.nprobes.length - 1, count)).toBe(1);
  });
});

describe('chooseSettings', () => {
  /** 100 queries × 10 neighbours; at nprobe 1 a tenth are in unprobed lists; ranks grow with nprobe. */
  function handMade(): RankingError {
    const nprobes = [1, 2, 4];
    const needed = nprobes.map((nprobe) =>
      Float64Array.from({ length: 1000 }, (_, event) =>
        nprobe === 1 && event % 10 === 9 ? Number.POSITIVE_INFINITY : (event % 100) * nprobe + 1,
      ).sort(),
    );
    return { nprobes, needed, scanned: [1000, 2000, 4000], events: 1000, base: 5000, queries: 100 };
  }

  it('aims at the target plus one standard error of the sample', () => {
    expect(aimedRecall(0.95, 200)).toBeCloseTo(0.95 + Math.sqrt(0.0475 / 200), 12);
    expect(aimedRecall(1, 200)).toBe(1);
  });

  it('picks the cheapest pair that reaches the aim, keeps fixed settings, and reports its expected recall', () => {
    const error = handMade();
    // aim 0.8 + 0.04 = 0.84: nprobe 1 reaches at most 0.9; 840 of 1000 events need rank ≤ 84 × nprobe.
    const chosen = chooseSettings(error, { dim: 8, m: 4, targetRecall: 0.8 });
    expect(chosen).toMatchObject({ nprobe: 1, targetRecall: Math.fround(0.8), base: 5000, queries: 100 });
    expect(chosen.expectedRecall).toBeGreaterThanOrEqual(Math.fround(0.84));
    expect(expectedRecall(error, 0, chosen.rerank - 1)).toBeLessThan(0.84);
    // nprobe fixed at 4: rerank grows with it.
    const fixed = chooseSettings(error, { dim: 8, m: 4, targetRecall: 0.8, nprobe: 4 });
    expect(fixed.nprobe).toBe(4);
    expect(fixed.rerank).toBe(4 * 83 + 1); // the 840th smallest rank
    // rerank fixed: the nprobe that reaches the aim with it (none does at 1: it keeps 0.9 at most).
    const fixedRerank = chooseSettings(error, { dim: 8, m: 4, targetRecall: 0.95, rerank: 400 });
    expect(fixedRerank).toMatchObject({ nprobe: 2, rerank: 400, expectedRecall: 1 });
  });

  it('takes the highest expected recall when no pair reaches the target', () => {
    const error = handMade();
    const chosen = chooseSettings(error, { dim: 8, m: 4, targetRecall: 0.95, nprobe: 1 });
    expect(chosen.nprobe).toBe(1);
    expect(chosen.expectedRecall).toBeCloseTo(0.9, 6);
  });
});

describe('nprobeLadder', () => {
  it('steps by about √2 and ends at nlist', () => {
    expect(nprobeLadder(1)).toEqual([1]);
    expect(nprobeLadder(10)).toEqual([1, 2, 3, 4, 6, 8, 10]);
    expect(nprobeLadder(256)).toEqual([1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64, 96, 128, 192, 256]);
  });
});

describe('measureGrowth', () => {
  function input(count: number, seed: number) {
    const random = new SeededRandom(seed);
    const dim = 8;
    const base = Float32Array.from({ length: count * dim }, () => random.nextGaussian());
    const queries = Float32Array.from({ length: 40 * dim }, () => random.nextGaussian());
    const coarse = trainKMeans(base, dim, 8, { seed: 1, maxIterations: 5 }).centroids;
    const pq = trainProductQuantizer(base, dim, { m: 2, seed: 2, maxIterations: 5 });
    return { metric: 'l2' as const, dim, base, queries, coarse, pq, targetRecall: 0.9 };
  }

  it('is the measured exponent plus the margin within [0.5, 1], the same for the same input', () => {
    const calibration = input(2_000, 11);
    const error = measureRankingError(calibration);
    const chosen = chooseSettings(error, { dim: 8, m: 2, targetRecall: 0.9 });
    const growth = measureGrowth(calibration, chosen);
    expect(growth).toBeGreaterThanOrEqual(0.5);
    expect(growth).toBeLessThanOrEqual(1);
    expect(measureGrowth(calibration, chosen)).toBe(growth);
    // calibrateIvfPq is the choice with this growth (as the codebook stores it, float32).
    expect(calibrateIvfPq(calibration)).toEqual({ ...chosen, growth: Math.fround(growth) });
  });

  it('is 1 (in proportion) when the subset is too small or the chosen pair missed the aim', () => {
    const small = input(150, 12); // a 37-vector subset cannot rank 10 neighbours of every query safely
    const chosen = chooseSettings(measureRankingError(small), { dim: 8, m: 2, targetRecall: 0.9 });
    expect(measureGrowth(small, chosen)).toBe(1);
    const large = input(2_000, 13);
    const missed = chooseSettings(measureRankingError(large), { dim: 8, m: 2, targetRecall: 0.9 });
    expect(measureGrowth(large, { ...missed, expectedRecall: 0.5 })).toBe(1);
  });

  it('is not measured when the user fixed the rerank (it is used as given)', () => {
    expect(calibrateIvfPq({ ...input(2_000, 14), rerank: 50 }).growth).toBe(1);
  });
});
