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
/** Largest |Q_d| of a prepared query: the int16 range, symmetric. */
const QUERY_LEVELS = 32767;
const f = Math.fround;

/** A stored vector as the kernels read it: its codes and its 4-byte slot (the bias for ip/cosine, the norm for l2). */
export interface Int8Code {
  readonly codes: Int8Array;
  /** Σ_d m_d·s_d·c_d, float32. */
  readonly bias: number;
  /** Σ_d w_d·c_d², float32. */
  readonly norm: number;
}

/** A query in the form the query → stored kernels read (native/scalar-quantiser.h, Int8Query). */
export interface Int8Query {
  /** Q_d = round(K·v_d), |Q_d| ≤ 32767. */
  readonly values: Int16Array;
  /** l2: Σ_d (q_d − m_d)²; ip: Σ_d q_d·m_d (double). */
  readonly constant: number;
  /** K = 32767 / max_d |v_d|, or 1 when every v_d is 0. */
  readonly divisor: number;
}

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

  /** The codes of `vector` (dim numbers), its bias Σ m_d·s_d·c_d and its norm Σ w_d·c_d². */
  encode(vector: Float32Array): Int8Code {
    const codes = new Int8Array(this.dim);
    let bias = 0;
    for (let d = 0; d < this.dim; d++) {
      const scaled = f(f(vector[d]! - this.centres[d]!) * this.#inverseSteps[d]!);
      const rounded = Math.floor(f(scaled + 0.5));
      const code = Math.min(HALF_LEVELS, Math.max(-HALF_LEVELS, rounded));
      codes[d] = code;
      bias = f(bias + f(this.#biasFactors[d]! * code));
    }
    return { codes, bias, norm: this.norm(codes) };
  }

  /** Σ_d w_d·c_d² summed in double in dimension order (each term is exact), rounded to float32. */
  norm(codes: Int8Array): number {
    let norm = 0;
    for (let d = 0; d < this.dim; d++) norm += this.weights[d]! * (codes[d]! * codes[d]!);
    return f(norm);
  }

  /**
   * The query form of `vector` (as the graph sees it: normalised for cosine) for the query → stored
   * kernel of `metric`: v_d = (q_d − m_d)·s_d for l2, q_d·s_d for ip/cosine, in float32; Q_d =
   * round(K·v_d) (halves up) with K = 32767 / max |v_d|; the constant in double.
   */
  prepareQuery(metric: Metric, vector: Float32Array): Int8Query {
    const l2 = metric === 'l2';
    let constant = 0;
    let largest = 0;
    const scaled = new Float32Array(this.dim);
    for (let d = 0; d < this.dim; d++) {
      const centred = l2 ? f(vector[d]! - this.centres[d]!) : vector[d]!;
      scaled[d] = f(centred * this.steps[d]!);
      // Products of two float32 values are exact in double.
      constant += l2 ? centred * centred : vector[d]! * this.centres[d]!;
      largest = Math.max(largest, Math.abs(scaled[d]!));
    }
    const divisor = largest > 0 ? QUERY_LEVELS / largest : 1;
    const values = new Int16Array(this.dim);
    for (let d = 0; d < this.dim; d++) {
      const rounded = Math.floor(scaled[d]! * divisor + 0.5);
      values[d] = Math.max(-QUERY_LEVELS, Math.min(QUERY_LEVELS, rounded));
    }
    return { values, constant, divisor };
  }

  /**
   * The query → stored kernel (both native ones give these bits): S = Σ Q_d·c_d, exact; then l2
   * (constant + norm) − 2·S/K, ip and cosine 1 − (constant + S/K), in double, rounded to float32.
   */
  queryDistance(metric: Metric, query: Int8Query, stored: Int8Code): number {
    let sum = 0;
    for (let d = 0; d < this.dim; d++) sum += query.values[d]! * stored.codes[d]!;
    const dot = sum / query.divisor;
    return metric === 'l2' ? f(query.constant + stored.norm - 2 * dot) : f(1 - (query.constant + dot));
  }

  /** The vector a code stands for: m_d + s_d·c_d. */
  decode(codes: Int8Array): Float32Array {
    const out = new Float32Array(this.dim);
    for (let d = 0; d < this.dim; d++) out[d] = f(this.centres[d]! + f(this.steps[d]! * codes[d]!));
    return out;
  }

  /**
   * The portable stored ↔ stored kernel's distance between two codes, in hnswlib's raw conventions: l2 the squared
   * distance Σ w_d(a_d − b_d)², ip and cosine 1 − dot of the decoded vectors.
   */
  distance(metric: Metric, a: Int8Code, b: Int8Code): number {
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
