// The in-memory inverted index on its own: MaxScore's top k equals scoring every document (the
// same arithmetic, no pruning) on seeded Zipf-like corpora large enough for pruning to matter,
// with filters, removals and re-additions, repeated query terms and ties.
import { describe, expect, it } from 'vitest';
import { InvertedIndex } from '../../src/text/inverted-index.js';
import { random } from '../helpers/random.js';

const K1 = 1.2;
const B = 0.75;

/** Documents as term lists, by label (undefined: not in the index). */
type Corpus = (string[] | undefined)[];

function zipfCorpus(documents: number, vocabulary: number, next: () => number): Corpus {
  return Array.from({ length: documents }, () => {
    const length = Math.floor(next() * 40);
    // Term i drawn with weight about 1 / (i + 1): a few very common terms, many rare ones.
    return Array.from({ length }, () => `t${Math.floor(vocabulary ** next()) - 1}`);
  });
}

/** Adds the documents of `labels` to `index` through the visitor, term after term, labels ascending. */
function addDocuments(index: InvertedIndex, corpus: Corpus, labels: number[]): void {
  const byTerm = new Map<string, Map<number, number>>();
  for (const label of labels) {
    for (const term of corpus[label]!) {
      const postings = byTerm.get(term) ?? new Map<number, number>();
      postings.set(label, (postings.get(label) ?? 0) + 1);
      byTerm.set(term, postings);
    }
  }
  index.add(labels, (visit) => {
    for (const [term, postings] of [...byTerm].sort(([a], [b]) => (a < b ? -1 : 1))) {
      const sorted = [...postings].sort(([a], [b]) => a - b);
      visit(
        term,
        Int32Array.from(sorted, ([label]) => label),
        Int32Array.from(sorted, ([, tf]) => tf),
        sorted.length,
      );
    }
  });
}

/** Every document holding a query term, scored without pruning; best first, ties by label. */
function exhaustive(
  corpus: Corpus,
  phrases: string[],
  k: number,
  totals: { rows: number; tokens: number },
  accept?: (label: number) => boolean,
): { labels: number[]; scores: number[] } {
  const average = totals.tokens / totals.rows;
  const holding = (term: string) => corpus.filter((terms) => terms?.includes(term)).length;
  const idfs = phrases.map((term) => {
    const n = holding(term);
    const value = Math.log((totals.rows - n + 0.5) / (n + 0.5));
    return value <= 0 ? 1e-6 : value;
  });
  const scored: { label: number; score: number }[] = [];
  corpus.forEach((terms, label) => {
    if (terms === undefined || (accept !== undefined && !accept(label))) return;
    let score = 0;
    let matched = false;
    phrases.forEach((term, phrase) => {
      const frequency = terms.filter((t) => t === term).length;
      if (frequency === 0) return;
      matched = true;
      score += idfs[phrase]! * ((frequency * (K1 + 1.0)) / (frequency + K1 * (1 - B + (B * terms.length) / average)));
    });
    if (matched) scored.push({ label, score });
  });
  scored.sort((a, b) => b.score - a.score || a.label - b.label);
  const top = scored.slice(0, k);
  return { labels: top.map((entry) => entry.label), scores: top.map((entry) => entry.score) };
}

describe('MaxScore top-k against scoring every document', () => {
  it.each([1, 2, 3, 4])('seed %i: same labels and scores, with filters, removals and re-additions', (seed) => {
    const next = random(seed);
    const corpus = zipfCorpus(1500, 800, next);
    // Exact duplicates: equal scores, ordered by label.
    corpus[700] = corpus[3]!.slice();
    corpus[1200] = corpus[3]!.slice();
    const index = new InvertedIndex(Math.log);
    addDocuments(
      index,
      corpus,
      corpus.map((_, label) => label),
    );
    const totals = { rows: corpus.length, tokens: corpus.reduce((sum, terms) => sum + terms!.length, 0) };
    const check = (where: string) => {
      for (let q = 0; q < 25; q++) {
        const phrases = Array.from({ length: 1 + Math.floor(next() * 10) }, () => `t${Math.floor(800 ** next()) - 1}`);
        if (q % 5 === 0) phrases.push(phrases[0]!); // a repeated word counts twice
        for (const k of [1, 10, 100]) {
          expect(index.search(phrases, k, totals), `${where} ${phrases.join(' ')} k ${k}`).toEqual(
            exhaustive(corpus, phrases, k, totals),
          );
        }
        const accept = (label: number) => label % 3 !== 0;
        expect(index.search(phrases, 10, totals, accept), `${where} filtered`).toEqual(
          exhaustive(corpus, phrases, 10, totals, accept),
        );
      }
    };
    check(`seed ${seed}`);
    // Remove a third, replace some texts: FTS5's totals keep counting what was removed.
    const removed = corpus.map((_, label) => label).filter(() => next() < 0.33);
    for (const label of removed) {
      index.remove(label);
      corpus[label] = undefined;
    }
    const readded = removed.filter(() => next() < 0.5);
    for (const label of readded) corpus[label] = zipfCorpus(1, 800, next)[0]!;
    addDocuments(index, corpus, readded);
    totals.rows += readded.length;
    totals.tokens += readded.reduce((sum, label) => sum + corpus[label]!.length, 0);
    expect(index.documents).toBe(corpus.filter((terms) => terms !== undefined).length);
    check(`seed ${seed} after changes`);
  });

  it('refuses a label twice, and postings naming a label not being added', () => {
    const index = new InvertedIndex(Math.log);
    index.add([1], (visit) => visit('a', Int32Array.of(1), Int32Array.of(1), 1));
    expect(() => index.add([1], () => {})).toThrow(/already/);
    expect(() => index.add([2], (visit) => visit('a', Int32Array.of(3), Int32Array.of(1), 1))).toThrow(/not one/);
    expect(index.search(['a'], 0, { rows: 1, tokens: 1 })).toEqual({ labels: [], scores: [] });
  });
});
