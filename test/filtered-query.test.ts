// Filtered queries and filtered get / delete / count: results against exact filtered ground
// truth at every selectivity, result counts of min(k, matches), the planner's choices, declared
// field indexes, and invalid filters that name their path and write nothing.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { evaluateFilter, parseFilter } from '../src/filter/index.js';
import { type Collection, type Database, type Filter, open, QuiverError } from '../src/index.js';
import { type Fixture, loadFixture, tempDirectory } from './helpers/fixtures.js';
import { randomVectors } from './helpers/random.js';

/**
 * Metadata with a field per selectivity: `p1000` is true for 0.1% of the records, `p100` for 1%,
 * `p10` for 10%, `p2` for 50%; `group` cycles 0..9 and `tags` holds two strings.
 */
function metadataOf(i: number) {
  return {
    p1000: i % 1000 === 7,
    p100: i % 100 === 3,
    p10: i % 10 === 1,
    p2: i % 2 === 0,
    group: i % 10,
    tags: [`t${i % 3}`, `u${i % 7}`],
    author: { name: i % 4 === 0 ? 'Ann' : 'Bo' },
    // An array of objects, as document loaders write it: filters on `authors.name` match any element.
    authors:
      i % 5 === 0
        ? []
        : [{ name: i % 4 === 0 ? 'Ann' : 'Cy', year: i % 13 }, ...(i % 3 === 0 ? [{ name: 'Dee' }] : [])],
  };
}

const selectivities: { name: string; filter: Filter }[] = [
  { name: '0.1%', filter: { p1000: true } },
  { name: '1%', filter: { p100: true } },
  { name: '10%', filter: { p10: true } },
  { name: '50%', filter: { p2: true } },
  { name: '100%', filter: { group: { $gte: 0 } } },
];

