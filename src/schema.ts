// Validation of every input that crosses the public API: zod schemas for option objects,
// and hand-written loops for the hot parts of a batch (vectors, ids, metadata) so that a
// 100k-record batch is checked in one pass. Imports only errors.ts, lazy-require.ts (zod loads on
// the first validation, not at import) and the leaf modules it re-exports; the layers below the
// collection import those leaves, never this module.
import type { z } from 'zod';
import { describe } from './describe.js';
import { QuiverError } from './errors.js';
import { indexOptionsSchema } from './index-options.js';
import { type LazySchema, lazySchema, type SchemaOf } from './lazy-require.js';
import { MAX_DIM, MAX_ID_BYTES, MAX_K, MAX_TEXT_BYTES } from './limits.js';

// The leaf modules' names, for the modules that take everything about input from here.
export { describe } from './describe.js';
export { indexOptionsSchema } from './index-options.js';
export { MAX_DIM, MAX_ID_BYTES, MAX_K, MAX_TEXT_BYTES } from './limits.js';
export type { Metric } from './metric.js';
export { copyVector, toVector } from './vector-input.js';

export const metricSchema = lazySchema((z) => z.enum(['l2', 'cosine', 'ip']));

export const collectionOptionsSchema = lazySchema((z) =>
  z.strictObject({
    dim: z.int().min(1).max(MAX_DIM),
    metric: metricSchema.schema.optional(),
    index: indexOptionsSchema.schema.optional(),
    indexes: z.array(z.string()).max(64).optional(),
    text: z
      .union([
        z.literal(true),
        z.strictObject({
          tokenizer: z.enum(['porter', 'unicode61', 'trigram']).optional(),
          removeDiacritics: z.boolean().optional(),
        }),
      ])
      .optional(),
    embed: z.function().optional(),
    embedBatchSize: z.int().min(1).max(100_000).optional(),
    embedConcurrency: z.int().min(1).max(64).optional(),
  }),
);

export type ParsedCollectionOptions = z.infer<SchemaOf<typeof collectionOptionsSchema>>;

export const openOptionsSchema = lazySchema((z) =>
  z.strictObject({
    durability: z.enum(['full', 'normal']).optional(),
    readOnly: z.boolean().optional(),
    snapshotThreshold: z.int().min(1).optional(),
    onWarning: z.function().optional(),
    onProgress: z.function().optional(),
    threads: z.int().min(1).max(256).optional(),
    addonPath: z.string().min(1).optional(),
    sqliteAddonPath: z.string().min(1).optional(),
  }),
);

export const collectionNameSchema = lazySchema((z) =>
  z
    .string()
    .regex(
      /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/,
      'a collection name is 1 to 64 letters, digits, "_", "." or "-", starting with a letter or digit',
    ),
);

const vectorInputSchema = lazySchema((z) => z.union([z.instanceof(Float32Array), z.array(z.unknown())]));

/** How a hybrid query fuses its vector and text candidates. */
export const fusionSchema = lazySchema((z) =>
  z.discriminatedUnion('method', [
    z.strictObject({ method: z.literal('rrf'), k: z.number().min(0).max(1_000_000).optional() }),
    z.strictObject({ method: z.literal('weighted'), alpha: z.number().min(0).max(1).optional() }),
  ]),
);

export const querySchema = lazySchema((z) =>
  z.strictObject({
    vector: vectorInputSchema.schema.optional(),
    text: z.string().optional(),
    k: z.int().min(1).max(MAX_K).optional(),
    ef: z.int().min(1).max(MAX_K).optional(),
    nprobe: z.int().min(1).max(65_535).optional(),
    rerank: z.int().min(1).max(MAX_K).optional(),
    includeVectors: z.boolean().optional(),
    includeText: z.boolean().optional(),
    filter: z.unknown().optional(),
    explain: z.boolean().optional(),
    fusion: fusionSchema.schema.optional(),
    candidates: z.int().min(1).max(MAX_K).optional(),
  }),
);

