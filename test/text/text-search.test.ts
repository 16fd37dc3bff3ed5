// Text on records and the full-text index through the public API: text as data, BM25 order against
// the plain TypeScript reference, tokenizers, filters, injection attempts, settings on reopen, and
// the rebuild of a missing or damaged index.
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Collection, open, type QuiverProgress, type QuiverWarning } from '../../src/index.js';
import { referenceBm25 } from '../../src/text/bm25-reference.js';
import { tempDirectory } from '../helpers/fixtures.js';

let directory: ReturnType<typeof tempDirectory>;
beforeEach(() => {
  directory = tempDirectory();
});
afterEach(() => directory.cleanup());

/** A small hand-made corpus: repeated words, different lengths, shared and rare terms. */
const CORPUS = [
  'the cat sat on the mat',
  'the dog chased the cat around the garden',
  'a bird sang in the garden at dawn',
  'cats and dogs are common pets',
  'the quick brown fox jumps over the lazy dog',
  'dog dog dog: a very repetitive document about a dog',
  'gardening tips for spring flowers and vegetables in a small garden',
  'nothing in common with the others',
  'the mat was red',
  'foxes live in dens; a fox is quick',
];

function corpusCollection(tokenizer: 'unicode61' | 'porter' = 'unicode61'): Collection {
  const db = open(directory.path);
  const docs = db.collection('docs', { dim: 2, text: { tokenizer } });
  docs.upsert(CORPUS.map((text, i) => ({ id: `d${i}`, vector: [i, 1], text, metadata: { even: i % 2 === 0, i } })));
  return docs;
}

describe('text is data', () => {
  it('is stored, returned by get and queries, replaced by upsert, removed by delete, kept by compaction and reopen', () => {
    let db = open(directory.path);
    let docs = db.collection('docs', { dim: 2, text: true });
    docs.upsert([
      { id: 'a', vector: [1, 0], text: 'Élan vital' },
      { id: 'b', vector: [0, 1], text: '' },
      { id: 'c', vector: [1, 1] },
    ]);
    expect(docs.get('a')?.text).toBe('Élan vital');
    expect(docs.get('b')?.text).toBe('');
    expect(docs.get('c')).not.toHaveProperty('text');
    expect(docs.query({ vector: [1, 0], k: 1 })[0]?.text).toBe('Élan vital');
    expect(docs.query({ vector: [1, 0], k: 1, includeText: false })[0]).not.toHaveProperty('text');
    expect(docs.get({ filter: {} }).map((record) => record.text)).toEqual(['Élan vital', '', undefined]);
    // Upsert replaces text whole: without text, the record has none and no longer matches.
    docs.upsert([
      { id: 'a', vector: [1, 0] },
      { id: 'c', vector: [1, 1], text: 'elan' },
    ]);
    expect(docs.get('a')).not.toHaveProperty('text');
    expect(docs.query({ text: 'elan' }).map((hit) => hit.id)).toEqual(['c']);
    expect(docs.delete('c')).toBe(1);
    expect(docs.query({ text: 'elan' })).toEqual([]);
    docs.upsert([{ id: 'd', vector: [2, 1], text: 'vital signs' }]);
    docs.compact();
    db.close();
    db = open(directory.path);
    docs = db.collection('docs');
    expect(docs.text).toEqual({ tokenizer: 'porter', removeDiacritics: true });
    expect(docs.get('d')?.text).toBe('vital signs');
    expect(docs.query({ text: 'vital' }).map((hit) => hit.id)).toEqual(['d']);
    expect(db.listCollections()[0]?.text).toEqual({ tokenizer: 'porter', removeDiacritics: true });
    db.close();
  });

  it('is kept on a collection without a text index, and a text query there says how to build one', () => {
    const db = open(directory.path);
    const docs = db.collection('plain', { dim: 2 });
    docs.upsert([{ id: 'a', vector: [1, 0], text: 'kept anyway' }]);
    expect(docs.get('a')?.text).toBe('kept anyway');
    expect(() => docs.query({ text: 'kept' })).toThrow(/keeps no text index; open it with \{ text: true \}/);
    db.close();
  });

  it('rejects a text that is not a string or longer than 1 MiB, writing nothing', () => {
    const db = open(directory.path);
    const docs = db.collection('docs', { dim: 2, text: true });
    expect(() => docs.upsert([{ id: 'a', vector: [1, 0], text: 42 as unknown as string }])).toThrow(
      expect.objectContaining({
        code: 'INVALID_ARGUMENT',
        message: expect.stringMatching(/record 0\.text is the number 42/),
      }),
    );
    const long = 'é'.repeat(524_289); // 1,048,578 bytes
    expect(() =>
      docs.upsert([
        { id: 'ok', vector: [1, 0], text: 'fine' },
        { id: 'b', vector: [1, 0], text: long },
      ]),
    ).toThrow(
      expect.objectContaining({
        code: 'INVALID_ARGUMENT',
        message: expect.stringMatching(/record 1\.text is 1048578 bytes/),
      }),
    );
    expect(docs.count()).toBe(0);
    expect(docs.query({ text: 'fine' })).toEqual([]);
    db.close();
  });

  it('a stored text that is not a string is CORRUPT', () => {
    let db = open(directory.path);
    db.collection('docs', { dim: 2 }).upsert([{ id: 'a', vector: [1, 0], text: 'x' }]);
    db.close();
    const raw = new Database(join(directory.path, 'quiver.sqlite'));
    raw.prepare('UPDATE records SET text = ?').run(Buffer.from([1, 2, 3]));
    raw.close();
    db = open(directory.path);
    const docs = db.collection('docs');
    expect(() => docs.get('a')).toThrow(expect.objectContaining({ code: 'CORRUPT' }));
    expect(() => docs.query({ vector: [1, 0] })).toThrow(expect.objectContaining({ code: 'CORRUPT' }));
    db.close();
  });
});

