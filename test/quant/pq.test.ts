// Product quantization: sub-space layout, reconstruction error on the siftsmall fixture, ADC tables
// that sum to the exact distance to the decoded vector, tiny training sets, determinism, bad input.
import { beforeAll, describe, expect, it } from 'vitest';
import { isQuiverError } from '../../src/errors.js';
import { type KernelMetric, nativeKernels } from '../../src/native/kernels.js';
import { referenceKernels } from '../../src/native-reference.js';
import { ProductQuantizer, subspaceOffsets, trainProductQuantizer } from '../../src/quant/pq.js';
import { SeededRandom } from '../../src/quant/random.js';
import { readFvecs } from '../helpers/fvecs.js';

const SIFT_BASE = 'test/fixtures/siftsmall/base.fvecs';
const SIFT_QUERY = 'test/fixtures/siftsmall/query.fvecs';

function randomVectors(seed: number, count: number, dim: number): Float32Array {
  const random = new SeededRandom(seed);
  return Float32Array.from({ length: count * dim }, () => random.nextGaussian());
}

/** Mean over vectors of the squared L2 distance between rows of `a` and `b`. */
function meanSquaredError(a: Float32Array, b: Float32Array, dim: number): number {
  let sum = 0;
  for (let index = 0; index < a.length; index++) sum += (a[index]! - b[index]!) ** 2;
  return sum / (a.length / dim);
}

/** Total variance: mean squared distance of the vectors to their mean. */
function totalVariance(vectors: Float32Array, dim: number): number {
  const count = vectors.length / dim;
  const mean = new Float64Array(dim);
  for (let index = 0; index < vectors.length; index++) mean[index % dim]! += vectors[index]! / count;
  let sum = 0;
  for (let index = 0; index < vectors.length; index++) sum += (vectors[index]! - mean[index % dim]!) ** 2;
  return sum / count;
}

/** Sum of a code's table entries, in float64. */
function adcSum(table: Float32Array, codes: Uint8Array, row: number, m: number): number {
  let sum = 0;
  for (let subspace = 0; subspace < m; subspace++) sum += table[subspace * 256 + codes[row * m + subspace]!]!;
  return sum;
}

function expectCode(call: () => unknown, code: string) {
  let caught: unknown;
  try {
    call();
  } catch (error) {
    caught = error;
  }
  expect(isQuiverError(caught), String(caught)).toBe(true);
  expect((caught as { code: string }).code).toBe(code);
}

describe('subspaceOffsets', () => {
  it('splits evenly when m divides dim and makes the first dim % m one wider otherwise', () => {
    expect(subspaceOffsets(128, 16)).toEqual(Array.from({ length: 17 }, (_, subspace) => subspace * 8));
    expect(subspaceOffsets(17, 5)).toEqual([0, 4, 8, 11, 14, 17]);
    expect(subspaceOffsets(3, 3)).toEqual([0, 1, 2, 3]);
    expect(subspaceOffsets(1, 1)).toEqual([0, 1]);
    expectCode(() => subspaceOffsets(4, 5), 'INVALID_ARGUMENT');
    expectCode(() => subspaceOffsets(4, 0), 'INVALID_ARGUMENT');
  });
});

