// Validation of every input that crosses the public API: zod schemas for option objects,
// and hand-written loops for the hot parts of a batch (vectors, ids, metadata) so that a
// 100k-record batch is checked in one pass. Imports only errors.ts and lazy-require.ts (zod loads
// on the first validation, not at import).
import type { z } from 'zod';
import { QuiverError } from './errors.js';
import { type LazySchema, lazySchema, type SchemaOf } from './lazy-require.js';

/** The distance a collection ranks by. */
export type Metric = 'l2' | 'cosine' | 'ip';

/** Largest k a query may ask for. */
export const MAX_K = 10_000;
/** Longest id, in UTF-8 bytes. */
export const MAX_ID_BYTES = 512;
/** Largest dimension a collection may have. */
export const MAX_DIM = 65_536;
/** Longest text of a record or a query, in UTF-8 bytes (1 MiB): passages, not whole books. */
export const MAX_TEXT_BYTES = 1_048_576;

export const metricSchema = lazySchema((z) => z.enum(['l2', 'cosine', 'ip']));

const hnswIndexSchema = lazySchema((z) =>
  z.strictObject({
    type: z.literal('hnsw'),
    m: z.int().min(2).max(128).optional(),
    efConstruction: z.int().min(1).max(4096).optional(),
    ef: z.int().min(1).max(MAX_K).optional(),
  }),
);

const flatIndexSchema = lazySchema((z) => z.strictObject({ type: z.literal('flat') }));

const TARGET_RECALL_RANGE =
  'targetRecall must be a number above 0 and at most 1 (the recall@10 that ivfpq calibrates nprobe and rerank for; default 0.95)';

const ivfpqIndexSchema = lazySchema((z) =>
  z.strictObject({
    type: z.literal('ivfpq'),
    nlist: z.int().min(1).max(65_535).optional(),
    m: z.int().min(1).max(MAX_DIM).optional(),
    nprobe: z.int().min(1).max(65_535).optional(),
    rerank: z.int().min(1).max(MAX_K).optional(),
    targetRecall: z
      .number({ error: TARGET_RECALL_RANGE })
      .gt(0, TARGET_RECALL_RANGE)
      .max(1, TARGET_RECALL_RANGE)
      .optional(),
  }),
);

export const indexOptionsSchema = lazySchema((z) =>
  z.discriminatedUnion('type', [hnswIndexSchema.schema, flatIndexSchema.schema, ivfpqIndexSchema.schema]),
);

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

/**
 * Converts one vector to a Float32Array of length `dim`, rejecting wrong lengths and
 * non-finite numbers. `where` names the vector in messages ("vector 17", "query vector").
 * A Float32Array input is returned as is (never copied, never modified).
 */
export function toVector(input: unknown, dim: number, where: string, collection: string): Float32Array {
  let vector: Float32Array;
  if (input instanceof Float32Array) {
    vector = input;
  } else if (Array.isArray(input)) {
    vector = new Float32Array(input.length);
    for (let i = 0; i < input.length; i++) {
      const value: unknown = input[i];
      if (typeof value !== 'number') {
        throw new QuiverError(
          'INVALID_ARGUMENT',
          `${where}[${i}] is ${describe(value)}; a vector holds numbers only (number[] or Float32Array)`,
        );
      }
      vector[i] = value;
    }
  } else {
    throw new QuiverError('INVALID_ARGUMENT', `${where} is ${describe(input)}; pass a number[] or a Float32Array`);
  }
  if (vector.length !== dim) {
    throw new QuiverError(
      'DIMENSION_MISMATCH',
      `${where} has ${vector.length} numbers; collection '${collection}' has dim ${dim}`,
    );
  }
  for (let i = 0; i < vector.length; i++) {
    if (!Number.isFinite(vector[i])) {
      throw new QuiverError(
        'NOT_FINITE',
        `${where}[${i}] is ${vector[i]}; every number must be finite (check the embedding for NaN or overflow)`,
      );
    }
  }
  return vector;
}

