// Hybrid queries (vector + text) through the public API against hand-computed fusions of exact
// vector search and the plain TypeScript BM25, with filters on both sides; queryBatch with texts;
// the embed and rerank hooks.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Collection, type Database, open, type QueryHit } from '../../src/index.js';
import { referenceBm25 } from '../../src/text/bm25-reference.js';
import { tempDirectory } from '../helpers/fixtures.js';

let directory: ReturnType<typeof tempDirectory>;
let db: Database;
beforeEach(() => {
  directory = tempDirectory();
  db = open(directory.path);
});
afterEach(() => {
  db.close();
  directory.cleanup();
});

const TEXTS = [
  'red apples and green pears',
  'a red car parked outside',
  'green tea with lemon',
  'apples fall from the apple tree',
  'the car needs new tyres',
  'lemon cake recipe with apples',
  'pears ripen after picking',
  'a green car in the rain',
  'tree houses for children',
  'red wine and cheese',
  'apple pie and red berries',
  'children play in the rain',
];
/** Vectors on a circle: record i at angle i·0.5, so distances from any query are distinct. */
const VECTORS = TEXTS.map((_, i) => [Math.cos(i * 0.5), Math.sin(i * 0.5)]);

function collection(): Collection {
  const docs = db.collection('docs', { dim: 2, index: { type: 'flat' }, text: { tokenizer: 'unicode61' } });
  docs.upsert(TEXTS.map((text, i) => ({ id: `r${i}`, vector: VECTORS[i]!, text, metadata: { odd: i % 2 === 1 } })));
  return docs;
}

/** Exact L2 order of the records allowed by `keep`, nearest first. */
function vectorOrder(query: number[], keep: (i: number) => boolean): { id: string; distance: number }[] {
  return VECTORS.map((vector, i) => ({ i, distance: Math.hypot(vector[0]! - query[0]!, vector[1]! - query[1]!) }))
    .filter(({ i }) => keep(i))
    .sort((a, b) => a.distance - b.distance)
    .map(({ i, distance }) => ({ id: `r${i}`, distance }));
}

function textOrder(text: string, keep: (i: number) => boolean): { id: string; score: number }[] {
  return referenceBm25(TEXTS, text)
    .filter(({ index }) => keep(index))
    .map(({ index, score }) => ({ id: `r${index}`, score }));
}

/** RRF by hand: Σ 1 / (k + rank) over the first `candidates` of each list. */
function rrf(vector: { id: string }[], text: { id: string }[], candidates: number, k = 60): Map<string, number> {
  const scores = new Map<string, number>();
  for (const list of [vector.slice(0, candidates), text.slice(0, candidates)]) {
    list.forEach(({ id }, rank) => {
      scores.set(id, (scores.get(id) ?? 0) + 1 / (k + rank + 1));
    });
  }
  return scores;
}

function expectFusedOrder(hits: QueryHit[], scores: Map<string, number>): void {
  const best = [...scores.values()].sort((a, b) => b - a);
  hits.forEach((hit, i) => {
    expect(hit.score).toBeCloseTo(best[i]!, 12);
    expect(hit.score).toBeCloseTo(scores.get(hit.id)!, 12);
    expect(hit.distance).toBe(-hit.score!);
  });
}

