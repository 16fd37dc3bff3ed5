// Parity of the native kernels with their TypeScript twins on random and edge-case inputs, and the
// shape checks both share. Tolerance: the native code sums in float32, the reference in float64, so
// they may differ by the float32 worst-case rounding bound (dim + 8) · 2⁻²³ · Σ|terms| (see tolerance()).
import { describe, expect, it } from 'vitest';
import { isQuiverError } from '../src/errors.js';
import { type KernelMetric, type NativeKernels, nativeKernels } from '../src/native/kernels.js';
import { referenceKernels } from '../src/native-reference.js';
import { SeededRandom } from '../src/quant/random.js';

const METRICS: readonly KernelMetric[] = ['l2', 'ip'];
const DIMS = [1, 3, 17, 1024] as const;

function randomVectors(random: SeededRandom, count: number, dim: number): Float32Array {
  return Float32Array.from({ length: count * dim }, () => random.nextFloat() * 2 - 1);
}

/** Σ|terms| of one distance, the scale of its rounding error: l2 sums squares, ip sums |a·b| plus the 1. */
function termScale(metric: KernelMetric, a: Float32Array, aRow: number, b: Float32Array, bRow: number, dim: number) {
  let sum = metric === 'ip' ? 1 : 0;
  for (let axis = 0; axis < dim; axis++) {
    const x = a[aRow * dim + axis]!;
    const y = b[bRow * dim + axis]!;
    sum += metric === 'l2' ? (x - y) ** 2 : Math.abs(x * y);
  }
  return sum;
}

/** Worst-case float32 rounding of a sum of `terms` terms of total magnitude `scale`, with a margin. */
function tolerance(terms: number, scale: number): number {
  return (terms + 8) * 2 ** -23 * scale + 1e-30;
}

interface TopKCase {
  readonly metric: KernelMetric;
  readonly queries: Float32Array;
  readonly base: Float32Array;
  readonly dim: number;
  readonly k: number;
  readonly candidates?: Int32Array;
  readonly threads?: number;
}

function runTopK(kernels: NativeKernels, input: TopKCase) {
  const queryCount = input.queries.length / input.dim;
  const labels = new Int32Array(queryCount * input.k).fill(12345);
  const distances = new Float32Array(queryCount * input.k).fill(-7);
  kernels.exactTopK({ ...input, labels, distances });
  return { labels, distances };
}

/**
 * Native and reference top-k agree: same padding, distances within tolerance slot by slot, every
 * native label really has the distance reported, and where labels differ the two rows tie within
 * tolerance (a rounding difference may swap near-equal rows, never distant ones).
 */
function expectTopKParity(input: TopKCase) {
  const native = runTopK(nativeKernels, input);
  const reference = runTopK(referenceKernels, input);
  const queryCount = input.queries.length / input.dim;
  const baseCount = input.base.length / input.dim;
  const allDistances = new Float32Array(queryCount * baseCount);
  referenceKernels.distances({
    metric: input.metric,
    queries: input.queries,
    base: input.base,
    dim: input.dim,
    out: allDistances,
  });
  const scanned = input.candidates ?? Int32Array.from({ length: baseCount }, (_, row) => row);
  for (let query = 0; query < queryCount; query++) {
    let maxScale = 0;
    for (const row of scanned)
      maxScale = Math.max(maxScale, termScale(input.metric, input.queries, query, input.base, row, input.dim));
    const slack = tolerance(input.dim, maxScale);
    const seen = new Set<number>();
    for (let slot = 0; slot < input.k; slot++) {
      const index = query * input.k + slot;
      const nativeLabel = native.labels[index]!;
      const referenceLabel = reference.labels[index]!;
      if (slot >= scanned.length) {
        expect([nativeLabel, referenceLabel, native.distances[index], reference.distances[index]]).toEqual([
          -1,
          -1,
          Number.POSITIVE_INFINITY,
          Number.POSITIVE_INFINITY,
        ]);
        continue;
      }
      expect(nativeLabel).toBeGreaterThanOrEqual(0);
      expect(seen.has(nativeLabel)).toBe(false);
      seen.add(nativeLabel);
      expect(Math.abs(native.distances[index]! - reference.distances[index]!)).toBeLessThanOrEqual(slack);
      expect(Math.abs(native.distances[index]! - allDistances[query * baseCount + nativeLabel]!)).toBeLessThanOrEqual(
        slack,
      );
      if (nativeLabel !== referenceLabel) {
        const gap = allDistances[query * baseCount + nativeLabel]! - allDistances[query * baseCount + referenceLabel]!;
        expect(Math.abs(gap)).toBeLessThanOrEqual(2 * slack);
      }
    }
  }
  return { native, reference };
}