/**
 * Validates one vector as {@link toVector} does (same checks, same messages) and copies it into
 * `target` at `offset`, so that a batch's vectors land in one array without a per-vector allocation.
 */
export function copyVector(
  input: unknown,
  target: Float32Array,
  offset: number,
  dim: number,
  where: string,
  collection: string,
): void {
  if (input instanceof Float32Array && input.length === dim) {
    target.set(input, offset);
  } else if (Array.isArray(input) && input.length === dim) {
    for (let i = 0; i < dim; i++) {
      const value: unknown = input[i];
      if (typeof value !== 'number') {
        throw new QuiverError(
          'INVALID_ARGUMENT',
          `${where}[${i}] is ${describe(value)}; a vector holds numbers only (number[] or Float32Array)`,
        );
      }
      target[offset + i] = value;
    }
  } else {
    // Anything else is an error; toVector reports it exactly as for a single vector.
    toVector(input, dim, where, collection);
    throw new QuiverError('INTERNAL', `${where} passed toVector but not copyVector`);
  }
  for (let i = 0; i < dim; i++) {
    const value = target[offset + i]!;
    if (value - value !== 0) {
      // NaN or ±Infinity (as float32: 1e39 becomes Infinity).
      throw new QuiverError(
        'NOT_FINITE',
        `${where}[${i}] is ${value}; every number must be finite (check the embedding for NaN or overflow)`,
      );
    }
  }
}

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
 * Checks that `input` is a plain JSON object whose values are strings, finite numbers, booleans,
 * null, arrays of those, or nested objects of the same, and returns its JSON text.
 */
export function toMetadataJson(input: unknown, where: string): string {
  if (input === undefined) return '{}';
  if (!isPlainObject(input)) {
    throw new QuiverError('INVALID_METADATA', `${where} is ${describe(input)}; metadata must be a plain JSON object`);
  }
  checkMetadataValue(input, where, 0);
  return JSON.stringify(input);
}

function checkMetadataValue(value: unknown, path: string, depth: number): void {
  if (depth > MAX_METADATA_DEPTH) {
    throw new QuiverError('INVALID_METADATA', `${path} is nested deeper than ${MAX_METADATA_DEPTH} levels`);
  }
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return;
  if (typeof value === 'number') {
    if (Number.isFinite(value)) return;
    throw new QuiverError('INVALID_METADATA', `${path} is ${value}; metadata numbers must be finite`);
  }
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const element: unknown = value[i];
      if (element !== null && typeof element === 'object') {
        throw new QuiverError(
          'INVALID_METADATA',
          `${path}[${i}] is ${describe(element)}; arrays in metadata hold strings, numbers, booleans or null`,
        );
      }
      checkMetadataValue(element, `${path}[${i}]`, depth + 1);
    }
    return;
  }
  if (isPlainObject(value)) {
    for (const [key, child] of Object.entries(value)) {
      if (key.length === 0) throw new QuiverError('INVALID_METADATA', `${path} has an empty key`);
      checkMetadataValue(child, `${path}.${key}`, depth + 1);
    }
    return;
  }
  throw new QuiverError(
    'INVALID_METADATA',
    `${path} is ${describe(value)}; metadata values are strings, numbers, booleans, null, arrays or objects of those`,
  );
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const prototype = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

/** A short description of a value's type for error messages. */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'number') return Number.isNaN(value) ? 'NaN' : `the number ${value}`;
  if (typeof value === 'string') return value.length === 0 ? 'an empty string' : 'a string';
  if (typeof value === 'object') {
    const name = (Object.getPrototypeOf(value) as { constructor?: { name?: string } } | null)?.constructor?.name;
    return name && name !== 'Object' ? `a ${name}` : 'an object';
  }
  return `a ${typeof value}`;
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
