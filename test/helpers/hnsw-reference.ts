// Reference HNSW index for the tests: the hnswlib-node path QuiverDB used before its own addon
// (src/index/hnsw.ts) took over. Same graph, same file format, same seed; the native index is
// compared against it. Test-only: nothing in src/ imports it.
import hnswlib from 'hnswlib-node';
import { QuiverError } from '../../src/errors.js';
import type { Metric } from '../../src/schema.js';
import type { AnnIndex, Neighbours } from '../../src/index/types.js';

export interface ReferenceHnswParams {
  readonly m: number;
  readonly efConstruction: number;
}

/** Seed of hnswlib's level generator: fixed, so a build from the same records is repeatable. */
const RANDOM_SEED = 100;

enum Slot {
  Empty = 0,
  Live = 1,
  Deleted = 2,
}

export class ReferenceHnswIndex
  implements Pick<AnnIndex, 'type' | 'metric' | 'dim' | 'size' | 'upsert' | 'remove' | 'search' | 'dispose'>
{
  readonly type = 'hnsw';
  readonly metric: Metric;
  readonly dim: number;
  readonly params: ReferenceHnswParams;
  #graph: hnswlib.HierarchicalNSW | undefined;
  #slots: Uint8Array; // Slot state per label
  #size = 0;
  #efSet = -1;

  constructor(metric: Metric, dim: number, params: ReferenceHnswParams, initialCapacity = 1024) {
    this.metric = metric;
    this.dim = dim;
    this.params = params;
    const capacity = Math.max(16, initialCapacity);
    this.#graph = new hnswlib.HierarchicalNSW(metric, dim);
    this.#graph.initIndex({
      maxElements: capacity,
      m: params.m,
      efConstruction: params.efConstruction,
      randomSeed: RANDOM_SEED,
      allowReplaceDeleted: false,
    });
    this.#slots = new Uint8Array(capacity);
  }

  /**
   * Loads a graph written by `writeGraph`. `liveLabels` are the labels that were live when it was
   * written; every other label in the graph is treated as deleted. Throws CORRUPT when the graph
   * does not hold every live label.
   */
  static load(
    graphFile: string,
    metric: Metric,
    dim: number,
    params: ReferenceHnswParams,
    liveLabels: Uint32Array,
  ): ReferenceHnswIndex {
    const index = new ReferenceHnswIndex(metric, dim, params, 16);
    const graph = new hnswlib.HierarchicalNSW(metric, dim);
    graph.readIndexSync(graphFile, false);
    if (graph.getNumDimensions() !== dim) {
      throw new QuiverError('CORRUPT', `the snapshot graph has dim ${graph.getNumDimensions()}; expected ${dim}`);
    }
    const present = graph.getIdsList();
    let highest = 0;
    for (const label of present) highest = Math.max(highest, label);
    const slots = new Uint8Array(Math.max(16, highest + 1));
    for (const label of present) slots[label] = Slot.Deleted;
    for (const label of liveLabels) {
      if (slots[label] !== Slot.Deleted) {
        throw new QuiverError('CORRUPT', `the snapshot graph lacks live label ${label}`);
      }
      slots[label] = Slot.Live;
    }
    index.#graph = graph;
    index.#slots = slots;
    index.#size = liveLabels.length;
    return index;
  }

  /** Writes hnswlib's graph file (deleted nodes included; `liveLabels()` tells them apart). */
  writeGraph(graphFile: string): void {
    this.#open().writeIndexSync(graphFile);
  }

  /** The live labels, ascending. */
  liveLabels(): Uint32Array {
    const labels = new Uint32Array(this.#size);
    let count = 0;
    for (let label = 0; label < this.#slots.length; label++) {
      if (this.#slots[label] === Slot.Live) labels[count++] = label;
    }
    return labels;
  }

  get size(): number {
    return this.#size;
  }

  upsert(label: number, vector: Float32Array): void {
    const graph = this.#open();
    if (label >= this.#slots.length) this.#growSlots(label + 1);
    const state = this.#slots[label]!;
    if (state === Slot.Empty && graph.getCurrentCount() >= graph.getMaxElements()) {
      graph.resizeIndex(Math.max(graph.getMaxElements() * 2, 16));
    }
    // hnswlib-node copies the numbers out of a plain array; it does not take typed arrays.
    graph.addPoint(Array.from(vector), label);
    if (state !== Slot.Live) this.#size++;
    this.#slots[label] = Slot.Live;
  }

  remove(label: number): void {
    if (this.#slots[label] !== Slot.Live) return;
    this.#open().markDelete(label);
    this.#slots[label] = Slot.Deleted;
    this.#size--;
  }

  search(query: Float32Array, k: number, ef: number): Neighbours {
    const graph = this.#open();
    if (this.#size === 0 || k < 1) return { labels: [], distances: [] };
    const effort = Math.max(ef, k);
    if (effort !== this.#efSet) {
      graph.setEf(effort);
      this.#efSet = effort;
    }
    const result = graph.searchKnn(Array.from(query), Math.min(k, this.#size));
    return { labels: result.neighbors, distances: result.distances };
  }

  dispose(): void {
    // hnswlib-node frees the graph when the wrapper is collected; dropping the reference is
    // all JavaScript can do.
    this.#graph = undefined;
    this.#slots = new Uint8Array(0);
    this.#size = 0;
  }

  #open(): hnswlib.HierarchicalNSW {
    if (this.#graph === undefined) throw new QuiverError('CLOSED', 'the HNSW index was disposed');
    return this.#graph;
  }

  #growSlots(minimum: number): void {
    let length = Math.max(this.#slots.length, 16);
    while (length < minimum) length *= 2;
    const slots = new Uint8Array(length);
    slots.set(this.#slots);
    this.#slots = slots;
  }
}
