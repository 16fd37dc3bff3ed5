// Tests for bench/datasets/synthetic.ts: determinism per seed, shapes, spec parsing, bad options.

import { describe, expect, it } from 'vitest';
import { generateSynthetic, parseSyntheticSpec, SeededRandom, syntheticName } from '../../bench/datasets/synthetic.js';
import { QuiverError } from '../../src/errors.js';

describe('generateSynthetic', () => {
  it('gives the same bytes for the same seed and different bytes for another', () => {
    const options = { n: 300, dim: 24, clusters: 7, intrinsic: 8, queries: 20 };
    const first = generateSynthetic({ ...options, seed: 9 });
    const again = generateSynthetic({ ...options, seed: 9 });
    const other = generateSynthetic({ ...options, seed: 10 });
    expect(again.base).toEqual(first.base);
    expect(again.queries).toEqual(first.queries);
    expect(other.base).not.toEqual(first.base);
  });

  it('has the asked shape, finite values and clusters in range', () => {
    const data = generateSynthetic({ n: 200, dim: 16, clusters: 5, intrinsic: 4, queries: 7, seed: 1 });
    expect(data.base.length).toBe(200 * 16);
    expect(data.queries.length).toBe(7 * 16);
    expect(data.base.every(Number.isFinite)).toBe(true);
    expect(Math.max(...data.clusterOfBase)).toBeLessThan(5);
    // Queries are drawn fresh, not copied from the base.
    expect(data.base.subarray(0, 16)).not.toEqual(data.queries.subarray(0, 16));
  });

  it('rejects impossible options', () => {
    expect(() => generateSynthetic({ dim: 8, intrinsic: 9 })).toThrow(QuiverError);
    expect(() => generateSynthetic({ n: 0 })).toThrow(/positive integer/);
    expect(() => generateSynthetic({ noise: -1 })).toThrow(/noise/);
  });
});

describe('generateSynthetic, kind near-duplicates', () => {
  it('makes the asked share of the base near copies of other base vectors, per seed', () => {
    const data = generateSynthetic({ kind: 'near-duplicates', n: 2000, queries: 5, seed: 4 });
    expect(data.options).toMatchObject({ n: 2000, dim: 64, clusters: 100, intrinsic: 32, duplicates: 0.1 });
    // Count rows whose nearest other row is within the copy noise (0.02 per coordinate: a squared
    // distance about 64 × 0.02² ≈ 0.026, against about 2 × 32 between cluster mates).
    const dim = 64;
    let near = 0;
    for (let row = 0; row < 2000; row++) {
      for (let other = 0; other < 2000; other++) {
        if (other === row) continue;
        let distance = 0;
        for (let axis = 0; axis < dim; axis++)
          distance += (data.base[row * dim + axis]! - data.base[other * dim + axis]!) ** 2;
        if (distance < 0.1) {
          near++;
          break;
        }
      }
    }
    // Each copy and its original (a few copies land on an already copied row): about 2 × 10%.
    expect(near).toBeGreaterThan(0.15 * 2000);
    expect(near).toBeLessThan(0.21 * 2000);
    expect(generateSynthetic({ kind: 'near-duplicates', n: 2000, queries: 5, seed: 5 }).base).not.toEqual(data.base);
    expect(syntheticName(data.options)).toBe('synthetic-near-duplicates-n2000-d64-c100-i32-s4');
    expect(() => generateSynthetic({ kind: 'near-duplicates', duplicates: 0.7 })).toThrow(/duplicates/);
  });
});

describe('parseSyntheticSpec', () => {
  it('parses every key, with k/m shorthands', () => {
    expect(
      parseSyntheticSpec(
        'synthetic:n=10k,dim=64,clusters=20,intrinsic=16,queries=50,seed=3,spread=0.25,noise=0,metric=ip',
      ),
    ).toEqual({
      n: 10_000,
      dim: 64,
      clusters: 20,
      intrinsic: 16,
      queries: 50,
      seed: 3,
      spread: 0.25,
      noise: 0,
      metric: 'ip',
    });
    expect(parseSyntheticSpec('synthetic')).toEqual({});
  });

  it('parses the near-duplicates kind and its keys', () => {
    expect(parseSyntheticSpec('synthetic:kind=near-duplicates,seed=7,duplicates=0.2,duplicateNoise=0.01')).toEqual({
      kind: 'near-duplicates',
      seed: 7,
      duplicates: 0.2,
      duplicateNoise: 0.01,
    });
    expect(() => parseSyntheticSpec('synthetic:kind=blobs')).toThrow(/clusters or near-duplicates/);
  });

  it('names unknown keys and bad numbers', () => {
    expect(() => parseSyntheticSpec('synthetic:size=3')).toThrow(/unknown synthetic parameter 'size'/);
    expect(() => parseSyntheticSpec('synthetic:n=lots')).toThrow(/must be a number/);
    expect(() => parseSyntheticSpec('synthetic:metric=hamming')).toThrow(/l2, cosine or ip/);
  });

  it('names a set by its parameters', () => {
    expect(
      syntheticName(generateSynthetic({ n: 10, dim: 4, intrinsic: 2, clusters: 3, queries: 1, seed: 5 }).options),
    ).toBe('synthetic-n10-d4-c3-i2-s5');
  });
});

describe('SeededRandom', () => {
  it('is deterministic and roughly standard normal', () => {
    const a = new SeededRandom(123);
    const b = new SeededRandom(123);
    const values = Array.from({ length: 20_000 }, () => a.gaussian());
    expect(values.slice(0, 5)).toEqual(Array.from({ length: 5 }, () => b.gaussian()));
    const mean = values.reduce((sum, value) => sum + value, 0) / values.length;
    const variance = values.reduce((sum, value) => sum + (value - mean) ** 2, 0) / values.length;
    // 20,000 draws: the standard error of the mean is 0.007, of the variance about 0.01.
    expect(Math.abs(mean)).toBeLessThan(0.05);
    expect(Math.abs(variance - 1)).toBeLessThan(0.06);
  });
});