function expectInvalid(call: () => void, pattern: RegExp) {
  let caught: unknown;
  try {
    call();
  } catch (error) {
    caught = error;
  }
  expect(isQuiverError(caught, 'INVALID_ARGUMENT'), String(caught)).toBe(true);
  expect((caught as Error).message).toMatch(pattern);
}

describe('distances', () => {
  for (const metric of METRICS) {
    for (const dim of DIMS) {
      it(`matches the reference for ${metric}, dim ${dim}, several queries`, () => {
        const random = new SeededRandom(dim * 31 + metric.length);
        const queries = randomVectors(random, 3, dim);
        const base = randomVectors(random, dim === 1024 ? 40 : 300, dim);
        const baseCount = base.length / dim;
        const native = new Float32Array(3 * baseCount);
        const reference = new Float32Array(3 * baseCount);
        nativeKernels.distances({ metric, queries, base, dim, out: native });
        referenceKernels.distances({ metric, queries, base, dim, out: reference });
        for (let query = 0; query < 3; query++) {
          for (let row = 0; row < baseCount; row++) {
            const index = query * baseCount + row;
            const slack = tolerance(dim, termScale(metric, queries, query, base, row, dim));
            expect(Math.abs(native[index]! - reference[index]!)).toBeLessThanOrEqual(slack);
          }
        }
      });
    }
  }

  it('gives 0 (l2) and 1 (ip) between zero vectors, exactly', () => {
    const dim = 17;
    const zeros = new Float32Array(4 * dim);
    for (const metric of METRICS) {
      const out = new Float32Array(16);
      nativeKernels.distances({ metric, queries: zeros, base: zeros, dim, out });
      expect([...out]).toEqual(new Array(16).fill(metric === 'l2' ? 0 : 1));
    }
  });

  it('writes nothing for empty inputs: output buffers keep their sentinel values', () => {
    // Outputs longer than needed (0 entries) and filled with a sentinel: a kernel that writes
    // anything (a padding row, a stray slot) for zero queries or zero rows changes one of them.
    const SENTINEL = -123.5;
    for (const [name, kernels] of [
      ['native', nativeKernels],
      ['reference', referenceKernels],
    ] as const) {
      const out = new Float32Array(8).fill(SENTINEL);
      kernels.distances({ metric: 'l2', queries: new Float32Array(0), base: new Float32Array(6), dim: 3, out });
      kernels.distances({ metric: 'ip', queries: new Float32Array(3), base: new Float32Array(0), dim: 3, out });
      const labels = new Int32Array(8).fill(SENTINEL);
      const distances = new Float32Array(8).fill(SENTINEL);
      const noQueries = new Float32Array(0);
      kernels.exactTopK({
        metric: 'l2',
        queries: noQueries,
        base: new Float32Array(6),
        dim: 3,
        k: 2,
        labels,
        distances,
      });
      kernels.kmeansAssign({
        metric: 'l2',
        points: new Float32Array(0),
        centroids: new Float32Array(6),
        dim: 3,
        assignments: labels,
        distances,
      });
      kernels.adcTopK({ tables: new Float32Array(0), codes: new Uint8Array(4), m: 2, k: 2, labels, distances });
      expect([...out], name).toEqual(new Array(8).fill(SENTINEL));
      expect([...distances], name).toEqual(new Array(8).fill(SENTINEL));
      expect([...labels], name).toEqual(new Array(8).fill(Math.trunc(SENTINEL)));
    }
  });
});

