// Fusion of a hybrid query's two candidate lists (vector and text) into one ranking: reciprocal
// rank fusion, or a weighted sum of min-max-normalised scores. Pure arithmetic; imports nothing.

/** A vector candidate: its label and distance (smaller is closer), best first in its list. */
export interface VectorCandidate {
  readonly label: number;
  readonly distance: number;
}

/** A text candidate: its label and BM25 score (higher is better), best first in its list. */
export interface ScoredCandidate {
  readonly label: number;
  readonly score: number;
}

/** 'rrf': Σ 1 / (k + rank) over the lists holding the record; 'weighted': α·vector + (1 − α)·text, each normalised to [0, 1]. */
export type Fusion =
  | { readonly method: 'rrf'; readonly k: number }
  | { readonly method: 'weighted'; readonly alpha: number };

/** The defaults: RRF with k = 60 (Cormack, Clarke and Büttcher, SIGIR 2009), α = 0.5. */
export const DEFAULT_RRF_K = 60;
export const DEFAULT_ALPHA = 0.5;

/** One fused record, with what each side said of it (ranks count from 1). */
export interface FusedCandidate {
  readonly label: number;
  readonly score: number;
  readonly vectorRank?: number;
  readonly vectorDistance?: number;
  readonly textRank?: number;
  readonly textScore?: number;
}

/**
 * The union of both lists ranked by fused score, best first; ties go to the record with the better
 * best rank on either side, then to the lower label (so the order is deterministic).
 */
export function fuse(
  vector: readonly VectorCandidate[],
  text: readonly ScoredCandidate[],
  fusion: Fusion,
): FusedCandidate[] {
  const byLabel = new Map<
    number,
    { label: number; vectorRank?: number; vectorDistance?: number; textRank?: number; textScore?: number }
  >();
  vector.forEach(({ label, distance }, i) => {
    if (!byLabel.has(label)) byLabel.set(label, { label, vectorRank: i + 1, vectorDistance: distance });
  });
  text.forEach(({ label, score }, i) => {
    const entry = byLabel.get(label);
    if (entry === undefined) byLabel.set(label, { label, textRank: i + 1, textScore: score });
    else if (entry.textRank === undefined) Object.assign(entry, { textRank: i + 1, textScore: score });
  });
  const scoreOf = fusion.method === 'rrf' ? rrfScore(fusion.k) : weightedScore(vector, text, fusion.alpha);
  const fused: FusedCandidate[] = [...byLabel.values()].map((entry) => ({ ...entry, score: scoreOf(entry) }));
  const bestRank = (candidate: FusedCandidate) =>
    Math.min(candidate.vectorRank ?? Number.POSITIVE_INFINITY, candidate.textRank ?? Number.POSITIVE_INFINITY);
  return fused.sort((a, b) => b.score - a.score || bestRank(a) - bestRank(b) || a.label - b.label);
}

function rrfScore(k: number): (entry: { vectorRank?: number; textRank?: number }) => number {
  return ({ vectorRank, textRank }) =>
    (vectorRank === undefined ? 0 : 1 / (k + vectorRank)) + (textRank === undefined ? 0 : 1 / (k + textRank));
}

/**
 * Min-max normalisation within each list: the closest vector candidate and the best text match
 * count 1, the last of each list 0 (a list whose scores are all equal counts 1 throughout); a
 * record missing from a list counts 0 there.
 */
function weightedScore(
  vector: readonly VectorCandidate[],
  text: readonly ScoredCandidate[],
  alpha: number,
): (entry: { vectorDistance?: number; textScore?: number }) => number {
  const [nearest, farthest] = range(vector.map((candidate) => candidate.distance));
  const [lowest, highest] = range(text.map((candidate) => candidate.score));
  return ({ vectorDistance, textScore }) => {
    const v =
      vectorDistance === undefined ? 0 : farthest === nearest ? 1 : (farthest - vectorDistance) / (farthest - nearest);
    const t = textScore === undefined ? 0 : highest === lowest ? 1 : (textScore - lowest) / (highest - lowest);
    return alpha * v + (1 - alpha) * t;
  };
}

function range(values: readonly number[]): [number, number] {
  let low = Number.POSITIVE_INFINITY;
  let high = Number.NEGATIVE_INFINITY;
  for (const value of values) {
    if (value < low) low = value;
    if (value > high) high = value;
  }
  return [low, high];
}
