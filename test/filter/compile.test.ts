// compileFilter: JSON-path quoting that no key can break out of, inert injection attempts, the
// metadataColumn guard, fieldsOf, and EXPLAIN QUERY PLAN proof that declared-field indexes are used.

import fc from 'fast-check';
import { afterAll, describe, expect, test } from 'vitest';
import { isQuiverError } from '../../src/errors.js';
import {
  compileFilter,
  fieldsOf,
  filterLimits,
  indexExpressionsOf,
  jsonPathLiteralOf,
  maxArrayPathKeys,
  jsonPathOf,
  parseFilter,
} from '../../src/filter/index.js';
import { createHarness, type Document, matchBoth } from './harness.js';

const harness = createHarness();
afterAll(() => harness.close());
const tableExists = (): boolean =>
  harness.database.prepare("SELECT count(*) FROM sqlite_schema WHERE name = 'records'").pluck().get() === 1;

// Keys that would break naive quoting: SQL quotes, JSON-path syntax, escapes, NUL, control characters.
const nastyKeys = [
  "'",
  "''",
  "'); DROP TABLE records; --",
  '"',
  '"]\'',
  '\\',
  '\\"',
  '\\u0041',
  '\n\t\r',
  '$',
  '$"a"',
  '[0]',
  '#',
  '*',
  ' ',
  'ü😀',
  '\u2028',
  '\uFEFF',
  'k'.repeat(filterLimits.maxPathLength - 10),
];

describe('JSON paths', () => {
  test('jsonPathOf quotes every key', () => {
    expect(jsonPathOf(['year'])).toBe('$."year"');
    expect(jsonPathOf(['author', 'name'])).toBe('$."author"."name"');
    expect(jsonPathOf(['a"b', 'c\\d'])).toBe('$."a\\"b"."c\\\\d"');
    expect(jsonPathLiteralOf(["it's"])).toBe(`'$."it''s"'`);
    expect(() => jsonPathOf([])).toThrow();
    expect(() => jsonPathOf([''])).toThrow();
  });

  test.each(nastyKeys.map((key) => [JSON.stringify(key).slice(0, 40), key]))(
    'key %s finds exactly its field',
    (_name, key) => {
      // A key starting with `$` would be read as an operator at the top, so such keys are tested nested only.
      const filters = key.startsWith('$') ? [{ [`outer.${key}`]: 'v' }] : [{ [key]: 'v' }, { [`outer.${key}`]: 'v' }];
      const documents = [
        { [key]: 'v', outer: { [key]: 'v' } },
        { [`${key}x`]: 'v', outer: { x: 'v' } },
        { [key]: 'w' },
      ];
      for (const filter of filters) {
        expect(matchBoth(harness, documents, filter)).toEqual([0]);
        expect(matchBoth(harness, documents, { $not: filter })).toEqual([1, 2]);
      }
      expect(tableExists()).toBe(true);
    },
  );

  test('NUL in a key is refused, because SQLite would match it as a prefix', () => {
    expect(() => jsonPathOf(['a\u0000b'])).toThrow(/NUL/);
    expect(() => parseFilter({ 'a\u0000b': 1 })).toThrow(/NUL/);
  });

  test('a path literal always reads back as the path and finds the key (random keys)', () => {
    const key = fc
      .string({ unit: 'binary', minLength: 1, maxLength: 12 })
      .filter((text) => !/\p{Cs}/u.test(text) && !text.includes('\u0000'));
    const probe = harness.database.prepare('SELECT ? AS path, ? AS json');
    fc.assert(
      fc.property(fc.array(key, { minLength: 1, maxLength: 3 }), (path) => {
        const literal = jsonPathLiteralOf(path);
        const document = path.reduceRight<unknown>((inner, segment) => ({ [segment]: inner }), 42);
        // The literal is evaluated by SQLite as SQL text: it must decode to the JSON path, and nothing else.
        const row = harness.database
          .prepare(`SELECT ${literal} AS path, json_extract(?, ${literal}) AS value`)
          .get(JSON.stringify(document)) as { path: string; value: unknown };
        expect(row.path).toBe(jsonPathOf(path));
        expect(row.value).toBe(42);
        probe.get(1, 2);
      }),
      { numRuns: 300 },
    );
  });
});