describe('exactTopK', () => {
  for (const metric of METRICS) {
    for (const dim of DIMS) {
      it(`matches the reference for ${metric}, dim ${dim}, with k below, at and above n`, () => {
        const random = new SeededRandom(dim * 7 + metric.length);
        const baseCount = dim === 1024 ? 70 : 500;
        const queries = randomVectors(random, 4, dim);
        const base = randomVectors(random, baseCount, dim);
        for (const k of [1, 10, baseCount, baseCount + 5]) expectTopKParity({ metric, queries, base, dim, k });
      });

      it(`matches the reference for ${metric}, dim ${dim}, restricted to candidates`, () => {
        const random = new SeededRandom(dim * 13 + metric.length);
        const baseCount = dim === 1024 ? 70 : 500;
        const queries = randomVectors(random, 3, dim);
        const base = randomVectors(random, baseCount, dim);
        const candidates = Int32Array.from({ length: baseCount }, (_, row) => row)
          .filter(() => random.nextFloat() < 0.3)
          .reverse();
        for (const k of [1, 7, candidates.length + 2]) expectTopKParity({ metric, queries, base, dim, k, candidates });
        expectTopKParity({ metric, queries, base, dim, k: 3, candidates: new Int32Array(0) });
        expectTopKParity({ metric, queries, base, dim, k: 3, candidates: Int32Array.of(baseCount - 1) });
      });
    }
  }

  it('crosses many cache tiles and many queries (2,000 × 128, 9 queries)', () => {
    const random = new SeededRandom(99);
    const dim = 128;
    const queries = randomVectors(random, 9, dim);
    const base = randomVectors(random, 2000, dim);
    for (const metric of METRICS) expectTopKParity({ metric, queries, base, dim, k: 25 });
  });

  it('keeps exact distances when norms dwarf the distances (expanded-form cancellation, 6 queries)', () => {
    // Rows and queries near (100, …, 100): ‖q‖² + ‖b‖² − 2q·b loses about dim · 2⁻²⁴ · (‖q‖² + ‖b‖²)
    // to cancellation, far more than the distances' own rounding. The blocked kernel (4+ queries on
    // AVX2 CPUs) only selects with it and reports direct distances, so distances stay within the
    // usual tolerance and labels may differ only between rows within the cancellation bound.
    const random = new SeededRandom(123);
    const dim = 64;
    const near = (count: number) => Float32Array.from({ length: count * dim }, () => 100 + random.nextFloat() * 0.5);
    const queries = near(6);
    const base = near(700);
    base.set(queries.subarray(0, dim), 5 * dim); // an exact duplicate scores 0
    const native = runTopK(nativeKernels, { metric: 'l2', queries, base, dim, k: 10 });
    const reference = runTopK(referenceKernels, { metric: 'l2', queries, base, dim, k: 10 });
    const all = new Float32Array(6 * 700);
    referenceKernels.distances({ metric: 'l2', queries, base, dim, out: all });
    const normScale = 2 * dim * 100.5 ** 2;
    const cancellation = 2 * (dim + 8) * 2 ** -24 * normScale;
    expect(native.labels[0]).toBe(5);
    expect(native.distances[0]).toBe(0);
    for (let slot = 0; slot < native.labels.length; slot++) {
      const query = Math.floor(slot / 10);
      const label = native.labels[slot]!;
      const exact = all[query * 700 + label]!;
      expect(Math.abs(native.distances[slot]! - exact)).toBeLessThanOrEqual(tolerance(dim, exact));
      const gap = exact - all[query * 700 + reference.labels[slot]!]!;
      expect(Math.abs(gap)).toBeLessThanOrEqual(cancellation);
    }
  });

  it('ranks duplicate rows by lower index, identically in both', () => {
    const random = new SeededRandom(5);
    const dim = 17;
    const distinct = randomVectors(random, 20, dim);
    // Rows 20..59 repeat rows 0..19 twice over, so every distance occurs three times.
    const base = new Float32Array(60 * dim);
    for (let copy = 0; copy < 3; copy++) base.set(distinct, copy * 20 * dim);
    const queries = randomVectors(random, 2, dim);
    for (const metric of METRICS) {
      const { native, reference } = expectTopKParity({ metric, queries, base, dim, k: 12 });
      expect([...native.labels]).toEqual([...reference.labels]);
      for (let slot = 0; slot < 12; slot += 3) {
        const first = native.labels[slot]!;
        expect([native.labels[slot + 1], native.labels[slot + 2]]).toEqual([first + 20, first + 40]);
      }
    }
  });

  it('returns rows 0..k-1 when every distance ties (zero vectors)', () => {
    const dim = 3;
    for (const metric of METRICS) {
      const { native } = expectTopKParity({
        metric,
        queries: new Float32Array(dim),
        base: new Float32Array(10 * dim),
        dim,
        k: 4,
      });
      expect([...native.labels]).toEqual([0, 1, 2, 3]);
      expect([...native.distances]).toEqual(new Array(4).fill(metric === 'l2' ? 0 : 1));
    }
  });

  it('pads with -1 and +Infinity when the base is empty', () => {
    const result = runTopK(nativeKernels, {
      metric: 'l2',
      queries: new Float32Array(6),
      base: new Float32Array(0),
      dim: 3,
      k: 2,
    });
    expect([...result.labels]).toEqual([-1, -1, -1, -1]);
    expect([...result.distances]).toEqual(new Array(4).fill(Number.POSITIVE_INFINITY));
  });

  it('ranks a NaN distance as +Infinity, after every finite one, in both', () => {
    const dim = 3;
    const base = Float32Array.of(Number.NaN, 0, 0, 5, 5, 5, 1, 1, 1);
    const queries = new Float32Array(dim);
    for (const kernels of [nativeKernels, referenceKernels]) {
      const result = runTopK(kernels, { metric: 'l2', queries, base, dim, k: 4 });
      expect([...result.labels]).toEqual([2, 1, 0, -1]);
      expect([...result.distances]).toEqual([3, 75, Number.POSITIVE_INFINITY, Number.POSITIVE_INFINITY]);
    }
  });
});

