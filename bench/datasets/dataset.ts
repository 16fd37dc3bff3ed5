// The shapes every data-set reader returns and the harness consumes: flat row-major typed arrays.
// Imports nothing but the project's error type; readers and the runner build on these.

import { QuiverError } from '../../src/errors.js';

/** Distance metrics the harness knows; they match QuiverDB's and hnswlib's names. */
export type Metric = 'l2' | 'cosine' | 'ip';

/** Every metric, in the order they are documented. */
export const METRICS: readonly Metric[] = ['l2', 'cosine', 'ip'];

/** `count` rows of `dim` float32 numbers, row-major in `data` (length `count * dim`). */
export interface VectorSet {
  count: number;
  dim: number;
  data: Float32Array;
}

/** `count` rows of `dim` int32 numbers, row-major in `data` (ids for ground truth). */
export interface IdSet {
  count: number;
  dim: number;
  data: Int32Array;
}

/** A loaded benchmark data set: base vectors, queries and exact top-k ground truth. */
export interface Dataset {
  /** A short name for tables, charts and file names. */
  name: string;
  /** Where it came from (folder, file or synthetic spec), for the report. */
  source: string;
  metric: Metric;
  dim: number;
  /** `baseCount * dim` float32 numbers, row-major. */
  base: Float32Array;
  baseCount: number;
  /** `queryCount * dim` float32 numbers, row-major. */
  queries: Float32Array;
  queryCount: number;
  /** `queryCount * groundTruthK` base ids, nearest first. */
  groundTruth: Int32Array;
  groundTruthK: number;
  /**
   * Distances beside `groundTruth`, when the source ships them, in the source's own units
   * (ann-benchmarks and mnist-784 store Euclidean, not squared, distances for l2).
   */
  groundTruthDistances?: Float32Array;
  /** Where the ground truth came from: a file, the cache, or computed in this run. */
  groundTruthSource: string;
  /** One class label per base vector, when the source ships them (mnist-784). */
  labels?: Uint8Array;
  /** Caveats the report should repeat (e.g. queries that are base vectors). */
  notes: string[];
}

/** Parses a metric name, accepting the ann-benchmarks spellings too. */
export function parseMetric(name: string, context: string): Metric {
  const normalised = name.trim().toLowerCase();
  switch (normalised) {
    case 'l2':
    case 'euclidean':
      return 'l2';
    case 'cosine':
    case 'angular':
      return 'cosine';
    case 'ip':
    case 'dot':
    case 'inner_product':
    case 'innerproduct':
      return 'ip';
    default:
      throw new QuiverError(
        'INVALID_ARGUMENT',
        `${context}: metric '${name}' is not supported; use l2 (euclidean), cosine (angular) or ip (dot)`,
      );
  }
}
