// Filtered k-NN: finds the records a metadata filter matches (one SQL label scan, which uses the
// collection's declared field indexes), then per query lets the index kind search among them
// (AnnIndex.searchAllowed: an allow-listed graph search, a restricted ADC scan) or, when it
// declines or comes back short, scores exactly those vectors. Always returns min(k, matches) results.
import { exactAmong } from './index/flat.js';
import type { AnnIndex, Neighbours } from './index/types.js';
import { normalized } from './index/vector-math.js';
import type { Metric } from './schema.js';
import { type CompiledWhere, type Store, vectorOf } from './storage/store.js';
import type { QueryPlan } from './types.js';

export { EXACT_MATCH_LIMIT, EXACT_SELECTIVITY_LIMIT, EXACT_WORK_LIMIT } from './index/filtered-limits.js';

export interface FilteredSearchContext {
  readonly store: Store;
  readonly collectionId: number;
  readonly ann: AnnIndex;
  readonly metric: Metric;
  readonly dim: number;
  /** Native threads an exact scoring of many matches may use (default 1); answers do not depend on it. */
  readonly threads?: number;
}

/**
 * The labels a filter matches, with the allow-list bitset built from them on first use. A
 * collection caches these per filter until its next write, so repeated filters (one user's
 * documents, one language) skip the SQL scan.
 */
export class Matches {
  readonly labels: Int32Array;
  #allow: Uint8Array | undefined;

  constructor(labels: Int32Array) {
    this.labels = labels;
  }

  /** Bit L % 8 of byte L >> 3 is set for every matching label L. */
  get allow(): Uint8Array {
    if (this.#allow === undefined) {
      const labels = this.labels;
      const allow = new Uint8Array(labels.length === 0 ? 0 : (labels[labels.length - 1]! >> 3) + 1);
      for (const label of labels) allow[label >> 3]! |= 1 << (label & 7);
      this.#allow = allow;
    }
    return this.#allow;
  }
}

/** The filtered k nearest records of `query`, with the plan that found them. */
export function searchFiltered(
  context: FilteredSearchContext,
  query: Float32Array,
  k: number,
  ef: number,
  where: CompiledWhere,
  matches: Matches,
  explain: boolean,
  effort: { nprobe?: number | undefined; rerank?: number | undefined } = {},
): { neighbours: Neighbours; plan: QueryPlan } {
  const { store, collectionId, ann } = context;
  const labels = matches.labels;
  const total = ann.size;
  const plan: QueryPlan = {
    strategy: 'exact',
    matches: labels.length,
    total,
    selectivity: total === 0 ? 0 : labels.length / total,
    candidatesScored: 0,
    fallback: false,
    labelScan: explain ? store.planOf(collectionId, where) : [],
  };
  const wanted = Math.min(k, labels.length);
  if (wanted === 0) return { neighbours: { labels: [], distances: [] }, plan };

  const threads = context.threads ?? 1;
  // The kind's own restricted search first; it declines when exact scoring of the matches is cheaper.
  const found = ann.searchAllowed(
    query,
    wanted,
    matches,
    { ef, nprobe: effort.nprobe, rerank: effort.rerank },
    threads,
  );
  Object.assign(plan, found.plan);
  if (found.neighbours !== undefined) return { neighbours: found.neighbours, plan };
  plan.candidatesScored = labels.length;
  // An index that holds the vectors scores the matches there, not from SQLite.
  const neighbours =
    ann.exactAmong(query, labels, wanted, threads) ??
    exactOverRows(context, query, wanted, store.vectorsMatching(collectionId, where));
  return { neighbours, plan };
}

/** Exact k-NN over stored rows (label + float32 BLOB), read from SQLite by the caller. */
export function exactOverRows(
  context: Pick<FilteredSearchContext, 'metric' | 'dim'>,
  query: Float32Array,
  k: number,
  rows: Iterable<{ label: number; vector: Buffer }>,
): Neighbours {
  const { metric, dim } = context;
  const labels: number[] = [];
  const chunks: Float32Array[] = [];
  for (const { label, vector } of rows) {
    const values = vectorOf(vector, dim);
    chunks.push(metric === 'cosine' ? normalized(values) : values);
    labels.push(label);
  }
  const base = new Float32Array(labels.length * dim);
  chunks.forEach((chunk, row) => {
    base.set(chunk, row * dim);
  });
  const found = exactAmong(metric, query, base, dim, k);
  return { labels: found.labels.map((row) => labels[row]!), distances: found.distances };
}
