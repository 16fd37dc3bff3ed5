// The plain-JavaScript baseline for exact search: what an application writes without QuiverDB — its
// vectors in one Float32Array and, per query, a double loop computing every distance while keeping
// the k best in a small sorted array. Flat (exact) only; imports nothing but node built-ins.
// On disk: <directory>/vectors.f32, the raw float32 rows.

import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Metric } from '../datasets/dataset.js';
import { normalizeRows } from '../datasets/ground-truth.js';
import type { AdoptInput, BuildInput, Contestant, ContestantDefinition, IndexConfig } from '../harness/contestant.js';

/**
 * The k rows of `vectors` nearest to `query`, best first (ties keep the lower row): squared L2 for
 * 'l2', otherwise the largest dot product (`vectors` and `query` already normalised for cosine).
 */
export function plainTopK(
  vectors: Float32Array,
  count: number,
  dim: number,
  metric: Metric,
  query: Float32Array,
  k: number,
): number[] {
  const bestScores: number[] = [];
  const bestRows: number[] = [];
  const keep = (score: number, row: number) => {
    if (bestScores.length < k || score < bestScores[bestScores.length - 1]!) {
      let at = bestScores.length;
      while (at > 0 && bestScores[at - 1]! > score) at--;
      bestScores.splice(at, 0, score);
      bestRows.splice(at, 0, row);
      if (bestScores.length > k) {
        bestScores.pop();
        bestRows.pop();
      }
    }
  };
  // One loop per metric, so the row loop has no metric test in it.
  if (metric === 'l2') {
    for (let row = 0; row < count; row++) {
      const offset = row * dim;
      let sum = 0;
      for (let axis = 0; axis < dim; axis++) {
        const difference = query[axis]! - vectors[offset + axis]!;
        sum += difference * difference;
      }
      keep(sum, row);
    }
  } else {
    for (let row = 0; row < count; row++) {
      const offset = row * dim;
      let dot = 0;
      for (let axis = 0; axis < dim; axis++) dot += query[axis]! * vectors[offset + axis]!;
      keep(-dot, row);
    }
  }
  return bestRows;
}

class PlainJsContestant implements Contestant {
  readonly name = 'plain-js';
  #vectors: Float32Array | undefined;
  #input: { count: number; dim: number; metric: Metric; directory: string } | undefined;

  supports(config: IndexConfig): boolean {
    return config.type === 'flat';
  }

  async build(input: BuildInput): Promise<void> {
    const { base, count, dim, metric } = input;
    this.#input = { count, dim, metric, directory: input.directory };
    // Its own copy, as an application holds its vectors (cosine: normalised once, up front).
    this.#vectors = metric === 'cosine' ? normalizeRows(base, dim) : base.slice(0, count * dim);
    input.onProgress?.(count);
  }

  search(vector: Float32Array, k: number): ArrayLike<number> {
    const vectors = this.#vectors;
    const input = this.#input;
    if (!vectors || !input) throw new Error('plain-js contestant: search before build or after close');
    const query = input.metric === 'cosine' ? normalizeRows(vector, input.dim) : vector;
    return plainTopK(vectors, input.count, input.dim, input.metric, query, k);
  }

  memoryEstimateBytes(): number | undefined {
    return this.#input ? this.#input.count * this.#input.dim * 4 : undefined;
  }

  #file(): string {
    if (!this.#input) throw new Error('plain-js contestant: not built');
    return join(this.#input.directory, 'vectors.f32');
  }

  async close(): Promise<void> {
    if (!this.#vectors) return;
    writeFileSync(
      this.#file(),
      new Uint8Array(this.#vectors.buffer, this.#vectors.byteOffset, this.#vectors.byteLength),
    );
    this.#vectors = undefined;
  }

  adopt(input: AdoptInput): void {
    this.#input = { count: input.count, dim: input.dim, metric: input.metric, directory: input.directory };
  }

  async reopen(): Promise<void> {
    const bytes = readFileSync(this.#file());
    // A copy into a fresh, aligned buffer (the file buffer may be a slice of a shared pool).
    this.#vectors = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  }
}

/** The plain-JavaScript exact-search baseline. */
export const plainJs: ContestantDefinition = {
  name: 'plain-js',
  description: 'exact top-k as a plain JavaScript loop over one Float32Array (flat only), saved as raw float32',
  create: async () => new PlainJsContestant(),
};
