// The text suite's pieces: relevance metrics against a hand-checked example (trec_eval's
// definitions), the BEIR reader, and the suite end to end on a tiny BEIR folder with vectors.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadBeir, parseQrels } from '../../bench/datasets/beir.js';
import { ndcgAt, recallAt, reciprocalRankAt, summarize } from '../../bench/harness/relevance.js';
import { runText } from '../../bench/harness/text.js';
import { tempDirectory } from '../helpers/fixtures.js';

describe('relevance metrics (trec_eval definitions)', () => {
  // Ranked d3, d1, d7, d2; judged d1: 1, d2: 2, d9: 1 (never retrieved), d5: 0 (judged not relevant).
  const ranked = ['d3', 'd1', 'd7', 'd2'];
  const judged = new Map([
    ['d1', 1],
    ['d2', 2],
    ['d9', 1],
    ['d5', 0],
  ]);

  it('nDCG@10: linear gains, log2(rank + 1) discounts, over the ideal order of every judged document', () => {
    // DCG = 1/log2(3) + 2/log2(5) = 0.630930 + 0.861353 = 1.492283; IDCG = 2/log2(2) + 1/log2(3) + 1/log2(4) = 3.130930.
    expect(ndcgAt(ranked, judged, 10)).toBeCloseTo(0.476626, 6);
    // Cut at 2: DCG = 1/log2(3) = 0.630930; IDCG = 2 + 0.630930 = 2.630930.
    expect(ndcgAt(ranked, judged, 2)).toBeCloseTo(0.239812, 6);
    expect(ndcgAt(['d2', 'd1', 'd9'], judged, 10)).toBeCloseTo(1, 12);
    expect(ndcgAt(ranked, new Map([['x', 0]]), 10)).toBe(0);
  });

  it('recall@k over the documents judged relevant', () => {
    expect(recallAt(ranked, judged, 100)).toBeCloseTo(2 / 3, 12);
    expect(recallAt(ranked, judged, 2)).toBeCloseTo(1 / 3, 12);
  });

  it('MRR@k: the reciprocal rank of the first relevant document within the top k', () => {
    expect(reciprocalRankAt(ranked, judged, 10)).toBe(0.5);
    expect(reciprocalRankAt(ranked, judged, 1)).toBe(0);
  });

  it('averages over every judged query; a query without an answer counts 0', () => {
    const qrels = new Map([
      ['q1', judged],
      ['q2', new Map([['d4', 1]])],
    ]);
    const summary = summarize(new Map([['q1', ranked]]), qrels);
    expect(summary.queries).toBe(2);
    expect(summary.mrrAt10).toBe(0.25);
    expect(summary.recallAt100).toBeCloseTo(1 / 3, 12);
  });
});

describe('BEIR reader', () => {
  it('reads the three-column qrels with a header, and the four-column TREC form', () => {
    expect(parseQrels('query-id\tcorpus-id\tscore\nq1\td1\t1\nq1\td2\t0\n', 'x')).toEqual(
      new Map([
        [
          'q1',
          new Map([
            ['d1', 1],
            ['d2', 0],
          ]),
        ],
      ]),
    );
    expect(parseQrels('q1 0 d1 2\n', 'x')).toEqual(new Map([['q1', new Map([['d1', 2]])]]));
    expect(() => parseQrels('q1\td1\thigh\n\nq1\td1\tx\n', 'x')).toThrow(/score 'x'/);
  });
});

/** Writes a tiny BEIR folder (and fvecs of its vectors) into `folder`. */
function writeTinyBeir(folder: string): { corpusVectors: string; queryVectors: string } {
  const corpus = [
    { _id: '10', title: 'Vitamin D', text: 'Vitamin D deficiency and bone health in adults.' },
    { _id: '11', title: 'Sleep', text: 'Sleep duration affects memory consolidation.' },
    { _id: '12', title: 'Exercise', text: 'Exercise improves bone density in older adults.' },
    { _id: '13', title: '', text: 'Memory and learning in children who sleep well.' },
  ];
  const queries = [
    { _id: '1', text: 'bone density exercise' },
    { _id: '2', text: 'unjudged query' },
    { _id: '3', text: 'sleep and memory' },
  ];
  writeFileSync(join(folder, 'corpus.jsonl'), `${corpus.map((row) => JSON.stringify(row)).join('\n')}\n`);
  writeFileSync(join(folder, 'queries.jsonl'), `${queries.map((row) => JSON.stringify(row)).join('\n')}\n`);
  writeFileSync(join(folder, 'qrels-test.tsv'), 'query-id\tcorpus-id\tscore\n1\t12\t1\n3\t11\t1\n3\t13\t1\n');
  const fvecs = (rows: number[][]) => {
    const buffer = Buffer.alloc(rows.length * (4 + rows[0]!.length * 4));
    let at = 0;
    for (const row of rows) {
      buffer.writeInt32LE(row.length, at);
      at += 4;
      for (const value of row) {
        buffer.writeFloatLE(value, at);
        at += 4;
      }
    }
    return buffer;
  };
  const corpusVectors = join(folder, 'corpus.fvecs');
  const queryVectors = join(folder, 'queries.fvecs');
  writeFileSync(
    corpusVectors,
    fvecs([
      [1, 0],
      [0, 1],
      [0.9, 0.1],
      [0.1, 0.9],
    ]),
  );
  writeFileSync(
    queryVectors,
    fvecs([
      [0.9, 0.1],
      [0.5, 0.5],
      [0.05, 1],
    ]),
  );
  return { corpusVectors, queryVectors };
}