describe('ProductQuantizer on siftsmall (10,000 × 128, m = 16)', () => {
  let base: Float32Array;
  let queries: Float32Array;
  let pq: ProductQuantizer;
  let codes: Uint8Array;
  const dim = 128;

  beforeAll(() => {
    base = readFvecs(SIFT_BASE).vectors;
    queries = readFvecs(SIFT_QUERY, 5).vectors;
    pq = trainProductQuantizer(base, dim, { m: 16, seed: 7 });
    codes = pq.encode(base);
  });

  it('reconstructs the data with an error well below its variance', () => {
    expect(pq.centroidsPerSubspace).toBe(256);
    expect(codes.length).toBe(10_000 * 16);
    const variance = totalVariance(base, dim);
    const error = meanSquaredError(base, pq.decode(codes), dim);
    // 8 bits per 8-dimensional sub-space is 1 bit per dimension. Even for independent gaussian data
    // the rate-distortion bound gives 2^-2 = 25% of the variance; SIFT's correlated dimensions do
    // far better (about 7.5% measured in-sample with this seed). 10% leaves room for platform
    // rounding to move k-means to another local minimum, and still fails a broken quantizer.
    expect(error / variance).toBeLessThan(0.1);
    // Held-out vectors (the queries were not trained on) are reconstructed nearly as well.
    const queryError = meanSquaredError(queries, pq.decode(pq.encode(queries)), dim);
    expect(queryError / variance).toBeLessThan(0.15);
  });

  for (const metric of ['l2', 'ip'] as const) {
    it(`makes ${metric} ADC sums equal the exact distance to the decoded vector`, () => {
      const decoded = pq.decode(codes.subarray(0, 500 * 16));
      const exact = new Float32Array(5 * 500);
      referenceKernels.distances({ metric, queries, base: decoded, dim, out: exact });
      const tables = pq.adcTables(queries, metric);
      for (let query = 0; query < 5; query++) {
        const table = tables.subarray(query * 16 * 256, (query + 1) * 16 * 256);
        for (let row = 0; row < 500; row++) {
          const expected = exact[query * 500 + row]!;
          // Table entries are float32-rounded partial sums; SIFT distances reach ~10⁵-10⁶ (l2) and dots
          // ~10⁵ (ip), so allow 16 float32 roundings of the largest magnitude involved.
          const scale = Math.max(1, Math.abs(expected), Math.abs(1 - expected));
          expect(Math.abs(adcSum(table, codes, row, 16) - expected)).toBeLessThanOrEqual(16 * 2 ** -23 * scale * 4);
        }
      }
    });
  }

  it('ranks by ADC like an exact scan over the decoded vectors (native adcTopK)', () => {
    const tables = pq.adcTables(queries, 'l2');
    const k = 20;
    const adcLabels = new Int32Array(5 * k);
    const adcDistances = new Float32Array(5 * k);
    nativeKernels.adcTopK({ tables, codes, m: 16, k, labels: adcLabels, distances: adcDistances });
    const exactLabels = new Int32Array(5 * k);
    const exactDistances = new Float32Array(5 * k);
    nativeKernels.exactTopK({
      metric: 'l2',
      queries,
      base: pq.decode(codes),
      dim,
      k,
      labels: exactLabels,
      distances: exactDistances,
    });
    for (let slot = 0; slot < 5 * k; slot++) {
      expect(Math.abs(adcDistances[slot]! - exactDistances[slot]!)).toBeLessThanOrEqual(1e-4 * exactDistances[slot]!);
    }
    // Decoded vectors can coincide, so compare sets of labels at equal distances via the distances above,
    // and require most labels to match position for position.
    let same = 0;
    for (let slot = 0; slot < 5 * k; slot++) if (adcLabels[slot] === exactLabels[slot]) same++;
    expect(same).toBeGreaterThan(0.9 * 5 * k);
  });

  it('fills the ADC table with the constant 1 in sub-space 0 only, for ip', () => {
    const zero = new Float32Array(dim);
    const table = pq.adcTable(zero, 'ip');
    expect([...table.subarray(0, 256)]).toEqual(new Array(256).fill(1));
    expect(table.subarray(256).every((value) => value === 0)).toBe(true);
  });
});

