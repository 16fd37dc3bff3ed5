// The fast check of query options agrees with the schemas: whatever it accepts the schema accepts with
// the same values, and whatever the schema rejects it leaves to the schema (which words the error).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fastQueryIdsOptions, fastQueryOptions } from '../src/query-options.js';
import { queryIdsSchema, querySchema } from '../src/schema.js';

const values = fc.constantFrom<unknown>(
  undefined,
  null,
  0,
  1,
  16,
  10_000,
  10_001,
  65_535,
  65_536,
  -1,
  1.5,
  Number.NaN,
  Number.POSITIVE_INFINITY,
  2 ** 53,
  '3',
  true,
  false,
  new Float32Array([1, 2]),
  new Float64Array([1, 2]),
  [1, 2],
  { a: 1 },
);
const keys = fc.constantFrom(
  'vector',
  'k',
  'ef',
  'nprobe',
  'rerank',
  'filter',
  'includeVectors',
  'includeText',
  'explain',
  'text',
  'other',
);

describe('the fast check of query options', () => {
  it('accepts only what the schemas accept, as they return it', () => {
    fc.assert(
      fc.property(fc.dictionary(keys, values), (options) => {
        for (const [fast, schema] of [
          [fastQueryIdsOptions, queryIdsSchema],
          [fastQueryOptions, querySchema],
        ] as const) {
          const quick = fast(options);
          const parsed = schema.safeParse(options);
          if (quick !== undefined) {
            expect(parsed.success).toBe(true);
            expect(quick).toEqual(parsed.data);
          }
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('takes the common shapes, and leaves objects with another prototype to the schema', () => {
    const vector = new Float32Array(4);
    expect(fastQueryIdsOptions({ vector, k: 10, ef: 16 })).toEqual({ vector, k: 10, ef: 16 });
    expect(fastQueryOptions({ vector: [1, 2], k: 1, includeVectors: true, filter: { a: 1 } })).toBeDefined();
    expect(fastQueryIdsOptions({ vector, includeVectors: true })).toBeUndefined();
    expect(fastQueryIdsOptions(Object.assign(Object.create({ k: 0 }), { vector }))).toBeUndefined();
    expect(fastQueryIdsOptions(null)).toBeUndefined();
  });
});
