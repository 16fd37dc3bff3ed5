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