describe('BM25', () => {
  const QUERIES = ['cat', 'dog garden', 'the cat', 'quick fox', 'garden garden dawn', 'common pets', 'mat red cat'];

  it.each(QUERIES)('orders %j as the plain TypeScript BM25 does, with its scores', (query) => {
    const docs = corpusCollection('unicode61');
    const expected = referenceBm25(CORPUS, query);
    const hits = docs.query({ text: query, k: 100 });
    expect(hits.map((hit) => hit.id)).toEqual(expected.map(({ index }) => `d${index}`));
    hits.forEach((hit, i) => {
      expect(hit.score).toBeCloseTo(expected[i]!.score, 9);
      expect(hit.distance).toBe(-hit.score!);
    });
  });

  it('returns the k best, and nothing for a text without words or without a matching word', () => {
    const docs = corpusCollection();
    expect(docs.query({ text: 'the', k: 3 })).toHaveLength(3);
    expect(docs.query({ text: '  ?!  ' })).toEqual([]);
    expect(docs.query({ text: 'zebra' })).toEqual([]);
  });

  it('explain lists the words and the candidates with ranks and scores', () => {
    const docs = corpusCollection();
    const { hits, plan } = docs.query({ text: 'Quick FOX!', k: 2, explain: true });
    expect(plan.strategy).toBe('text');
    expect(plan.words).toEqual(['Quick', 'FOX']);
    expect(plan.text.map(({ id, rank }) => [id, rank])).toEqual(hits.map((hit, i) => [hit.id, i + 1]));
    expect(plan.text[0]?.score).toBe(hits[0]?.score);
  });
});

describe('tokenizers', () => {
  it('porter (the default) matches stems; unicode61 whole words; both fold case and diacritics', () => {
    const db = open(directory.path);
    const stemmed = db.collection('stemmed', { dim: 2, text: true });
    const words = db.collection('words', { dim: 2, text: { tokenizer: 'unicode61' } });
    const records = [
      { id: 'run', vector: [1, 0], text: 'Running shoes for the café' },
      { id: 'other', vector: [0, 1], text: 'nothing here' },
    ];
    stemmed.upsert(records);
    words.upsert(records);
    expect(stemmed.query({ text: 'runs' }).map((hit) => hit.id)).toEqual(['run']);
    expect(words.query({ text: 'runs' })).toEqual([]);
    expect(words.query({ text: 'RUNNING CAFE' }).map((hit) => hit.id)).toEqual(['run']);
    db.close();
  });

  it('keeps diacritics apart when asked to', () => {
    const db = open(directory.path);
    const exact = db.collection('exact', { dim: 2, text: { tokenizer: 'unicode61', removeDiacritics: false } });
    exact.upsert([{ id: 'a', vector: [1, 0], text: 'café' }]);
    expect(exact.query({ text: 'cafe' })).toEqual([]);
    expect(exact.query({ text: 'CAFÉ' }).map((hit) => hit.id)).toEqual(['a']);
    db.close();
  });

  it('trigram finds substrings of three characters or more', () => {
    const db = open(directory.path);
    const parts = db.collection('parts', { dim: 2, text: { tokenizer: 'trigram' } });
    parts.upsert([
      { id: 'a', vector: [1, 0], text: 'Part number XK-4471-B' },
      { id: 'b', vector: [0, 1], text: 'Part number ZZ-9000' },
    ]);
    expect(parts.query({ text: '4471' }).map((hit) => hit.id)).toEqual(['a']);
    expect(parts.query({ text: 'xk' })).toEqual([]); // shorter than a trigram
    db.close();
  });

  it('settings are stored and checked on reopen like dim', () => {
    let db = open(directory.path);
    db.collection('docs', { dim: 2, text: { tokenizer: 'trigram' } });
    db.close();
    db = open(directory.path);
    expect(() => db.collection('docs', { dim: 2, text: true })).toThrow(
      expect.objectContaining({
        code: 'SETTINGS_MISMATCH',
        message: expect.stringMatching(/text .*porter.*stored.*trigram/),
      }),
    );
    expect(db.collection('docs', { dim: 2, text: { tokenizer: 'trigram' } }).text).toEqual({
      tokenizer: 'trigram',
      removeDiacritics: true,
    });
    expect(db.collection('docs', { dim: 2 }).text?.tokenizer).toBe('trigram');
    db.close();
  });

  it('rejects unknown tokenizer options', () => {
    const db = open(directory.path);
    expect(() => db.collection('docs', { dim: 2, text: { tokenizer: 'snowball' as 'porter' } })).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
    );
    expect(() => db.collection('docs', { dim: 2, text: false as unknown as true })).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
    );
    db.close();
  });
});