describe('hybrid queries', () => {
  it('RRF (k = 60) of exact vector order and BM25 order', () => {
    const docs = collection();
    const query = [1, 0.2];
    const hits = docs.query({ vector: query, text: 'red apples', k: 5 });
    expect(hits).toHaveLength(5);
    expectFusedOrder(
      hits,
      rrf(
        vectorOrder(query, () => true),
        textOrder('red apples', () => true),
        50,
      ),
    );
  });

  it('RRF with another k and fewer candidates per side', () => {
    const docs = collection();
    const query = [-1, 0.3];
    const hits = docs.query({
      vector: query,
      text: 'green car rain',
      k: 4,
      candidates: 4,
      fusion: { method: 'rrf', k: 2 },
    });
    expectFusedOrder(
      hits,
      rrf(
        vectorOrder(query, () => true),
        textOrder('green car rain', () => true),
        4,
        2,
      ),
    );
  });

  it('weighted fusion: alpha 1 is the vector order, alpha 0 the text order (then the rest)', () => {
    const docs = collection();
    const query = [0.2, 1];
    const vector = docs.query({ vector: query, text: 'apple tree', k: 3, fusion: { method: 'weighted', alpha: 1 } });
    expect(vector.map((hit) => hit.id)).toEqual(
      vectorOrder(query, () => true)
        .slice(0, 3)
        .map(({ id }) => id),
    );
    const text = docs.query({ vector: query, text: 'apple tree', k: 2, fusion: { method: 'weighted', alpha: 0 } });
    expect(text.map((hit) => hit.id)).toEqual(
      textOrder('apple tree', () => true)
        .slice(0, 2)
        .map(({ id }) => id),
    );
    expect(text[0]?.score).toBe(1);
  });

  it('filters apply to both sides, with min(k, matches) hits', () => {
    const docs = collection();
    const query = [1, 0];
    const odd = (i: number) => i % 2 === 1;
    const hits = docs.query({ vector: query, text: 'red car', k: 4, candidates: 2, filter: { odd: true } });
    expect(hits).toHaveLength(4); // candidates are raised to k, so the vector side alone has 4
    for (const hit of hits) expect(Number(hit.id.slice(1)) % 2).toBe(1);
    expectFusedOrder(hits, rrf(vectorOrder(query, odd), textOrder('red car', odd), 4));
    // Six records are odd: asking for ten gives six.
    expect(docs.query({ vector: query, text: 'red car', k: 10, filter: { odd: true } })).toHaveLength(6);
  });

  it('explain shows each side with ranks and raw scores, and the fused scores', () => {
    const docs = collection();
    const query = [1, 0.2];
    const { hits, plan } = docs.query({ vector: query, text: 'red apples', k: 3, explain: true });
    expect(plan.strategy).toBe('hybrid');
    expect(plan.fusion).toEqual({ method: 'rrf', k: 60 });
    expect(plan.candidates).toBe(50);
    const vector = vectorOrder(query, () => true);
    expect(plan.vector?.candidates.map(({ id, rank }) => [id, rank])).toEqual(vector.map(({ id }, i) => [id, i + 1]));
    plan.vector?.candidates.forEach((candidate, i) => {
      expect(candidate.distance).toBeCloseTo(vector[i]!.distance, 6);
    });
    expect(plan.vector?.plan.strategy).toBe('exact');
    const text = textOrder('red apples', () => true);
    expect(plan.text.map(({ id }) => id)).toEqual(text.map(({ id }) => id));
    plan.text.forEach((candidate, i) => {
      expect(candidate.score).toBeCloseTo(text[i]!.score, 9);
    });
    expect(plan.fused?.slice(0, 3).map(({ id, score }) => [id, score])).toEqual(hits.map((hit) => [hit.id, hit.score]));
    const top = plan.fused![0]!;
    expect(top.score).toBeCloseTo(1 / (60 + top.vectorRank!) + 1 / (60 + top.textRank!), 12);
  });

  it('rejects fusion options on a text-only query and neither vector nor text', () => {
    const docs = collection();
    expect(() => docs.query({ text: 'red', fusion: { method: 'rrf' } })).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
    );
    expect(() => docs.query({ k: 3 })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => docs.query({ text: 'red', vector: [1, 0], fusion: { method: 'weighted', alpha: 2 } })).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
    );
  });
});

describe('queryBatch with texts', () => {
  it('answers each text (and hybrid pair) as query does', () => {
    const docs = collection();
    const texts = ['red apples', 'children rain', '!!'];
    expect(docs.queryBatch({ texts, k: 3 })).toEqual(texts.map((text) => docs.query({ text, k: 3 })));
    const vectors = [
      [1, 0],
      [0, 1],
      [-1, 0],
    ];
    expect(docs.queryBatch({ texts, vectors, k: 3, filter: { odd: false } })).toEqual(
      texts.map((text, i) => docs.query({ text, vector: vectors[i]!, k: 3, filter: { odd: false } })),
    );
  });

  it('validates the whole batch first', () => {
    const docs = collection();
    expect(() => docs.queryBatch({ texts: ['a', 'b'], vectors: [[1, 0]] })).toThrow(/1 vectors and 2 texts/);
    expect(() => docs.queryBatch({ texts: ['a'], vectors: [[1, 0, 0]] })).toThrow(
      expect.objectContaining({ code: 'DIMENSION_MISMATCH' }),
    );
  });
});

