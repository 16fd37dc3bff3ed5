// One query of a collection: a vector query (plan → search → hydrate), a text or hybrid query,
// queryIds, and queryAsync's embed and rerank hooks; functions of the collection's state
// (state.ts). Must not import the collection class or the database.
import { QuiverError } from '../errors.js';
import { compileFilter, parseFilter } from '../filter/index.js';
import { exactOverRows, type FilteredSearchContext, searchFiltered } from '../filtered-search.js';
import { indexKind } from '../index/registry.js';
import type { AnnIndex, Neighbours } from '../index/types.js';
import { norm } from '../index/vector-math.js';
import { hydrateHits } from '../query-hits.js';
import { fastQueryIdsOptions, fastQueryOptions } from '../query-options.js';
import { describe, parseOrThrow, queryAsyncSchema, queryIdsSchema, querySchema, toText, toVector } from '../schema.js';
import type { CompiledWhere } from '../storage/store.js';
import { embedTexts } from '../text/embedding.js';
import { DEFAULT_ALPHA, DEFAULT_RRF_K, type Fusion, fuse } from '../text/fusion.js';
import { queryWords } from '../text/query-words.js';
import type {
  ExplainedQuery,
  ExplainedTextQuery,
  QueryAsyncOptions,
  QueryHit,
  QueryIdHit,
  QueryIdsOptions,
  QueryOptions,
  QueryPlan,
  RerankFunction,
  TextQueryPlan,
} from '../types.js';
import type { CollectionState } from './state.js';

export const DEFAULT_K = 10;
/** Candidates each side of a hybrid query contributes, at least (and at least k). */
const DEFAULT_HYBRID_CANDIDATES = 50;
/** Filters compile against the records table's JSON column. */
export const COMPILE = { metadataColumn: 'metadata' } as const;

/** Collection.query: a vector, text or hybrid query answered from one committed state. */
export function answerQuery(
  state: CollectionState,
  options: QueryOptions & { text: string; explain: true },
): ExplainedTextQuery;
export function answerQuery(state: CollectionState, options: QueryOptions & { explain: true }): ExplainedQuery;
export function answerQuery(state: CollectionState, options: QueryOptions): QueryHit[];
export function answerQuery(
  state: CollectionState,
  options: QueryOptions,
): QueryHit[] | ExplainedQuery | ExplainedTextQuery {
  const parsed = fastQueryOptions(options) ?? parseOrThrow(querySchema, options, 'query');
  // For a reader, one read transaction holds the catch-up, the index and FTS5 searches and the record reads.
  return state.read(() => {
    if (parsed.text !== undefined) {
      const answer = textQuery(state, parsed, parsed.explain === true);
      return parsed.explain === true ? answer : answer.hits;
    }
    if (parsed.vector === undefined) {
      throw new QuiverError(
        'INVALID_ARGUMENT',
        `query.vector is undefined and so is query.text; give a vector, a text, or both (collection '${state.name}')`,
      );
    }
    const { neighbours, plan } = search(state, { ...parsed, vector: parsed.vector });
    const hits = hydrate(state, neighbours, parsed.includeVectors === true, parsed.includeText !== false);
    return parsed.explain === true ? { hits, plan } : hits;
  });
}

/** Collection.queryAsync: the embed hook for a text without a vector, then the rerank hook. */
export async function answerQueryAsync(state: CollectionState, options: QueryAsyncOptions): Promise<QueryHit[]> {
  const parsed = parseOrThrow(queryAsyncSchema, options, 'queryAsync');
  state.readable();
  const { rerank, ...rest } = parsed;
  const hook = typeof rerank === 'object' ? rerank : undefined;
  const query: QueryOptions = { ...(rest as QueryOptions), ...(typeof rerank === 'number' ? { rerank } : {}) };
  const text = query.text;
  if (hook !== undefined && text === undefined) {
    throw new QuiverError('INVALID_ARGUMENT', 'queryAsync.rerank scores hits against the query text; give text too');
  }
  if (query.vector === undefined && text !== undefined && state.embed !== undefined) {
    toText(text, 'queryAsync.text');
    query.vector = await embedTexts(state.embed, [text], ['the query text'], state.dim, state.name);
    // Without a text index, the embedded text is a vector query.
    if (state.textSearch === undefined) delete query.text;
  }
  if (hook === undefined) return answerQuery(state, query);
  const k = query.k ?? DEFAULT_K;
  const hits = answerQuery(state, {
    ...query,
    k: Math.max(k, hook.candidates ?? Math.max(k, DEFAULT_HYBRID_CANDIDATES)),
  });
  if (hits.length === 0) return hits;
  let scores: unknown;
  try {
    scores = await (hook.score as RerankFunction)(
      text!,
      hits.map((hit) => ({ ...hit })),
    );
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    throw new QuiverError('HOOK_FAILED', `the rerank function failed (${detail})`, { cause: error });
  }
  if (!Array.isArray(scores) || scores.length !== hits.length) {
    throw new QuiverError(
      'HOOK_FAILED',
      `the rerank function returned ${Array.isArray(scores) ? `${scores.length} scores` : describe(scores)} for ${hits.length} hits; it must return one number per hit, in order`,
    );
  }
  scores.forEach((score, i) => {
    if (typeof score !== 'number' || !Number.isFinite(score)) {
      throw new QuiverError(
        'HOOK_FAILED',
        `the rerank function's score ${i} is ${describe(score)}; scores must be finite numbers`,
      );
    }
    hits[i]!.rerankScore = score;
  });
  // Stable: equal rerank scores keep the retrieval order.
  return hits
    .map((hit, i) => ({ hit, i }))
    .sort((a, b) => b.hit.rerankScore! - a.hit.rerankScore! || a.i - b.i)
    .slice(0, k)
    .map(({ hit }) => hit);
}

