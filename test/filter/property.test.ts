// Property test: for random documents (nested objects, arrays, nulls, mixed types, missing fields) and
// random valid filters, the compiled SQL selects exactly the documents evaluateFilter accepts.
// Small value and key pools make matches, type clashes and near-misses common. A failure prints its seed.

import fc from 'fast-check';
import { afterAll, expect, test } from 'vitest';
import { indexExpressionsOf, parseFilter } from '../../src/filter/index.js';
import { createHarness, type Document, selectReference } from './harness.js';

const keys = ['a', 'b', "it's", 'q"k'];
const key = fc.constantFrom(...keys);

const number = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: -2, max: 2 }) },
  { weight: 2, arbitrary: fc.constantFrom(1.5, -0.5, 0.1, 1e21, -1e-7, 2 ** 53, 2 ** 53 + 2, 47065759321143870) },
  { weight: 1, arbitrary: fc.double({ noNaN: true, noDefaultInfinity: true }) },
);
const text = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.constantFrom('', 'a', 'b', 'A', 'ab', 'é', '😀', '\uFFFF', '1', 'true', 'null', "'", 'a\u0000b'),
  },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 3 }).filter((value) => !/\p{Cs}/u.test(value)) },
);
const comparable = fc.oneof(number, text, fc.boolean());
const scalar = fc.oneof({ weight: 6, arbitrary: comparable }, { weight: 1, arbitrary: fc.constant(null) });

const { value } = fc.letrec<{ value: unknown; object: Record<string, unknown> }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    { weight: 6, arbitrary: scalar },
    {
      weight: 2,
      arbitrary: fc.array(fc.oneof(scalar, fc.array(scalar, { maxLength: 2 }), tie('object')), { maxLength: 4 }),
    },
    { weight: 2, arbitrary: tie('object') },
  ),
  object: fc.dictionary(key, tie('value'), { minKeys: 1, maxKeys: 3 }),
}));
const document = fc.dictionary(key, value, { maxKeys: 4 }) as fc.Arbitrary<Document>;

// Records shaped like loader output: arrays of objects (holding arrays of objects) under the same keys
// that filter paths name, with objects that lack a key, scalar and nested-array elements beside them.
const { shaped } = fc.letrec<{ shaped: unknown; record: Record<string, unknown> }>((tie) => ({
  shaped: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    { weight: 4, arbitrary: scalar },
    {
      weight: 3,
      arbitrary: fc.array(
        fc.oneof({ weight: 4, arbitrary: tie('record') }, scalar, fc.array(tie('record'), { maxLength: 2 })),
        { maxLength: 4 },
      ),
    },
    { weight: 2, arbitrary: tie('record') },
  ),
  record: fc.dictionary(key, tie('shaped'), { maxKeys: 3 }),
}));
const loaderDocument = fc.dictionary(key, shaped, { maxKeys: 4 }) as fc.Arbitrary<Document>;
// Most filters name one or two fields, so that they split the documents rather than match all or none.

const fieldPath = fc.oneof(
  { weight: 3, arbitrary: key },
  { weight: 1, arbitrary: fc.tuple(key, key).map((path) => path.join('.')) },
  { weight: 1, arbitrary: fc.tuple(key, key, key).map((path) => path.join('.')) },
);
const operatorCondition = fc.oneof(
  fc.record({ $eq: scalar }),
  fc.record({ $ne: scalar }),
  fc.record({ $gt: comparable }),
  fc.record({ $gte: comparable }),
  fc.record({ $lt: comparable }),
  fc.record({ $lte: comparable }),
  fc.record({ $gte: comparable, $lt: comparable }),
  fc.record({ $in: fc.array(scalar, { maxLength: 4 }) }),
  fc.record({ $nin: fc.array(scalar, { maxLength: 4 }) }),
  fc.record({ $exists: fc.boolean() }),
);
const condition = fc.oneof(
  { weight: 3, arbitrary: scalar },
  { weight: 6, arbitrary: operatorCondition },
  { weight: 1, arbitrary: operatorCondition.map(($not) => ({ $not })) },
);

const { filter } = fc.letrec<{ filter: unknown }>((tie) => ({
  filter: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    { weight: 5, arbitrary: fc.dictionary(fieldPath, condition, { minKeys: 1, maxKeys: 2 }) },
    { weight: 1, arbitrary: fc.array(tie('filter'), { minLength: 1, maxLength: 3 }).map(($and) => ({ $and })) },
    { weight: 2, arbitrary: fc.array(tie('filter'), { minLength: 1, maxLength: 3 }).map(($or) => ({ $or })) },
    { weight: 1, arbitrary: tie('filter').map(($not) => ({ $not })) },
  ),
}));

const harness = createHarness();
// Declared-field indexes on two paths: whether SQLite uses them or not, the rows must not change.
for (const [index, path] of [['a'], ['b', 'a'], ['a', 'b', 'a']].entries()) {
  const expressions = indexExpressionsOf(path, { metadataColumn: 'metadata' });
  harness.database.exec(`CREATE INDEX records_value_${index} ON records(collection_id, ${expressions.value})`);
  harness.database.exec(`CREATE INDEX records_type_${index} ON records(collection_id, ${expressions.type})`);
}
afterAll(() => harness.close());

// Fixed seeds, so that every run checks the same cases; a failure prints the seed and the shrunk case.
test.each([
  ['random documents', document, 0x5eed_0001],
  ['documents with arrays of objects', loaderDocument, 0x5eed_0002],
] as const)('compiled SQL selects exactly the documents evaluateFilter accepts (%s)', (_name, documents, seed) => {
  fc.assert(
    fc.property(
      fc.array(documents, { minLength: 10, maxLength: 30 }),
      fc.array(filter, { minLength: 1, maxLength: 6 }),
      (loaded, filters) => {
        harness.load(loaded);
        for (const raw of filters) {
          const node = parseFilter(raw);
          expect(harness.selectSql(node), JSON.stringify(raw)).toEqual(selectReference(node, loaded));
        }
      },
    ),
    { numRuns: 1_000, seed },
  );
});
