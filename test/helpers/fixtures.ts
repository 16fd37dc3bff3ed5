// Test helpers: the in-repository data sets, temp database directories, and recall against
// ground truth. Shared by the core tests; the readers are the benchmark harness's own.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readFvecs, readIvecs } from '../../bench/datasets/texmex.js';

const FIXTURES = join(import.meta.dirname, '..', 'fixtures');

export interface Fixture {
  dim: number;
  base: Float32Array[];
  queries: Float32Array[];
  /** truth[q] = ground-truth base indexes for query q, nearest first. */
  truth: number[][];
}

/** Loads a TEXMEX fixture folder; `groundTruthFile` picks the metric's file. */
export function loadFixture(name: 'siftsmall' | 'cohere-wiki-1k', groundTruthFile = 'groundtruth.ivecs'): Fixture {
  const folder = join(FIXTURES, name);
  const base = readFvecs(join(folder, 'base.fvecs'));
  const queries = readFvecs(join(folder, 'query.fvecs'));
  const truth = readIvecs(join(folder, groundTruthFile));
  const rows = <T extends Float32Array | Int32Array>(data: T, count: number, dim: number): T[] =>
    Array.from({ length: count }, (_, i) => data.subarray(i * dim, (i + 1) * dim) as T);
  return {
    dim: base.dim,
    base: rows(base.data, base.count, base.dim),
    queries: rows(queries.data, queries.count, queries.dim),
    truth: rows(truth.data, truth.count, truth.dim).map((row) => Array.from(row)),
  };
}

/** A fresh empty directory; `cleanup()` removes it. */
export function tempDirectory(prefix = 'quiver-test-'): { path: string; cleanup: () => void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, cleanup: () => rmSync(path, { recursive: true, force: true }) };
}

/** Mean |found ∩ truth[:k]| / k over queries. */
export function meanRecall(
  found: readonly (readonly string[])[],
  truth: readonly (readonly number[])[],
  k: number,
): number {
  let total = 0;
  for (let q = 0; q < found.length; q++) {
    const expected = new Set(truth[q]!.slice(0, k).map(String));
    total += found[q]!.slice(0, k).filter((id) => expected.has(id)).length / k;
  }
  return total / found.length;
}