describe('user text is words, never FTS5 syntax', () => {
  const ATTEMPTS = [
    '"unbalanced quote',
    'cat"',
    '""',
    'NEAR(cat dog)',
    'NEAR(cat dog, 0)',
    'cat*',
    '*',
    'text:cat',
    '{text}: cat',
    '- cat',
    '^cat',
    '(cat OR',
    ')',
    'cat AND dog',
    'cat OR',
    'NOT cat',
    'AND',
    'cat NOT dog',
    "'; DROP TABLE records; --",
    'cat + dog',
    'records_text_1 MATCH cat',
  ];

  it.each(ATTEMPTS)('%j is searched as its words, without a SQLite error', (attempt) => {
    const docs = corpusCollection('unicode61');
    const hits = docs.query({ text: attempt, k: 100 });
    // The same words, written plainly, give the same answer: the syntax changed nothing.
    const plain = (attempt.match(/[\p{L}\p{N}]+/gu) ?? []).join(' ');
    const expected = referenceBm25(CORPUS, plain).map(({ index }) => `d${index}`);
    expect(hits.map((hit) => hit.id)).toEqual(expected);
    expect(docs.count()).toBe(CORPUS.length);
  });

  it('keywords are words: "and" finds the record holding it', () => {
    const docs = corpusCollection('unicode61');
    expect(docs.query({ text: 'AND' }).map((hit) => hit.id)).toEqual(['d3', 'd6']);
    expect(docs.query({ text: 'NOT' })).toEqual([]);
  });
});

describe('filters', () => {
  it('apply to text queries with min(k, matches) hits', () => {
    const docs = corpusCollection('unicode61');
    const expected = referenceBm25(CORPUS, 'the garden dog')
      .map(({ index }) => index)
      .filter((index) => index % 2 === 0)
      .map((index) => `d${index}`);
    expect(expected.length).toBeGreaterThan(2);
    const hits = docs.query({ text: 'the garden dog', filter: { even: true }, k: 100 });
    expect(hits.map((hit) => hit.id)).toEqual(expected);
    expect(docs.query({ text: 'the garden dog', filter: { even: true }, k: 2 }).map((hit) => hit.id)).toEqual(
      expected.slice(0, 2),
    );
    expect(docs.query({ text: 'the', filter: { i: { $gte: 100 } } })).toEqual([]);
  });
});