/** A text query (BM25), or with a vector a hybrid one: each side's candidates, fused. */
export function textQuery(
  state: CollectionState,
  parsed: {
    vector?: unknown;
    text?: string | undefined;
    k?: number | undefined;
    ef?: number | undefined;
    nprobe?: number | undefined;
    rerank?: number | undefined;
    filter?: unknown;
    includeVectors?: boolean | undefined;
    includeText?: boolean | undefined;
    fusion?: { method: 'rrf'; k?: number | undefined } | { method: 'weighted'; alpha?: number | undefined } | undefined;
    candidates?: number | undefined;
  },
  explain: boolean,
): ExplainedTextQuery {
  state.readable();
  const textSearch = state.textSearch;
  if (textSearch === undefined) {
    throw new QuiverError(
      'INVALID_ARGUMENT',
      `collection '${state.name}' keeps no text index; open it with { text: true } (or tokenizer options) to build one`,
    );
  }
  const words = queryWords(toText(parsed.text, 'query.text'), 'query.text');
  const k = parsed.k ?? DEFAULT_K;
  const where = whereOf(parsed.filter);
  const includeVectors = parsed.includeVectors === true;
  const includeText = parsed.includeText !== false;
  if (parsed.vector === undefined) {
    if (parsed.fusion !== undefined || parsed.candidates !== undefined) {
      throw new QuiverError(
        'INVALID_ARGUMENT',
        'query.fusion and query.candidates are for hybrid queries (vector and text)',
      );
    }
    const found = textSearch.search(words, k, where);
    const hits = scoredHits(
      state,
      found.map((candidate) => candidate.label),
      found.map((candidate) => candidate.score),
      includeVectors,
      includeText,
    );
    const plan: TextQueryPlan = { strategy: 'text', words, candidates: k, text: [] };
    if (explain) plan.text = hits.map((hit, i) => ({ id: hit.id, rank: i + 1, score: found[i]!.score }));
    return { hits, plan };
  }
  // At least k from the vector side alone keeps min(k, matches) hits under any filter.
  const candidates = Math.max(k, parsed.candidates ?? DEFAULT_HYBRID_CANDIDATES);
  const fusion: Fusion =
    parsed.fusion?.method === 'weighted'
      ? { method: 'weighted', alpha: parsed.fusion.alpha ?? DEFAULT_ALPHA }
      : { method: 'rrf', k: parsed.fusion?.k ?? DEFAULT_RRF_K };
  const { vector, ef, nprobe, rerank, filter } = parsed;
  const vectorSide = search(state, { vector, k: candidates, ef, nprobe, rerank, filter, explain });
  const textSide = textSearch.search(words, candidates, where);
  const vectorCandidates = vectorSide.neighbours.labels.map((label, i) => ({
    label,
    distance: distanceOf(state, vectorSide.neighbours.distances[i]!),
  }));
  const fused = fuse(vectorCandidates, textSide, fusion);
  const top = fused.slice(0, k);
  const hits = scoredHits(
    state,
    top.map((candidate) => candidate.label),
    top.map((candidate) => candidate.score),
    includeVectors,
    includeText,
  );
  const plan: TextQueryPlan = { strategy: 'hybrid', words, fusion, candidates, text: [] };
  if (explain) {
    const idOf = (label: number): string => state.hitHeads.headsOf([label])[0]!.id;
    plan.text = textSide.map(({ label, score }, i) => ({ id: idOf(label), rank: i + 1, score }));
    plan.vector = {
      candidates: vectorCandidates.map(({ label, distance }, i) => ({ id: idOf(label), rank: i + 1, distance })),
      plan: vectorSide.plan,
    };
    plan.fused = fused.map(({ label, ...rest }) => ({ id: idOf(label), ...rest }));
  }
  return { hits, plan };
}

/** A raw index distance in the collection's metric (l2 indexes keep squared distances). */
function distanceOf(state: CollectionState, raw: number): number {
  return state.metric === 'l2' ? Math.sqrt(Math.max(0, raw)) : raw;
}

