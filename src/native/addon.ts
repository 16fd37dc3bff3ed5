// The loaded quiver_native addon (native-loader.ts finds the file) as a typed object, and the one
// place where what an addon call throws or rejects becomes NATIVE_ERROR. What the .node file
// exports is described here; kernels.ts and hnsw-graph.ts wrap it. Imports only errors.ts and
// native-loader.ts.
import { QuiverError } from '../errors.js';
import { loadQuiverAddon } from '../native-loader.js';

/** What the .node file exports; positional arguments, metric as 0 (l2) or 1 (ip), null for no candidates. */
export interface NativeAddon {
  distances(metric: number, queries: Float32Array, base: Float32Array, dim: number, out: Float32Array): void;
  exactTopK(
    metric: number,
    queries: Float32Array,
    base: Float32Array,
    dim: number,
    k: number,
    candidates: Int32Array | null,
    labels: Int32Array,
    distances: Float32Array,
    threads: number,
  ): void;
  kmeansAssign(
    metric: number,
    points: Float32Array,
    centroids: Float32Array,
    dim: number,
    assignments: Int32Array,
    distances: Float32Array,
  ): void;
  adcTopK(
    tables: Float32Array,
    codes: Uint8Array,
    m: number,
    k: number,
    candidates: Int32Array | null,
    labels: Int32Array,
    distances: Float32Array,
  ): void;
  /** CRC-32 of bytes continuing previous (native/crc32.h); portable: the table loop alone. */
  crc32(bytes: Uint8Array, previous: number, portable: boolean): number;
  /** Float-vector slots of labels from an open file (native/vector-slots.h); returns how many were read. */
  readVectorSlots(
    fd: number,
    headerBytes: number,
    dim: number,
    labels: Uint32Array,
    out: Float32Array,
    ok: Uint8Array,
  ): number;
  /** The HNSW graph class (native/hnsw-binding.h); space 0 l2, 1 ip, 2 cosine. */
  HnswGraph: AddonHnswGraphClass;
}

/**
 * The addon's HnswGraph class:
 * `new HnswGraph(space 0 l2 | 1 ip | 2 cosine, dim, kernels 0 simd | 1 hnswlib, loop 0 sorted | 1 hnswlib)`,
 * and for an int8 graph two or three more: the per-dimension range lows and highs (dim float32 each),
 * and the ranges block's format version its files were written under (1 or 2; default 2).
 */
export type AddonHnswGraphClass = new (
  space: number,
  dim: number,
  kernels: number,
  loop: number,
  lows?: Float32Array,
  highs?: Float32Array,
  format?: number,
) => AddonHnswGraph;

/** The addon's graph-load arguments: where the graph lies in a snapshot file, its checksums, and whether it is without vectors. */
export type GraphRangeArguments = [
  path: string,
  offset: number,
  length: number,
  crcSeed: number,
  crcExpected: number,
  withoutVectors: boolean,
];

/** The addon's HnswGraph object: positional arguments, checked again natively. */
export interface AddonHnswGraph {
  init(maxElements: number, m: number, efConstruction: number, seed: number): void;
  resize(maxElements: number): void;
  addBatch(vectors: Float32Array, labels: Uint32Array, threads: number): void;
  addBatchAsync(vectors: Float32Array, labels: Uint32Array, threads: number): Promise<void>;
  markDelete(label: number): void;
  searchBatch(
    queries: Float32Array,
    k: number,
    ef: number,
    threads: number,
    allow: Uint8Array | Uint32Array | null,
    labels: Uint32Array,
    distances: Float32Array,
  ): void;
  searchBatchAsync(
    queries: Float32Array,
    k: number,
    ef: number,
    threads: number,
    allow: Uint8Array | Uint32Array | null,
    labels: Uint32Array,
    distances: Float32Array,
  ): Promise<void>;
  save(path: string, withoutVectors: boolean): void;
  load(path: string): void;
  loadAsync(path: string): Promise<void>;
  loadRange(...range: GraphRangeArguments): void;
  loadRangeAsync(...range: GraphRangeArguments): Promise<void>;
  fillVectors(labels: Uint32Array, rows: Uint8Array): Uint32Array;
  finishFill(): Uint32Array;
  exactAmong(
    query: Float32Array,
    labels: Uint32Array,
    k: number,
    outLabels: Uint32Array,
    outDistances: Float32Array,
    threads: number,
  ): void;
  readVectors(labels: Uint32Array, out: Float32Array): void;
  storedDistances(first: Uint32Array, second: Uint32Array, out: Float32Array): void;
  labels(): Uint32Array;
  currentCount(): number;
  maxElements(): number;
  dispose(): void;
}

let loadedAddon: NativeAddon | undefined;

/**
 * Loads the addon once and returns it. Called lazily by every kernel, so importing QuiverDB works
 * without it; call it at start-up to fail early.
 * @throws QuiverError NATIVE_ERROR when no prebuild, build/Release or build/Debug binary (or the
 *   override) loads; the message lists where it looked and the command that fixes it.
 */
export function loadNativeAddon(): void {
  addon();
}

function addon(): NativeAddon {
  loadedAddon ??= loadQuiverAddon() as NativeAddon;
  return loadedAddon;
}

/** Runs one addon call and converts whatever it throws into NATIVE_ERROR, in this one place. */
export function callAddon<T>(kernel: string, call: (native: NativeAddon) => T): T {
  const native = addon();
  try {
    return call(native);
  } catch (error) {
    throw nativeError(kernel, error);
  }
}

/** Awaits an addon promise, converting its rejection into NATIVE_ERROR like callAddon does. */
export async function awaitAddon(kernel: string, pending: Promise<void>): Promise<void> {
  try {
    await pending;
  } catch (error) {
    throw nativeError(kernel, error);
  }
}

function nativeError(kernel: string, error: unknown): QuiverError {
  return new QuiverError(
    'NATIVE_ERROR',
    `${kernel}: the native addon failed (${error instanceof Error ? error.message : String(error)})`,
    { cause: error },
  );
}