describe('filtered recall on siftsmall', () => {
  const directory = tempDirectory();
  let db: Database;
  let sift: Fixture;
  const exactFiltered = (query: Float32Array, filter: Filter, k: number): string[] => {
    const node = parseFilter(filter);
    return sift.base
      .map((vector, i) => ({ i, d: vector.reduce((sum, x, j) => sum + (x - query[j]!) ** 2, 0) }))
      .filter(({ i }) => evaluateFilter(node, metadataOf(i)))
      .sort((a, b) => a.d - b.d || a.i - b.i)
      .slice(0, k)
      .map(({ i }) => String(i));
  };

  beforeAll(() => {
    sift = loadFixture('siftsmall');
    db = open(directory.path, { durability: 'normal' });
    for (const [name, indexes] of [
      ['plain', []],
      ['indexed', ['p1000', 'p100', 'p10', 'p2', 'group']],
    ] as const) {
      const collection = db.collection(name, { dim: sift.dim, indexes: [...indexes] });
      collection.upsert(sift.base.map((vector, i) => ({ id: i, vector, metadata: metadataOf(i) })));
    }
  });
  afterAll(() => {
    db.close();
    directory.cleanup();
  });

  for (const { name, filter } of selectivities) {
    it(`recall@10 >= 0.95 and min(k, matches) results at ${name} selectivity`, () => {
      const collection = db.collection('plain');
      const queries = sift.queries.slice(0, 40);
      let recall = 0;
      for (const query of queries) {
        const expected = exactFiltered(query, filter, 10);
        const hits = collection.query({ vector: query, k: 10, filter });
        expect(hits).toHaveLength(Math.min(10, collection.count({ filter })));
        recall += hits.filter((hit) => expected.includes(hit.id)).length / expected.length;
        for (const hit of hits) expect(evaluateFilter(parseFilter(filter), hit.metadata)).toBe(true);
      }
      // The bar: filtered recall as high as unfiltered (~0.99 here), whatever the selectivity.
      expect(recall / queries.length).toBeGreaterThanOrEqual(0.95);
    });
  }

  it('picks exact search for selective filters and the restricted graph for broad ones', () => {
    const collection = db.collection('plain');
    const query = sift.queries[0]!;
    const narrow = collection.query({ vector: query, k: 10, filter: { p100: true }, explain: true });
    expect(narrow.plan).toMatchObject({ strategy: 'exact', matches: 100, total: 10_000, candidatesScored: 100 });
    expect(narrow.plan.selectivity).toBeCloseTo(0.01);
    const broad = collection.query({ vector: query, k: 10, filter: { p2: true }, explain: true });
    expect(broad.plan).toMatchObject({ strategy: 'hnsw', matches: 5000, fallback: false });
    expect(broad.plan.ef).toBeGreaterThan(64); // widened for 50% selectivity
    const unfiltered = collection.query({ vector: query, k: 10, explain: true });
    expect(unfiltered.plan).toMatchObject({ strategy: 'hnsw', matches: 10_000, selectivity: 1, ef: 64 });
  });

  it('returns fewer than k only when fewer records match', () => {
    const collection = db.collection('plain');
    expect(collection.query({ vector: sift.queries[1]!, k: 50, filter: { p1000: true } })).toHaveLength(10);
    expect(collection.query({ vector: sift.queries[1]!, k: 5, filter: { group: 42 } })).toEqual([]);
  });

  it('uses declared field indexes for the label scan, with the same answers', () => {
    const indexed = db.collection('indexed');
    const plain = db.collection('plain');
    const query = sift.queries[2]!;
    const withIndex = indexed.query({ vector: query, k: 10, filter: { p10: true }, explain: true });
    const without = plain.query({ vector: query, k: 10, filter: { p10: true }, explain: true });
    // Indexes cover the whole records table, so the plain collection may use them too; a field no
    // collection declared ('tags') is scanned record by record (an index may still narrow it to the
    // collection, but never to the field's value).
    expect(withIndex.plan.labelScan.join(' ')).toMatch(/USING INDEX records_field_[0-9a-f]{8}_value/);
    const tags = plain.query({ vector: query, k: 10, filter: { tags: 't1' }, explain: true });
    expect(withIndex.plan.labelScan.join(' ')).toMatch(/<expr>=\?/);
    expect(tags.plan.labelScan.join(' ')).not.toMatch(/<expr>/);
    expect(withIndex.hits.map((hit) => hit.id)).toEqual(without.hits.map((hit) => hit.id));
    expect(db.listCollections().find((info) => info.name === 'indexed')?.indexes).toEqual([
      'p1000',
      'p100',
      'p10',
      'p2',
      'group',
    ]);
  });
});

describe('exact filtered search on native threads', () => {
  // 4,600 records of dim 1,024 whose filter keeps 4,005 (≤ EXACT_MATCH_LIMIT, so the exact plan):
  // 4,005 × 1,024 numbers is past the 2²⁰ per thread from which the native scan splits its labels,
  // so `threads: 3` really scores them on three threads. Answers must equal the exact ground truth
  // and the single-thread answers, hit for hit, on a graph and on a flat collection.
  it('answers as on one thread, with the exact filtered top k, for hnsw and flat', () => {
    const dim = 1_024;
    const vectors = randomVectors(4_600, dim, 61);
    const queries = randomVectors(4, dim, 62);
    const filter = { kept: true };
    const kept = (i: number) => i % 23 !== 0 && i < 4_188;
    const directory = tempDirectory();
    try {
      const answers: Record<string, string[][]> = {};
      for (const threads of [1, 3]) {
        const db = open(directory.path, { durability: 'normal', threads });
        for (const [name, index] of [
          ['graph', { type: 'hnsw' as const, m: 4, efConstruction: 16 }],
          ['exact', { type: 'flat' as const }],
        ] as const) {
          const collection = db.collection(name, { dim, index });
          if (threads === 1) {
            collection.upsert(vectors.map((vector, i) => ({ id: i, vector, metadata: { kept: kept(i) } })));
          }
          for (const query of queries) {
            const { hits, plan } = collection.query({ vector: query, k: 10, filter, explain: true });
            expect(plan).toMatchObject({ strategy: 'exact', matches: 4_005, candidatesScored: 4_005 });
            const key = `${name} ${threads}`;
            answers[key] = [...(answers[key] ?? []), hits.map((hit) => hit.id)];
          }
        }
        db.close();
      }
      const truth = queries.map((query) =>
        vectors
          .map((vector, i) => ({ i, d: vector.reduce((sum, x, j) => sum + (x - query[j]!) ** 2, 0) }))
          .filter(({ i }) => kept(i))
          .sort((a, b) => a.d - b.d || a.i - b.i)
          .slice(0, 10)
          .map(({ i }) => String(i)),
      );
      for (const name of ['graph', 'exact']) {
        expect(answers[`${name} 1`]).toEqual(truth);
        expect(answers[`${name} 3`]).toEqual(truth);
      }
    } finally {
      directory.cleanup();
    }
  });
});

