// The seeded generator: reproducible per seed, in range, and with the moments it promises.
import { describe, expect, it } from 'vitest';
import { SeededRandom } from '../../src/quant/random.js';

describe('SeededRandom', () => {
  it('repeats its sequence for a seed and differs between seeds', () => {
    const draw = (seed: number) => {
      const random = new SeededRandom(seed);
      return Array.from({ length: 50 }, () => random.nextUint32());
    };
    expect(draw(42)).toEqual(draw(42));
    expect(draw(42)).not.toEqual(draw(43));
    expect(draw(0)).not.toEqual(draw(1));
  });

  it('keeps uniform floats in [0, 1) and integers in [0, bound)', () => {
    const random = new SeededRandom(7);
    const counts = new Array<number>(10).fill(0);
    let outOfRange = 0;
    for (let draw = 0; draw < 20_000; draw++) {
      const value = random.nextFloat();
      if (!(value >= 0 && value < 1)) outOfRange++;
      const integer = random.nextInt(10);
      if (!(Number.isInteger(integer) && integer >= 0 && integer < 10)) outOfRange++;
      else counts[integer]!++;
    }
    expect(outOfRange).toBe(0);
    // Each bucket expects 2,000 with standard deviation √(20000·0.1·0.9) ≈ 42; 250 is about 6σ.
    for (const count of counts) expect(Math.abs(count - 2000)).toBeLessThan(250);
  });

  it('draws gaussians with mean 0 and variance 1', () => {
    const random = new SeededRandom(11);
    const samples = Array.from({ length: 20_000 }, () => random.nextGaussian());
    const mean = samples.reduce((sum, value) => sum + value, 0) / samples.length;
    const variance = samples.reduce((sum, value) => sum + (value - mean) ** 2, 0) / samples.length;
    // Standard errors: 1/√20000 ≈ 0.007 for the mean, √(2/20000) = 0.01 for the variance; bounds are ~6σ.
    expect(Math.abs(mean)).toBeLessThan(0.05);
    expect(Math.abs(variance - 1)).toBeLessThan(0.06);
    expect(samples.every(Number.isFinite)).toBe(true);
  });
});
