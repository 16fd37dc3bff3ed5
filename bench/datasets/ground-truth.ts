// Exact top-k ground truth by blocked brute force, with an on-disk cache keyed by a hash of the inputs.
// Imports node built-ins, the TEXMEX writer, the error type and src/native/kernels.ts's batched distance
// kernel (used when the addon loads) — never QuiverDB's engine (db, collections, indexes).
// Cache layout: <cacheDir>/ground-truth/<sha256>.ivecs (ids, k per row) and <sha256>.dist.fvecs.

import { createHash } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { QuiverError } from '../../src/errors.js';
import { loadNativeAddon } from '../../src/native/addon.js';
import { nativeKernels } from '../../src/native/kernels.js';
import type { Metric, VectorSet } from './dataset.js';
import { readFvecs, readIvecs, writeFvecs, writeIvecs } from './texmex.js';

/**
 * Fills `out[q * baseCount + b]` with the distance between query `q` and base row `baseStart + b`.
 * `metric` is 'l2' (squared Euclidean) or 'ip' (1 − dot product); cosine arrives as 'ip' over
 * normalised rows. A native batched kernel with this signature can replace the TypeScript one.
 */
export type BatchDistanceKernel = (
  queries: Float32Array,
  queryCount: number,
  base: Float32Array,
  baseStart: number,
  baseCount: number,
  dim: number,
  metric: 'l2' | 'ip',
  out: Float64Array,
) => void;

/** Exact top-k lists: `ids` and `distances` hold `k` entries per query, nearest first. */
export interface GroundTruth {
  k: number;
  queryCount: number;
  ids: Int32Array;
  /** Distances in the harness convention: squared L2, 1 − dot (ip), 1 − cosine (cosine). */
  distances: Float32Array;
}

/** Options for {@link computeGroundTruth}. */
export interface GroundTruthOptions {
  /** Neighbours per query (default 100, capped at the base size). */
  k?: number;
  /** The distance kernel (default {@link defaultDistanceKernel}: native when the addon loads). */
  kernel?: BatchDistanceKernel;
  /** Called after each block of queries with (queries done, total). */
  onProgress?: (done: number, total: number) => void;
}

/** Queries per block: the block's distance rows and top-k heaps stay in cache while base blocks stream by. */
const QUERY_BLOCK = 32;
/** Bytes of base vectors per block (~256 KiB, a comfortable L2-cache share). */
const BASE_BLOCK_BYTES = 256 * 1024;

/** The plain-TypeScript batched distance kernel; float64 accumulation, 4-way unrolled. */
export const typescriptDistanceKernel: BatchDistanceKernel = (
  queries,
  queryCount,
  base,
  baseStart,
  baseCount,
  dim,
  metric,
  out,
) => {
  const tail = dim - (dim % 4);
  for (let q = 0; q < queryCount; q++) {
    const queryOffset = q * dim;
    const rowOffset = q * baseCount;
    for (let b = 0; b < baseCount; b++) {
      const baseOffset = (baseStart + b) * dim;
      let sum0 = 0;
      let sum1 = 0;
      let sum2 = 0;
      let sum3 = 0;
      let j = 0;
      if (metric === 'l2') {
        for (; j < tail; j += 4) {
          const d0 = queries[queryOffset + j]! - base[baseOffset + j]!;
          const d1 = queries[queryOffset + j + 1]! - base[baseOffset + j + 1]!;
          const d2 = queries[queryOffset + j + 2]! - base[baseOffset + j + 2]!;
          const d3 = queries[queryOffset + j + 3]! - base[baseOffset + j + 3]!;
          sum0 += d0 * d0;
          sum1 += d1 * d1;
          sum2 += d2 * d2;
          sum3 += d3 * d3;
        }
        for (; j < dim; j++) {
          const difference = queries[queryOffset + j]! - base[baseOffset + j]!;
          sum0 += difference * difference;
        }
        out[rowOffset + b] = sum0 + sum1 + (sum2 + sum3);
      } else {
        for (; j < tail; j += 4) {
          sum0 += queries[queryOffset + j]! * base[baseOffset + j]!;
          sum1 += queries[queryOffset + j + 1]! * base[baseOffset + j + 1]!;
          sum2 += queries[queryOffset + j + 2]! * base[baseOffset + j + 2]!;
          sum3 += queries[queryOffset + j + 3]! * base[baseOffset + j + 3]!;
        }
        for (; j < dim; j++) sum0 += queries[queryOffset + j]! * base[baseOffset + j]!;
        out[rowOffset + b] = 1 - (sum0 + sum1 + (sum2 + sum3));
      }
    }
  }
};