describe('the text suite', () => {
  it('measures BM25, vector-only and every fusion on a BEIR folder, and writes the report', async () => {
    const folder = tempDirectory('quiver-beir-');
    try {
      const vectors = writeTinyBeir(folder.path);
      const data = loadBeir(folder.path);
      expect(data.queries.map((query) => [query.id, query.position])).toEqual([
        ['1', 0],
        ['3', 2],
      ]);
      expect(data.queryRows).toBe(3);
      const { results, files } = await runText({
        datasets: [folder.path],
        out: join(folder.path, 'out'),
        queries: undefined,
        passes: 1,
        warmup: 0,
        progress: false,
        quiet: true,
        ...vectors,
      });
      expect(results.documents).toBe(4);
      expect(results.queries).toBe(2);
      expect(results.modes.map((mode) => mode.mode)).toEqual([
        'text (BM25)',
        'vector',
        'hybrid RRF (k 60)',
        'hybrid weighted α 0.3',
        'hybrid weighted α 0.5',
        'hybrid weighted α 0.7',
      ]);
      // Query 1: '12' is the only document holding 'exercise' and 'density', first by BM25 and nearest
      // by vector. Query 3: '11' and '13' hold 'sleep' and 'memory', and are the two nearest.
      for (const mode of results.modes) {
        expect(mode.ndcgAt10).toBeCloseTo(1, 12);
        expect(mode.recallAt100).toBe(1);
        expect(mode.mrrAt10).toBe(1);
      }
      expect(results.textIndexBytes).toBeGreaterThan(0);
      expect(results.hybridLatencyRatio).toBeGreaterThan(0);
      expect(results.vectors).toBe('given');
      expect(results.openSeconds).toBeGreaterThan(0);
      expect(files).toHaveLength(2);
    } finally {
      folder.cleanup();
    }
  });

  it('with random vectors measures latencies only: vector and hybrid relevance is n/a', async () => {
    const folder = tempDirectory('quiver-beir-');
    try {
      writeTinyBeir(folder.path);
      const { results, files } = await runText({
        datasets: [folder.path],
        out: join(folder.path, 'out'),
        queries: undefined,
        passes: 1,
        warmup: 0,
        progress: false,
        quiet: true,
        randomVectors: 3,
      });
      expect(results.vectors).toBe('random');
      const [text, ...others] = results.modes;
      expect(text).toMatchObject({ mode: 'text (BM25)', ndcgAt10: 1, recallAt100: 1, mrrAt10: 1 });
      expect(others.map((mode) => mode.mode)).toEqual([
        'vector',
        'hybrid RRF (k 60)',
        'hybrid weighted α 0.3',
        'hybrid weighted α 0.5',
        'hybrid weighted α 0.7',
      ]);
      for (const mode of others) {
        expect(mode.ndcgAt10).toBeNaN();
        expect(mode.p50Ms).toBeGreaterThan(0);
      }
      expect(results.hybridLatencyRatioP99).toBeGreaterThan(0);
      const markdown = readFileSync(files[1]!, 'utf8');
      expect(markdown).toContain('| vector | n/a | n/a | n/a |');
      expect(JSON.parse(readFileSync(files[0]!, 'utf8')).modes[1].ndcgAt10).toBeNull();
      await expect(
        runText({
          datasets: [folder.path],
          out: join(folder.path, 'out'),
          queries: undefined,
          passes: 1,
          warmup: 0,
          progress: false,
          quiet: true,
          randomVectors: 3,
          corpusVectors: 'x.fvecs',
          queryVectors: 'y.fvecs',
        }),
      ).rejects.toThrow(/not both/);
    } finally {
      folder.cleanup();
    }
  });
});
