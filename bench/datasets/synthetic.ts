// Seeded synthetic data: overlapping gaussian clusters in a low-dimensional latent space, projected
// by a random matrix to the full dim, plus small isotropic noise; the `near-duplicates` kind makes
// a share of the base near copies of other base vectors. Pure computation; no I/O, no engine.

import { QuiverError } from '../../src/errors.js';
import type { Metric } from './dataset.js';

/** The named distributions: `clusters` (the default) and `near-duplicates`. */
export type SyntheticKind = 'clusters' | 'near-duplicates';

/** Parameters of a synthetic set; every field has a default (see {@link SYNTHETIC_DEFAULTS}). */
export interface SyntheticOptions {
  /** The distribution; `near-duplicates` changes the defaults (see {@link NEAR_DUPLICATE_DEFAULTS}). */
  kind: SyntheticKind;
  /** Base vectors. */
  n: number;
  /** Output dimension. */
  dim: number;
  /** Gaussian clusters in latent space. */
  clusters: number;
  /** Latent (intrinsic) dimension; ≤ dim. Higher is harder for graph indexes. */
  intrinsic: number;
  /** Query vectors, drawn from the same distribution (not copies of base vectors). */
  queries: number;
  /** Seed of the deterministic generator. */
  seed: number;
  /** Standard deviation of the cluster centres in latent units (cluster spread is 1): small = overlapping. */
  spread: number;
  /** Standard deviation of the isotropic noise added per output coordinate, in latent units. */
  noise: number;
  /** The metric the set is meant for (recorded, does not change the vectors). */
  metric: Metric;
  /** Share of the base (0..0.5) replaced by near copies of other base vectors. */
  duplicates: number;
  /** Standard deviation of the noise added to a near copy, per output coordinate, in latent units. */
  duplicateNoise: number;
}

/**
 * Defaults chosen to be hard enough that HNSW at low ef misses neighbours: 32 intrinsic dimensions
 * and 100 heavily overlapping clusters (centres spread 0.5 against a cluster spread of 1).
 * Measured with hnswlib-node (m=16, efConstruction=200, k=10): recall@10 ≈ 0.66 at ef=10,
 * 0.82 at ef=20, 0.93 at ef=40, 0.98 at ef=80, 0.999 at ef=160.
 */
export const SYNTHETIC_DEFAULTS: SyntheticOptions = {
  kind: 'clusters',
  n: 10_000,
  dim: 128,
  clusters: 100,
  intrinsic: 32,
  queries: 100,
  seed: 42,
  spread: 0.5,
  noise: 0.1,
  metric: 'l2',
  duplicates: 0,
  duplicateNoise: 0,
};

/**
 * `kind=near-duplicates`: 30,000 × 64, 100 well-separated clusters (centres spread 3) in a 32-d
 * latent space, and 10% of the base near copies (noise 0.02) of other base vectors — the shape of
 * not-quite-deduplicated document sets (boilerplate, versions of one page). A cluster's 300 vectors
 * differ in more directions than 8-byte PQ codes resolve, so re-ranking, not probing, decides
 * recall: ivfpq's former fixed defaults (nprobe 16, rerank 100) reach recall@10 0.76 (seeds 42, 7).
 */
export const NEAR_DUPLICATE_DEFAULTS: SyntheticOptions = {
  kind: 'near-duplicates',
  n: 30_000,
  dim: 64,
  clusters: 100,
  intrinsic: 32,
  queries: 100,
  seed: 42,
  spread: 3,
  noise: 0.05,
  metric: 'l2',
  duplicates: 0.1,
  duplicateNoise: 0.02,
};
/** A generated set: row-major float32 base and query vectors. */
export interface SyntheticData {
  options: SyntheticOptions;
  base: Float32Array;
  queries: Float32Array;
  /** The cluster each base vector was drawn from. */
  clusterOfBase: Uint16Array;
}

/** A small fast deterministic generator (sfc32, seeded through splitmix32) with gaussian draws. */
export class SeededRandom {
  #a: number;
  #b: number;
  #c: number;
  #d: number;
  #spareGaussian: number | undefined;