describe('a missing, damaged or newly declared index', () => {
  function records(): { id: string; vector: number[]; text: string }[] {
    return CORPUS.map((text, i) => ({ id: `d${i}`, vector: [i, 1], text }));
  }

  it('a dropped index is rebuilt on open with a warning', () => {
    let db = open(directory.path);
    db.collection('docs', { dim: 2, text: { tokenizer: 'unicode61' } }).upsert(records());
    db.close();
    const raw = new Database(join(directory.path, 'quiver.sqlite'));
    raw.exec('DROP TABLE records_text_1');
    raw.close();
    const warnings: QuiverWarning[] = [];
    db = open(directory.path, { onWarning: (warning) => warnings.push(warning) });
    const docs = db.collection('docs');
    expect(warnings.map((warning) => warning.code)).toEqual(['TEXT_INDEX_MISSING']);
    expect(docs.query({ text: 'cat', k: 100 }).map((hit) => hit.id)).toEqual(
      referenceBm25(CORPUS, 'cat').map(({ index }) => `d${index}`),
    );
    db.close();
  });

  it('an index that lost rows is rebuilt on open with a warning', () => {
    let db = open(directory.path);
    db.collection('docs', { dim: 2, text: { tokenizer: 'unicode61' } }).upsert(records());
    db.close();
    const raw = new Database(join(directory.path, 'quiver.sqlite'));
    raw.exec('DELETE FROM records_text_1 WHERE rowid < 3');
    raw.close();
    const warnings: QuiverWarning[] = [];
    db = open(directory.path, { onWarning: (warning) => warnings.push(warning) });
    const docs = db.collection('docs');
    expect(warnings.map((warning) => warning.code)).toEqual(['TEXT_INDEX_INVALID']);
    expect(docs.query({ text: 'cat', k: 100 }).map((hit) => hit.id)).toEqual(
      referenceBm25(CORPUS, 'cat').map(({ index }) => `d${index}`),
    );
    db.close();
  });

  it('a damaged index is rebuilt at the query that finds it, with a warning, and answers right', () => {
    let db = open(directory.path);
    db.collection('docs', { dim: 2, text: { tokenizer: 'unicode61' } }).upsert(records());
    db.close();
    const raw = new Database(join(directory.path, 'quiver.sqlite'));
    raw.unsafeMode(true); // lets the test write FTS5 shadow tables
    raw.exec('UPDATE records_text_1_data SET block = zeroblob(length(block)) WHERE id > 10');
    raw.close();
    const warnings: QuiverWarning[] = [];
    db = open(directory.path, { onWarning: (warning) => warnings.push(warning) });
    const docs = db.collection('docs');
    expect(docs.query({ text: 'the cat', k: 100 }).map((hit) => hit.id)).toEqual(
      referenceBm25(CORPUS, 'the cat').map(({ index }) => `d${index}`),
    );
    expect(warnings.map((warning) => warning.code)).toEqual(['TEXT_INDEX_INVALID']);
    db.close();
  });

  it('reopening an existing collection with text builds the index with progress', () => {
    let db = open(directory.path);
    db.collection('docs', { dim: 2 }).upsert(records());
    db.close();
    const progress: QuiverProgress[] = [];
    db = open(directory.path, { onProgress: (report) => progress.push(report) });
    expect(() => db.collection('docs').query({ text: 'cat' })).toThrow(/keeps no text index/);
    const docs = db.collection('docs', { dim: 2, text: { tokenizer: 'unicode61' } });
    expect(progress.filter((report) => report.phase === 'text').at(-1)).toEqual({
      collection: 'docs',
      phase: 'text',
      done: CORPUS.length,
      total: CORPUS.length,
    });
    expect(docs.query({ text: 'cat', k: 100 }).map((hit) => hit.id)).toEqual(
      referenceBm25(CORPUS, 'cat').map(({ index }) => `d${index}`),
    );
    db.close();
    const reader = open(directory.path, { readOnly: true });
    expect(reader.collection('docs').text).toEqual({ tokenizer: 'unicode61', removeDiacritics: true });
    reader.close();
  });

  it('a read-only open cannot add a text index', () => {
    let db = open(directory.path);
    db.collection('docs', { dim: 2 });
    db.close();
    db = open(directory.path, { readOnly: true });
    expect(() => db.collection('docs', { dim: 2, text: true })).toThrow(expect.objectContaining({ code: 'READ_ONLY' }));
    db.close();
  });

  it('dropping a collection drops its index', () => {
    const db = open(directory.path);
    db.collection('docs', { dim: 2, text: true }).upsert(records());
    db.dropCollection('docs');
    const again = db.collection('docs', { dim: 2, text: true });
    expect(again.query({ text: 'cat' })).toEqual([]);
    db.close();
  });
});

describe('readers', () => {
  it('a read-only open beside the writer sees texts and a text index declared after it opened', () => {
    const writer = open(directory.path);
    writer.collection('docs', { dim: 2 }).upsert([{ id: 'a', vector: [1, 0], text: 'shared words' }]);
    const reader = open(directory.path, { readOnly: true });
    const seen = reader.collection('docs');
    expect(seen.get('a')?.text).toBe('shared words');
    expect(() => seen.query({ text: 'shared' })).toThrow(/keeps no text index/);
    writer.collection('docs', { dim: 2, text: true });
    writer.collection('docs').upsert([{ id: 'b', vector: [0, 1], text: 'more shared' }]);
    expect(
      seen
        .query({ text: 'shared' })
        .map((hit) => hit.id)
        .sort(),
    ).toEqual(['a', 'b']);
    reader.close();
    writer.close();
  });
});