/**
 * The threaded exact top-k: the same labels and distances, bit for bit, on every thread count, and
 * parity with the reference. The addon uses a thread per 2²⁰ multiply-adds (rows × dim × queries)
 * and cuts rows into up to 4 parts per thread of at least 256 rows (native/exact-scan.cc), so
 * these inputs are sized past that: row splits for 1 to 8 queries, a query split when rows are
 * too few to divide.
 */
describe('exactTopK on threads', () => {
  const THREADS = [2, 3, 8] as const;

  /** Runs the native kernel with threads 1 and every count in THREADS; all must agree exactly. */
  function expectSameOnEveryThreadCount(input: TopKCase) {
    const single = runTopK(nativeKernels, { ...input, threads: 1 } as TopKCase);
    for (const threads of THREADS) {
      const threaded = runTopK(nativeKernels, { ...input, threads } as TopKCase);
      expect([...threaded.labels], `threads ${threads}`).toEqual([...single.labels]);
      expect([...threaded.distances], `threads ${threads}`).toEqual([...single.distances]);
    }
    return single;
  }

  // rows × dim × queries ≈ 3.2–3.6 million: three threads, up to twelve parts.
  const SPLIT_SHAPES = [
    { dim: 1, rows: 400_000, queries: 8 },
    { dim: 3, rows: 150_000, queries: 8 },
    { dim: 17, rows: 25_000, queries: 8 },
    { dim: 1024, rows: 1_100, queries: 3 },
  ] as const;
  for (const metric of METRICS) {
    for (const { dim, rows, queries: queryCount } of SPLIT_SHAPES) {
      it(`splits ${rows} rows of dim ${dim} (${metric}, ${queryCount} queries) with the single-thread answer`, () => {
        const random = new SeededRandom(dim * 31 + metric.length);
        const queries = randomVectors(random, queryCount, dim);
        const base = randomVectors(random, rows, dim);
        for (const k of dim === 1024 ? [1, 10, rows + 5] : [1, 10]) {
          const input: TopKCase = { metric, queries, base, dim, k, threads: 2 };
          const { native } = expectTopKParity(input);
          const single = expectSameOnEveryThreadCount(input);
          expect([...native.labels]).toEqual([...single.labels]);
        }
      });
    }
  }

  it('splits a candidate list (shuffled, 70% of 25,000 rows of dim 17) with the single-thread answer', () => {
    const random = new SeededRandom(404);
    const dim = 17;
    const base = randomVectors(random, 25_000, dim);
    const queries = randomVectors(random, 8, dim);
    const candidates = Int32Array.from({ length: 25_000 }, (_, row) => row).filter(() => random.nextFloat() < 0.7);
    for (let i = candidates.length - 1; i > 0; i--) {
      const j = Math.floor(random.nextFloat() * (i + 1));
      [candidates[i], candidates[j]] = [candidates[j]!, candidates[i]!];
    }
    for (const metric of METRICS) {
      const input: TopKCase = { metric, queries, base, dim, k: 12, candidates, threads: 2 };
      expectTopKParity(input);
      expectSameOnEveryThreadCount(input);
    }
  });

  it('splits the queries when rows are few (300 rows: dim 17 × 500 queries, dim 1024 × 8 queries)', () => {
    const random = new SeededRandom(405);
    for (const [dim, queryCount, ks] of [
      [17, 500, [5]],
      [1024, 8, [5, 305]],
    ] as const) {
      const base = randomVectors(random, 300, dim);
      const queries = randomVectors(random, queryCount, dim);
      for (const metric of METRICS) {
        for (const k of ks) {
          const input: TopKCase = { metric, queries, base, dim, k, threads: 2 };
          expectTopKParity(input);
          expectSameOnEveryThreadCount(input);
        }
      }
    }
  });

  it('keeps ties to the lower row across parts (zeros; duplicates on both sides of a split)', () => {
    const dim = 1024;
    const zeros = { queries: new Float32Array(3 * dim), base: new Float32Array(1_100 * dim), dim, k: 5 };
    for (const metric of METRICS) {
      const single = expectSameOnEveryThreadCount({ metric, ...zeros });
      expect([...single.labels]).toEqual([0, 1, 2, 3, 4, 0, 1, 2, 3, 4, 0, 1, 2, 3, 4]);
    }
    // Rows 600..1199 repeat rows 0..599: with four parts or more, copies of a row sit in different parts.
    const random = new SeededRandom(406);
    const half = randomVectors(random, 600, dim);
    const base = new Float32Array(1_200 * dim);
    base.set(half);
    base.set(half, 600 * dim);
    const queries = randomVectors(random, 3, dim);
    for (const metric of METRICS) {
      const input: TopKCase = { metric, queries, base, dim, k: 8, threads: 3 };
      const { native, reference } = expectTopKParity(input);
      expect([...native.labels]).toEqual([...reference.labels]);
      expectSameOnEveryThreadCount(input);
      for (let slot = 0; slot < native.labels.length; slot += 2) {
        expect(native.labels[slot + 1]).toBe(native.labels[slot]! + 600);
      }
    }
  });
});

