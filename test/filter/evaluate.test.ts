// Every operator by hand: each case runs through both evaluateFilter and the compiled SQL (matchBoth
// throws when they disagree) and checks the labels against the documented semantics.

import fc from 'fast-check';
import { afterAll, describe, expect, test } from 'vitest';
import { compareCodePoints, evaluateFilter, parseFilter } from '../../src/filter/index.js';
import { createHarness, type Document, matchBoth } from './harness.js';

const documents: Document[] = [
  /* 0 */ { lang: 'en', year: 2020, tags: ['ai', 'db'], author: { name: 'Ann', age: 40 }, draft: false, score: 1.5 },
  /* 1 */ { lang: 'fr', year: 2021, tags: 'ai', author: { name: 'Bo' }, draft: true, reviewed: null },
  /* 2 */ { lang: 'en', year: '2022', tags: [], author: 'Cy', draft: 1, score: null },
  /* 3 */ { year: 2019.5, tags: [1, true, null, ['ai']], draft: 0 },
  /* 4 */ {},
  /* 5 */ { lang: 'EN', year: [2018, 2023], tags: ['AI'], author: { name: ['Ann', 'Dee'] }, reviewed: true },
];
const everyone = [0, 1, 2, 3, 4, 5];

const harness = createHarness();
afterAll(() => harness.close());

const cases: Array<[string, unknown, number[]]> = [
  ['{} matches everything', {}, everyone],
  ['equality shorthand', { lang: 'en' }, [0, 2]],
  ['$eq', { lang: { $eq: 'en' } }, [0, 2]],
  ['strings are case-sensitive', { lang: 'EN' }, [5]],
  ['$ne matches missing fields', { lang: { $ne: 'en' } }, [1, 3, 4, 5]],
  ['a number never equals a string', { year: 2022 }, []],
  ['a string never equals a number', { year: '2020' }, []],
  ['string equality', { year: '2022' }, [2]],
  ['number equality', { year: 2020 }, [0]],
  ['$gt on numbers and any array element', { year: { $gt: 2020 } }, [1, 5]],
  ['$gte', { year: { $gte: 2020 } }, [0, 1, 5]],
  ['$lt', { year: { $lt: 2020 } }, [3, 5]],
  ['$lte with a fraction', { year: { $lte: 2019.5 } }, [3, 5]],
  ['$gt on strings ignores numbers', { year: { $gt: '2000' } }, [2]],
  ['each range operator may be met by a different array element', { year: { $gte: 2019, $lt: 2021 } }, [0, 3, 5]],
  ['array contains', { tags: 'ai' }, [0, 1]],
  ['nested arrays are not searched', { tags: { $in: ['ai'] } }, [0, 1]],
  ['$in on arrays', { tags: { $in: ['db', 'AI'] } }, [0, 5]],
  ['$nin: no element equals any value', { tags: { $nin: ['ai'] } }, [2, 3, 4, 5]],
  ['$in [] matches nothing', { tags: { $in: [] } }, []],
  ['$nin [] matches everything', { tags: { $nin: [] } }, everyone],
  ['null matches null, missing and arrays holding null', { tags: null }, [3, 4]],
  ['true never equals 1', { tags: true }, [3]],
  ['1 never equals true', { tags: 1 }, [3]],
  ['false', { draft: false }, [0]],
  ['0 is not false', { draft: 0 }, [3]],
  ['true', { draft: true }, [1]],
  ['1 is not true', { draft: 1 }, [2]],
  ['booleans order false < true', { draft: { $gt: false } }, [1]],
  ['booleans order only against booleans', { draft: { $lte: true } }, [0, 1]],
  ['{ x: null } also matches a missing x', { reviewed: null }, [0, 1, 2, 3, 4]],
  ['$eq null', { reviewed: { $eq: null } }, [0, 1, 2, 3, 4]],
  ['$ne null: present and not null', { reviewed: { $ne: null } }, [5]],
  ['$exists true includes a null value', { reviewed: { $exists: true } }, [1, 5]],
  ['$exists false', { reviewed: { $exists: false } }, [0, 2, 3, 4]],
  ['dotted path', { 'author.name': 'Ann' }, [0, 5]],
  ['dotted path $exists', { 'author.name': { $exists: true } }, [0, 1, 5]],
  ['a path through a non-object is missing', { 'author.name': { $exists: false } }, [2, 3, 4]],
  ['dotted path range', { 'author.age': { $gte: 18 } }, [0]],
  ['range on a real number', { score: { $gt: 1 } }, [0]],
  ['range never matches null', { score: { $lt: 100 } }, [0]],
  ['$or', { $or: [{ lang: 'fr' }, { year: 2019.5 }] }, [1, 3]],
  ['$and', { $and: [{ lang: 'en' }, { draft: false }] }, [0]],
  ['several keys are an implicit $and', { lang: 'en', draft: 1 }, [2]],
  ['top-level $not', { $not: { lang: 'en' } }, [1, 3, 4, 5]],
  ['field-level $not matches missing fields', { year: { $not: { $gt: 2020 } } }, [0, 2, 3, 4]],
  ['$not of $exists', { reviewed: { $not: { $exists: true } } }, [0, 2, 3, 4]],
  ['$in with null', { lang: { $in: ['en', null] } }, [0, 2, 3, 4]],
  ['$nin with null', { lang: { $nin: ['en', null] } }, [1, 5]],
  ['$in mixing types keeps each type apart', { draft: { $in: [true, 0] } }, [1, 3]],
  [
    'the example from the design',
    { lang: 'en', year: { $gte: 2020 }, $or: [{ draft: false }, { reviewed: { $exists: true } }] },
    [0],
  ],
  ['$ne on an array: no element equals', { tags: { $ne: 'db' } }, [1, 2, 3, 4, 5]],
  ['an empty array equals nothing', { tags: { $exists: true }, $not: { tags: { $in: ['ai', 'db', 'AI', 1] } } }, [2]],
];