/** A toy embedding: letter counts of a–b folded into two dimensions, plus one so never zero. */
function toyEmbed(texts: string[]): number[][] {
  return texts.map((text) => [1 + (text.match(/a/g)?.length ?? 0), 1 + (text.match(/e/g)?.length ?? 0)]);
}

describe('the embed hook', () => {
  it('upsertAsync embeds records without a vector, in batches with bounded concurrency', async () => {
    const calls: number[] = [];
    let running = 0;
    let most = 0;
    const notes = db.collection('notes', {
      dim: 2,
      text: true,
      embedBatchSize: 2,
      embedConcurrency: 2,
      embed: async (texts) => {
        calls.push(texts.length);
        running++;
        most = Math.max(most, running);
        await new Promise((resolve) => setTimeout(resolve, 5));
        running--;
        return toyEmbed(texts);
      },
    });
    const result = await notes.upsertAsync([
      { id: 'n1', text: 'banana' },
      { id: 'n2', text: 'eel' },
      { id: 'n3', vector: [9, 9], text: 'given' },
      { id: 'n4', text: 'apple' },
      { id: 'n5', text: 'bread' },
      { id: 'n6', text: 'tea', metadata: { kind: 'drink' } },
    ]);
    expect(result).toEqual({ inserted: 6, updated: 0 });
    expect(calls).toEqual([2, 2, 1]);
    expect(most).toBe(2);
    expect(notes.get('n1')?.vector).toEqual(new Float32Array([4, 1]));
    expect(notes.get('n3')?.vector).toEqual(new Float32Array([9, 9]));
    expect(notes.get('n6')).toEqual({
      id: 'n6',
      vector: new Float32Array([2, 2]),
      metadata: { kind: 'drink' },
      text: 'tea',
    });
  });

  it('a wrong length or a non-finite number names the record, and nothing is written', async () => {
    const wrong = db.collection('wrong', {
      dim: 2,
      embed: (texts) => texts.map((text) => (text === 'bad' ? [1] : [1, 1])),
    });
    await expect(
      wrong.upsertAsync([
        { id: 'ok', text: 'fine' },
        { id: 'x', text: 'bad' },
      ]),
    ).rejects.toMatchObject({
      code: 'DIMENSION_MISMATCH',
      message: expect.stringMatching(/record 1 \(id 'x'\) has 1 numbers; collection 'wrong' has dim 2/),
    });
    const nan = db.collection('nan', { dim: 2, embed: (texts) => texts.map(() => [1, Number.NaN]) });
    await expect(nan.upsertAsync([{ id: 'y', text: 'any' }])).rejects.toMatchObject({
      code: 'NOT_FINITE',
      message: expect.stringMatching(/record 0 \(id 'y'\)\[1\] is NaN/),
    });
    expect(wrong.count() + nan.count()).toBe(0);
  });

  it('a rejection rejects the call with it as cause; a wrong count is HOOK_FAILED', async () => {
    const failure = new Error('model not loaded');
    const failing = db.collection('failing', { dim: 2, embed: async () => Promise.reject(failure) });
    await expect(failing.upsertAsync([{ id: 'a', text: 'x' }])).rejects.toMatchObject({
      code: 'HOOK_FAILED',
      cause: failure,
    });
    const short = db.collection('short', { dim: 2, embed: () => [[1, 1]] });
    await expect(
      short.upsertAsync([
        { id: 'a', text: 'x' },
        { id: 'b', text: 'y' },
      ]),
    ).rejects.toMatchObject({
      code: 'HOOK_FAILED',
      message: expect.stringMatching(/returned 1 vectors for 2 texts/),
    });
    expect(failing.count() + short.count()).toBe(0);
  });

  it('a bad record is rejected before any embed call', async () => {
    let called = false;
    const notes = db.collection('notes', {
      dim: 2,
      embed: (texts) => {
        called = true;
        return toyEmbed(texts);
      },
    });
    await expect(
      notes.upsertAsync([
        { id: 'a', text: 'x' },
        { id: 'b', text: 'y', metadata: { bad: Number.NaN } },
      ]),
    ).rejects.toMatchObject({ code: 'INVALID_METADATA' });
    await expect(notes.upsertAsync([{ id: 'a' } as never])).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: expect.stringMatching(/neither a vector nor a text/),
    });
    expect(called).toBe(false);
  });

  it('sync upsert, and upsertAsync without embed, say to pass embed and use the async call', async () => {
    const notes = db.collection('notes', { dim: 2, embed: toyEmbed });
    expect(() => notes.upsert([{ id: 'a', text: 'x' } as never])).toThrow(
      /open the collection with embed .* call upsertAsync/,
    );
    const plain = db.collection('plain', { dim: 2 });
    await expect(plain.upsertAsync([{ id: 'a', text: 'x' }])).rejects.toThrow(/open the collection with embed/);
  });

  it('queryAsync embeds a text and runs hybrid; the embed is passed again at each open', async () => {
    const seen: string[][] = [];
    const embed = (texts: string[]) => {
      seen.push(texts);
      return toyEmbed(texts);
    };
    const notes = db.collection('notes', { dim: 2, text: { tokenizer: 'unicode61' }, embed });
    await notes.upsertAsync([
      { id: 'a', text: 'banana bread' },
      { id: 'b', text: 'green tea' },
      { id: 'c', text: 'apple cake' },
    ]);
    const hits = await notes.queryAsync({ text: 'tea', k: 3 });
    expect(seen.at(-1)).toEqual(['tea']);
    const [queryVector] = toyEmbed(['tea']);
    expect(hits).toEqual(notes.query({ text: 'tea', vector: queryVector!, k: 3 }));
    db.close();
    db = open(directory.path);
    const reopened = db.collection('notes');
    // Without embed, queryAsync with text alone is a text query.
    expect(await reopened.queryAsync({ text: 'tea', k: 3 })).toEqual(reopened.query({ text: 'tea', k: 3 }));
  });
});