describe('kmeansAssign', () => {
  for (const metric of METRICS) {
    for (const dim of DIMS) {
      it(`matches the reference for ${metric}, dim ${dim}`, () => {
        const random = new SeededRandom(dim * 3 + metric.length);
        const pointCount = dim === 1024 ? 50 : 400;
        const points = randomVectors(random, pointCount, dim);
        const centroids = randomVectors(random, 24, dim);
        const results = [nativeKernels, referenceKernels].map((kernels) => {
          const assignments = new Int32Array(pointCount);
          const distances = new Float32Array(pointCount);
          kernels.kmeansAssign({ metric, points, centroids, dim, assignments, distances });
          return { assignments, distances };
        });
        const [native, reference] = results as [(typeof results)[0], (typeof results)[0]];
        const all = new Float32Array(pointCount * 24);
        referenceKernels.distances({ metric, queries: points, base: centroids, dim, out: all });
        for (let point = 0; point < pointCount; point++) {
          let scale = 0;
          for (let centroid = 0; centroid < 24; centroid++)
            scale = Math.max(scale, termScale(metric, points, point, centroids, centroid, dim));
          const slack = tolerance(dim, scale);
          expect(Math.abs(native.distances[point]! - reference.distances[point]!)).toBeLessThanOrEqual(slack);
          const gap = all[point * 24 + native.assignments[point]!]! - all[point * 24 + reference.assignments[point]!]!;
          expect(Math.abs(gap)).toBeLessThanOrEqual(2 * slack);
        }
      });
    }
  }

  it('assigns duplicate centroids to the lower index', () => {
    const dim = 3;
    const centroids = Float32Array.of(9, 9, 9, 1, 1, 1, 1, 1, 1);
    const points = Float32Array.of(1, 1, 1, 0, 0, 0, 8, 8, 8);
    for (const kernels of [nativeKernels, referenceKernels]) {
      const assignments = new Int32Array(3);
      const distances = new Float32Array(3);
      kernels.kmeansAssign({ metric: 'l2', points, centroids, dim, assignments, distances });
      expect([...assignments]).toEqual([1, 1, 0]);
      expect([...distances]).toEqual([0, 3, 3]);
    }
  });
});