/** Float32 output of the native kernel, reused across calls and grown on demand (nq × n entries). */
let nativeScratch = new Float32Array(0);

/**
 * The native batched kernel (`nativeKernels.distances` of src/native/kernels.ts) behind the
 * {@link BatchDistanceKernel} signature. It accumulates in float32, like hnswlib; the float32
 * distances are widened into `out`. {@link computeGroundTruth} rescores its candidates in float64,
 * so the ground truth does not depend on which kernel found them.
 * @throws QuiverError NATIVE_ERROR when the addon is missing or fails
 */
export const nativeDistanceKernel: BatchDistanceKernel = (
  queries,
  queryCount,
  base,
  baseStart,
  baseCount,
  dim,
  metric,
  out,
) => {
  const size = queryCount * baseCount;
  if (nativeScratch.length < size) nativeScratch = new Float32Array(size);
  const scratch = nativeScratch.subarray(0, size);
  nativeKernels.distances({
    metric,
    queries: queries.subarray(0, queryCount * dim),
    base: base.subarray(baseStart * dim, (baseStart + baseCount) * dim),
    dim,
    out: scratch,
  });
  out.set(scratch);
};

/** A distance kernel with the name reports give it. */
export interface NamedDistanceKernel {
  name: 'native' | 'typescript';
  kernel: BatchDistanceKernel;
  /** Why the native kernel is not used, when it is not. */
  reason?: string;
}

let defaultKernel: NamedDistanceKernel | undefined;

/**
 * The kernel ground truth is computed with unless one is given: the native batched kernel when
 * the addon loads (one probe, remembered), else the TypeScript reference with the reason.
 */
export function defaultDistanceKernel(): NamedDistanceKernel {
  if (defaultKernel) return defaultKernel;
  try {
    loadNativeAddon();
    defaultKernel = { name: 'native', kernel: nativeDistanceKernel };
  } catch (error) {
    defaultKernel = {
      name: 'typescript',
      kernel: typescriptDistanceKernel,
      reason: error instanceof Error ? error.message : String(error),
    };
  }
  return defaultKernel;
}

/** Returns a copy of `data` with every row scaled to unit length (zero rows stay zero). */
export function normalizeRows(data: Float32Array, dim: number): Float32Array {
  const out = new Float32Array(data.length);
  for (let offset = 0; offset < data.length; offset += dim) {
    let norm = 0;
    for (let j = 0; j < dim; j++) norm += data[offset + j]! * data[offset + j]!;
    const scale = norm > 0 ? 1 / Math.sqrt(norm) : 0;
    for (let j = 0; j < dim; j++) out[offset + j] = data[offset + j]! * scale;
  }
  return out;
}

/**
 * The exact distance between row `aRow` of `a` and row `bRow` of `b`, in the harness convention
 * (squared L2, 1 − dot, 1 − cosine), computed in float64.
 */
export function exactDistance(
  metric: Metric,
  a: Float32Array,
  aRow: number,
  b: Float32Array,
  bRow: number,
  dim: number,
): number {
  const aOffset = aRow * dim;
  const bOffset = bRow * dim;
  let dot = 0;
  let squared = 0;
  let aNorm = 0;
  let bNorm = 0;
  for (let j = 0; j < dim; j++) {
    const x = a[aOffset + j]!;
    const y = b[bOffset + j]!;
    if (metric === 'l2') {
      squared += (x - y) * (x - y);
    } else {
      dot += x * y;
      aNorm += x * x;
      bNorm += y * y;
    }
  }
  if (metric === 'l2') return squared;
  if (metric === 'ip') return 1 - dot;
  const denominator = Math.sqrt(aNorm) * Math.sqrt(bNorm);
  return denominator > 0 ? 1 - dot / denominator : 1;
}

