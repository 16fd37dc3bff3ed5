// Batches of queries of a collection (queryBatch, queryIdsBatch and their async forms): the whole
// batch validated first, then searched in one native call where the index has one; functions of the
// collection's state (state.ts). Must not import the collection class or the database.
import { QuiverError } from '../errors.js';
import { searchFiltered } from '../filtered-search.js';
import { batchRow } from '../index/hnsw.js';
import { indexKind } from '../index/registry.js';
import type { AnnIndex, BatchNeighbours, Neighbours } from '../index/types.js';
import { norm } from '../index/vector-math.js';
import {
  parseOrThrow,
  queryBatchSchema,
  queryIdsBatchSchema,
  textQueryBatchSchema,
  toText,
  toVector,
} from '../schema.js';
import type { CompiledWhere } from '../storage/store.js';
import type { QueryBatchOptions, QueryHit, QueryIdHit, QueryIdsBatchOptions } from '../types.js';
import { DEFAULT_K, exactFromStore, filteredContext, hydrate, idHits, textQuery, whereOf } from './query.js';
import type { CollectionState } from './state.js';

/** The options schema of a batch method: queryBatch's, or queryIdsBatch's (no includeVectors). */
type BatchSchema = typeof queryBatchSchema | typeof queryIdsBatchSchema;

/** A validated queryBatch: `count` query rows of `dim` numbers in `queries`. */
interface PreparedQueryBatch {
  readonly queries: Float32Array;
  readonly count: number;
  /** k as asked; `k` is it capped at the index size. */
  readonly requested: number;
  readonly k: number;
  readonly ef: number;
  readonly where: CompiledWhere | undefined;
}

/** Collection.queryBatch: many queries at once (with texts, each answered as `query`). */
export function answerQueryBatch(state: CollectionState, options: QueryBatchOptions): QueryHit[][] {
  if (options !== null && typeof options === 'object' && 'texts' in options) return textBatch(state, options);
  const includeVectors = (options as { includeVectors?: unknown } | undefined)?.includeVectors === true;
  return batchQuery(state, options, queryBatchSchema, 'queryBatch', (neighbours) =>
    hydrate(state, neighbours, includeVectors),
  );
}

/** Collection.queryIdsBatch: many queries at once, ids and distances only. */
export function answerQueryIdsBatch(state: CollectionState, options: QueryIdsBatchOptions): QueryIdHit[][] {
  return batchQuery(state, options, queryIdsBatchSchema, 'queryIdsBatch', (neighbours) => idHits(state, neighbours));
}

/** Collection.queryBatchAsync: queryBatch with the graph search off the event loop. */
export function answerQueryBatchAsync(state: CollectionState, options: QueryBatchOptions): Promise<QueryHit[][]> {
  const includeVectors = (options as { includeVectors?: unknown } | undefined)?.includeVectors === true;
  return batchQueryAsync(state, options, queryBatchSchema, 'queryBatch', (neighbours) =>
    hydrate(state, neighbours, includeVectors),
  );
}

/** Collection.queryIdsBatchAsync: queryIdsBatch with the graph search off the event loop. */
export function answerQueryIdsBatchAsync(
  state: CollectionState,
  options: QueryIdsBatchOptions,
): Promise<QueryIdHit[][]> {
  return batchQueryAsync(state, options, queryIdsBatchSchema, 'queryIdsBatch', (neighbours) =>
    idHits(state, neighbours),
  );
}

/** queryBatch with texts: the whole batch validated first, then each query answered as `query`. */
function textBatch(state: CollectionState, options: unknown): QueryHit[][] {
  const { texts, vectors, ...rest } = parseOrThrow(textQueryBatchSchema, options, 'queryBatch');
  let vectorOf: ((row: number) => unknown) | undefined;
  if (vectors instanceof Float32Array) {
    if (vectors.length !== texts.length * state.dim) {
      throw new QuiverError(
        'INVALID_ARGUMENT',
        `queryBatch.vectors holds ${vectors.length} numbers; ${texts.length} texts need ${texts.length} rows of dim ${state.dim}`,
      );
    }
    vectorOf = (row) => vectors.subarray(row * state.dim, (row + 1) * state.dim);
  } else if (vectors !== undefined) {
    if (vectors.length !== texts.length) {
      throw new QuiverError(
        'INVALID_ARGUMENT',
        `queryBatch has ${vectors.length} vectors and ${texts.length} texts; give one vector per text, or texts alone`,
      );
    }
    vectorOf = (row) => vectors[row];
  }
  whereOf(rest.filter);
  const queries = texts.map((text, row) => {
    toText(text, `queryBatch.texts[${row}]`);
    const vector = vectorOf?.(row);
    if (vector !== undefined) toVector(vector, state.dim, `queryBatch.vectors[${row}]`, state.name);
    return { ...rest, text, ...(vector === undefined ? {} : { vector }) };
  });
  // For a reader, the whole batch is answered from one read transaction, as batchQuery does.
  return state.read(() => queries.map((query) => textQuery(state, query, false).hits));
}

/** A batch of queries answered at once: `hitsOf` turns each query's neighbours into its hits. */
function batchQuery<T>(
  state: CollectionState,
  options: unknown,
  schema: BatchSchema,
  method: string,
  hitsOf: (neighbours: Neighbours) => T[],
): T[][] {
  return state.read(() => {
    const ann = state.readable().ann;
    const batch = prepareQueryBatch(state, options, schema, method, ann.size);
    if (batch.where !== undefined) return answerFilteredBatch(state, ann, batch, batch.where, hitsOf);
    return answerBatch(state, ann, batch, searchBatch(state, ann, batch), hitsOf);
  });
}