describe('queryAsync on a collection with embed and no text index', () => {
  it('runs the embedded text as a vector query', async () => {
    const plain = db.collection('plain', { dim: 2, embed: toyEmbed });
    await plain.upsertAsync([
      { id: 'a', text: 'aaaa' },
      { id: 'e', text: 'eeee' },
    ]);
    const hits = await plain.queryAsync({ text: 'ee', k: 2 });
    expect(hits).toEqual(plain.query({ vector: toyEmbed(['ee'])[0]!, k: 2 }));
    expect(hits[0]?.id).toBe('e');
  });
});

describe('the rerank hook', () => {
  it('scores the candidates and returns the k best by its scores, keeping the original scores', async () => {
    const docs = collection();
    const retrieved = docs.query({ text: 'red apples', k: 6 });
    let given: { query: string; hits: QueryHit[] } | undefined;
    // Longer texts first: a stand-in for a cross-encoder.
    const hits = await docs.queryAsync({
      text: 'red apples',
      k: 2,
      rerank: {
        candidates: 6,
        score: (query, candidates) => {
          given = { query, hits: candidates };
          return candidates.map((hit) => hit.text!.length);
        },
      },
    });
    expect(given?.query).toBe('red apples');
    expect(given?.hits).toEqual(retrieved);
    const expected = [...retrieved].sort((a, b) => b.text!.length - a.text!.length).slice(0, 2);
    expect(hits.map((hit) => hit.id)).toEqual(expected.map((hit) => hit.id));
    expect(hits.map((hit) => hit.rerankScore)).toEqual(expected.map((hit) => hit.text!.length));
    expect(hits.map((hit) => hit.score)).toEqual(expected.map((hit) => hit.score));
  });

  it('a failing or malformed scorer is HOOK_FAILED; rerank needs text', async () => {
    const docs = collection();
    const failure = new Error('GPU out of memory');
    await expect(
      docs.queryAsync({ text: 'red', rerank: { score: async () => Promise.reject(failure) } }),
    ).rejects.toMatchObject({ code: 'HOOK_FAILED', cause: failure });
    await expect(docs.queryAsync({ text: 'red', rerank: { score: () => [1] } })).rejects.toMatchObject({
      code: 'HOOK_FAILED',
      message: expect.stringMatching(/returned 1 scores for 4 hits/),
    });
    await expect(
      docs.queryAsync({ text: 'red', rerank: { score: (_, hits) => hits.map(() => Number.NaN) } }),
    ).rejects.toMatchObject({ code: 'HOOK_FAILED' });
    await expect(docs.queryAsync({ vector: [1, 0], rerank: { score: () => [] } })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
    expect(() => docs.query({ text: 'red', rerank: { score: () => [] } as never })).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
    );
  });
});