describe('operators (SQL and evaluateFilter agree)', () => {
  test.each(cases)('%s', (_name, filter, expected) => {
    expect(matchBoth(harness, documents, filter)).toEqual(expected);
  });
});

// Arrays of objects, as document loaders produce them: a dotted path steps into every object element.
const shelves: Document[] = [
  /* 0 */ {
    authors: [
      { name: 'Ada', born: 1815 },
      { name: 'Bob', born: 1900 },
    ],
  },
  /* 1 */ { authors: [{ name: 'Cy' }, { born: 1990 }] },
  /* 2 */ { authors: { name: 'Ada' } },
  /* 3 */ { authors: [[{ name: 'Ada' }], 'Ada', { name: ['Dee', 'Ada2'] }] },
  /* 4 */ { authors: [] },
  /* 5 */ {},
  /* 6 */ { authors: [{ name: null }, { name: 'Eve', tags: [{ k: 'x' }, { k: ['y'] }] }] },
  /* 7 */ { shelf: [{ books: [{ title: 'T1' }, { title: 'T2' }] }, { books: { title: 'T3' } }, { books: 'T4' }] },
];

const arrayCases: Array<[string, unknown, number[]]> = [
  ['any element with the value matches', { 'authors.name': 'Ada' }, [0, 2]],
  ['an array at the end of the path matches by element', { 'authors.name': 'Dee' }, [3]],
  ['nested arrays and scalar elements are not entered', { 'authors.name': { $in: ['Ada', 'Ada2'] } }, [0, 2, 3]],
  ['$ne: no element has the value (missing fields match)', { 'authors.name': { $ne: 'Ada' } }, [1, 3, 4, 5, 6, 7]],
  ['$in: some element has one of the values', { 'authors.name': { $in: ['Bob', 'Cy'] } }, [0, 1]],
  ['$nin: no element has any of the values', { 'authors.name': { $nin: ['Bob', 'Cy'] } }, [2, 3, 4, 5, 6, 7]],
  ['a range on elements', { 'authors.born': { $gt: 1850 } }, [0, 1]],
  ['each range operator may be met by a different element', { 'authors.born': { $gt: 1850, $lt: 1850 } }, [0]],
  ['$exists: some element has the key', { 'authors.name': { $exists: true } }, [0, 1, 2, 3, 6]],
  ['$exists false: no element has the key', { 'authors.name': { $exists: false } }, [4, 5, 7]],
  ['null: no element has the key, or one holds null', { 'authors.name': null }, [4, 5, 6, 7]],
  ['$ne null: some element has the key and none holds null', { 'authors.name': { $ne: null } }, [0, 1, 2, 3]],
  ['arrays of objects inside arrays of objects', { 'authors.tags.k': 'x' }, [6]],
  ['an array value deep in the path matches by element', { 'authors.tags.k': 'y' }, [6]],
  ['two array steps on one path', { 'shelf.books.title': 'T2' }, [7]],
  ['an object beside arrays on the same path', { 'shelf.books.title': 'T3' }, [7]],
  ['a scalar where an object is expected holds no key', { 'shelf.books.title': 'T4' }, []],
  ['field-level $not of $in', { 'authors.name': { $not: { $in: ['Ada'] } } }, [1, 3, 4, 5, 6, 7]],
  ['the array itself exists, even empty', { authors: { $exists: true } }, [0, 1, 2, 3, 4, 6]],
  ['conditions on two fields may be met by different elements', { 'authors.name': 'Cy', 'authors.born': 1990 }, [1]],
];

