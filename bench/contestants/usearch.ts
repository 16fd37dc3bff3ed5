// usearch (Unum's HNSW, prebuilt for Node) as an optional contestant: HNSW only, float32 vectors,
// the same m and efConstruction as QuiverDB. Loaded from bench/peers (peer-engines.ts). On disk:
// <directory>/index.usearch, usearch's own format. usearch's JavaScript API fixes the search
// effort (expansion_search) when an index is made, so a new ef reloads the saved index with it.
import { join } from 'node:path';
import type { AdoptInput, BuildInput, Contestant, ContestantDefinition, IndexConfig } from '../harness/contestant.js';
import { importPeer } from './peer-engines.js';

interface UsearchMatches {
  keys: BigUint64Array;
  distances: Float32Array;
}
interface UsearchIndex {
  add(keys: BigUint64Array, vectors: Float32Array): void;
  search(vector: Float32Array, k: number, threads?: number): UsearchMatches;
  size(): number;
  save(path: string): void;
  load(path: string): void;
}
interface UsearchModule {
  Index: new (options: {
    dimensions: number;
    metric: string;
    connectivity: number;
    expansion_add: number;
    expansion_search: number;
  }) => UsearchIndex;
}

/** usearch's metric names for ours. */
const METRICS = { l2: 'l2sq', cosine: 'cos', ip: 'ip' } as const;
const ADD_BATCH = 10_000;
/** The ef an index is made with before the first search asks for one. */
const DEFAULT_EF = 64;

class UsearchContestant implements Contestant {
  readonly name = 'usearch';
  readonly #module: UsearchModule;
  #index: UsearchIndex | undefined;
  #input: Omit<BuildInput, 'base' | 'onProgress'> | undefined;
  #ef = DEFAULT_EF;
  #saved = false;

  constructor(module: UsearchModule) {
    this.#module = module;
  }

  supports(config: IndexConfig): boolean {
    return config.type === 'hnsw';
  }

  #create(ef: number): UsearchIndex {
    const input = this.#input!;
    const config = input.config as Extract<IndexConfig, { type: 'hnsw' }>;
    return new this.#module.Index({
      dimensions: input.dim,
      metric: METRICS[input.metric],
      connectivity: config.m,
      expansion_add: config.efConstruction,
      expansion_search: ef,
    });
  }

  async build(input: BuildInput): Promise<void> {
    const { base, count, dim, ...rest } = input;
    this.#input = { count, dim, ...rest };
    const index = this.#create(DEFAULT_EF);
    for (let first = 0; first < count; first += ADD_BATCH) {
      const rows = Math.min(ADD_BATCH, count - first);
      const keys = new BigUint64Array(rows);
      for (let row = 0; row < rows; row++) keys[row] = BigInt(first + row);
      index.add(keys, base.subarray(first * dim, (first + rows) * dim));
      input.onProgress?.(first + rows);
    }
    this.#index = index;
    this.#ef = DEFAULT_EF;
    this.#saved = false;
  }

  search(vector: Float32Array, k: number, ef: number | undefined): ArrayLike<number> {
    if (this.#index === undefined) throw new Error('usearch contestant: search before build or after close');
    if (ef !== undefined && ef !== this.#ef) this.#reload(ef);
    const { keys } = this.#index.search(vector, k, 1);
    const ids = new Int32Array(keys.length);
    for (let rank = 0; rank < keys.length; rank++) ids[rank] = Number(keys[rank]);
    return ids;
  }

  /** Saves the index once, then loads it into an index made with the new ef (outside timed passes: the first query of a warm-up). */
  #reload(ef: number): void {
    if (!this.#saved) {
      this.#index!.save(this.#file());
      this.#saved = true;
    }
    const index = this.#create(ef);
    index.load(this.#file());
    this.#index = index;
    this.#ef = ef;
  }

  memoryEstimateBytes(): number | undefined {
    return undefined;
  }

  #file(): string {
    if (this.#input === undefined) throw new Error('usearch contestant: not built');
    return join(this.#input.directory, 'index.usearch');
  }

  async close(): Promise<void> {
    if (this.#index === undefined) return;
    this.#index.save(this.#file());
    this.#saved = true;
    this.#index = undefined;
  }

  adopt(input: AdoptInput): void {
    this.#input = { ...input };
    this.#saved = true;
  }

  async reopen(): Promise<void> {
    if (this.#input === undefined) throw new Error('usearch contestant: reopen before build');
    const index = this.#create(this.#ef);
    index.load(this.#file());
    this.#index = index;
  }
}

/** usearch, when installed (bench/peers). */
export const usearch: ContestantDefinition = {
  name: 'usearch',
  description: 'usearch (HNSW, float32), optional: install with `npm install --prefix bench/peers`',
  create: async () => {
    const module = await importPeer<UsearchModule & { default?: UsearchModule }>('usearch');
    return new UsearchContestant(module.Index === undefined ? module.default! : module);
  },
};
