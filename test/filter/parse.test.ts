// parseFilter: the AST it builds, and INVALID_FILTER errors that name the offending path and say what to do.

import { describe, expect, test } from 'vitest';
import { isQuiverError } from '../../src/errors.js';
import { filterLimits, matchAll, parseFieldPath, parseFilter } from '../../src/filter/index.js';

function errorOf(run: () => unknown): Error {
  try {
    run();
  } catch (error) {
    expect(isQuiverError(error, 'INVALID_FILTER')).toBe(true);
    return error as Error;
  }
  throw new Error('expected an INVALID_FILTER error');
}

describe('parseFilter builds the AST', () => {
  test('{} , null and undefined match everything', () => {
    expect(parseFilter({})).toEqual(matchAll);
    expect(parseFilter(null)).toEqual(matchAll);
    expect(parseFilter(undefined)).toEqual(matchAll);
  });

  test('equality shorthand, dotted paths and implicit $and', () => {
    expect(parseFilter({ lang: 'en', 'author.name': { $in: ['Ann', 'Bo'] } })).toEqual({
      kind: 'and',
      children: [
        { kind: 'compare', path: ['lang'], op: 'eq', value: 'en' },
        { kind: 'in', path: ['author', 'name'], values: ['Ann', 'Bo'], negate: false },
      ],
    });
  });

  test('operators', () => {
    expect(parseFilter({ year: { $gte: 2020, $lt: 2030 } })).toEqual({
      kind: 'and',
      children: [
        { kind: 'compare', path: ['year'], op: 'gte', value: 2020 },
        { kind: 'compare', path: ['year'], op: 'lt', value: 2030 },
      ],
    });
    expect(parseFilter({ a: { $ne: null } })).toEqual({ kind: 'compare', path: ['a'], op: 'ne', value: null });
    expect(parseFilter({ a: { $nin: [1, 'x', true, null] } })).toEqual({
      kind: 'in',
      path: ['a'],
      values: [1, 'x', true, null],
      negate: true,
    });
    expect(parseFilter({ a: { $exists: false } })).toEqual({ kind: 'exists', path: ['a'], exists: false });
    expect(parseFilter({ a: { $not: { $gt: 5 } } })).toEqual({
      kind: 'not',
      child: { kind: 'compare', path: ['a'], op: 'gt', value: 5 },
    });
    expect(parseFilter({ $not: { a: 1 } })).toEqual({
      kind: 'not',
      child: { kind: 'compare', path: ['a'], op: 'eq', value: 1 },
    });
    expect(parseFilter({ $or: [{ a: 1 }, {}] })).toEqual({
      kind: 'or',
      children: [{ kind: 'compare', path: ['a'], op: 'eq', value: 1 }, matchAll],
    });
  });

  test('keys may hold quotes, spaces, brackets, $ after the first character, and any Unicode', () => {
    expect(parseFilter({ 'it\'s [a] "b" c$.ü😀.\\': 1 })).toEqual({
      kind: 'compare',
      path: ['it\'s [a] "b" c$', 'ü😀', '\\'],
      op: 'eq',
      value: 1,
    });
    expect(parseFieldPath('a.$b')).toEqual(['a', '$b']);
  });

  test('a filter at every limit parses', () => {
    let deep: unknown = { a: 1 };
    // Each $not adds one level; the root and the field condition take the rest.
    for (let level = 0; level < filterLimits.maxDepth - 2; level += 1) deep = { $not: deep };
    expect(() => parseFilter(deep)).not.toThrow();
    const wide = { $or: Array.from({ length: filterLimits.maxNodes - 1 }, (_, index) => ({ a: index })) };
    expect(() => parseFilter(wide)).not.toThrow();
    const many = { a: { $in: Array.from({ length: filterLimits.maxInValues }, (_, index) => index) } };
    expect(() => parseFilter(many)).not.toThrow();
  });
});