describe('adcTopK', () => {
  function randomAdcCase(seed: number, m: number, codeCount: number, queryCount: number, integerTables: boolean) {
    const random = new SeededRandom(seed);
    const tables = Float32Array.from({ length: queryCount * m * 256 }, () =>
      integerTables ? random.nextInt(8) : random.nextFloat() * 4 - 1,
    );
    const codes = Uint8Array.from({ length: codeCount * m }, () => random.nextInt(256));
    return { tables, codes, m, random };
  }

  function runAdc(
    kernels: NativeKernels,
    input: { tables: Float32Array; codes: Uint8Array; m: number; k: number; candidates?: Int32Array },
  ) {
    const queryCount = input.tables.length / (input.m * 256);
    const labels = new Int32Array(queryCount * input.k);
    const distances = new Float32Array(queryCount * input.k);
    kernels.adcTopK({ ...input, labels, distances });
    return { labels, distances };
  }

  for (const m of [1, 3, 8, 17]) {
    it(`matches the reference with m ${m}, several tables, k above n, and candidates`, () => {
      const { tables, codes, random } = randomAdcCase(m, m, 300, 3, false);
      const candidates = Int32Array.from({ length: 300 }, (_, row) => row).filter(() => random.nextFloat() < 0.5);
      for (const input of [
        { tables, codes, m, k: 10 },
        { tables, codes, m, k: 305 },
        { tables, codes, m, k: 10, candidates },
        { tables, codes, m, k: candidates.length + 1, candidates },
      ]) {
        const native = runAdc(nativeKernels, input);
        const reference = runAdc(referenceKernels, input);
        // m float32 additions of terms below 3 in magnitude.
        const slack = tolerance(m, 3 * m);
        for (let index = 0; index < native.labels.length; index++) {
          const expected = reference.distances[index]!;
          if (expected === Number.POSITIVE_INFINITY) expect(native.distances[index]).toBe(expected);
          else expect(Math.abs(native.distances[index]! - expected)).toBeLessThanOrEqual(slack);
        }
        expect(native.labels.filter((label) => label === -1).length).toBe(
          reference.labels.filter((label) => label === -1).length,
        );
      }
    });
  }

  it('agrees label for label when sums are exact (integer tables, many ties, several tiles)', () => {
    const { tables, codes, m } = randomAdcCase(77, 8, 10_000, 2, true);
    const native = runAdc(nativeKernels, { tables, codes, m, k: 50 });
    const reference = runAdc(referenceKernels, { tables, codes, m, k: 50 });
    expect([...native.labels]).toEqual([...reference.labels]);
    expect([...native.distances]).toEqual([...reference.distances]);
  });
});

