// A plain TypeScript BM25 with FTS5's formula (k1 1.2, b 0.75, idf floored at 1e-6) over text split
// as the 'unicode61' tokenizer splits ASCII text: the reference the full-text tests compare the
// FTS5 index with. Not used by queries. Imports nothing.

const K1 = 1.2;
const B = 0.75;

/** Lower-cased runs of letters and digits (unicode61 on text without diacritics). */
export function referenceTokens(text: string): string[] {
  return (text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []).slice();
}

/**
 * Every document holding at least one query word, with its BM25 score (higher is better), best
 * first; ties by document position. Each query word counts once per occurrence in the query, as
 * each is one phrase of the OR query FTS5 runs.
 */
export function referenceBm25(documents: readonly string[], query: string): { index: number; score: number }[] {
  const tokenized = documents.map(referenceTokens);
  const n = tokenized.length;
  const totalTokens = tokenized.reduce((sum, tokens) => sum + tokens.length, 0);
  const averageLength = n === 0 ? 0 : totalTokens / n;
  const words = referenceTokens(query);
  const idf = words.map((word) => {
    const hits = tokenized.filter((tokens) => tokens.includes(word)).length;
    const value = Math.log((n - hits + 0.5) / (hits + 0.5));
    return value <= 0 ? 1e-6 : value;
  });
  const results: { index: number; score: number }[] = [];
  tokenized.forEach((tokens, index) => {
    let matched = false;
    let score = 0;
    words.forEach((word, w) => {
      const frequency = tokens.filter((token) => token === word).length;
      if (frequency === 0) return;
      matched = true;
      score += (idf[w]! * (frequency * (K1 + 1))) / (frequency + K1 * (1 - B + (B * tokens.length) / averageLength));
    });
    if (matched) results.push({ index, score });
  });
  return results.sort((a, b) => b.score - a.score || a.index - b.index);
}
