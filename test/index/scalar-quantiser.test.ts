// The int8 quantiser (src/index/scalar-quantiser.ts) and its native twin (native/scalar-quantiser.*):
// learned ranges, codes, decoding and both native int8 kernels (AVX2 'simd' and the portable loops
// behind 'hnswlib') against the TypeScript reference, on random and edge-case inputs.
import { describe, expect, it } from 'vitest';
import { CLIP_QUANTILE, learnRanges, ScalarQuantiser } from '../../src/index/scalar-quantiser.js';
import { createHnswGraph, type HnswKernels, type Int8Ranges } from '../../src/native/hnsw-graph.js';
import { isQuiverError } from '../../src/errors.js';
import { random } from '../helpers/random.js';

function randomMatrix(rows: number, dim: number, seed: number, scale = 1): Float32Array {
  const next = random(seed);
  return Float32Array.from({ length: rows * dim }, () => (next() * 2 - 1) * scale);
}

function row(matrix: Float32Array, dim: number, index: number): Float32Array {
  return matrix.subarray(index * dim, (index + 1) * dim);
}

/** An int8 graph over `rows`, labels 0..count-1, single-threaded. */
function int8Graph(space: 'l2' | 'ip', rows: Float32Array, dim: number, ranges: Int8Ranges, kernels: HnswKernels) {
  const count = rows.length / dim;
  const graph = createHnswGraph(space, dim, kernels, kernels === 'simd' ? 'sorted' : 'hnswlib', ranges);
  graph.init({ maxElements: Math.max(count, 1), m: 8, efConstruction: 50, seed: 100 });
  graph.addBatch(
    rows,
    Uint32Array.from({ length: count }, (_, i) => i),
    1,
  );
  return graph;
}

describe('learnRanges', () => {
  it('clips each dimension at the 0.1% and 99.9% quantiles, so one outlier does not stretch the range', () => {
    const count = 5001;
    const rows = new Float32Array(count * 2);
    for (let i = 0; i < count; i++) {
      rows[2 * i] = i / (count - 1); // 0 … 1 evenly
      rows[2 * i + 1] = 7; // one value
    }
    rows[0] = -1000; // an outlier
    const { lows, highs } = learnRanges(rows, 2);
    const lowRank = Math.floor(CLIP_QUANTILE * (count - 1));
    expect(lows[0]).toBe(Math.fround(lowRank / (count - 1)));
    expect(highs[0]).toBe(Math.fround((count - 1 - lowRank) / (count - 1)));
    expect([lows[1], highs[1]]).toEqual([7, 7]);
  });

  it('learns from an even sample when given more rows than it needs', () => {
    const rows = randomMatrix(50_000, 3, 1);
    const { lows, highs } = learnRanges(rows, 3);
    for (let d = 0; d < 3; d++) {
      expect(lows[d]).toBeGreaterThan(-1);
      expect(lows[d]).toBeLessThan(-0.99);
      expect(highs[d]).toBeLessThan(1);
      expect(highs[d]).toBeGreaterThan(0.99);
    }
  });
});

describe('ScalarQuantiser', () => {
  it('encodes within half a step, clamps values outside the range, and gives a point range code 0', () => {
    const quantiser = new ScalarQuantiser({ lows: Float32Array.of(-1, 0, 5), highs: Float32Array.of(1, 254, 5) });
    const { codes } = quantiser.encode(Float32Array.of(0.5, 300, 9));
    expect(Array.from(codes)).toEqual([64, 127, 0]);
    expect(Array.from(quantiser.encode(Float32Array.of(-3, -1, 5)).codes)).toEqual([-127, -127, 0]);
    const next = random(3);
    for (let i = 0; i < 1000; i++) {
      const value = Math.fround(next() * 2 - 1);
      const decoded = quantiser.decode(quantiser.encode(Float32Array.of(value, 0, 5)).codes);
      expect(Math.abs(decoded[0]! - value)).toBeLessThanOrEqual(quantiser.steps[0]! / 2 + 1e-7);
      expect(decoded[2]).toBe(5);
    }
  });

  it('scores codes as the decoded vectors: l2 and 1 - dot', () => {
    const dim = 17;
    const rows = randomMatrix(40, dim, 4);
    const quantiser = new ScalarQuantiser(learnRanges(rows, dim));
    for (let i = 0; i + 1 < 40; i += 2) {
      const a = quantiser.encode(row(rows, dim, i));
      const b = quantiser.encode(row(rows, dim, i + 1));
      const x = quantiser.decode(a.codes);
      const y = quantiser.decode(b.codes);
      let l2 = 0;
      let dot = 0;
      for (let d = 0; d < dim; d++) {
        l2 += (x[d]! - y[d]!) ** 2;
        dot += x[d]! * y[d]!;
      }
      expect(quantiser.distance('l2', a, b)).toBeCloseTo(l2, 4);
      expect(quantiser.distance('ip', a, b)).toBeCloseTo(1 - dot, 4);
    }
  });
});

