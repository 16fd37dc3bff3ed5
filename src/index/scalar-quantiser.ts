// The 8-bit scalar quantiser of an int8 HNSW graph: per-dimension ranges learned from the data,
// and the plain TypeScript twin of native/scalar-quantiser.cc (codes and kernels) that the tests
// hold the native one to. Layout of a code and the kernels' formulas: native/scalar-quantiser.h.
// Imports nothing of storage or the addon.
import type { Metric } from '../metric.js';
import type { Int8Ranges } from '../native/hnsw-graph.js';

/**
 * Share of values clipped off each end of a dimension's range: one outlier in a thousand values
 * does not stretch the range (and so coarsen the step) for the rest; clipped values clamp to the
 * range's end, and the float rescoring puts their neighbours back in order.
 */
export const CLIP_QUANTILE = 0.001;
/** Rows a range is learned from at most (an even sample of the rows given): quantiles settle long before. */
export const MAX_TRAINING_ROWS = 20_000;

const HALF_LEVELS = 127;
const f = Math.fround;

/**
 * Per-dimension [low, high] of `count` rows of `rows` (rows of `dim`), clipped at the
 * {@link CLIP_QUANTILE} and 1 − CLIP_QUANTILE quantiles of an even sample of at most
 * {@link MAX_TRAINING_ROWS} rows. A dimension with one value gets the range [value, value].
 */
export function learnRanges(rows: Float32Array, dim: number, count = rows.length / dim): Int8Ranges {
  const used = Math.min(count, MAX_TRAINING_ROWS);
  const lows = new Float32Array(dim);
  const highs = new Float32Array(dim);
  if (used === 0) return { lows, highs };
  const picked = new Uint32Array(used);
  for (let i = 0; i < used; i++) picked[i] = Math.floor((i * count) / used);
  const column = new Float32Array(used);
  const lowRank = Math.floor(CLIP_QUANTILE * (used - 1));
  const highRank = Math.ceil((1 - CLIP_QUANTILE) * (used - 1));
  for (let d = 0; d < dim; d++) {
    for (let i = 0; i < used; i++) column[i] = rows[picked[i]! * dim + d]!;
    column.sort();
    lows[d] = column[lowRank]!;
    highs[d] = column[highRank]!;
  }
  return { lows, highs };
}

/** The quantiser of one set of ranges: the per-dimension tables the native one derives, in float32. */
export class ScalarQuantiser {
  readonly dim: number;
  readonly ranges: Int8Ranges;
  readonly centres: Float32Array;
  readonly steps: Float32Array;
  readonly weights: Float32Array;
  readonly centreNorm: number;
  readonly #inverseSteps: Float32Array;
  readonly #biasFactors: Float32Array;

  constructor(ranges: Int8Ranges) {
    const dim = ranges.lows.length;
    this.dim = dim;
    this.ranges = ranges;
    this.centres = new Float32Array(dim);
    this.steps = new Float32Array(dim);
    this.weights = new Float32Array(dim);
    this.#inverseSteps = new Float32Array(dim);
    this.#biasFactors = new Float32Array(dim);
    let centreNorm = 0;
    for (let d = 0; d < dim; d++) {
      const low = ranges.lows[d]!;
      const high = ranges.highs[d]!;
      const width = f(high - low);
      const centre = f(low + f(width * 0.5));
      const step = f(width / (2 * HALF_LEVELS));
      this.centres[d] = centre;
      this.steps[d] = step;
      this.#inverseSteps[d] = step > 0 ? f(1 / step) : 0;
      this.weights[d] = f(step * step);
      this.#biasFactors[d] = f(centre * step);
      centreNorm = f(centreNorm + f(centre * centre));
    }
    this.centreNorm = centreNorm;
  }

  /** Bytes of one code: `dim` int8 codes, then the float32 bias. */
  get codeBytes(): number {
    return this.dim + 4;
  }

  /** The codes of `vector` (dim numbers) and its bias Σ m_d·s_d·c_d. */
  encode(vector: Float32Array): { codes: Int8Array; bias: number } {
    const codes = new Int8Array(this.dim);
    let bias = 0;
    for (let d = 0; d < this.dim; d++) {
      const scaled = f(f(vector[d]! - this.centres[d]!) * this.#inverseSteps[d]!);
      const rounded = Math.floor(f(scaled + 0.5));
      const code = Math.min(HALF_LEVELS, Math.max(-HALF_LEVELS, rounded));
      codes[d] = code;
      bias = f(bias + f(this.#biasFactors[d]! * code));
    }
    return { codes, bias };
  }

  /** The vector a code stands for: m_d + s_d·c_d. */
  decode(codes: Int8Array): Float32Array {
    const out = new Float32Array(this.dim);
    for (let d = 0; d < this.dim; d++) out[d] = f(this.centres[d]! + f(this.steps[d]! * codes[d]!));
    return out;
  }

  /**
   * The portable kernel's distance between two codes, in hnswlib's raw conventions: l2 the squared
   * distance Σ w_d(a_d − b_d)², ip and cosine 1 − dot of the decoded vectors.
   */
  distance(metric: Metric, a: { codes: Int8Array; bias: number }, b: { codes: Int8Array; bias: number }): number {
    let sum = 0;
    if (metric === 'l2') {
      for (let d = 0; d < this.dim; d++) {
        const difference = a.codes[d]! - b.codes[d]!;
        sum = f(sum + f(this.weights[d]! * (difference * difference)));
      }
      return sum;
    }
    for (let d = 0; d < this.dim; d++) sum = f(sum + f(this.weights[d]! * (a.codes[d]! * b.codes[d]!)));
    const constant = f(f(this.centreNorm + a.bias) + b.bias);
    return f(1 - f(constant + sum));
  }
}
