// The plain-js contestant's exact top-k (bench/contestants/plain-js.ts) against the reference
// kernel: it is the baseline of the exact-search ratio, so it must give exact answers.
import { describe, expect, it } from 'vitest';
import { plainTopK } from '../../bench/contestants/plain-js.js';
import { referenceKernels } from '../../src/native-reference.js';
import { SeededRandom } from '../../src/quant/random.js';

describe('plainTopK', () => {
  const random = new SeededRandom(77);
  const dim = 13;
  const count = 400;
  const vectors = Float32Array.from({ length: count * dim }, () => random.nextFloat() * 2 - 1);
  const query = Float32Array.from({ length: dim }, () => random.nextFloat() * 2 - 1);

  for (const metric of ['l2', 'ip'] as const) {
    it(`returns the reference's exact top-k (${metric}, k 1, 10, above n)`, () => {
      for (const k of [1, 10, count + 3]) {
        const labels = new Int32Array(k);
        const distances = new Float32Array(k);
        referenceKernels.exactTopK({ metric, queries: query, base: vectors, dim, k, labels, distances });
        expect(plainTopK(vectors, count, dim, metric, query, k)).toEqual(
          Array.from(labels).filter((label) => label >= 0),
        );
      }
    });
  }

  it('keeps the lower row on ties', () => {
    const twice = new Float32Array(2 * count * dim);
    twice.set(vectors);
    twice.set(vectors, count * dim);
    const found = plainTopK(twice, 2 * count, dim, 'l2', query, 6);
    for (let slot = 0; slot < 6; slot += 2) expect(found[slot + 1]).toBe(found[slot]! + count);
  });
});
