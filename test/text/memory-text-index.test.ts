// The in-memory full-text index that answers BM25 queries: its ranking and scores equal FTS5's
// bm25() over the same table, bit for bit, on hand-made and seeded random corpora, after upserts,
// deletes, reopen and another connection's writes, with and without filters; and the FTS5 path
// still answers what the in-memory index cannot (trigram substrings).
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { type Collection, type Database as QuiverDatabase, open } from '../../src/index.js';
import { TextIndexTable } from '../../src/storage/text-index.js';
import { referenceBm25 } from '../../src/text/bm25-reference.js';
import { matchExpression, queryWords } from '../../src/text/query-words.js';
import { tempDirectory } from '../helpers/fixtures.js';
import { random } from '../helpers/random.js';

let directory: ReturnType<typeof tempDirectory>;
beforeEach(() => {
  directory = tempDirectory();
});
afterEach(() => {
  vi.restoreAllMocks();
  directory.cleanup();
});

/** A hit as compared: id and exact score. */
type Ranked = [string, number][];

/**
 * FTS5's own answer, read straight from quiver.sqlite: bm25() over the collection's table, best
 * first, equal scores by label; with `even`, only records whose metadata.even is that.
 */
function fts5Answer(path: string, collection: string, text: string, k: number, even?: boolean): Ranked {
  const match = matchExpression(queryWords(text, 'text'));
  if (match === undefined) return [];
  const db = new Database(join(path, 'quiver.sqlite'), { readonly: true });
  try {
    const id = db.prepare('SELECT id FROM collections WHERE name = ?').pluck().get(collection) as number;
    const table = `records_text_${id}`;
    const rows = db
      .prepare(
        `SELECT r.id, -bm25(${table}) AS score FROM ${table} AS t JOIN records AS r ON r.collection_id = ? AND r.label = t.rowid ` +
          `WHERE ${table} MATCH ? ${even === undefined ? '' : "AND json_extract(r.metadata, '$.even') = ?"} ORDER BY score DESC, t.rowid LIMIT ?`,
      )
      .raw()
      .all(id, match, ...(even === undefined ? [] : [even ? 1 : 0]), k) as [string, number][];
    return rows;
  } finally {
    db.close();
  }
}

function answer(collection: Collection, text: string, k: number, even?: boolean): Ranked {
  return collection
    .query({ text, k, includeText: false, ...(even === undefined ? {} : { filter: { even } }) })
    .map((hit) => [hit.id, hit.score!]);
}

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
  'the cat sat on the mat', // a duplicate: equal scores, ordered by label
  '',
];

const QUERIES = [
  'cat',
  'the cat',
  'dog garden',
  'Cats running in GARDENS',
  'cat cat dog',
  'quick fox',
  'absent words only',
  'the',
  'a the in',
  'Élan café naïve',
];

describe('the in-memory index answers as FTS5', () => {
  it.each(['porter', 'unicode61'] as const)('hand-made corpus, %s: same order and scores, bit for bit', (tokenizer) => {
    const searchFts5 = vi.spyOn(TextIndexTable.prototype, 'search');
    const db = open(directory.path);
    const docs = db.collection('docs', { dim: 2, text: { tokenizer } });
    docs.upsert(CORPUS.map((text, i) => ({ id: `d${i}`, vector: [i, 1], text, metadata: { even: i % 2 === 0 } })));
    for (const query of QUERIES) {
      for (const k of [1, 3, 100]) {
        expect(answer(docs, query, k), `${query} k ${k}`).toEqual(fts5Answer(directory.path, 'docs', query, k));
        for (const even of [true, false]) {
          expect(answer(docs, query, k, even)).toEqual(fts5Answer(directory.path, 'docs', query, k, even));
        }
      }
    }
    // Every query above was answered by the in-memory index, none by FTS5.
    expect(searchFts5).not.toHaveBeenCalled();
    db.close();
  });

  it('agrees with the plain TypeScript BM25 (unicode61 on ASCII text)', () => {
    const db = open(directory.path);
    const docs = db.collection('docs', { dim: 2, text: { tokenizer: 'unicode61' } });
    docs.upsert(CORPUS.map((text, i) => ({ id: `d${i}`, vector: [i, 1], text })));
    for (const query of QUERIES.slice(0, -1)) {
      const expected = referenceBm25(CORPUS, query);
      const hits = docs.query({ text: query, k: 100 });
      expect(hits.map((hit) => hit.id)).toEqual(expected.map(({ index }) => `d${index}`));
      // The reference groups the product differently: equal to 12 significant digits.
      hits.forEach((hit, i) => {
        expect(hit.score).toBeCloseTo(expected[i]!.score, 12);
      });
    }
    db.close();
  });

  it('leaves trigram (substring) queries to FTS5', () => {
    const searchFts5 = vi.spyOn(TextIndexTable.prototype, 'search');
    const db = open(directory.path);
    const docs = db.collection('docs', { dim: 2, text: { tokenizer: 'trigram' } });
    docs.upsert([
      { id: 'a', vector: [1, 0], text: 'part XK-4471-B' },
      { id: 'b', vector: [0, 1], text: 'part 4471' },
    ]);
    expect(answer(docs, '447', 10)).toEqual(fts5Answer(directory.path, 'docs', '447', 10));
    expect(answer(docs, '447', 10).map(([id]) => id)).toEqual(['b', 'a']);
    expect(searchFts5).toHaveBeenCalled();
    db.close();
  });
});

