// Recall@k of approximate results against exact ground truth: the plain set overlap, and a
// tie-aware variant that accepts any id at least as close as the true k-th neighbour. Pure functions.

import { QuiverError } from '../../src/errors.js';

/** Approximate results: `found[q * foundStride + rank]` is the id at that rank, −1 where missing. */
export interface FoundIds {
  ids: Int32Array;
  /** Entries stored per query (≥ k). */
  stride: number;
}

/** Exact results: `ids[q * stride + rank]`, nearest first. */
export interface TruthIds {
  ids: Int32Array;
  stride: number;
}

function checkK(k: number, found: FoundIds, truth: TruthIds): number {
  if (!Number.isInteger(k) || k < 1) throw new QuiverError('INVALID_ARGUMENT', `recall k must be ≥ 1, got ${k}`);
  if (k > truth.stride) {
    throw new QuiverError('INVALID_ARGUMENT', `recall@${k} needs ground truth of depth ≥ ${k}; it has ${truth.stride}`);
  }
  if (k > found.stride) {
    throw new QuiverError('INVALID_ARGUMENT', `recall@${k} needs ≥ ${k} results per query; there are ${found.stride}`);
  }
  const queryCount = found.ids.length / found.stride;
  if (truth.ids.length / truth.stride < queryCount) {
    throw new QuiverError('INVALID_ARGUMENT', `ground truth has fewer rows than the ${queryCount} queries`);
  }
  return queryCount;
}

/**
 * Recall@k = |found top-k ∩ truth top-k| / k, averaged over queries (0 when there are none).
 * Duplicated found ids count once.
 * @throws INVALID_ARGUMENT when k exceeds either list's depth
 */
export function recallAtK(found: FoundIds, truth: TruthIds, k: number): number {
  const queryCount = checkK(k, found, truth);
  if (queryCount === 0) return 0;
  let total = 0;
  const wanted = new Set<number>();
  for (let q = 0; q < queryCount; q++) {
    wanted.clear();
    for (let rank = 0; rank < k; rank++) wanted.add(truth.ids[q * truth.stride + rank]!);
    let hits = 0;
    for (let rank = 0; rank < k; rank++) {
      const id = found.ids[q * found.stride + rank]!;
      if (wanted.delete(id)) hits++;
    }
    total += hits / k;
  }
  return total / queryCount;
}

/**
 * Tie-aware recall@k: a found id in the top k counts as correct when its true distance is
 * ≤ the true k-th distance of that query (so swapping equally distant neighbours is not an error).
 * `foundDistances` (same layout as `found.ids`) holds the exact distance of each found id and
 * `kthDistances[q]` the exact k-th distance, both computed by the same function; each id counts once.
 * @throws INVALID_ARGUMENT when the arrays do not match
 */
export function tieAwareRecallAtK(
  found: FoundIds,
  foundDistances: Float64Array | Float32Array,
  kthDistances: Float64Array | Float32Array,
  k: number,
): number {
  if (!Number.isInteger(k) || k < 1 || k > found.stride) {
    throw new QuiverError('INVALID_ARGUMENT', `tie-aware recall@${k} needs 1 ≤ k ≤ ${found.stride}`);
  }
  if (foundDistances.length !== found.ids.length) {
    throw new QuiverError('INVALID_ARGUMENT', 'foundDistances must have one entry per found id');
  }
  const queryCount = found.ids.length / found.stride;
  if (kthDistances.length < queryCount) {
    throw new QuiverError(
      'INVALID_ARGUMENT',
      `kthDistances has ${kthDistances.length} entries for ${queryCount} queries`,
    );
  }
  if (queryCount === 0) return 0;
  let total = 0;
  const seen = new Set<number>();
  for (let q = 0; q < queryCount; q++) {
    seen.clear();
    const limit = kthDistances[q]!;
    let hits = 0;
    for (let rank = 0; rank < k; rank++) {
      const index = q * found.stride + rank;
      const id = found.ids[index]!;
      if (id < 0 || seen.has(id)) continue;
      seen.add(id);
      if (foundDistances[index]! <= limit) hits++;
    }
    total += hits / k;
  }
  return total / queryCount;
}