describe('shape checks', () => {
  const dim = 3;
  const base = new Float32Array(4 * dim);
  const queries = new Float32Array(2 * dim);
  for (const [name, kernels] of [
    ['native', nativeKernels],
    ['reference', referenceKernels],
  ] as const) {
    it(`rejects bad shapes before running (${name})`, () => {
      const labels = new Int32Array(4);
      const distances = new Float32Array(4);
      expectInvalid(
        () => kernels.exactTopK({ metric: 'l2', queries: new Float32Array(4), base, dim, k: 2, labels, distances }),
        /queries has 4 numbers/,
      );
      expectInvalid(
        () => kernels.exactTopK({ metric: 'l2', queries, base: new Float32Array(13), dim, k: 2, labels, distances }),
        /base has 13/,
      );
      expectInvalid(
        () => kernels.exactTopK({ metric: 'l2', queries, base, dim, k: 0, labels, distances }),
        /k must be/,
      );
      expectInvalid(
        () => kernels.exactTopK({ metric: 'l2', queries, base, dim: 0, k: 1, labels, distances }),
        /dim must be/,
      );
      for (const threads of [0, 1.5, 257]) {
        expectInvalid(
          () => kernels.exactTopK({ metric: 'l2', queries, base, dim, k: 2, labels, distances, threads }),
          /threads must be an integer from 1 to 256/,
        );
      }
      expectInvalid(
        () => kernels.exactTopK({ metric: 'l2', queries, base, dim, k: 3, labels, distances }),
        /labels holds 4/,
      );
      expectInvalid(
        () => kernels.exactTopK({ metric: 'cosine' as KernelMetric, queries, base, dim, k: 2, labels, distances }),
        /metric must be/,
      );
      expectInvalid(
        () =>
          kernels.exactTopK({
            metric: 'l2',
            queries,
            base,
            dim,
            k: 2,
            labels,
            distances,
            candidates: Int32Array.of(0, 4),
          }),
        /candidates\[1\] is 4/,
      );
      expectInvalid(
        () =>
          kernels.exactTopK({
            metric: 'l2',
            queries,
            base,
            dim,
            k: 2,
            labels,
            distances,
            candidates: Int32Array.of(-1),
          }),
        /candidates\[0\] is -1/,
      );
      expectInvalid(
        () => kernels.distances({ metric: 'ip', queries, base, dim, out: new Float32Array(7) }),
        /out holds 7/,
      );
      expectInvalid(
        () => kernels.distances({ metric: 'ip', queries, base, dim, out: base }),
        /shares memory with base/,
      );
      expectInvalid(
        () =>
          kernels.kmeansAssign({
            metric: 'l2',
            points: base,
            centroids: new Float32Array(0),
            dim,
            assignments: labels,
            distances,
          }),
        /centroids is empty/,
      );
      expectInvalid(
        () =>
          kernels.kmeansAssign({
            metric: 'l2',
            points: base,
            centroids: queries,
            dim,
            assignments: new Int32Array(3),
            distances,
          }),
        /assignments holds 3/,
      );
      expectInvalid(
        () =>
          kernels.adcTopK({ tables: new Float32Array(255), codes: new Uint8Array(4), m: 1, k: 1, labels, distances }),
        /tables has 255 numbers/,
      );
      expectInvalid(
        () =>
          kernels.adcTopK({ tables: new Float32Array(512), codes: new Uint8Array(5), m: 2, k: 1, labels, distances }),
        /codes has 5/,
      );
      expectInvalid(
        () =>
          kernels.adcTopK({
            tables: new Float32Array(512),
            codes: new Uint8Array(4),
            m: 2,
            k: 1,
            labels,
            distances,
            candidates: Int32Array.of(2),
          }),
        /candidates\[0\] is 2/,
      );
      expectInvalid(
        () =>
          kernels.exactTopK({
            metric: 'l2',
            queries,
            base,
            dim,
            k: 2,
            labels,
            distances: new Float32Array(labels.buffer),
          }),
        /shares memory/,
      );
    });
  }

  it('accepts views into larger buffers (byteOffset) and reads only the view', () => {
    const random = new SeededRandom(3);
    const storage = randomVectors(random, 40, dim);
    const view = storage.subarray(5 * dim, 25 * dim);
    const query = storage.subarray(0, dim);
    expectTopKParity({ metric: 'l2', queries: query, base: view, dim, k: 5 });
  });
});