/** Words with shared stems, cases and diacritics, so that porter and unicode61 fold some together. */
const VOCABULARY = [
  'cell',
  'cells',
  'Cellular',
  'gene',
  'genes',
  'GENETIC',
  'protein',
  'proteins',
  'run',
  'running',
  'runs',
  'the',
  'of',
  'and',
  'a',
  'in',
  'café',
  'cafe',
  'naïve',
  'naive',
  'x1',
  '42',
  'tumour',
  'tumor',
  'rare',
];

function randomText(next: () => number): string {
  const length = Math.floor(next() * 14);
  return Array.from({ length }, () => VOCABULARY[Math.floor(next() * VOCABULARY.length)]!).join(' ');
}

function randomQuery(next: () => number): string {
  return Array.from(
    { length: 1 + Math.floor(next() * 6) },
    () => VOCABULARY[Math.floor(next() * VOCABULARY.length)]!,
  ).join(' ');
}

/** Checks a few random queries (and filtered ones) of `collection` against FTS5's answer. */
function checkQueries(collection: Collection, next: () => number, where: string): void {
  for (let q = 0; q < 6; q++) {
    const query = randomQuery(next);
    const k = 1 + Math.floor(next() * 12);
    expect(answer(collection, query, k), `${where}: '${query}' k ${k}`).toEqual(
      fts5Answer(directory.path, collection.name, query, k),
    );
    const even = next() < 0.5;
    expect(answer(collection, query, k, even), `${where}: '${query}' k ${k} even ${even}`).toEqual(
      fts5Answer(directory.path, collection.name, query, k, even),
    );
  }
}

/** Random upserts (new and replacing, some without text, some empty) and deletes. */
function randomWrites(collection: Collection, next: () => number, ids: number): void {
  const batch = Array.from({ length: 1 + Math.floor(next() * 20) }, () => {
    const id = Math.floor(next() * ids);
    const roll = next();
    const text = roll < 0.1 ? undefined : roll < 0.15 ? '' : randomText(next);
    return { id: `r${id}`, vector: [id, 1], metadata: { even: id % 2 === 0 }, ...(text === undefined ? {} : { text }) };
  });
  // One record per id in a batch.
  collection.upsert([...new Map(batch.map((record) => [record.id, record])).values()]);
  if (next() < 0.5) {
    collection.delete(Array.from({ length: 1 + Math.floor(next() * 5) }, () => `r${Math.floor(next() * ids)}`));
  }
}

describe('random corpora (fixed seeds)', () => {
  it.each([1, 2, 3, 4, 5, 6])('seed %i: after upserts, deletes and reopen', (seed) => {
    const next = random(seed);
    const tokenizer = seed % 2 === 0 ? 'porter' : 'unicode61';
    let db: QuiverDatabase = open(directory.path);
    let docs = db.collection('docs', { dim: 2, text: { tokenizer } });
    for (let round = 0; round < 8; round++) {
      randomWrites(docs, next, 60);
      checkQueries(docs, next, `seed ${seed} round ${round}`);
      if (round % 3 === 2) {
        db.close();
        db = open(directory.path);
        docs = db.collection('docs');
        checkQueries(docs, next, `seed ${seed} round ${round} reopened`);
      }
    }
    db.close();
  });

  it.each([11, 12, 13])('seed %i: a reader follows the writer (log replay and reload after a snapshot)', (seed) => {
    const next = random(seed);
    const writer = open(directory.path, { snapshotThreshold: 40 });
    const written = writer.collection('docs', { dim: 2, text: true });
    randomWrites(written, next, 80);
    const reader = open(directory.path, { readOnly: true });
    const read = reader.collection('docs');
    checkQueries(read, next, `seed ${seed} reader at start`);
    for (let round = 0; round < 10; round++) {
      randomWrites(written, next, 80);
      checkQueries(read, next, `seed ${seed} reader round ${round}`);
      checkQueries(written, next, `seed ${seed} writer round ${round}`);
    }
    reader.close();
    writer.close();
  });
});

