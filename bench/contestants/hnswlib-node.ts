// The baseline contestant: hnswlib-node used directly, as an application would without QuiverDB.
// Imports hnswlib-node only (never QuiverDB). On disk: <directory>/index.bin, hnswlib's own format.

import { statSync } from 'node:fs';
import { join } from 'node:path';
import hnswlib from 'hnswlib-node';
import type { AdoptInput, BuildInput, Contestant, ContestantDefinition, IndexConfig } from '../harness/contestant.js';

/** hnswlib's fixed random seed for level assignment, kept constant so runs are comparable. */
const RANDOM_SEED = 100;

type Index = hnswlib.HierarchicalNSW | hnswlib.BruteforceSearch;

/**
 * hnswlib's memory use from its data layout (hnswalg.h, bruteforce.h), in bytes:
 * level 0 holds, per element, 2m links of 4 bytes + a 4-byte count + the vector + an 8-byte label;
 * an element reaches level l ≥ 1 with probability m^-l, i.e. 1/(m−1) upper levels on average, each
 * m links + a count; plus an 8-byte pointer per element and ~40 bytes per label-map entry.
 */
export function hnswlibMemoryEstimate(config: IndexConfig, count: number, dim: number): number {
  const vectorBytes = dim * 4;
  if (config.type !== 'hnsw') return count * (vectorBytes + 8 + 40);
  const levelZero = config.m * 2 * 4 + 4 + vectorBytes + 8;
  const upperLevels = ((config.m * 4 + 4) / (config.m - 1)) * count;
  return Math.round(count * (levelZero + 8 + 40) + upperLevels);
}

class HnswlibNodeContestant implements Contestant {
  readonly name = 'hnswlib-node';
  #index: Index | undefined;
  #input: Omit<BuildInput, 'base' | 'onProgress'> | undefined;
  #count = 0;

  supports(config: IndexConfig): boolean {
    return config.type === 'hnsw' || config.type === 'flat';
  }

  #create(input: Omit<BuildInput, 'base' | 'onProgress'>): Index {
    return input.config.type === 'hnsw'
      ? new hnswlib.HierarchicalNSW(input.metric, input.dim)
      : new hnswlib.BruteforceSearch(input.metric, input.dim);
  }

  async build(input: BuildInput): Promise<void> {
    const { base, count, dim, config } = input;
    this.#input = { count, dim, metric: input.metric, config, directory: input.directory };
    const index = this.#create(this.#input);
    if (index instanceof hnswlib.HierarchicalNSW && config.type === 'hnsw') {
      index.initIndex(count, config.m, config.efConstruction, RANDOM_SEED);
    } else {
      index.initIndex(count);
    }
    for (let row = 0; row < count; row++) {
      // hnswlib-node accepts plain arrays only; the conversion is part of using it directly.
      index.addPoint(Array.from(base.subarray(row * dim, (row + 1) * dim)), row);
      if ((row + 1) % 1000 === 0) input.onProgress?.(row + 1);
    }
    input.onProgress?.(count);
    this.#index = index;
    this.#count = count;
  }

  search(vector: Float32Array, k: number, ef: number | undefined): ArrayLike<number> {
    const index = this.#index;
    if (!index) throw new Error('hnswlib-node contestant: search before build or after close');
    if (index instanceof hnswlib.HierarchicalNSW && ef !== undefined && index.getEf() !== ef) index.setEf(ef);
    return index.searchKnn(Array.from(vector), Math.min(k, this.#count)).neighbors;
  }

  memoryEstimateBytes(): number | undefined {
    return this.#input ? hnswlibMemoryEstimate(this.#input.config, this.#count, this.#input.dim) : undefined;
  }

  #file(): string {
    if (!this.#input) throw new Error('hnswlib-node contestant: not built');
    return join(this.#input.directory, 'index.bin');
  }

  async close(): Promise<void> {
    if (!this.#index) return;
    this.#index.writeIndexSync(this.#file());
    this.#index = undefined;
  }

  adopt(input: AdoptInput): void {
    this.#input = { ...input };
    this.#count = input.count;
  }

  async reopen(): Promise<void> {
    if (!this.#input) throw new Error('hnswlib-node contestant: reopen before build');
    const index = this.#create(this.#input);
    index.readIndexSync(this.#file());
    this.#index = index;
    this.#count = index.getCurrentCount();
  }

  /** Bytes of the saved index file (for tests). */
  fileBytes(): number {
    return statSync(this.#file()).size;
  }
}

/** The hnswlib-node baseline. */
export const hnswlibNode: ContestantDefinition = {
  name: 'hnswlib-node',
  description: 'hnswlib-node used directly (HierarchicalNSW / BruteforceSearch), saved with writeIndexSync',
  create: async () => new HnswlibNodeContestant(),
};
