// The QuiverDB contestants: the public API of src/index.ts exactly as a user calls it — `quiverdb`
// searches with query/queryBatch (hits with their metadata, read from SQLite), `quiverdb-ids` with
// queryIds/queryIdsBatch (ids and distances, as hnswlib returns them), `quiverdb-int8` as `quiverdb`
// over an int8 HNSW graph (`vectors: 'int8'`, its default rerank). Loads the engine with a
// dynamic import so a missing or broken build skips the contestant instead of stopping the run.
// On disk: <directory>/db, a QuiverDB database directory.

import { join } from 'node:path';
import type { Collection, CollectionOptions, Database, OpenOptions } from '../../src/index.js';
import type { AdoptInput, BuildInput, Contestant, ContestantDefinition, IndexConfig } from '../harness/contestant.js';
import { hnswlibMemoryEstimate } from './hnswlib-node.js';

/** Records per upsert call: a typical application batch; each batch is one committed transaction. */
export const UPSERT_BATCH = 1000;

/** The collection name used inside the benchmark database. */
const COLLECTION = 'bench';

type OpenFunction = (path: string, options?: OpenOptions) => Database;

/** Which query methods a QuiverDB contestant measures. */
export type QuiverdbApi = 'query' | 'queryIds';

class QuiverdbContestant implements Contestant {
  readonly name: string;
  readonly #api: QuiverdbApi;
  readonly #vectors: 'float32' | 'int8';
  readonly #open: OpenFunction;
  readonly #openOptions: OpenOptions;
  #database: Database | undefined;
  #collection: Collection | undefined;
  #directory: string | undefined;
  #exact = false;
  /** What was built, for the memory estimate. */
  #built: { config: IndexConfig; count: number; dim: number } | undefined;
  /** The ivfpq configuration being measured: its sweep and what its memory estimate needs. */
  #ivfpq: { config: Extract<IndexConfig, { type: 'ivfpq' }>; count: number; dim: number } | undefined;

  constructor(
    name: string,
    api: QuiverdbApi,
    open: OpenFunction,
    openOptions: OpenOptions,
    vectors: 'float32' | 'int8',
  ) {
    this.name = name;
    this.#api = api;
    this.#vectors = vectors;
    this.#open = open;
    this.#openOptions = openOptions;
  }