describe('ProductQuantizer on small and uneven inputs', () => {
  it('uses one centroid per training vector when there are fewer than 256, and decodes them exactly', () => {
    const dim = 6;
    const vectors = randomVectors(1, 10, dim);
    const pq = trainProductQuantizer(vectors, dim, { m: 3, seed: 2 });
    expect(pq.centroidsPerSubspace).toBe(10);
    const codes = pq.encode(vectors);
    expect(Math.max(...codes)).toBeLessThan(10);
    expect(pq.decode(codes)).toEqual(vectors);
    // Codes that do not exist have +Infinity in the table and are rejected by decode.
    const table = pq.adcTable(vectors.subarray(0, dim), 'l2');
    expect(table.subarray(10, 256).every((value) => value === Number.POSITIVE_INFINITY)).toBe(true);
    expectCode(() => pq.decode(Uint8Array.of(0, 10, 0)), 'INVALID_ARGUMENT');
  });

  for (const metric of ['l2', 'ip'] as KernelMetric[]) {
    it(`handles dim 17 in m 5 uneven sub-spaces (${metric} ADC = exact on decoded)`, () => {
      const dim = 17;
      const vectors = randomVectors(3, 600, dim);
      const pq = trainProductQuantizer(vectors, dim, { m: 5, seed: 4 });
      expect(pq.offsets).toEqual([0, 4, 8, 11, 14, 17]);
      const codes = pq.encode(vectors);
      const decoded = pq.decode(codes);
      expect(meanSquaredError(vectors, decoded, dim)).toBeLessThan(totalVariance(vectors, dim));
      const query = randomVectors(5, 1, dim);
      const exact = new Float32Array(600);
      referenceKernels.distances({ metric, queries: query, base: decoded, dim, out: exact });
      const table = pq.adcTable(query, metric);
      for (let row = 0; row < 600; row++) {
        expect(Math.abs(adcSum(table, codes, row, 5) - exact[row]!)).toBeLessThanOrEqual(
          1e-5 * (1 + Math.abs(exact[row]!)),
        );
      }
    });
  }

  it('encodes in chunks consistently with one call per vector, into a caller buffer', () => {
    const dim = 4;
    const vectors = randomVectors(6, 20_000, dim);
    const pq = trainProductQuantizer(vectors, dim, { m: 2, seed: 1, maxTrainingPoints: 2000, maxIterations: 5 });
    const codes = new Uint8Array(20_000 * 2);
    pq.encode(vectors, codes);
    for (const row of [0, 16_383, 16_384, 19_999]) {
      expect([...pq.encode(vectors.subarray(row * dim, (row + 1) * dim))]).toEqual([
        ...codes.subarray(row * 2, row * 2 + 2),
      ]);
    }
  });

  it('is deterministic for a seed', () => {
    const vectors = randomVectors(8, 700, 12);
    const first = trainProductQuantizer(vectors, 12, { m: 4, seed: 5, maxIterations: 8 });
    const second = trainProductQuantizer(vectors, 12, { m: 4, seed: 5, maxIterations: 8 });
    expect(second.centroids).toEqual(first.centroids);
  });

  it('rejects bad shapes and options', () => {
    const vectors = randomVectors(9, 20, 4);
    expectCode(() => trainProductQuantizer(vectors, 4, { m: 5 }), 'INVALID_ARGUMENT');
    expectCode(() => trainProductQuantizer(new Float32Array(0), 4, { m: 2 }), 'INVALID_ARGUMENT');
    expectCode(() => trainProductQuantizer(vectors.subarray(1), 4, { m: 2 }), 'INVALID_ARGUMENT');
    const pq = trainProductQuantizer(vectors, 4, { m: 2 });
    expectCode(() => pq.encode(new Float32Array(5)), 'INVALID_ARGUMENT');
    expectCode(() => pq.encode(vectors, new Uint8Array(3)), 'INVALID_ARGUMENT');
    expectCode(() => pq.decode(new Uint8Array(3)), 'INVALID_ARGUMENT');
    expectCode(() => pq.adcTable(new Float32Array(3), 'l2'), 'INVALID_ARGUMENT');
    expectCode(() => pq.adcTable(new Float32Array(4), 'cosine' as KernelMetric), 'INVALID_ARGUMENT');
    expectCode(() => new ProductQuantizer(4, 2, 3, new Float32Array(11)), 'INVALID_ARGUMENT');
    expectCode(() => new ProductQuantizer(4, 2, 257, new Float32Array(257 * 4)), 'INVALID_ARGUMENT');
  });
});