  constructor(seed: number) {
    let state = seed >>> 0;
    const splitmix = (): number => {
      state = (state + 0x9e3779b9) >>> 0;
      let z = state;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.#a = splitmix();
    this.#b = splitmix();
    this.#c = splitmix();
    this.#d = splitmix();
    for (let warm = 0; warm < 12; warm++) this.nextUint32();
  }

  /** A uniform 32-bit unsigned integer. */
  nextUint32(): number {
    const result = (((this.#a + this.#b) | 0) + this.#d) | 0;
    this.#d = (this.#d + 1) | 0;
    this.#a = this.#b ^ (this.#b >>> 9);
    this.#b = (this.#c + (this.#c << 3)) | 0;
    this.#c = (this.#c << 21) | (this.#c >>> 11);
    this.#c = (this.#c + result) | 0;
    return result >>> 0;
  }

  /** A uniform number in [0, 1). */
  next(): number {
    return this.nextUint32() / 4294967296;
  }

  /** A uniform integer in [0, bound). */
  integer(bound: number): number {
    return Math.floor(this.next() * bound);
  }

  /** A standard normal number (Box–Muller, the second value kept for the next call). */
  gaussian(): number {
    if (this.#spareGaussian !== undefined) {
      const spare = this.#spareGaussian;
      this.#spareGaussian = undefined;
      return spare;
    }
    let u = this.next();
    while (u <= Number.EPSILON) u = this.next();
    const v = this.next();
    const radius = Math.sqrt(-2 * Math.log(u));
    this.#spareGaussian = radius * Math.sin(2 * Math.PI * v);
    return radius * Math.cos(2 * Math.PI * v);
  }
}

function checkOptions(options: SyntheticOptions): void {
  const positive: (keyof SyntheticOptions)[] = ['n', 'dim', 'clusters', 'intrinsic'];
  for (const key of positive) {
    const value = options[key];
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
      throw new QuiverError('INVALID_ARGUMENT', `synthetic ${key} must be a positive integer, got ${String(value)}`);
    }
  }
  if (!Number.isInteger(options.queries) || options.queries < 0) {
    throw new QuiverError(
      'INVALID_ARGUMENT',
      `synthetic queries must be a non-negative integer, got ${options.queries}`,
    );
  }
  if (options.intrinsic > options.dim) {
    throw new QuiverError(
      'INVALID_ARGUMENT',
      `synthetic intrinsic (${options.intrinsic}) must not exceed dim (${options.dim})`,
    );
  }
  if (options.clusters > 65_535) throw new QuiverError('INVALID_ARGUMENT', 'synthetic clusters must be ≤ 65535');
  if (!(options.duplicates >= 0 && options.duplicates <= 0.5)) {
    throw new QuiverError(
      'INVALID_ARGUMENT',
      `synthetic duplicates must be a share from 0 to 0.5, got ${options.duplicates}`,
    );
  }
  for (const key of ['spread', 'noise', 'duplicateNoise'] as const) {
    if (!Number.isFinite(options[key]) || options[key] < 0) {
      throw new QuiverError('INVALID_ARGUMENT', `synthetic ${key} must be a finite number ≥ 0`);
    }
  }
}

/**
 * Generates a synthetic set. The same options (including `seed`) always give the same bytes.
 * @throws INVALID_ARGUMENT for non-positive sizes or intrinsic > dim
 */
export function generateSynthetic(partial: Partial<SyntheticOptions> = {}): SyntheticData {
  const defaults = partial.kind === 'near-duplicates' ? NEAR_DUPLICATE_DEFAULTS : SYNTHETIC_DEFAULTS;
  const options: SyntheticOptions = { ...defaults, ...partial };
  checkOptions(options);
  const { n, dim, clusters, intrinsic, queries, spread, noise } = options;
  const random = new SeededRandom(options.seed);

  const centres = new Float64Array(clusters * intrinsic);
  for (let index = 0; index < centres.length; index++) centres[index] = spread * random.gaussian();
  // Entries N(0, 1/intrinsic) keep a projected latent vector's squared norm close to its latent one.
  const projection = new Float64Array(intrinsic * dim);
  const projectionScale = 1 / Math.sqrt(intrinsic);
  for (let index = 0; index < projection.length; index++) projection[index] = projectionScale * random.gaussian();

  const latent = new Float64Array(intrinsic);
  const row = new Float64Array(dim);
  const draw = (out: Float32Array, count: number, clusterOf: Uint16Array | undefined): void => {
    for (let point = 0; point < count; point++) {
      const cluster = random.integer(clusters);
      if (clusterOf) clusterOf[point] = cluster;
      for (let l = 0; l < intrinsic; l++) latent[l] = centres[cluster * intrinsic + l]! + random.gaussian();
      row.fill(0);
      for (let l = 0; l < intrinsic; l++) {
        const value = latent[l]!;
        const offset = l * dim;
        for (let j = 0; j < dim; j++) row[j]! += value * projection[offset + j]!;
      }
      const outOffset = point * dim;
      for (let j = 0; j < dim; j++) out[outOffset + j] = row[j]! + noise * random.gaussian();
    }
  };

  const base = new Float32Array(n * dim);
  const clusterOfBase = new Uint16Array(n);
  draw(base, n, clusterOfBase);
  const queryData = new Float32Array(queries * dim);
  draw(queryData, queries, undefined);
  // Near copies: row `copy` becomes an earlier-drawn row plus small noise, for a seeded share of rows.
  const copies = Math.floor(options.duplicates * n);
  for (let made = 0; made < copies; made++) {
    const copy = random.integer(n);
    const original = random.integer(n);
    if (copy === original) continue;
    clusterOfBase[copy] = clusterOfBase[original]!;
    for (let j = 0; j < dim; j++) {
      base[copy * dim + j] = base[original * dim + j]! + options.duplicateNoise * random.gaussian();
    }
  }
  return { options, base, queries: queryData, clusterOfBase };
}

/**
 * Parses `synthetic:n=10000,dim=128,clusters=100,intrinsic=32,queries=100,seed=42,spread=0.5,noise=0.1,metric=l2`
 * (any subset, any order; the `synthetic:` prefix is optional) into options. `kind=near-duplicates`
 * starts from {@link NEAR_DUPLICATE_DEFAULTS}; `duplicates` and `duplicateNoise` tune it.
 * @throws INVALID_ARGUMENT for unknown keys or malformed numbers
 */
export function parseSyntheticSpec(spec: string): Partial<SyntheticOptions> {
  const body = spec.replace(/^synthetic:?/, '');
  const options: Partial<SyntheticOptions> = {};
  if (body.trim() === '') return options;
  for (const part of body.split(',')) {
    const [rawKey, rawValue] = part.split('=');
    const key = rawKey?.trim() ?? '';
    const value = rawValue?.trim() ?? '';
    if (key === 'metric') {
      if (value !== 'l2' && value !== 'cosine' && value !== 'ip') {
        throw new QuiverError('INVALID_ARGUMENT', `synthetic metric must be l2, cosine or ip, got '${value}'`);
      }
      options.metric = value;
      continue;
    }
    if (key === 'kind') {
      if (value !== 'clusters' && value !== 'near-duplicates') {
        throw new QuiverError('INVALID_ARGUMENT', `synthetic kind must be clusters or near-duplicates, got '${value}'`);
      }
      options.kind = value;
      continue;
    }
    const numeric = ['n', 'dim', 'clusters', 'intrinsic', 'queries', 'seed', 'spread', 'noise', 'duplicates'];
    if (![...numeric, 'duplicateNoise'].includes(key)) {
      throw new QuiverError(
        'INVALID_ARGUMENT',
        `unknown synthetic parameter '${key}' in '${spec}'; known: kind, ${numeric.join(', ')}, duplicateNoise, metric`,
      );
    }
    // Accept 10k / 1m shorthands for sizes.
    const match = /^(-?[0-9.]+(?:e[0-9]+)?)([km]?)$/i.exec(value);
    const number = match ? Number(match[1]) * ({ k: 1e3, m: 1e6 }[match[2]!.toLowerCase()] ?? 1) : Number.NaN;
    if (!Number.isFinite(number)) {
      throw new QuiverError('INVALID_ARGUMENT', `synthetic ${key} must be a number, got '${value}' in '${spec}'`);
    }
    (options as Record<string, number>)[key] = number;
  }
  return options;
}

/**
 * A short stable name for a synthetic set, e.g. `synthetic-n10000-d128-c100-i32-s42`, or
 * `synthetic-near-duplicates-n30000-d64-c200-i16-s42` for the near-duplicates kind.
 */
export function syntheticName(options: SyntheticOptions): string {
  const kind = options.kind === 'clusters' ? '' : `${options.kind}-`;
  return `synthetic-${kind}n${options.n}-d${options.dim}-c${options.clusters}-i${options.intrinsic}-s${options.seed}`;
}