describe('crc32', () => {
  // The folded path takes runs of 64 bytes or more in multiples of 16 and leaves the rest to the
  // table loop: every length up to 300 at every alignment crosses each of its boundaries.
  it('equals the reference (node:zlib) at every length, alignment and starting CRC, folded and portable', () => {
    const random = new SeededRandom(31);
    const data = Uint8Array.from({ length: 320 }, () => random.nextInt(256));
    for (let start = 0; start < 16; start += 3) {
      for (let length = 0; length + start <= 320; length++) {
        const piece = data.subarray(start, start + length);
        const previous = (length * 2654435761) >>> 0;
        const expected = referenceKernels.crc32(piece, previous);
        expect(nativeKernels.crc32(piece, previous)).toBe(expected);
        expect(nativeKernels.crc32(piece, previous, true)).toBe(expected);
      }
    }
  });

  it('chains over pieces of a large buffer as over the whole, and handles zeros and ones', () => {
    const random = new SeededRandom(32);
    const large = Uint8Array.from({ length: 3 * 2 ** 20 + 77 }, () => random.nextInt(256));
    const whole = referenceKernels.crc32(large);
    expect(nativeKernels.crc32(large)).toBe(whole);
    expect(nativeKernels.crc32(large, 0, true)).toBe(whole);
    let chained = 0;
    for (let at = 0; at < large.length; at += 100_003)
      chained = nativeKernels.crc32(large.subarray(at, at + 100_003), chained);
    expect(chained).toBe(whole);
    for (const fill of [0, 255]) {
      const bytes = new Uint8Array(4096 + 5).fill(fill);
      expect(nativeKernels.crc32(bytes)).toBe(referenceKernels.crc32(bytes));
    }
    expect(nativeKernels.crc32(new TextEncoder().encode('123456789'))).toBe(0xcbf43926);
  });

  it('rejects what is not bytes, and a starting CRC out of range, as INVALID_ARGUMENT', () => {
    const code = (call: () => unknown) => {
      try {
        call();
      } catch (error) {
        return isQuiverError(error, 'INVALID_ARGUMENT') ? 'INVALID_ARGUMENT' : String(error);
      }
      return 'no error';
    };
    expect(code(() => nativeKernels.crc32(new Float32Array(4) as unknown as Uint8Array))).toBe('INVALID_ARGUMENT');
    expect(code(() => nativeKernels.crc32(new Uint8Array(4), -1))).toBe('INVALID_ARGUMENT');
    expect(code(() => nativeKernels.crc32(new Uint8Array(4), 2 ** 32))).toBe('INVALID_ARGUMENT');
    expect(code(() => nativeKernels.crc32(new Uint8Array(4), 1.5))).toBe('INVALID_ARGUMENT');
  });
});
