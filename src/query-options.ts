// The common shapes of query options checked without zod: a plain object with a vector whose keys are
// among a few whose values are undefined, a vector, an integer in range or a boolean. Anything else (other keys,
// wrong values) returns undefined, and the caller runs the schema (src/schema.ts), which also words
// the error; so both give the same answer for every input. Imports only the limits of schema.ts.
import type { z } from 'zod';
import type { SchemaOf } from './lazy-require.js';
import { MAX_K, type queryIdsSchema, type querySchema } from './schema.js';

/** queryIds' options as its schema returns them. */
export type ParsedQueryIdsOptions = z.infer<SchemaOf<typeof queryIdsSchema>>;

/** query's options as its schema returns them. */
export type ParsedQueryOptions = z.infer<SchemaOf<typeof querySchema>>;

/** What each key may hold on the fast path: an integer range, a boolean, a vector, or anything (a filter). */
type Rule = readonly [min: number, max: number] | 'boolean' | 'vector' | 'any';

const COMMON: Readonly<Record<string, Rule>> = {
  vector: 'vector',
  k: [1, MAX_K],
  ef: [1, MAX_K],
  nprobe: [1, 65_535],
  rerank: [1, MAX_K],
  filter: 'any',
};

/** queryIds' keys (all of queryIdsSchema's). */
const QUERY_IDS_RULES = new Map(Object.entries(COMMON));

/** query's most used keys (the rest, such as text and fusion, go through the schema). */
const QUERY_RULES = new Map(
  Object.entries({ ...COMMON, includeVectors: 'boolean', includeText: 'boolean', explain: 'boolean' } as const),
);

function passes(rules: ReadonlyMap<string, Rule>, input: unknown): boolean {
  if (input === null || typeof input !== 'object' || Object.getPrototypeOf(input) !== Object.prototype) return false;
  const options = input as Record<string, unknown>;
  // A vector query: queryIds requires the vector, and query without one is a text query.
  if (options['vector'] === undefined) return false;
  for (const key in options) {
    const rule = rules.get(key);
    if (rule === undefined) return false;
    const value = options[key];
    if (value === undefined || rule === 'any') continue;
    if (rule === 'vector') {
      if (!(value instanceof Float32Array) && !Array.isArray(value)) return false;
    } else if (rule === 'boolean') {
      if (typeof value !== 'boolean') return false;
    } else if (!Number.isSafeInteger(value) || (value as number) < rule[0] || (value as number) > rule[1]) {
      return false;
    }
  }
  return true;
}

/**
 * `input` itself when it is a queryIds options object the fast check accepts, else undefined.
 * @example
 * const parsed = fastQueryIdsOptions(options) ?? parseOrThrow(queryIdsSchema, options, 'queryIds');
 */
export function fastQueryIdsOptions(input: unknown): ParsedQueryIdsOptions | undefined {
  return passes(QUERY_IDS_RULES, input) ? (input as ParsedQueryIdsOptions) : undefined;
}

/**
 * `input` itself when it is a query options object the fast check accepts, else undefined.
 * @example
 * const parsed = fastQueryOptions(options) ?? parseOrThrow(querySchema, options, 'query');
 */
export function fastQueryOptions(input: unknown): ParsedQueryOptions | undefined {
  return passes(QUERY_RULES, input) ? (input as ParsedQueryOptions) : undefined;
}
