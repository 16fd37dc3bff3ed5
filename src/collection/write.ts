// Validation of an upsert batch before anything is written: ids, vectors (copied into one array),
// metadata and text, each bad record named. Imports the schema helpers, never the store.
import { QuiverError } from '../errors.js';
import { norm } from '../index/vector-math.js';
import { copyVector, describe, type Metric, toId, toMetadataJson, toText } from '../schema.js';
import type { UpsertRecord } from '../types.js';

const RECORD_KEYS = new Set(['id', 'vector', 'metadata', 'text']);

/** A validated upsert batch: row i is ids[i], numbers i·dim … (i+1)·dim of vectors, metadata[i]. */
export interface PreparedBatch {
  readonly ids: readonly string[];
  readonly vectors: Float32Array;
  /** JSON text per row, or one text for every row. */
  readonly metadata: readonly string[] | string;
  /** Text per row (null: none); undefined when no row has text. */
  readonly texts: readonly (string | null)[] | undefined;
}

/** The collection a batch is validated for. */
export interface BatchTarget {
  readonly dim: number;
  readonly metric: Metric;
  readonly name: string;
}

/** Validates a whole batch before anything is written; the vectors are copied into one array. */
export function prepareBatch(records: readonly UpsertRecord[], target: BatchTarget, embedding = false): PreparedBatch {
  const { dim, metric, name } = target;
  if (!Array.isArray(records)) {
    throw new QuiverError('INVALID_ARGUMENT', `upsert takes an array of records, got ${describe(records)}`);
  }
  const seen = new Map<string, number>();
  const ids: string[] = new Array(records.length);
  const metadata: string[] = new Array(records.length);
  let texts: (string | null)[] | undefined;
  // The caller's vectors are copied, so later changes to them cannot reach the index.
  const vectors = new Float32Array(records.length * dim);
  for (let i = 0; i < records.length; i++) {
    const record: unknown = records[i];
    const where = `record ${i}`;
    if (record === null || typeof record !== 'object' || Array.isArray(record)) {
      throw new QuiverError('INVALID_ARGUMENT', `${where} is ${describe(record)}; expected { id, vector, metadata? }`);
    }
    for (const key of Object.keys(record)) {
      if (!RECORD_KEYS.has(key)) {
        throw new QuiverError(
          'INVALID_ARGUMENT',
          `${where} has unknown field '${key}'; a record has id, vector, text and metadata`,
        );
      }
    }
    const { id: rawId, vector: rawVector, metadata: rawMetadata, text: rawText } = record as Record<string, unknown>;
    const id = toId(rawId, `${where}.id`);
    const earlier = seen.get(id);
    if (earlier !== undefined) {
      throw new QuiverError(
        'INVALID_ID',
        `${where}.id '${id}' repeats record ${earlier}; ids must be unique within a batch`,
      );
    }
    seen.set(id, i);
    if (rawVector === undefined) {
      throw new QuiverError(
        'INVALID_ARGUMENT',
        rawText === undefined || embedding
          ? `${where}.vector is undefined (id '${id}'); give each record a vector, or a text with the collection opened with embed and upsertAsync`
          : `${where}.vector is undefined (id '${id}'), and it has text: open the collection with embed (your embedding function) and call upsertAsync to compute vectors from text`,
      );
    }
    if (rawText !== undefined) {
      texts ??= new Array<string | null>(records.length).fill(null);
      texts[i] = toText(rawText, `${where}.text`);
    }
    copyVector(rawVector, vectors, i * dim, dim, `${where}.vector`, name);
    if (metric === 'cosine' && norm(vectors.subarray(i * dim, (i + 1) * dim)) === 0) {
      throw new QuiverError(
        'INVALID_ARGUMENT',
        `${where}.vector is all zeros; cosine distance needs a non-zero vector`,
      );
    }
    ids[i] = id;
    metadata[i] = toMetadataJson(rawMetadata, `${where}.metadata`);
  }
  return { ids, vectors, metadata, texts };
}
