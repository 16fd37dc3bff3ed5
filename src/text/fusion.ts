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
  // One shape for every entry (absent sides as NaN ranks): the scoring and the sort stay monomorphic.
  const entries: Entry[] = [];
  const byLabel = new Map<number, Entry>();
  for (let i = 0; i < vector.length; i++) {
    const { label, distance } = vector[i]!;
    if (byLabel.has(label)) continue;
    const entry: Entry = {
      label,
      score: 0,
      best: i + 1,
      vectorRank: i + 1,
      vectorDistance: distance,
      textRank: 0,
      textScore: 0,
    };
    byLabel.set(label, entry);
    entries.push(entry);
  }
  for (let i = 0; i < text.length; i++) {
    const { label, score } = text[i]!;
    const entry = byLabel.get(label);
    if (entry === undefined) {
      const added: Entry = {
        label,
        score: 0,
        best: i + 1,
        vectorRank: 0,
        vectorDistance: 0,
        textRank: i + 1,
        textScore: score,
      };
      byLabel.set(label, added);
      entries.push(added);
    } else if (entry.textRank === 0) {
      entry.textRank = i + 1;
      entry.textScore = score;
      if (i + 1 < entry.best) entry.best = i + 1;
    }
  }
  const scoreOf = fusion.method === 'rrf' ? rrfScore(fusion.k) : weightedScore(vector, text, fusion.alpha);
  for (const entry of entries) entry.score = scoreOf(entry);
  entries.sort((a, b) => b.score - a.score || a.best - b.best || a.label - b.label);
  return entries.map((entry) => {
    const fused: {
      label: number;
      score: number;
      vectorRank?: number;
      vectorDistance?: number;
      textRank?: number;
      textScore?: number;
    } = { label: entry.label, score: entry.score };
    if (entry.vectorRank !== 0) {
      fused.vectorRank = entry.vectorRank;
      fused.vectorDistance = entry.vectorDistance;
    }
    if (entry.textRank !== 0) {
      fused.textRank = entry.textRank;
      fused.textScore = entry.textScore;
    }
    return fused;
  });
}

/** A record being fused; a rank of 0 means the record is not in that list. */
interface Entry {
  readonly label: number;
  score: number;
  /** Its better rank over both lists. */
  best: number;
  readonly vectorRank: number;
  readonly vectorDistance: number;
  textRank: number;
  textScore: number;
}

function rrfScore(k: number): (entry: Entry) => number {
  return ({ vectorRank, textRank }) =>
    (vectorRank === 0 ? 0 : 1 / (k + vectorRank)) + (textRank === 0 ? 0 : 1 / (k + textRank));
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
): (entry: Entry) => number {
  const [nearest, farthest] = range(vector.map((candidate) => candidate.distance));
  const [lowest, highest] = range(text.map((candidate) => candidate.score));
  return ({ vectorRank, vectorDistance, textRank, textScore }) => {
    const v = vectorRank === 0 ? 0 : farthest === nearest ? 1 : (farthest - vectorDistance) / (farthest - nearest);
    const t = textRank === 0 ? 0 : highest === lowest ? 1 : (textScore - lowest) / (highest - lowest);
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
