// LanceDB (@lancedb/lancedb, embedded, prebuilt) as an optional contestant: IVF-PQ with refine for
// our ivfpq configurations (nlist → partitions, m → sub-vectors, nprobe → nprobes, rerank →
// refineFactor = ⌈rerank / k⌉) and HNSW-SQ (one partition, the same m and efConstruction) for our
// hnsw ones. Loaded from bench/peers (peer-engines.ts). Its API is asynchronous only: the runner
// awaits each query (searchAsync). On disk: <directory>/lance, LanceDB's own format.
import { join } from 'node:path';
import type { AdoptInput, BuildInput, Contestant, ContestantDefinition, IndexConfig } from '../harness/contestant.js';
import { importPeer } from './peer-engines.js';

interface LanceQuery {
  distanceType(type: string): LanceQuery;
  limit(k: number): LanceQuery;
  nprobes(count: number): LanceQuery;
  refineFactor(factor: number): LanceQuery;
  ef(ef: number): LanceQuery;
  select(columns: string[]): LanceQuery;
  toArray(): Promise<{ id: number }[]>;
}
interface LanceTable {
  add(rows: Record<string, unknown>[]): Promise<unknown>;
  createIndex(column: string, options: { config: unknown }): Promise<void>;
  vectorSearch(vector: Float32Array | number[]): LanceQuery;
  close(): void;
}
interface LanceConnection {
  createTable(name: string, rows: Record<string, unknown>[]): Promise<LanceTable>;
  openTable(name: string): Promise<LanceTable>;
  close(): void;
}
interface LanceModule {
  connect(uri: string): Promise<LanceConnection>;
  Index: {
    ivfPq(options: Record<string, unknown>): unknown;
    hnswSq(options: Record<string, unknown>): unknown;
  };
}

/** LanceDB's distance names for ours. */
const DISTANCES = { l2: 'l2', cosine: 'cosine', ip: 'dot' } as const;
const ADD_BATCH = 10_000;
const TABLE = 'vectors';

class LanceDbContestant implements Contestant {
  readonly name = 'lancedb';
  readonly #lance: LanceModule;
  #connection: LanceConnection | undefined;
  #table: LanceTable | undefined;
  #input: Omit<BuildInput, 'base' | 'onProgress'> | undefined;

  constructor(lance: LanceModule) {
    this.#lance = lance;
  }

  supports(config: IndexConfig): boolean {
    return config.type === 'ivfpq' || config.type === 'hnsw';
  }

  async build(input: BuildInput): Promise<void> {
    const { base, count, dim, ...rest } = input;
    this.#input = { count, dim, ...rest };
    const connection = await this.#lance.connect(join(input.directory, 'lance'));
    const rows = (first: number, last: number) =>
      Array.from({ length: last - first }, (_, at) => ({
        id: first + at,
        vector: Array.from(base.subarray((first + at) * dim, (first + at + 1) * dim)),
      }));
    const table = await connection.createTable(TABLE, rows(0, Math.min(ADD_BATCH, count)));
    input.onProgress?.(Math.min(ADD_BATCH, count));
    for (let first = ADD_BATCH; first < count; first += ADD_BATCH) {
      const last = Math.min(first + ADD_BATCH, count);
      await table.add(rows(first, last));
      input.onProgress?.(last);
    }
    const config = input.config;
    const distanceType = DISTANCES[input.metric];
    const index =
      config.type === 'ivfpq'
        ? this.#lance.Index.ivfPq({
            numPartitions: config.nlist,
            numSubVectors: config.m ?? Math.max(1, Math.floor(dim / 8)),
            distanceType,
          })
        : config.type === 'hnsw'
          ? this.#lance.Index.hnswSq({
              numPartitions: 1,
              m: config.m,
              efConstruction: config.efConstruction,
              distanceType,
            })
          : undefined;
    if (index === undefined) throw new Error(`lancedb contestant: no index for ${config.type}`);
    await table.createIndex('vector', { config: index });
    this.#connection = connection;
    this.#table = table;
  }

  search(): ArrayLike<number> {
    throw new Error('lancedb contestant: the search is asynchronous (searchAsync)');
  }

  async searchAsync(vector: Float32Array, k: number, ef: number | undefined): Promise<ArrayLike<number>> {
    const table = this.#table;
    const input = this.#input;
    if (table === undefined || input === undefined) throw new Error('lancedb contestant: search before build');
    let query = table.vectorSearch(vector).distanceType(DISTANCES[input.metric]).limit(k).select(['id', '_distance']);
    const config = input.config;
    if (config.type === 'ivfpq' && ef !== undefined) {
      const search = config.searches[ef]!;
      if (search.nprobe !== 'auto') query = query.nprobes(search.nprobe);
      if (search.rerank !== 'auto' && search.rerank > k) query = query.refineFactor(Math.ceil(search.rerank / k));
    } else if (config.type === 'hnsw' && ef !== undefined) {
      query = query.ef(Math.max(ef, k));
    }
    const rows = await query.toArray();
    return Int32Array.from(rows, (row) => Number(row.id));
  }

  memoryEstimateBytes(): number | undefined {
    return undefined;
  }

  async close(): Promise<void> {
    this.#table?.close();
    this.#connection?.close();
    this.#table = undefined;
    this.#connection = undefined;
  }

  adopt(input: AdoptInput): void {
    this.#input = { ...input };
  }

  async reopen(): Promise<void> {
    if (this.#input === undefined) throw new Error('lancedb contestant: reopen before build');
    this.#connection = await this.#lance.connect(join(this.#input.directory, 'lance'));
    this.#table = await this.#connection.openTable(TABLE);
  }
}

/** LanceDB, when installed (bench/peers). */
export const lancedb: ContestantDefinition = {
  name: 'lancedb',
  description:
    'LanceDB (IVF-PQ + refine for ivfpq, HNSW-SQ for hnsw), optional: install with `npm install --prefix bench/peers`',
  create: async () => {
    const module = await importPeer<LanceModule & { default?: LanceModule }>('@lancedb/lancedb');
    return new LanceDbContestant(module.connect === undefined ? module.default! : module);
  },
};
