// The QuiverDB contestant: the public API of src/index.ts exactly as a user calls it.
// Loads the engine with a dynamic import so a missing or broken build skips this contestant
// instead of stopping the run. On disk: <directory>/db, a QuiverDB database directory.

import { join } from 'node:path';
import type { Collection, CollectionOptions, Database, OpenOptions } from '../../src/index.js';
import type { BuildInput, Contestant, ContestantDefinition, IndexConfig } from '../harness/contestant.js';
import { hnswlibMemoryEstimate } from './hnswlib-node.js';

/** Records per upsert call: a typical application batch; each batch is one committed transaction. */
export const UPSERT_BATCH = 1000;

/** The collection name used inside the benchmark database. */
const COLLECTION = 'bench';

type OpenFunction = (path: string, options?: OpenOptions) => Database;

class QuiverdbContestant implements Contestant {
  readonly name = 'quiverdb';
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

  constructor(open: OpenFunction, openOptions: OpenOptions) {
    this.#open = open;
    this.#openOptions = openOptions;
  }

  supports(config: IndexConfig): boolean {
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
          ? { type: 'hnsw', m: config.m, efConstruction: config.efConstruction }
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
    this.#collection = collection;
  }

  search(vector: Float32Array, k: number, ef: number | undefined): ArrayLike<number> {
    const collection = this.#collection;
    if (!collection) throw new Error('quiverdb contestant: search before build or after close');
    const search = this.#ivfpq !== undefined && ef !== undefined ? this.#ivfpq.config.searches[ef] : undefined;
    const hits = collection.query(
      search !== undefined
        ? { vector, k, nprobe: search.nprobe, rerank: search.rerank }
        : this.#exact || ef === undefined
          ? { vector, k }
          : { vector, k, ef },
    );
    const ids = new Int32Array(hits.length);
    for (let rank = 0; rank < hits.length; rank++) ids[rank] = Number(hits[rank]!.id);
    return ids;
  }

  searchBatch(vectors: Float32Array, count: number, k: number, ef: number | undefined): Int32Array[] | undefined {
    const collection = this.#collection;
    if (!collection) throw new Error('quiverdb contestant: search before build or after close');
    // queryBatch takes no nprobe / rerank: an ivfpq sweep has no batched figures.
    if (this.#ivfpq !== undefined) return undefined;
    const answers = collection.queryBatch(this.#exact || ef === undefined ? { vectors, k } : { vectors, k, ef });
    if (answers.length !== count) throw new Error(`quiverdb queryBatch answered ${answers.length} of ${count} queries`);
    return answers.map((hits) => Int32Array.from(hits, (hit) => Number(hit.id)));
  }

  memoryEstimateBytes(): number | undefined {
    // hnsw: QuiverDB holds the same hnswlib graph as the baseline (hnswlib's layout, one more byte
    // per label for the slot states); flat: one float32 matrix plus a live byte per label.
    if (this.#built !== undefined && this.#built.config.type === 'hnsw') {
      return hnswlibMemoryEstimate(this.#built.config, this.#built.count, this.#built.dim) + this.#built.count;
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

  async reopen(): Promise<void> {
    if (!this.#directory) throw new Error('quiverdb contestant: reopen before build');
    this.#database = this.#open(this.#directory, this.#openOptions);
    this.#collection = this.#database.collection(COLLECTION);
  }
}

/** Options the runner passes through to QuiverDB's open(). */
export interface QuiverdbContestantOptions {
  durability?: 'full' | 'normal';
  /** Native threads (OpenOptions.threads): queryBatch, exact scans, large upsert batches. */
  threads?: number;
}

/** The QuiverDB contestant; `create` rejects with the import error when src/index.ts cannot load. */
export function quiverdb(options: QuiverdbContestantOptions = {}): ContestantDefinition {
  return {
    name: 'quiverdb',
    description: `QuiverDB's public API (open → collection → upsert batches of ${UPSERT_BATCH} → query)`,
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
        ...(options.threads ? { threads: options.threads } : {}),
      };
      return new QuiverdbContestant(open, openOptions);
    },
  };
}