describe('injection attempts are inert', () => {
  const attacks = [
    "'); DROP TABLE records; --",
    "' OR 1=1 --",
    '" OR ""="',
    '?',
    '?1',
    ':name',
    '\u0000; DROP TABLE records',
  ];

  test.each(attacks)('value %j is only a value', (attack) => {
    const documents = [
      { a: attack, tags: ['x', attack] },
      { a: 'other', tags: ['x'] },
    ];
    expect(matchBoth(harness, documents, { a: attack })).toEqual([0]);
    expect(matchBoth(harness, documents, { tags: { $in: [attack] } })).toEqual([0]);
    expect(matchBoth(harness, documents, { a: { $gt: attack } })).toEqual([1]);
    expect(matchBoth(harness, documents, { a: { $ne: attack } })).toEqual([1]);
    expect(tableExists()).toBe(true);
  });

  test('values never appear in the SQL text', () => {
    const { sql, params } = compileFilter(parseFilter({ a: "'); DROP TABLE records; --", b: { $in: [7, true] } }), {
      metadataColumn: 'metadata',
    });
    expect(sql).not.toContain('DROP');
    expect(sql).not.toContain('7');
    expect(params).toEqual(["'); DROP TABLE records; --", "'); DROP TABLE records; --", '7', 1, '7', 1]);
  });
});

describe('compileFilter', () => {
  test('{} compiles to a constant true and binds nothing', () => {
    expect(compileFilter(parseFilter({}), { metadataColumn: 'metadata' })).toEqual({ sql: '1', params: [] });
  });

  test('metadataColumn must be a plain identifier', () => {
    for (const column of ['metadata; DROP TABLE records', 'a b', '', '"metadata"', 'a.b.c', '1abc', 'value', 'json']) {
      let caught: unknown;
      try {
        compileFilter(parseFilter({ a: 1 }), { metadataColumn: column });
      } catch (error) {
        caught = error;
      }
      expect(isQuiverError(caught, 'INVALID_ARGUMENT')).toBe(true);
    }
    expect(compileFilter(parseFilter({ a: 1 }), { metadataColumn: 'records.metadata' }).sql).toContain(
      `json_extract(records.metadata, '$."a"')`,
    );
  });

  test('filters at the size limits compile and run in SQLite', () => {
    const documents = [{ a: 3, b: 'x' }, { a: 9_999 }, { b: ['y', 'x'] }];
    const values = Array.from({ length: filterLimits.maxInValues / 2 }, (_, index) => index);
    const strings = values.map((value) => `s${value}`);
    expect(matchBoth(harness, documents, { a: { $in: values }, b: { $nin: strings } })).toEqual([0]);
    const wide = { $or: Array.from({ length: filterLimits.maxNodes - 1 }, (_, index) => ({ a: index + 1 })) };
    expect(matchBoth(harness, documents, wide)).toEqual([0]);
    let deep: unknown = { a: 3 };
    for (let level = 0; level < filterLimits.maxDepth - 2; level += 1) deep = { $not: deep };
    expect(matchBoth(harness, documents, deep)).toEqual([0]);
  });

  test('paths into arrays at the longest that steps into arrays compile and run, at the size limits too', () => {
    // A path of maxArrayPathKeys keys with an array of objects before every key.
    const path = Array.from({ length: maxArrayPathKeys }, () => 'a');
    let nested: unknown = 7;
    for (let level = 0; level < maxArrayPathKeys; level += 1) nested = [{ a: nested }];
    const documents = [(nested as [Document])[0]!, { a: { a: 7 } }, {}];
    const field = path.join('.');
    expect(matchBoth(harness, documents, { [field]: 7 })).toEqual([0]);
    expect(matchBoth(harness, documents, { [field]: { $in: [7, null] } })).toEqual([0, 1, 2]);
    expect(matchBoth(harness, documents, { [field]: { $exists: false } })).toEqual([1, 2]);
    let deep: unknown = { [field]: { $ne: 7 } };
    for (let level = 0; level < filterLimits.maxDepth - 3; level += 1) deep = { $not: deep };
    expect(matchBoth(harness, documents, deep)).toEqual([0]);
    const wide = {
      $or: Array.from({ length: filterLimits.maxNodes - 1 }, (_, index) => ({ [field]: { $gte: index + 7 } })),
    };
    expect(matchBoth(harness, documents, wide)).toEqual([0]);
    // One key more: no stored metadata nests that deep, and neither side steps into arrays.
    let plain: unknown = 1;
    let arrayed: unknown = 1;
    for (let level = 0; level <= maxArrayPathKeys; level += 1) {
      plain = { a: plain };
      arrayed = level === 8 ? { a: [arrayed] } : { a: arrayed };
    }
    const longer = [...path, 'a'].join('.');
    expect(matchBoth(harness, [plain as Document, arrayed as Document], { [longer]: 1 })).toEqual([0]);
  });

  test('fieldsOf lists every path a filter reads, once', () => {
    const node = parseFilter({
      year: { $gte: 2020, $lt: 2030 },
      $or: [{ 'author.name': 'Ann' }, { $not: { tags: { $nin: ['x'] } } }, { draft: { $exists: false } }],
    });
    expect([...fieldsOf(node)].sort()).toEqual(['author.name', 'draft', 'tags', 'year']);
    expect(fieldsOf(parseFilter({})).size).toBe(0);
  });
});