  supports(config: IndexConfig): boolean {
    if (this.#vectors === 'int8') return config.type === 'hnsw';
    return config.type === 'hnsw' || config.type === 'flat' || config.type === 'ivfpq';
  }

  async build(input: BuildInput): Promise<void> {
    const { base, count, dim, config } = input;
    this.#directory = join(input.directory, 'db');
    this.#exact = config.type === 'flat';
    this.#ivfpq = config.type === 'ivfpq' ? { config, count, dim } : undefined;
    this.#built = { config, count, dim };
    const options: CollectionOptions = {
      dim,
      metric: input.metric,
      index:
        config.type === 'hnsw'
          ? this.#vectors === 'int8'
            ? { type: 'hnsw', m: config.m, efConstruction: config.efConstruction, vectors: 'int8' }
            : { type: 'hnsw', m: config.m, efConstruction: config.efConstruction }
          : config.type === 'ivfpq'
            ? { type: 'ivfpq', nlist: config.nlist, ...(config.m === undefined ? {} : { m: config.m }) }
            : { type: 'flat' },
    };
    this.#database = this.#open(this.#directory, this.#openOptions);
    const collection = this.#database.collection(COLLECTION, options);
    for (let start = 0; start < count; start += UPSERT_BATCH) {
      const end = Math.min(count, start + UPSERT_BATCH);
      const records = [];
      for (let row = start; row < end; row++) {
        // A copy, as an application hands over its own array per record.
        records.push({ id: String(row), vector: base.slice(row * dim, (row + 1) * dim), metadata: {} });
      }
      collection.upsert(records);
      input.onProgress?.(end);
    }
    if (collection.count() !== count) {
      throw new Error(`quiverdb holds ${collection.count()} records after inserting ${count}`);
    }
    // An int8 graph rescores from the float-vector file of its last snapshot, and from the records
    // for labels written since: a snapshot ends its build (and counts in its build time), so that the
    // sweep measures the collection as an application has it after any snapshot or reopen.
    if (this.#vectors === 'int8') collection.snapshot();
    this.#collection = collection;
  }

  search(vector: Float32Array, k: number, ef: number | undefined): ArrayLike<number> {
    const collection = this.#collection;
    if (!collection) throw new Error('quiverdb contestant: search before build or after close');
    const search = this.#ivfpq !== undefined && ef !== undefined ? this.#ivfpq.config.searches[ef] : undefined;
    const options =
      search !== undefined
        ? {
            vector,
            k,
            ...(search.nprobe === 'auto' ? {} : { nprobe: search.nprobe }),
            ...(search.rerank === 'auto' ? {} : { rerank: search.rerank }),
          }
        : this.#exact || ef === undefined
          ? { vector, k }
          : { vector, k, ef };
    const hits = this.#api === 'queryIds' ? collection.queryIds(options) : collection.query(options);
    const ids = new Int32Array(hits.length);
    for (let rank = 0; rank < hits.length; rank++) ids[rank] = Number(hits[rank]!.id);
    return ids;
  }

  searchBatch(queries: Float32Array, count: number, k: number, ef: number | undefined): Int32Array | undefined {
    const collection = this.#collection;
    if (!collection) throw new Error('quiverdb contestant: search before build or after close');
    // The batch methods take no nprobe / rerank: ivfpq sweeps have no batch figure.
    if (this.#ivfpq !== undefined) return undefined;
    const options = this.#exact || ef === undefined ? { vectors: queries, k } : { vectors: queries, k, ef };
    const answers = this.#api === 'queryIds' ? collection.queryIdsBatch(options) : collection.queryBatch(options);
    const ids = new Int32Array(count * k).fill(-1);
    answers.forEach((hits, row) => {
      for (let rank = 0; rank < Math.min(k, hits.length); rank++) ids[row * k + rank] = Number(hits[rank]!.id);
    });
    return ids;
  }

  memoryEstimateBytes(): number | undefined {
    // hnsw: QuiverDB holds the same hnswlib graph as the baseline (hnswlib's layout, one more byte
    // per label for the slot states); flat: one float32 matrix plus a live byte per label.
    if (this.#built !== undefined && this.#built.config.type === 'hnsw') {
      const { config, count, dim } = this.#built;
      // int8: each vector is dim code bytes and a 4-byte bias where the float graph has 4·dim bytes.
      const codes = this.#vectors === 'int8' ? count * (dim + 4 - 4 * dim) : 0;
      return hnswlibMemoryEstimate(config, count, dim) + count + codes;
    }
    if (this.#built !== undefined && this.#built.config.type === 'flat') {
      return this.#built.count * (this.#built.dim * 4 + 1);
    }
    // ivfpq, from its layout (as hnswlib's estimate is): m code bytes + a 4-byte list entry + a
    // 2-byte list number per vector, plus (nlist + 256) centroids of dim float32 (test/index/ivfpq.test.ts
    // checks the index's own accounting against the same bound).
    if (this.#ivfpq === undefined) return undefined;
    const { config, count, dim } = this.#ivfpq;
    const m = config.m ?? Math.max(1, Math.floor(dim / 8));
    return count * (m + 6) + (config.nlist + 256) * dim * 4;
  }

  async close(): Promise<void> {
    this.#database?.close();
    this.#database = undefined;
    this.#collection = undefined;
  }

  adopt(input: AdoptInput): void {
    const { config, count, dim } = input;
    this.#directory = join(input.directory, 'db');
    this.#exact = config.type === 'flat';
    this.#ivfpq = config.type === 'ivfpq' ? { config, count, dim } : undefined;
    this.#built = { config, count, dim };
  }

  async reopen(): Promise<void> {
    if (!this.#directory) throw new Error('quiverdb contestant: reopen before build');
    this.#database = this.#open(this.#directory, this.#openOptions);
    this.#collection = this.#database.collection(COLLECTION);
  }
}

/** Options the runner passes through to QuiverDB's open(), and the query methods measured. */
export interface QuiverdbContestantOptions {
  durability?: 'full' | 'normal';
  /** Native threads (open's `threads`); QuiverDB's default when undefined. */
  threads?: number;
  /** 'query' (default, contestant `quiverdb`) or 'queryIds' (contestant `quiverdb-ids`). */
  api?: QuiverdbApi;
  /** 'int8': the contestant `quiverdb-int8` (query over an int8 HNSW graph; hnsw configurations only). */
  vectors?: 'float32' | 'int8';
}

/** A QuiverDB contestant; `create` rejects with the import error when src/index.ts cannot load. */
export function quiverdb(options: QuiverdbContestantOptions = {}): ContestantDefinition {
  const api = options.api ?? 'query';
  const vectors = options.vectors ?? 'float32';
  const name = vectors === 'int8' ? 'quiverdb-int8' : api === 'query' ? 'quiverdb' : 'quiverdb-ids';
  return {
    name,
    description:
      vectors === 'int8'
        ? "the same over an int8 HNSW graph (vectors: 'int8'), candidates rescored from the records"
        : api === 'query'
          ? `QuiverDB's public API (open → collection → upsert batches of ${UPSERT_BATCH} → query / queryBatch)`
          : 'the same, searched with queryIds / queryIdsBatch (ids and distances, no record reads)',
    create: async () => {
      let open: OpenFunction;
      try {
        ({ open } = await import('../../src/index.js'));
      } catch (error) {
        throw new Error(`QuiverDB could not be loaded from src/index.ts: ${(error as Error).message}`, {
          cause: error,
        });
      }
      const openOptions: OpenOptions = {
        ...(options.durability ? { durability: options.durability } : {}),
        ...(options.threads !== undefined ? { threads: options.threads } : {}),
      };
      return new QuiverdbContestant(name, api, open, openOptions, vectors);
    },
  };
}