describe('an empty collection', () => {
  it('answers nothing, without a warning, before and after reopen and after its records went', () => {
    const warnings: string[] = [];
    const onWarning = (warning: { code: string }) => warnings.push(warning.code);
    let db = open(directory.path, { onWarning });
    let docs = db.collection('docs', { dim: 2, text: true });
    expect(docs.query({ text: 'red' })).toEqual([]);
    db.close();
    db = open(directory.path, { onWarning });
    docs = db.collection('docs');
    expect(docs.query({ text: 'red' })).toEqual([]);
    docs.upsert([{ id: 'a', vector: [1, 0], text: 'red' }]);
    expect(answer(docs, 'red', 10)).toEqual(fts5Answer(directory.path, 'docs', 'red', 10));
    docs.delete('a');
    expect(docs.query({ text: 'red' })).toEqual([]);
    db.close();
    expect(warnings).toEqual([]);
  });
});

describe('writes that do not commit', () => {
  it('a failed upsert leaves the in-memory index as the records are', () => {
    const db = open(directory.path);
    const docs = db.collection('docs', { dim: 2, text: true });
    docs.upsert([{ id: 'a', vector: [1, 0], text: 'alpha beta' }]);
    expect(answer(docs, 'alpha', 10).map(([id]) => id)).toEqual(['a']);
    // The second record is bad: nothing of the batch is written, the first record's text included.
    expect(() =>
      docs.upsert([
        { id: 'b', vector: [0, 1], text: 'alpha gamma' },
        { id: 'c', vector: [0, Number.NaN], text: 'alpha' },
      ]),
    ).toThrow(expect.objectContaining({ code: 'NOT_FINITE' }));
    expect(answer(docs, 'alpha gamma', 10)).toEqual(fts5Answer(directory.path, 'docs', 'alpha gamma', 10));
    expect(answer(docs, 'alpha gamma', 10).map(([id]) => id)).toEqual(['a']);
    db.close();
  });
});

describe("a damaged totals record (FTS5's row and token counts)", () => {
  it.each([
    ['cut short', "x'81'"],
    ['not a blob', "'12'"],
  ])('%s: the writer rebuilds the index with a warning and answers right; a reader reports CORRUPT', (_, block) => {
    let db = open(directory.path);
    db.collection('docs', { dim: 2, text: { tokenizer: 'unicode61' } }).upsert(
      CORPUS.map((text, i) => ({ id: `d${i}`, vector: [i, 1], text })),
    );
    db.close();
    const raw = new Database(join(directory.path, 'quiver.sqlite'));
    raw.unsafeMode(true); // lets the test write FTS5 shadow tables
    raw.exec(`UPDATE records_text_1_data SET block = ${block} WHERE id = 1`);
    raw.close();
    const reader = open(directory.path, { readOnly: true });
    expect(() => reader.collection('docs').query({ text: 'cat' })).toThrow(
      expect.objectContaining({ code: 'CORRUPT', message: expect.stringMatching(/open the database for writing/) }),
    );
    reader.close();
    const warnings: string[] = [];
    db = open(directory.path, { onWarning: (warning) => warnings.push(warning.code) });
    const docs = db.collection('docs');
    expect(docs.query({ text: 'the cat', k: 100 }).map((hit) => hit.id)).toEqual(
      referenceBm25(CORPUS, 'the cat').map(({ index }) => `d${index}`),
    );
    expect(warnings).toEqual(['TEXT_INDEX_INVALID']);
    expect(answer(docs, 'the cat', 100)).toEqual(fts5Answer(directory.path, 'docs', 'the cat', 100));
    db.close();
  });
});