describe('filtered get / delete / count', () => {
  let directory: ReturnType<typeof tempDirectory>;
  let db: Database;
  let docs: Collection;
  const vectors = Array.from({ length: 200 }, (_, i) => [Math.sin(i), Math.cos(i), i / 200]);
  beforeAll(() => {
    directory = tempDirectory();
    db = open(directory.path);
    docs = db.collection('docs', { dim: 3, index: { type: 'hnsw' }, indexes: ['author.name', 'authors.name'] });
    docs.upsert(vectors.map((vector, i) => ({ id: i, vector, metadata: metadataOf(i) })));
  });
  afterAll(() => {
    db.close();
    directory.cleanup();
  });

  it('get, count and query agree with the TypeScript evaluator on random filters', () => {
    const scalar = fc.oneof(
      fc.integer({ min: -1, max: 11 }),
      fc.boolean(),
      fc.constantFrom('Ann', 'Bo', 'Cy', 'Dee', 't0', 'u3'),
    );
    const field = fc.constantFrom(
      'group',
      'p2',
      'p10',
      'author.name',
      'authors.name',
      'authors.year',
      'tags',
      'missing',
    );
    const leaf = fc.oneof(
      fc.record({ field, value: scalar }).map(({ field, value }) => ({ [field]: value })),
      fc
        .record({ field, op: fc.constantFrom('$gt', '$gte', '$lt', '$lte', '$ne'), value: scalar })
        .map(({ field, op, value }) => ({ [field]: { [op]: value } })),
      fc
        .record({ field, values: fc.array(scalar, { maxLength: 4 }) })
        .map(({ field, values }) => ({ [field]: { $in: values } })),
      fc.record({ field, exists: fc.boolean() }).map(({ field, exists }) => ({ [field]: { $exists: exists } })),
    );
    const filter: fc.Arbitrary<Filter> = fc.oneof(
      leaf,
      fc.array(leaf, { minLength: 1, maxLength: 3 }).map((children) => ({ $or: children })),
      fc.array(leaf, { minLength: 1, maxLength: 3 }).map((children) => ({ $and: children })),
      leaf.map((child) => ({ $not: child })),
    );
    fc.assert(
      fc.property(filter, (candidate) => {
        const node = parseFilter(candidate);
        const expected = vectors
          .map((_, i) => i)
          .filter((i) => evaluateFilter(node, metadataOf(i)))
          .map(String);
        expect(
          docs
            .get({ filter: candidate })
            .map((record) => record.id)
            .sort(),
        ).toEqual([...expected].sort());
        expect(docs.count({ filter: candidate })).toBe(expected.length);
        const hits = docs.query({ vector: [0, 1, 0.5], k: 7, filter: candidate });
        expect(hits).toHaveLength(Math.min(7, expected.length));
        for (const hit of hits) expect(expected).toContain(hit.id);
      }),
      { numRuns: 150, seed: 0x5eed_0003 },
    );
  });

  it('filters into arrays of objects: any element matches, in get, query and count', () => {
    const ids = (filter: Filter) =>
      docs
        .get({ filter })
        .map((record) => Number(record.id))
        .sort((a, b) => a - b);
    const all = vectors.map((_, i) => i);
    expect(ids({ 'authors.name': 'Dee' })).toEqual(all.filter((i) => i % 5 !== 0 && i % 3 === 0));
    expect(ids({ 'authors.name': { $ne: 'Cy' } })).toEqual(all.filter((i) => i % 5 === 0 || i % 4 === 0));
    expect(ids({ 'authors.name': { $exists: false } })).toEqual(all.filter((i) => i % 5 === 0));
    const { plan } = docs.query({ vector: [0, 1, 0.5], k: 3, filter: { 'authors.name': 'Dee' }, explain: true });
    expect(plan.matches).toBe(all.filter((i) => i % 5 !== 0 && i % 3 === 0).length);
    expect(docs.count({ filter: { 'authors.name': { $in: ['Ann', 'Dee'] } } })).toBe(
      all.filter((i) => i % 5 !== 0 && (i % 4 === 0 || i % 3 === 0)).length,
    );
  });

  it('a repeated filter sees every write in between (the match cache is emptied by writes)', () => {
    const filter = { p10: true };
    const before = docs.query({ vector: [0, 1, 0.5], k: 3, filter });
    docs.upsert([{ id: 'close', vector: [0, 1, 0.5], metadata: { p10: true } }]);
    expect(docs.query({ vector: [0, 1, 0.5], k: 3, filter })[0]?.id).toBe('close');
    docs.delete('close');
    expect(docs.query({ vector: [0, 1, 0.5], k: 3, filter })).toEqual(before);
  });

  it('get honours limit', () => {
    expect(docs.get({ filter: { p2: true }, limit: 7 })).toHaveLength(7);
  });

  it('injection attempts in field names and values are inert', () => {
    const attacks: Filter[] = [
      { "x'); DROP TABLE records; --": 1 },
      { group: '1 OR 1=1' },
      { 'author.name': { $in: ["Ann' OR '1'='1", 'Bo"; DELETE FROM records; --'] } },
    ];
    for (const attack of attacks) {
      expect(docs.count({ filter: attack })).toBe(0);
    }
    expect(docs.count()).toBe(200);
    expect(docs.count({ filter: {} })).toBe(200);
  });

  it('an invalid filter names its path and writes nothing, also for delete', () => {
    const invalid: [Filter, RegExp][] = [
      [{ year: { $regex: 'x' } }, /filter\.year\.\$regex/],
      [{ $or: [{ a: 1 }, { b: { $gt: { nested: 1 } } }] }, /filter\.\$or\[1\]\.b\.\$gt/],
      [{ tags: { $in: 'not-an-array' } }, /filter\.tags\.\$in/],
    ];
    for (const [filter, path] of invalid) {
      for (const action of [
        () => docs.delete({ filter }),
        () => docs.query({ vector: [0, 0, 0], filter }),
        () => docs.get({ filter }),
        () => docs.count({ filter }),
      ]) {
        try {
          action();
          expect.unreachable('an invalid filter must be refused');
        } catch (error) {
          expect(error).toBeInstanceOf(QuiverError);
          expect((error as QuiverError).code).toBe('INVALID_FILTER');
          expect((error as QuiverError).message).toMatch(path);
        }
      }
    }
    expect(docs.count()).toBe(200);
  });

  it('delete({ filter }) removes exactly the matches, in one transaction, and they stay gone after reopen', () => {
    const doomed = docs.count({ filter: { 'author.name': 'Ann' } });
    expect(doomed).toBe(50);
    expect(docs.delete({ filter: { 'author.name': 'Ann' } })).toBe(50);
    expect(docs.count()).toBe(150);
    expect(docs.query({ vector: [0, 1, 0.5], k: 200, filter: { 'author.name': 'Ann' } })).toEqual([]);
    db.close();
    db = open(directory.path);
    docs = db.collection('docs');
    expect(docs.count()).toBe(150);
    expect(docs.count({ filter: { 'author.name': 'Ann' } })).toBe(0);
    expect(docs.query({ vector: [0, 1, 0.5], k: 500 })).toHaveLength(150);
  });
});
