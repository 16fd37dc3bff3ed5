// A small seeded pseudo-random generator (xoshiro128**, seeded through splitmix32) with uniform,
// integer and gaussian draws, so that k-means and PQ training are reproducible for a seed.
// Not for cryptography. Imports nothing.

/** Reproducible random numbers: the same seed gives the same sequence on every platform. */
export class SeededRandom {
  #state0: number;
  #state1: number;
  #state2: number;
  #state3: number;
  // Box–Muller yields gaussians in pairs; the second one waits here.
  #spareGaussian: number | undefined;

  /** @param seed any finite number; it is reduced to 32 bits. */
  constructor(seed: number) {
    // splitmix32 spreads one 32-bit seed over the 128-bit state so that nearby seeds diverge at once.
    let mix = seed >>> 0;
    const next = (): number => {
      mix = (mix + 0x9e3779b9) >>> 0;
      let value = mix;
      value = Math.imul(value ^ (value >>> 16), 0x85ebca6b);
      value = Math.imul(value ^ (value >>> 13), 0xc2b2ae35);
      return (value ^ (value >>> 16)) >>> 0;
    };
    this.#state0 = next();
    this.#state1 = next();
    this.#state2 = next();
    this.#state3 = next();
    // The all-zero state is the one state xoshiro never leaves.
    if ((this.#state0 | this.#state1 | this.#state2 | this.#state3) === 0) this.#state0 = 1;
  }

  /** The next 32-bit unsigned integer (xoshiro128**). */
  nextUint32(): number {
    const result = Math.imul(rotateLeft(Math.imul(this.#state1, 5), 7), 9) >>> 0;
    const shifted = this.#state1 << 9;
    this.#state2 ^= this.#state0;
    this.#state3 ^= this.#state1;
    this.#state1 ^= this.#state2;
    this.#state0 ^= this.#state3;
    this.#state2 ^= shifted;
    this.#state3 = rotateLeft(this.#state3, 11);
    return result;
  }

  /** A uniform float in [0, 1) with 32 random bits. */
  nextFloat(): number {
    return this.nextUint32() / 4294967296;
  }

  /** A uniform integer in [0, bound); `bound` must be a positive integer up to 2^32. */
  nextInt(bound: number): number {
    // Multiply-high maps 32 random bits onto [0, bound); the bias is below bound / 2^32, negligible here.
    return Math.floor(this.nextFloat() * bound);
  }

  /** A standard normal sample (mean 0, standard deviation 1), by the Box–Muller transform. */
  nextGaussian(): number {
    if (this.#spareGaussian !== undefined) {
      const spare = this.#spareGaussian;
      this.#spareGaussian = undefined;
      return spare;
    }
    // 1 - u lies in (0, 1], so the logarithm is finite.
    const radius = Math.sqrt(-2 * Math.log(1 - this.nextFloat()));
    const angle = 2 * Math.PI * this.nextFloat();
    this.#spareGaussian = radius * Math.sin(angle);
    return radius * Math.cos(angle);
  }
}

function rotateLeft(value: number, bits: number): number {
  return (value << bits) | (value >>> (32 - bits));
}