describe('the native int8 graph against the TypeScript reference', () => {
  const duplicated = randomMatrix(1, 5, 9); // one row, ten times over
  const cases: { name: string; dim: number; rows: Float32Array }[] = [
    { name: 'dim 1', dim: 1, rows: randomMatrix(20, 1, 5) },
    { name: 'dim 3', dim: 3, rows: randomMatrix(50, 3, 6, 10) },
    { name: 'dim 17', dim: 17, rows: randomMatrix(60, 17, 7) },
    { name: 'dim 1024', dim: 1024, rows: randomMatrix(30, 1024, 8, 0.05) },
    { name: 'zeros', dim: 8, rows: new Float32Array(8 * 10) },
    { name: 'duplicates', dim: 5, rows: Float32Array.from({ length: 50 }, (_, i) => duplicated[i % 5]!) },
    // Two 16-dimension steps and a tail; one 32-dimension step, one 16 and a tail.
    { name: 'dim 33', dim: 33, rows: randomMatrix(40, 33, 13, 3) },
    { name: 'dim 49', dim: 49, rows: randomMatrix(40, 49, 14) },
    // Every third dimension constant: steps of 0 there.
    {
      name: 'constant dimensions',
      dim: 21,
      rows: randomMatrix(40, 21, 15).map((value, i) => (i % 3 === 0 ? 0.25 : value)),
    },
  ];

  for (const { name, dim, rows } of cases) {
    for (const space of ['l2', 'ip'] as const) {
      for (const kernels of ['simd', 'hnswlib'] as const) {
        it(`${name}, ${space}, ${kernels === 'simd' ? 'AVX2' : 'portable'} kernel: codes decode alike and distances agree`, () => {
          const count = rows.length / dim;
          // Ranges from half the rows, so the others include values that clamp.
          const ranges = learnRanges(rows, dim, Math.max(1, Math.floor(count / 2)));
          const quantiser = new ScalarQuantiser(ranges);
          const graph = int8Graph(space, rows, dim, ranges, kernels);
          const labels = Uint32Array.from({ length: count }, (_, i) => i);
          const decoded = new Float32Array(count * dim);
          graph.readVectors(labels, decoded);
          for (let i = 0; i < count; i++) {
            expect(row(decoded, dim, i)).toEqual(quantiser.decode(quantiser.encode(row(rows, dim, i)).codes));
          }
          const query = randomMatrix(1, dim, 10 + dim);
          const prepared = quantiser.prepareQuery(space, query);
          const outLabels = new Uint32Array(count);
          const outDistances = new Float32Array(count);
          graph.exactAmong(query, labels, count, outLabels, outDistances, 1);
          for (let i = 0; i < count; i++) {
            const expected = quantiser.queryDistance(space, prepared, quantiser.encode(row(rows, dim, outLabels[i]!)));
            // The integer sum is exact and the last steps are shared: both kernels give the reference's bits.
            expect(outDistances[i]).toBe(expected);
          }
          // The stored ↔ stored kernel, every row against the next: the portable one adds in the
          // reference's order (the same bits); AVX2 adds in lanes (a relative tolerance).
          const first = labels;
          const second = labels.map((label) => (label + 1) % count);
          const stored = new Float32Array(count);
          graph.storedDistances(first, second, stored);
          for (let i = 0; i < count; i++) {
            const expected = quantiser.distance(
              space,
              quantiser.encode(row(rows, dim, first[i]!)),
              quantiser.encode(row(rows, dim, second[i]!)),
            );
            if (kernels === 'hnswlib') expect(stored[i]).toBe(expected);
            else expect(Math.abs(stored[i]! - expected)).toBeLessThanOrEqual(1e-5 * (1 + Math.abs(expected)) * dim);
          }
          // And the reference is the distance to the decoded vector, up to the rounding of the query
          // values (|Q_d − K·v_d| ≤ ½, so |S/K − Σ v_d·c_d| ≤ Σ |c_d| / 2K) and of the float32 result.
          for (let i = 0; i < count; i++) {
            const code = quantiser.encode(row(rows, dim, i));
            const decoded = quantiser.decode(code.codes);
            let exact = space === 'l2' ? 0 : 1;
            let codeSum = 0;
            for (let d = 0; d < dim; d++) {
              exact += space === 'l2' ? (query[d]! - decoded[d]!) ** 2 : -query[d]! * decoded[d]!;
              codeSum += Math.abs(code.codes[d]!);
            }
            const bound = ((space === 'l2' ? 2 : 1) * codeSum) / (2 * prepared.divisor) + 1e-5 * (1 + Math.abs(exact));
            expect(Math.abs(quantiser.queryDistance(space, prepared, code) - exact)).toBeLessThanOrEqual(bound);
          }
          graph.dispose();
        });
      }
    }
  }

  // |Q_d·c_d| at its largest (32767·127) in every dimension: without their flush to 64 bits every
  // 4096 dimensions, the AVX2 kernel's 32-bit lanes (two accumulators, one step per 32 dimensions)
  // would overflow past 258 steps, beyond 8256 dimensions.
  for (const dim of [4096, 16_400]) {
    for (const space of ['l2', 'ip'] as const) {
      for (const kernels of ['simd', 'hnswlib'] as const) {
        it(`dim ${dim}, ${space}, ${kernels === 'simd' ? 'AVX2' : 'portable'} kernel: the largest products sum exactly`, () => {
          const ranges = { lows: new Float32Array(dim).fill(-1), highs: new Float32Array(dim).fill(1) };
          const quantiser = new ScalarQuantiser(ranges);
          // Clipped to codes 127 and −127, and alternating signs.
          const rows = new Float32Array(3 * dim);
          for (let d = 0; d < dim; d++) {
            rows[d] = 5;
            rows[dim + d] = -5;
            rows[2 * dim + d] = d % 2 === 0 ? 5 : -5;
          }
          const graph = int8Graph(space, rows, dim, ranges, kernels);
          const query = new Float32Array(dim).fill(1); // every v_d alike: every Q_d is 32767
          const prepared = quantiser.prepareQuery(space, query);
          expect(prepared.values.every((value) => value === 32767)).toBe(true);
          const labels = Uint32Array.of(0, 1, 2);
          const outLabels = new Uint32Array(3);
          const outDistances = new Float32Array(3);
          graph.exactAmong(query, labels, 3, outLabels, outDistances, 1);
          const byLabel = new Map(Array.from(outLabels, (label, i) => [label, outDistances[i]!]));
          for (let label = 0; label < 3; label++) {
            const expected = quantiser.queryDistance(space, prepared, quantiser.encode(row(rows, dim, label)));
            expect(byLabel.get(label)).toBe(expected);
          }
          // Decoded, the rows are all 1, all −1 and alternating: exact distances 0, 4·dim, 2·dim (l2);
          // 1 − dim, 1 + dim, 1 (ip).
          const exact = space === 'l2' ? [0, 4 * dim, 2 * dim] : [1 - dim, 1 + dim, 1];
          for (let label = 0; label < 3; label++) {
            expect(Math.abs(byLabel.get(label)! - exact[label]!)).toBeLessThanOrEqual(1e-3 * dim);
          }
          graph.dispose();
        });
      }
    }
  }

  it('storedDistances refuses bad shapes with INVALID_ARGUMENT and a missing label with NATIVE_ERROR', () => {
    const rows = randomMatrix(4, 3, 16);
    const ranges = learnRanges(rows, 3);
    const graph = int8Graph('l2', rows, 3, ranges, 'simd');
    const code = (action: () => void) => {
      try {
        action();
      } catch (error) {
        return isQuiverError(error) ? error.code : String(error);
      }
      return undefined;
    };
    const out = new Float32Array(2);
    expect(code(() => graph.storedDistances(Uint32Array.of(0, 1), Uint32Array.of(2), out))).toBe('INVALID_ARGUMENT');
    expect(code(() => graph.storedDistances(Uint32Array.of(0, 1), Uint32Array.of(2, 3), new Float32Array(1)))).toBe(
      'INVALID_ARGUMENT',
    );
    const shared = new Uint32Array(4);
    const overlapping = new Float32Array(shared.buffer, 0, 2);
    expect(code(() => graph.storedDistances(shared.subarray(0, 2), shared.subarray(2), overlapping))).toBe(
      'INVALID_ARGUMENT',
    );
    expect(code(() => graph.storedDistances(Uint32Array.of(0), Uint32Array.of(9), out))).toBe('NATIVE_ERROR');
    graph.storedDistances(Uint32Array.of(0, 3), Uint32Array.of(0, 3), out);
    expect(Array.from(out)).toEqual([0, 0]);
    graph.dispose();
  });

  it('refuses ranges of another dim or not finite with INVALID_ARGUMENT', () => {
    const bad: Int8Ranges[] = [
      { lows: new Float32Array(2), highs: new Float32Array(3) },
      { lows: Float32Array.of(0, 1, Number.NaN), highs: Float32Array.of(1, 2, 3) },
      { lows: Float32Array.of(0, 1, 4), highs: Float32Array.of(1, 2, 3) },
      { lows: Float32Array.of(0, 1, 2), highs: Float32Array.of(1, 2, 3), format: 3 as 1 },
    ];
    for (const ranges of bad) {
      let caught: unknown;
      try {
        createHnswGraph('l2', 3, 'simd', 'sorted', ranges);
      } catch (error) {
        caught = error;
      }
      expect(isQuiverError(caught) && caught.code).toBe('INVALID_ARGUMENT');
    }
  });
});