/** A bounded max-heap of (distance, id): keeps the k smallest, ties kept by the lower id. */
class TopK {
  readonly distances: Float64Array;
  readonly ids: Int32Array;
  size = 0;

  constructor(readonly k: number) {
    this.distances = new Float64Array(k);
    this.ids = new Int32Array(k);
  }

  /** The current k-th distance, +Infinity until the heap is full. */
  get worst(): number {
    return this.size < this.k ? Number.POSITIVE_INFINITY : this.distances[0]!;
  }

  /** True when (a, aId) ranks after (b, bId). */
  static #after(a: number, aId: number, b: number, bId: number): boolean {
    return a > b || (a === b && aId > bId);
  }

  push(distance: number, id: number): void {
    const { distances, ids } = this;
    if (this.size < this.k) {
      let index = this.size++;
      while (index > 0) {
        const parent = (index - 1) >> 1;
        if (!TopK.#after(distance, id, distances[parent]!, ids[parent]!)) break;
        distances[index] = distances[parent]!;
        ids[index] = ids[parent]!;
        index = parent;
      }
      distances[index] = distance;
      ids[index] = id;
      return;
    }
    if (!TopK.#after(distances[0]!, ids[0]!, distance, id)) return;
    let index = 0;
    for (;;) {
      const left = 2 * index + 1;
      if (left >= this.k) break;
      const right = left + 1;
      let largest = left;
      if (right < this.k && TopK.#after(distances[right]!, ids[right]!, distances[left]!, ids[left]!)) largest = right;
      if (!TopK.#after(distances[largest]!, ids[largest]!, distance, id)) break;
      distances[index] = distances[largest]!;
      ids[index] = ids[largest]!;
      index = largest;
    }
    distances[index] = distance;
    ids[index] = id;
  }

  /**
   * Rescores the kept entries in float64 with {@link exactDistance} and writes the `k` nearest,
   * ties by the lower id, into the output rows at `offset`.
   */
  rescoreInto(
    k: number,
    distanceOf: (id: number) => number,
    outIds: Int32Array,
    outDistances: Float32Array,
    offset: number,
  ): void {
    const entries = Array.from({ length: this.size }, (_, index) => {
      const id = this.ids[index]!;
      return { id, distance: distanceOf(id) };
    });
    entries.sort((x, y) => x.distance - y.distance || x.id - y.id);
    const count = Math.min(k, entries.length);
    for (let rank = 0; rank < count; rank++) {
      outIds[offset + rank] = entries[rank]!.id;
      outDistances[offset + rank] = entries[rank]!.distance;
    }
  }
}

/**
 * Candidates kept per query beyond k before the float64 rescoring: a float32 kernel may misorder
 * neighbours whose distances differ by a rounding error, never by more than a few ranks.
 */
function rescoreMargin(k: number): number {
  return Math.max(16, Math.ceil(k / 4));
}

/**
 * Exact top-k neighbours of every query among the base rows, nearest first, ties by the lower id.
 * Works in blocks of queries × base rows so one kernel call does a batch of distances; the kernel
 * picks k + margin candidates per query, which are then rescored in float64, so the native
 * (float32) and TypeScript (float64) kernels give the same lists.
 * @throws INVALID_ARGUMENT when the dims differ or the base is empty
 */
export function computeGroundTruth(
  base: VectorSet,
  queries: VectorSet,
  metric: Metric,
  options: GroundTruthOptions = {},
): GroundTruth {
  if (base.dim !== queries.dim) {
    throw new QuiverError('INVALID_ARGUMENT', `base dim ${base.dim} differs from query dim ${queries.dim}`);
  }
  if (base.count === 0) throw new QuiverError('INVALID_ARGUMENT', 'ground truth needs at least one base vector');
  const k = Math.min(options.k ?? 100, base.count);
  const kernel = options.kernel ?? defaultDistanceKernel().kernel;
  const candidateCount = Math.min(base.count, k + rescoreMargin(k));
  const { dim } = base;
  const baseData = metric === 'cosine' ? normalizeRows(base.data, dim) : base.data;
  const queryData = metric === 'cosine' ? normalizeRows(queries.data, dim) : queries.data;
  const kernelMetric = metric === 'l2' ? 'l2' : 'ip';
  const baseBlock = Math.max(16, Math.floor(BASE_BLOCK_BYTES / (dim * 4)));
  const ids = new Int32Array(queries.count * k);
  const distances = new Float32Array(queries.count * k);
  const scratch = new Float64Array(QUERY_BLOCK * baseBlock);

  for (let queryStart = 0; queryStart < queries.count; queryStart += QUERY_BLOCK) {
    const queryCount = Math.min(QUERY_BLOCK, queries.count - queryStart);
    const block = queryData.subarray(queryStart * dim, (queryStart + queryCount) * dim);
    const heaps = Array.from({ length: queryCount }, () => new TopK(candidateCount));
    for (let baseStart = 0; baseStart < base.count; baseStart += baseBlock) {
      const baseCount = Math.min(baseBlock, base.count - baseStart);
      kernel(block, queryCount, baseData, baseStart, baseCount, dim, kernelMetric, scratch);
      for (let q = 0; q < queryCount; q++) {
        const heap = heaps[q]!;
        let worst = heap.worst;
        const row = q * baseCount;
        for (let b = 0; b < baseCount; b++) {
          const distance = scratch[row + b]!;
          // Equal distances still go in: the heap keeps the lower id on ties.
          if (distance <= worst) {
            heap.push(distance, baseStart + b);
            worst = heap.worst;
          }
        }
      }
    }
    for (let q = 0; q < queryCount; q++) {
      const query = queryStart + q;
      const distanceOf = (id: number): number => exactDistance(kernelMetric, queryData, query, baseData, id, dim);
      heaps[q]!.rescoreInto(k, distanceOf, ids, distances, query * k);
    }
    options.onProgress?.(queryStart + queryCount, queries.count);
  }
  return { k, queryCount: queries.count, ids, distances };
}

/** Bumped whenever the computation changes in a way that would make cached files wrong. */
// v2: candidates rescored in float64 (the native kernel accumulates in float32).
const CACHE_VERSION = 'ground-truth-v2';

/** The cache key: a SHA-256 of the base and query bytes, their shapes, the metric and k. */
export function groundTruthKey(base: VectorSet, queries: VectorSet, metric: Metric, k: number): string {
  const hash = createHash('sha256');
  hash.update(`${CACHE_VERSION}|${metric}|${k}|${base.count}x${base.dim}|${queries.count}x${queries.dim}|`);
  hash.update(new Uint8Array(base.data.buffer, base.data.byteOffset, base.data.byteLength));
  hash.update(new Uint8Array(queries.data.buffer, queries.data.byteOffset, queries.data.byteLength));
  return hash.digest('hex');
}

/**
 * {@link computeGroundTruth} through an on-disk cache under `cacheDir`; `fromCache` says whether
 * the files were reused. A damaged cache entry is recomputed and rewritten.
 */
export function cachedGroundTruth(
  base: VectorSet,
  queries: VectorSet,
  metric: Metric,
  cacheDir: string,
  options: GroundTruthOptions = {},
): GroundTruth & { fromCache: boolean; cacheFile: string } {
  const k = Math.min(options.k ?? 100, base.count);
  const folder = join(cacheDir, 'ground-truth');
  const key = groundTruthKey(base, queries, metric, k);
  const idsFile = join(folder, `${key}.ivecs`);
  const distancesFile = join(folder, `${key}.dist.fvecs`);
  if (existsSync(idsFile) && existsSync(distancesFile)) {
    try {
      const cachedIds = readIvecs(idsFile);
      const cachedDistances = readFvecs(distancesFile);
      if (cachedIds.count === queries.count && cachedIds.dim === k && cachedDistances.dim === k) {
        return {
          k,
          queryCount: queries.count,
          ids: cachedIds.data,
          distances: cachedDistances.data,
          fromCache: true,
          cacheFile: idsFile,
        };
      }
    } catch {
      // A damaged or partial entry: fall through and recompute it.
    }
  }
  const truth = computeGroundTruth(base, queries, metric, { ...options, k });
  if (queries.count > 0) {
    mkdirSync(folder, { recursive: true });
    writeIvecs(idsFile, truth.ids, k);
    writeFvecs(distancesFile, truth.distances, k);
  }
  return { ...truth, fromCache: false, cacheFile: idsFile };
}