describe('invalid filters raise INVALID_FILTER naming the path', () => {
  const deepNot = (levels: number): unknown => {
    let filter: unknown = { a: 1 };
    for (let level = 0; level < levels; level += 1) filter = { $not: filter };
    return filter;
  };
  const cases: Array<[string, unknown, string]> = [
    ['a root that is not an object', 'lang = en', 'filter: expected a filter object like { lang: "en" }, got string'],
    ['an array root', [{ a: 1 }], 'filter: expected a filter object like { lang: "en" }, got an array'],
    ['$gt with an object', { year: { $gt: {} } }, 'filter.year.$gt: expected a number, string or boolean, got object'],
    [
      'the path inside $or',
      { $or: [{ a: 1 }, { year: { $gte: { x: 1 } } }] },
      'filter.$or[1].year.$gte: expected a number, string or boolean, got object',
    ],
    [
      '$lt with an array',
      { year: { $lt: [1] } },
      'filter.year.$lt: expected a number, string or boolean, got an array',
    ],
    ['$lte with null', { year: { $lte: null } }, 'filter.year.$lte: expected a number, string or boolean, got null'],
    ['$eq with an object', { a: { $eq: { b: 1 } } }, 'filter.a.$eq: expected a string, finite number, boolean or null'],
    ['NaN', { a: Number.NaN }, 'filter.a: expected a string, finite number, boolean or null, got NaN'],
    [
      'Infinity',
      { a: { $gt: Number.POSITIVE_INFINITY } },
      'filter.a.$gt: expected a number, string or boolean, got Infinity',
    ],
    ['undefined', { a: undefined }, 'filter.a: expected a string, finite number, boolean or null, got undefined'],
    ['a bigint', { a: 1n }, 'got bigint'],
    ['a Date', { a: new Date(0) }, 'filter.a: expected a string, finite number, boolean or null, got a Date object'],
    [
      'a Date operand',
      { a: { $gt: new Date(0) } },
      'filter.a.$gt: expected a number, string or boolean, got a Date object',
    ],
    ['a lone surrogate value', { a: '\ud800' }, 'got a string with an unpaired UTF-16 surrogate'],
    ['an unknown field operator', { year: { $regex: 'x' } }, 'filter.year.$regex: unknown operator $regex'],
    ['an unknown top-level operator', { $nor: [{ a: 1 }] }, 'filter.$nor: unknown operator $nor'],
    ['a field operator at the top', { $gt: 1 }, 'filter.$gt: $gt applies to a field'],
    ['$and inside a field', { a: { $and: [{ $gt: 1 }] } }, 'filter.a.$and: $and combines whole filters'],
    ['$in not an array', { tags: { $in: 'a' } }, 'filter.tags.$in: expected an array of values, got string'],
    ['$nin with an object element', { tags: { $nin: [1, { b: 2 }] } }, 'filter.tags.$nin[1]: expected a string'],
    ['$in with a nested array', { tags: { $in: [[1]] } }, 'filter.tags.$in[0]: expected a string, finite number'],
    ['$exists not a boolean', { a: { $exists: 1 } }, 'filter.a.$exists: expected true or false, got number'],
    ['$and empty', { $and: [] }, 'filter.$and: expected a non-empty array of filter objects, got an empty array'],
    ['$or not an array', { $or: { a: 1 } }, 'filter.$or: expected a non-empty array of filter objects, got object'],
    ['$or of non-objects', { $or: [{ a: 1 }, 'b'] }, 'filter.$or[1]: expected a filter object'],
    ['$not at the top not an object', { $not: 3 }, 'filter.$not: expected a filter object'],
    [
      'field $not with a value',
      { a: { $not: 5 } },
      'filter.a.$not: expected an operator object like { $not: { $gt: 5 } }',
    ],
    ['field $not with a plain object', { a: { $not: { b: 1 } } }, 'filter.a.$not: expected an operator object'],
    ['an empty field name', { '': 1 }, 'filter[""]: a field name is empty'],
    ['a double dot', { 'a..b': 1 }, 'filter["a..b"]: field "a..b" has an empty path segment'],
    ['a leading dot', { '.a': 1 }, 'filter[".a"]: field ".a" has an empty path segment'],
    ['a trailing dot', { 'a.': 1 }, 'filter["a."]: field "a." has an empty path segment'],
    ['an odd key with an empty segment', { 'x y..z': 1 }, 'filter["x y..z"]: field "x y..z" has an empty path segment'],
    ['a lone surrogate key', { '\udc00': 1 }, 'contains an unpaired UTF-16 surrogate'],
    ['an overlong path', { ['k'.repeat(filterLimits.maxPathLength + 1)]: 1 }, 'characters long; the limit is 1024'],
    ['an empty operator object', { a: {} }, 'filter.a: an empty object matches nothing useful'],
    [
      'a nested object value',
      { author: { name: 'Ann' } },
      'match nested fields with a dotted path such as "author.name"',
    ],
    ['mixed operators and keys', { a: { $gt: 1, b: 2 } }, 'filter.a: expected a value or an operator object'],
    [
      'an array value',
      { tags: ['a', 'b'] },
      'filter.tags: expected a value or an operator object, got an array; to match any',
    ],
    ['too deep', deepNot(filterLimits.maxDepth), 'nests deeper than 32 levels'],
    ['hostile depth', deepNot(100_000), 'nests deeper than 32 levels'],
    [
      'too many conditions',
      { $or: Array.from({ length: filterLimits.maxNodes + 1 }, (_, index) => ({ a: index })) },
      'more than 1000 conditions',
    ],
    [
      'too many $in values in all',
      { a: { $in: Array(6000).fill(1) }, b: { $nin: Array(6000).fill(2) } },
      'filter.b.$nin: the filter lists more than 10000 $in/$nin values in all',
    ],
  ];

  test.each(cases)('%s', (_name, filter, expected) => {
    expect(errorOf(() => parseFilter(filter)).message).toContain(expected);
  });

  test('every message starts with the path', () => {
    for (const [, filter] of cases) expect(errorOf(() => parseFilter(filter)).message).toMatch(/^filter[.[:]/);
  });

  test('the deepest path is reported in full', () => {
    const message = errorOf(() =>
      parseFilter({ $and: [{ $or: [{ a: 1 }, { 'b.c': { $not: { $in: 3 } } }] }] }),
    ).message;
    expect(message).toMatch(/^filter\.\$and\[0\]\.\$or\[1\]\.b\.c\.\$not\.\$in: expected an array of values/);
  });

  test('parseFieldPath applies the same rules', () => {
    expect(parseFieldPath('author.name')).toEqual(['author', 'name']);
    expect(errorOf(() => parseFieldPath('$lang')).message).toContain('reserved for operators');
    expect(errorOf(() => parseFieldPath('a..b')).message).toContain('empty path segment');
  });
});
