// Filtered k-NN: finds the records a metadata filter matches (one SQL label scan, which uses the
// collection's declared field indexes), then picks per query between exact search over exactly
// those vectors and an HNSW search restricted to them by a native allow-list with its effort
// widened as the filter gets more selective. Always returns min(k, matches) results.
import { exactAmong, FlatIndex } from './index/flat.js';
import { HnswIndex } from './index/hnsw.js';
import { IvfPqIndex, type IvfPqSearchOptions } from './index/ivfpq.js';
import type { AnnIndex, Neighbours } from './index/types.js';
import { normalized } from './index/vector-math.js';
import type { Metric } from './schema.js';
import { type CompiledWhere, type Store, vectorOf } from './storage/store.js';
import type { QueryPlan } from './types.js';

/**
 * Up to this many matching records are searched exactly. Reading and scoring 4,096 vectors costs
 * about as much as an HNSW search that must wade through 0.1%-selective allow-lists, and is exact.
 */
export const EXACT_MATCH_LIMIT = 4096;
/**
 * Beyond the count limit, exact search still wins while it scores at most this many numbers
 * (matches × dim). Measured through query() on mnist-784 (60,000 × 784, p50, 2-core machine under
 * a load average of about 3.5) with these limits changed by hand to force each plan: 10% (6,000
 * matches) exact 1.1 ms on 2 threads, 1.5 ms on 1, against
 * 6.4–7.1 ms for the restricted graph search (ef 203); 20% (12,000 matches, 9.4 million numbers)
 * exact 2.3 ms on 2 threads, 4.1 ms on 1, against 2.0–2.4 ms for the graph (ef 144), so the
 * limit stays here; 50% graph 0.6 ms against exact 3.3 ms.
 */
export const EXACT_WORK_LIMIT = 6_000_000;
/** ... and only for filters this selective: broader ones are what the restricted graph does best. */
export const EXACT_SELECTIVITY_LIMIT = 0.2;
/** The widened HNSW effort never exceeds this (beyond it, exact search is the better tool). */
const MAX_FILTERED_EF = 4096;

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
  ivfpq: IvfPqSearchOptions = {},
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
  if (ann instanceof FlatIndex) {
    plan.candidatesScored = labels.length;
    return { neighbours: ann.searchAmong(query, wanted, labels, threads), plan };
  }
  if (ann instanceof IvfPqIndex && (!ann.trained || labels.length > EXACT_MATCH_LIMIT)) {
    // Before training the index holds the vectors and is exact. Trained: an ADC scan restricted to
    // the matching labels (over nprobe / selectivity lists), then the exact re-rank.
    const found = ann.searchWith(query, wanted, ivfpq, labels);
    plan.candidatesScored = found.stats.trained ? found.stats.reranked : labels.length;
    if (found.stats.trained) {
      Object.assign(plan, ann.planFields(found.stats));
    }
    if (found.neighbours.labels.length === wanted) return { neighbours: found.neighbours, plan };
    plan.fallback = true;
  }
  const exactIsCheaper =
    labels.length <= EXACT_MATCH_LIMIT ||
    (plan.selectivity <= EXACT_SELECTIVITY_LIMIT && labels.length * context.dim <= EXACT_WORK_LIMIT);
  if (ann instanceof HnswIndex && !exactIsCheaper) {
    // hnswlib keeps only allowed nodes in its result list but walks through all of them, so a
    // selective filter needs a longer list to find k allowed ones: widen ef by 1/sqrt(selectivity).
    const effort = Math.min(
      MAX_FILTERED_EF,
      labels.length,
      Math.ceil(Math.max(ef, wanted) / Math.sqrt(plan.selectivity)),
    );
    plan.strategy = 'hnsw';
    plan.ef = Math.max(effort, wanted);
    const found = ann.searchBatch(query, wanted, plan.ef, 1, matches.allow);
    const neighbours: Neighbours = { labels: [], distances: [] };
    for (let i = 0; i < wanted; i++) {
      const label = found.labels[i]!;
      if (label === 0xffffffff) break;
      neighbours.labels.push(label);
      neighbours.distances.push(found.distances[i]!);
    }
    if (neighbours.labels.length === wanted) return { neighbours, plan };
    plan.fallback = true;
  }
  plan.candidatesScored = labels.length;
  // The graph holds every live vector: score the matches there, not from SQLite.
  if (ann instanceof HnswIndex) return { neighbours: ann.exactAmong(query, labels, wanted, threads), plan };
  return { neighbours: exactOverRows(context, query, wanted, store.vectorsMatching(collectionId, where)), plan };
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