/** Collection.queryIds: ids and distances only. */
export function answerQueryIds(state: CollectionState, options: QueryIdsOptions): QueryIdHit[] {
  const parsed = fastQueryIdsOptions(options) ?? parseOrThrow(queryIdsSchema, options, 'queryIds');
  return state.read(() => idHits(state, search(state, parsed).neighbours));
}

/** Hits with ids and distances only (heads remembered, or point reads of those not yet seen). */
export function idHits(state: CollectionState, neighbours: Neighbours): QueryIdHit[] {
  const heads = state.hitHeads.headsOf(neighbours.labels);
  const hits: QueryIdHit[] = [];
  for (let i = 0; i < neighbours.labels.length; i++) {
    const id = heads[i]!.id;
    const raw = neighbours.distances[i]!;
    hits.push(
      state.metric === 'l2' ? { id, distance: Math.sqrt(Math.max(0, raw)) } : { id, distance: raw, score: 1 - raw },
    );
  }
  return hits;
}

/** A query's filter compiled to SQL; undefined for no filter or one that matches everything (`{}`). */
export function whereOf(filter: unknown): CompiledWhere | undefined {
  if (filter === undefined) return undefined;
  const node = parseFilter(filter);
  return node.kind === 'and' && node.children.length === 0 ? undefined : compileFilter(node, COMPILE);
}

/** Validated query options → the neighbours (raw distances) and the plan that found them. */
function search(
  state: CollectionState,
  parsed: {
    vector: unknown;
    k?: number | undefined;
    ef?: number | undefined;
    nprobe?: number | undefined;
    rerank?: number | undefined;
    filter?: unknown;
    explain?: boolean | undefined;
  },
): { neighbours: Neighbours; plan: QueryPlan } {
  const ann = state.readable().ann;
  const where = whereOf(parsed.filter);
  const vector = toVector(parsed.vector, state.dim, 'query vector', state.name);
  if (state.metric === 'cosine' && norm(vector) === 0) {
    throw new QuiverError('INVALID_ARGUMENT', 'query vector is all zeros; cosine distance needs a non-zero vector');
  }
  const explain = parsed.explain === true;
  const requested = parsed.k ?? DEFAULT_K;
  const ef = parsed.ef ?? indexKind(state.index).defaultEf(state.index) ?? requested;
  let neighbours: Neighbours;
  let plan: QueryPlan;
  if (where !== undefined) {
    ({ neighbours, plan } = searchFiltered(
      filteredContext(state, ann),
      vector,
      requested,
      ef,
      where,
      state.matches(where),
      explain,
      {
        nprobe: parsed.nprobe,
        rerank: parsed.rerank,
      },
    ));
  } else {
    const k = Math.min(requested, ann.size);
    const found = ann.searchPlanned(vector, k, { ef, nprobe: parsed.nprobe, rerank: parsed.rerank }, state.threads);
    const { strategy, ef: searchEf, candidatesScored, ...fields } = found.plan;
    plan = {
      strategy: strategy ?? 'exact',
      matches: ann.size,
      total: ann.size,
      selectivity: ann.size === 0 ? 0 : 1,
      ...(searchEf === undefined ? {} : { ef: searchEf }),
      candidatesScored: candidatesScored ?? 0,
      fallback: false,
      labelScan: [],
    };
    Object.assign(plan, fields);
    neighbours = found.neighbours;
    if (neighbours.labels.length < k) {
      // An approximate search can come back short when many nodes are deleted or the graph is
      // poorly connected; the exact answer from the stored vectors is always complete.
      neighbours = exactFromStore(state, vector, k);
      plan.fallback = true;
      plan.candidatesScored = ann.size;
    }
  }
  return { neighbours, plan };
}

/** What the filter planner needs of this collection to search `ann`. */
export function filteredContext(state: CollectionState, ann: AnnIndex): FilteredSearchContext {
  return {
    store: state.store,
    collectionId: state.collectionId,
    ann,
    metric: state.metric,
    dim: state.dim,
    threads: state.threads,
  };
}

/** The exact k nearest over every stored vector (the complete answer when a search comes back short). */
export function exactFromStore(state: CollectionState, query: Float32Array, k: number): Neighbours {
  return exactOverRows(state, query, k, state.store.vectors(state.collectionId));
}

/** Hits of a text or hybrid query: distance −score, score the BM25 or fused score. */
function scoredHits(
  state: CollectionState,
  labels: readonly number[],
  scores: readonly number[],
  includeVectors: boolean,
  includeText: boolean,
): QueryHit[] {
  const hits = hydrate(state, { labels: [...labels], distances: [...scores] }, includeVectors, includeText);
  hits.forEach((hit, i) => {
    hit.distance = -scores[i]!;
    hit.score = scores[i]!;
  });
  return hits;
}

/** The hits' records, each checked (checksum over its text too) before it is returned. */
export function hydrate(
  state: CollectionState,
  neighbours: Neighbours,
  includeVectors: boolean,
  includeText = true,
): QueryHit[] {
  return hydrateHits(state.hitSource, state.hitHeads, neighbours, includeVectors, includeText);
}