/** {@link batchQuery} with the graph search off the event loop. */
async function batchQueryAsync<T>(
  state: CollectionState,
  options: unknown,
  schema: BatchSchema,
  method: string,
  hitsOf: (neighbours: Neighbours) => T[],
): Promise<T[][]> {
  const ann = state.readable().ann;
  const batch = prepareQueryBatch(state, options, schema, method, ann.size);
  if (batch.where !== undefined) return answerFilteredBatch(state, ann, batch, batch.where, hitsOf);
  // Indexes without an asynchronous search answer as batchQuery does.
  if (ann.searchBatchAsync === undefined || batch.k === 0) {
    return answerBatch(state, ann, batch, searchBatch(state, ann, batch), hitsOf);
  }
  const seq = state.store.lastSeq();
  let found: BatchNeighbours;
  try {
    found = await ann.searchBatchAsync(batch.queries, batch.k, batch.ef, state.threads);
  } catch (error) {
    // A close, compaction or reload disposed the graph under the search: CLOSED, or start over.
    if (state.readable().ann !== ann) return batchQuery(state, options, schema, method, hitsOf);
    throw error;
  }
  // The labels are only valid for the state the search saw; if a write or a reload came in
  // meanwhile, answer again from the current state (synchronously, so nothing can interleave; for
  // a reader, in one read transaction that also holds the record reads).
  return state.read(() => {
    if (state.readable().ann !== ann || state.store.lastSeq() !== seq) {
      return batchQuery(state, options, schema, method, hitsOf);
    }
    return answerBatch(state, ann, batch, found, hitsOf);
  });
}

/** Validates a whole queryBatch call; `k` comes back capped at the index size (0 when empty). */
function prepareQueryBatch(
  state: CollectionState,
  options: unknown,
  schema: BatchSchema,
  method: string,
  size: number,
): PreparedQueryBatch {
  const parsed = parseOrThrow(schema, options, method);
  const where = whereOf(parsed.filter);
  const dim = state.dim;
  let count: number;
  let rowOf: (row: number) => unknown;
  if (parsed.vectors instanceof Float32Array) {
    const flat = parsed.vectors;
    if (flat.length % dim !== 0) {
      throw new QuiverError(
        'INVALID_ARGUMENT',
        `${method}.vectors is a Float32Array of ${flat.length} numbers, not whole rows of dim ${dim} (collection '${state.name}')`,
      );
    }
    count = flat.length / dim;
    rowOf = (row) => flat.subarray(row * dim, (row + 1) * dim);
  } else {
    const list = parsed.vectors;
    count = list.length;
    rowOf = (row) => list[row];
  }
  // Copied, so that the caller may reuse its arrays while an async search runs.
  const queries = new Float32Array(count * dim);
  for (let row = 0; row < count; row++) {
    const vector = toVector(rowOf(row), dim, `${method}.vectors[${row}]`, state.name);
    if (state.metric === 'cosine' && norm(vector) === 0) {
      throw new QuiverError(
        'INVALID_ARGUMENT',
        `${method}.vectors[${row}] is all zeros; cosine distance needs a non-zero vector`,
      );
    }
    queries.set(vector, row * dim);
  }
  const requested = parsed.k ?? DEFAULT_K;
  const k = Math.min(requested, size);
  const ef = parsed.ef ?? indexKind(state.index).defaultEf(state.index) ?? requested;
  return { queries, count, requested, k, ef, where };
}

/** A filtered batch: each query planned and searched exactly as query() with the same filter. */
function answerFilteredBatch<T>(
  state: CollectionState,
  ann: AnnIndex,
  batch: PreparedQueryBatch,
  where: CompiledWhere,
  hitsOf: (neighbours: Neighbours) => T[],
): T[][] {
  const context = filteredContext(state, ann);
  const answers: T[][] = [];
  for (let row = 0; row < batch.count; row++) {
    const query = batch.queries.subarray(row * state.dim, (row + 1) * state.dim);
    const { neighbours } = searchFiltered(
      context,
      query,
      batch.requested,
      batch.ef,
      where,
      state.matches(where),
      false,
    );
    answers.push(hitsOf(neighbours));
  }
  return answers;
}

/** The whole batch in one native call on the database's threads, where the index has one. */
function searchBatch(state: CollectionState, ann: AnnIndex, batch: PreparedQueryBatch): BatchNeighbours | undefined {
  return batch.k > 0 ? ann.searchBatch?.(batch.queries, batch.k, batch.ef, state.threads) : undefined;
}

/** Hits per query from a batch answer (or, without one, from `ann.search`), as `query` gives them. */
function answerBatch<T>(
  state: CollectionState,
  ann: AnnIndex,
  batch: PreparedQueryBatch,
  found: BatchNeighbours | undefined,
  hitsOf: (neighbours: Neighbours) => T[],
): T[][] {
  const answers: T[][] = [];
  for (let row = 0; row < batch.count; row++) {
    if (batch.k === 0) {
      answers.push([]);
      continue;
    }
    const query = batch.queries.subarray(row * state.dim, (row + 1) * state.dim);
    let neighbours = found === undefined ? ann.search(query, batch.k, batch.ef) : batchRow(found, row);
    // Short, as in query(): the exact answer from the stored vectors is always complete.
    if (neighbours.labels.length < batch.k) neighbours = exactFromStore(state, query, batch.k);
    answers.push(hitsOf(neighbours));
  }
  return answers;
}