/** `queryAsync`: a query whose `rerank` may also be a scoring hook. */
export const queryAsyncSchema = lazySchema((z) =>
  querySchema.schema.omit({ explain: true }).extend({
    rerank: z
      .union([
        z.int().min(1).max(MAX_K),
        z.strictObject({ candidates: z.int().min(1).max(MAX_K).optional(), score: z.function() }),
      ])
      .optional(),
  }),
);

/** `queryIds`: a vector query without the per-hit record read. */
export const queryIdsSchema = lazySchema((z) =>
  z.strictObject({
    vector: vectorInputSchema.schema,
    k: z.int().min(1).max(MAX_K).optional(),
    ef: z.int().min(1).max(MAX_K).optional(),
    nprobe: z.int().min(1).max(65_535).optional(),
    rerank: z.int().min(1).max(MAX_K).optional(),
    filter: z.unknown().optional(),
  }),
);

/** `get({ filter, limit })`, `delete({ filter })` and `count({ filter })`. */
export const filterSelectionSchema = lazySchema((z) =>
  z.strictObject({
    filter: z.unknown(),
    limit: z.int().min(1).optional(),
  }),
);

export const queryBatchSchema = lazySchema((z) =>
  z.strictObject({
    vectors: z.union([z.instanceof(Float32Array), z.array(z.unknown())]),
    k: z.int().min(1).max(MAX_K).optional(),
    ef: z.int().min(1).max(MAX_K).optional(),
    includeVectors: z.boolean().optional(),
    filter: z.unknown().optional(),
  }),
);

/** `queryBatch` given `texts`: one text (and optionally one vector) per query, each answered as `query`. */
export const textQueryBatchSchema = lazySchema((z) =>
  z.strictObject({
    vectors: z.union([z.instanceof(Float32Array), z.array(z.unknown())]).optional(),
    texts: z.array(z.string()),
    k: z.int().min(1).max(MAX_K).optional(),
    ef: z.int().min(1).max(MAX_K).optional(),
    includeVectors: z.boolean().optional(),
    includeText: z.boolean().optional(),
    filter: z.unknown().optional(),
    fusion: fusionSchema.schema.optional(),
    candidates: z.int().min(1).max(MAX_K).optional(),
  }),
);

/** `queryIdsBatch`: a batch without the per-hit record reads. */
export const queryIdsBatchSchema = lazySchema(() => queryBatchSchema.schema.omit({ includeVectors: true }));

/**
 * Parses `input` with `schema`; a failure becomes an INVALID_ARGUMENT QuiverError whose message
 * names the offending field, so callers never see a raw ZodError.
 */
export function parseOrThrow<T>(schema: LazySchema<z.ZodType<T>>, input: unknown, what: string): T {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const path = issue && issue.path.length > 0 ? `${what}.${issue.path.join('.')}` : what;
  const message = issue?.message ?? 'invalid value';
  throw new QuiverError('INVALID_ARGUMENT', `${path}: ${message}`, { cause: result.error });
}

/** A UTF-16 surrogate not part of a pair (with the u flag, a pair is one code point and does not match). */
const LONE_SURROGATE = /[\uD800-\uDFFF]/u;

/** Normalises a user id (string or safe integer) to its stored string form, or throws INVALID_ID. */
export function toId(input: unknown, where: string): string {
  let id: string;
  if (typeof input === 'string') {
    id = input;
  } else if (typeof input === 'number' && Number.isSafeInteger(input)) {
    id = String(input);
  } else {
    throw new QuiverError(
      'INVALID_ID',
      `${where} is ${describe(input)}; an id is a non-empty string or a safe integer`,
    );
  }
  if (id.length === 0) throw new QuiverError('INVALID_ID', `${where} is empty; give every record a non-empty id`);
  if (LONE_SURROGATE.test(id)) {
    throw new QuiverError(
      'INVALID_ID',
      `${where} holds a lone UTF-16 surrogate, which UTF-8 cannot store; ids must be well-formed Unicode text`,
    );
  }
  const bytes = Buffer.byteLength(id, 'utf8');
  if (bytes > MAX_ID_BYTES) {
    throw new QuiverError(
      'INVALID_ID',
      `${where} is ${bytes} bytes long; ids are at most ${MAX_ID_BYTES} bytes of UTF-8 (store long text in metadata)`,
    );
  }
  return id;
}