describe('declared-field indexes', () => {
  const database = createHarness();
  afterAll(() => database.close());
  const odd = ['it\'s "odd"', 'ü'];
  for (const [name, path] of [
    ['year', ['year']],
    ['odd', odd],
  ] as const) {
    const expressions = indexExpressionsOf(path, { metadataColumn: 'metadata' });
    database.database.exec(`CREATE INDEX records_${name}_value ON records(collection_id, ${expressions.value})`);
    database.database.exec(`CREATE INDEX records_${name}_type ON records(collection_id, ${expressions.type})`);
  }
  database.load(
    Array.from({ length: 2_000 }, (_, index) => ({
      year: index % 7 === 0 ? [1990 + (index % 40), 2000] : 1990 + (index % 40),
      [odd[0]!]: { [odd[1]!]: `v${index % 100}` },
    })),
  );
  database.database.exec('ANALYZE');

  const planOf = (filter: unknown): string => {
    const { sql, params } = compileFilter(parseFilter(filter), { metadataColumn: 'metadata' });
    const rows = database.database
      .prepare(`EXPLAIN QUERY PLAN SELECT label FROM records WHERE collection_id = ? AND (${sql})`)
      .all(1, ...params) as Array<{ detail: string }>;
    return rows.map((row) => row.detail).join('\n');
  };

  test('indexExpressionsOf gives the exact text the compiler emits', () => {
    const expressions = indexExpressionsOf(['year'], { metadataColumn: 'metadata' });
    expect(expressions).toEqual({
      value: `json_extract(metadata, '$."year"')`,
      type: `json_type(metadata, '$."year"')`,
    });
    const { sql } = compileFilter(parseFilter({ year: 2020 }), { metadataColumn: 'metadata' });
    expect(sql).toContain(`${expressions.value} = json_extract(?, '$')`);
    expect(sql).toContain(`${expressions.type} = 'array'`);
  });

  test.each([
    [
      'equality',
      { year: 2020 },
      /SEARCH records USING (COVERING )?INDEX records_year_value \(collection_id=\? AND <expr>=\?\)/,
    ],
    ['a range', { year: { $gte: 2025 } }, /INDEX records_year_value \(collection_id=\? AND <expr>>\?\)/],
    ['$in', { year: { $in: [1991, 1992] } }, /INDEX records_year_value \(collection_id=\? AND <expr>=\?\)/],
    [
      'a quoted dotted path',
      { [`${odd[0]}.${odd[1]}`]: 'v7' },
      /INDEX records_odd_value \(collection_id=\? AND <expr>=\?\)/,
    ],
  ])('%s uses the value index, and the array branch the type index', (_name, filter, expected) => {
    const plan = planOf(filter);
    expect(plan).toMatch(expected);
    expect(plan).not.toMatch(/^SCAN records/m);
  });

  test('indexed and unindexed queries return the same rows', () => {
    const documents = Array.from({ length: 200 }, (_, index) => ({
      year: index % 7 === 0 ? [1990 + (index % 40), 2000] : 1990 + (index % 40),
    }));
    database.load(documents);
    for (const filter of [{ year: 2000 }, { year: { $gte: 2025 } }, { year: { $in: [1991, 2000] } }]) {
      expect(database.selectSql(parseFilter(filter))).toEqual(matchBoth(harness, documents, filter));
    }
  });
});
