// The options of each index kind as zod schemas: checked when a collection is created (schema.ts)
// and again when its stored parameters are read back (storage/store.ts). Imports only
// lazy-require.ts and limits.ts (zod loads on the first validation, not at import).
import { lazySchema } from './lazy-require.js';
import { MAX_DIM, MAX_K } from './limits.js';

const hnswIndexSchema = lazySchema((z) =>
  z.strictObject({
    type: z.literal('hnsw'),
    m: z.int().min(2).max(128).optional(),
    efConstruction: z.int().min(1).max(4096).optional(),
    ef: z.int().min(1).max(MAX_K).optional(),
    vectors: z.enum(['float32', 'int8']).optional(),
    rerank: z.int().min(1).max(MAX_K).optional(),
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

/** Parsed index options, as indexOptionsSchema returns them. */
type ParsedIndexOptions = ReturnType<typeof indexOptionsSchema.schema.parse>;

/** An integer in [min, max], or absent. */
const optionalInteger = (value: unknown, min: number, max: number) =>
  value === undefined || (Number.isSafeInteger(value) && (value as number) >= min && (value as number) <= max);

/** A number in (0, 1], or absent: ivfpq's targetRecall. */
const optionalShare = (value: unknown) => value === undefined || (typeof value === 'number' && value > 0 && value <= 1);

/** Each kind's keys besides `type`, and whether their values certainly pass its schema. */
const FAST_KINDS: Readonly<
  Record<string, { keys: ReadonlySet<string>; valid: (o: Record<string, unknown>) => boolean }>
> = {
  flat: { keys: new Set(), valid: () => true },
  hnsw: {
    keys: new Set(['m', 'efConstruction', 'ef', 'vectors', 'rerank']),
    valid: (o) =>
      optionalInteger(o['m'], 2, 128) &&
      optionalInteger(o['efConstruction'], 1, 4096) &&
      optionalInteger(o['ef'], 1, MAX_K) &&
      (o['vectors'] === undefined || o['vectors'] === 'float32' || o['vectors'] === 'int8') &&
      optionalInteger(o['rerank'], 1, MAX_K),
  },
  ivfpq: {
    keys: new Set(['nlist', 'm', 'nprobe', 'rerank', 'targetRecall']),
    valid: (o) =>
      optionalInteger(o['nlist'], 1, 65_535) &&
      optionalInteger(o['m'], 1, MAX_DIM) &&
      optionalInteger(o['nprobe'], 1, 65_535) &&
      optionalInteger(o['rerank'], 1, MAX_K) &&
      optionalShare(o['targetRecall']),
  },
};

/**
 * `input` itself when it is index options the schema certainly accepts (a plain object with only its
 * kind's keys, each absent or in range), else undefined: the caller then runs indexOptionsSchema,
 * which decides and words the error. Reading a collection back with it loads no zod
 * (src/open-options.ts says why that matters).
 * @example
 * const options = fastIndexOptions(stored) ?? indexOptionsSchema.parse(stored);
 */
export function fastIndexOptions(input: unknown): ParsedIndexOptions | undefined {
  if (input === null || typeof input !== 'object' || Object.getPrototypeOf(input) !== Object.prototype)
    return undefined;
  const options = input as Record<string, unknown>;
  const kind = typeof options['type'] === 'string' ? FAST_KINDS[options['type']] : undefined;
  if (kind === undefined || !Object.hasOwn(FAST_KINDS, options['type'] as string)) return undefined;
  for (const key of Object.keys(options)) if (key !== 'type' && !kind.keys.has(key)) return undefined;
  return kind.valid(options) ? (input as ParsedIndexOptions) : undefined;
}