/** Deepest nesting of objects and arrays accepted in metadata. */
const MAX_METADATA_DEPTH = 16;

/**
 * Checks that `input` is a plain JSON object and returns its JSON text, in one walk that reads each
 * value once (so an accessor cannot pass the check with one value and be stored with another). Values
 * are strings, finite numbers, booleans, null, arrays and plain objects of those (any JSON value, at
 * most 16 levels deep); `undefined` is dropped from objects and is null in arrays (as JSON.stringify
 * does); a valid Date is stored as its ISO string. BigInt, functions, symbols, NaN/±Infinity, circular
 * structures and other class instances are INVALID_METADATA naming their path.
 */
export function toMetadataJson(input: unknown, where: string): string {
  if (input === undefined) return '{}';
  if (!isPlainObject(input)) {
    throw new QuiverError('INVALID_METADATA', `${where} is ${describe(input)}; metadata must be a plain JSON object`);
  }
  return metadataJson(input, where, 0, new Set());
}

/** The JSON text of one metadata value, validated as it is written; `open` holds the objects being walked. */
function metadataJson(value: unknown, path: string, depth: number, open: Set<object>): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      if (Number.isFinite(value)) return JSON.stringify(value);
      throw new QuiverError('INVALID_METADATA', `${path} is ${value}; metadata numbers must be finite`);
    case 'object':
      break;
    default:
      throw new QuiverError(
        'INVALID_METADATA',
        `${path} is ${describe(value)}; metadata values are strings, finite numbers, booleans, null, arrays or plain objects`,
      );
  }
  if (value instanceof Date) {
    const time = value.getTime();
    if (Number.isNaN(time)) throw new QuiverError('INVALID_METADATA', `${path} is an invalid Date`);
    return JSON.stringify(new Date(time).toISOString());
  }
  if (depth >= MAX_METADATA_DEPTH) {
    throw new QuiverError('INVALID_METADATA', `${path} is nested deeper than ${MAX_METADATA_DEPTH} levels`);
  }
  if (open.has(value)) {
    throw new QuiverError(
      'INVALID_METADATA',
      `${path} refers back to an object that contains it (a circular structure)`,
    );
  }
  if (Array.isArray(value)) {
    open.add(value);
    const length = value.length;
    const parts: string[] = new Array(length);
    for (let i = 0; i < length; i++) {
      const element: unknown = value[i];
      parts[i] = element === undefined ? 'null' : metadataJson(element, `${path}[${i}]`, depth + 1, open);
    }
    open.delete(value);
    return `[${parts.join(',')}]`;
  }
  if (!isPlainObject(value)) {
    throw new QuiverError(
      'INVALID_METADATA',
      `${path} is ${describe(value)}; metadata holds plain objects, arrays and JSON values (a Date is stored as its ISO string)`,
    );
  }
  open.add(value);
  const parts: string[] = [];
  for (const key of Object.keys(value)) {
    if (key.length === 0) throw new QuiverError('INVALID_METADATA', `${path} has an empty key`);
    const child: unknown = value[key];
    if (child === undefined) continue;
    parts.push(`${JSON.stringify(key)}:${metadataJson(child, `${path}.${key}`, depth + 1, open)}`);
  }
  open.delete(value);
  return `{${parts.join(',')}}`;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const prototype = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

/**
 * Checks a record's or a query's text: a string of at most MAX_TEXT_BYTES UTF-8 bytes. `where`
 * names it in messages ("record 3.text").
 */
export function toText(input: unknown, where: string): string {
  if (typeof input !== 'string') {
    throw new QuiverError('INVALID_ARGUMENT', `${where} is ${describe(input)}; text must be a string`);
  }
  // Cheap bound first: a UTF-8 byte count is at most 3 per UTF-16 unit.
  if (input.length * 3 > MAX_TEXT_BYTES) {
    const bytes = Buffer.byteLength(input, 'utf8');
    if (bytes > MAX_TEXT_BYTES) {
      throw new QuiverError(
        'INVALID_ARGUMENT',
        `${where} is ${bytes} bytes long; text is at most ${MAX_TEXT_BYTES} bytes of UTF-8 (split long documents into passages)`,
      );
    }
  }
  return input;
}
