// Relevance metrics by trec_eval's definitions (as pytrec_eval computes them for BEIR): nDCG@k with
// linear gains and log2(rank + 1) discounts against the ideal ordering of all judged documents,
// recall@k over the documents judged relevant (grade > 0), and the reciprocal rank of the first
// relevant document within the top k. Imports nothing.

/** nDCG@k of `ranked` (document ids, best first) against `judged` (id → grade). 0 when nothing is relevant. */
export function ndcgAt(ranked: readonly string[], judged: ReadonlyMap<string, number>, k: number): number {
  let dcg = 0;
  ranked.slice(0, k).forEach((id, i) => {
    const grade = judged.get(id) ?? 0;
    if (grade > 0) dcg += grade / Math.log2(i + 2);
  });
  const ideal = [...judged.values()]
    .filter((grade) => grade > 0)
    .sort((a, b) => b - a)
    .slice(0, k)
    .reduce((sum, grade, i) => sum + grade / Math.log2(i + 2), 0);
  return ideal === 0 ? 0 : dcg / ideal;
}

/** Relevant documents in the top k over all relevant documents. 0 when nothing is relevant. */
export function recallAt(ranked: readonly string[], judged: ReadonlyMap<string, number>, k: number): number {
  const relevant = [...judged.values()].filter((grade) => grade > 0).length;
  if (relevant === 0) return 0;
  return ranked.slice(0, k).filter((id) => (judged.get(id) ?? 0) > 0).length / relevant;
}

/** 1 / rank of the first relevant document within the top k; 0 when there is none. */
export function reciprocalRankAt(ranked: readonly string[], judged: ReadonlyMap<string, number>, k: number): number {
  const position = ranked.slice(0, k).findIndex((id) => (judged.get(id) ?? 0) > 0);
  return position === -1 ? 0 : 1 / (position + 1);
}

/** The three metrics averaged over queries: nDCG@10, recall@100, MRR@10. */
export interface RelevanceSummary {
  ndcgAt10: number;
  recallAt100: number;
  mrrAt10: number;
  queries: number;
}

/** Averages over every judged query (a query with no answer counts 0, as in trec_eval with -c). */
export function summarize(
  answers: ReadonlyMap<string, readonly string[]>,
  qrels: ReadonlyMap<string, ReadonlyMap<string, number>>,
): RelevanceSummary {
  let ndcg = 0;
  let recall = 0;
  let mrr = 0;
  for (const [query, judged] of qrels) {
    const ranked = answers.get(query) ?? [];
    ndcg += ndcgAt(ranked, judged, 10);
    recall += recallAt(ranked, judged, 100);
    mrr += reciprocalRankAt(ranked, judged, 10);
  }
  const n = qrels.size;
  return { ndcgAt10: ndcg / n, recallAt100: recall / n, mrrAt10: mrr / n, queries: n };
}