describe('arrays of objects (SQL and evaluateFilter agree)', () => {
  test.each(arrayCases)('%s', (_name, filter, expected) => {
    expect(matchBoth(harness, shelves, filter)).toEqual(expected);
  });
});

describe('type and ordering rules', () => {
  test('strings order by code point, as SQLite orders UTF-8 bytes', () => {
    const strings: Document[] = [
      { s: 'a' },
      { s: 'b' },
      { s: 'é' },
      { s: '\uFFFF' },
      { s: '😀' },
      { s: '' },
      { s: 'a\u0000b' },
    ];
    expect(matchBoth(harness, strings, { s: { $gt: '\uFFFF' } })).toEqual([4]);
    expect(matchBoth(harness, strings, { s: { $lt: 'b' } })).toEqual([0, 5, 6]);
    expect(matchBoth(harness, strings, { s: { $gt: 'a' } })).toEqual([1, 2, 3, 4, 6]);
    expect(matchBoth(harness, strings, { s: 'a\u0000b' })).toEqual([6]);
  });

  test('numbers beyond 2^53 compare exactly as JavaScript sees them', () => {
    const big = 47065759321143870;
    const numbers: Document[] = [{ n: big }, { n: -big }, { n: 1e21 }, { n: 2 ** 53 }, { n: 0.1 }, { n: 5e-324 }];
    expect(matchBoth(harness, numbers, { n: big })).toEqual([0]);
    expect(matchBoth(harness, numbers, { n: -big })).toEqual([1]);
    expect(matchBoth(harness, numbers, { n: { $gte: big } })).toEqual([0, 2]);
    expect(matchBoth(harness, numbers, { n: { $in: [1e21, 0.1] } })).toEqual([2, 4]);
    expect(matchBoth(harness, numbers, { n: { $gt: 0, $lt: 0.1 } })).toEqual([5]);
  });

  test('-0 equals 0', () => {
    expect(matchBoth(harness, [{ n: 0 }, { n: -0 }], { n: -0 })).toEqual([0, 1]);
  });

  test('compareCodePoints agrees with a UTF-8 byte comparison', () => {
    const text = fc.string({ unit: 'binary', maxLength: 6 });
    fc.assert(
      fc.property(text, text, (left, right) => {
        const bytes = Buffer.compare(Buffer.from(left, 'utf8'), Buffer.from(right, 'utf8'));
        expect(Math.sign(compareCodePoints(left, right))).toBe(bytes);
      }),
      { numRuns: 500 },
    );
  });

  test('evaluateFilter treats an undefined key as missing and never reads inherited keys', () => {
    expect(evaluateFilter(parseFilter({ a: null }), { a: undefined })).toBe(true);
    expect(evaluateFilter(parseFilter({ a: { $exists: true } }), { a: undefined })).toBe(false);
    expect(evaluateFilter(parseFilter({ toString: { $exists: true } }), {})).toBe(false);
    expect(evaluateFilter(parseFilter({ 'a.constructor': { $exists: true } }), { a: {} })).toBe(false);
  });
});
