// Plain TypeScript twins of the native kernels: same arguments, same checks, same output conventions.
// They are the reference the parity tests compare the addon against, not a production path.
// Sums are accumulated in float64 and rounded to float32 once, so they are at least as exact as C++.
import {
  ADC_TABLE_WIDTH,
  type AdcTopKArguments,
  checkAdcTopKArguments,
  checkDistancesArguments,
  checkExactTopKArguments,
  checkKMeansAssignArguments,
  checkReadVectorSlotsArguments,
  type DistancesArguments,
  type ExactTopKArguments,
  type KernelMetric,
  type KMeansAssignArguments,
  type NativeKernels,
  type ReadVectorSlotsArguments,
} from './native/kernels.js';
import { readSync } from 'node:fs';
import { crc32 } from './quant/crc32.js';

/** Distance between row `aRow` of `a` and row `bRow` of `b`, rounded to float32 like the native result. */
function distance(
  metric: KernelMetric,
  a: Float32Array,
  aRow: number,
  b: Float32Array,
  bRow: number,
  dim: number,
): number {
  const aStart = aRow * dim;
  const bStart = bRow * dim;
  let sum = 0;
  if (metric === 'l2') {
    for (let i = 0; i < dim; i++) {
      const difference = a[aStart + i]! - b[bStart + i]!;
      sum += difference * difference;
    }
    return Math.fround(sum);
  }
  for (let i = 0; i < dim; i++) sum += a[aStart + i]! * b[bStart + i]!;
  return Math.fround(1 - sum);
}

/**
 * A bounded max-heap of the k best (distance, label) pairs kept in one query's slice of the output
 * buffers, ordered like the C++ TopK: smaller distance first, then lower label; NaN counts as +Infinity.
 */
class TopK {
  #size = 0;
  readonly #labels: Int32Array;
  readonly #distances: Float32Array;
  readonly #offset: number;
  readonly #k: number;

  constructor(labels: Int32Array, distances: Float32Array, offset: number, k: number) {
    this.#labels = labels;
    this.#distances = distances;
    this.#offset = offset;
    this.#k = k;
  }

  push(distance: number, label: number): void {
    const value = Number.isNaN(distance) ? Number.POSITIVE_INFINITY : distance;
    if (this.#size < this.#k) {
      this.#set(this.#size, value, label);
      this.#siftUp(this.#size++);
      return;
    }
    const worstDistance = this.#distances[this.#offset]!;
    if (value < worstDistance || (value === worstDistance && label < this.#labels[this.#offset]!)) {
      this.#set(0, value, label);
      this.#siftDown(0, this.#size);
    }
  }

  /** Sorts best first and pads the unused slots with label -1 and distance +Infinity. */
  finish(): void {
    for (let end = this.#size; end > 1; end--) {
      this.#swap(0, end - 1);
      this.#siftDown(0, end - 1);
    }
    for (let slot = this.#size; slot < this.#k; slot++) this.#set(slot, Number.POSITIVE_INFINITY, -1);
  }

  #set(slot: number, distance: number, label: number): void {
    this.#distances[this.#offset + slot] = distance;
    this.#labels[this.#offset + slot] = label;
  }

  #worse(a: number, b: number): boolean {
    const distanceA = this.#distances[this.#offset + a]!;
    const distanceB = this.#distances[this.#offset + b]!;
    return (
      distanceA > distanceB ||
      (distanceA === distanceB && this.#labels[this.#offset + a]! > this.#labels[this.#offset + b]!)
    );
  }

  #swap(a: number, b: number): void {
    const distance = this.#distances[this.#offset + a]!;
    const label = this.#labels[this.#offset + a]!;
    this.#set(a, this.#distances[this.#offset + b]!, this.#labels[this.#offset + b]!);
    this.#set(b, distance, label);
  }

  #siftUp(start: number): void {
    let child = start;
    while (child > 0) {
      const parent = (child - 1) >> 1;
      if (!this.#worse(child, parent)) break;
      this.#swap(child, parent);
      child = parent;
    }
  }

  #siftDown(start: number, size: number): void {
    let parent = start;
    for (;;) {
      const left = 2 * parent + 1;
      if (left >= size) return;
      const right = left + 1;
      const worst = right < size && this.#worse(right, left) ? right : left;
      if (!this.#worse(worst, parent)) return;
      this.#swap(worst, parent);
      parent = worst;
    }
  }
}

function referenceDistances(args: DistancesArguments): void {
  const { queryCount, baseCount } = checkDistancesArguments(args);
  for (let query = 0; query < queryCount; query++) {
    for (let row = 0; row < baseCount; row++) {
      args.out[query * baseCount + row] = distance(args.metric, args.queries, query, args.base, row, args.dim);
    }
  }
}

function referenceExactTopK(args: ExactTopKArguments): void {
  const { queryCount, baseCount } = checkExactTopKArguments(args);
  const { candidates } = args;
  const scanCount = candidates === undefined ? baseCount : candidates.length;
  for (let query = 0; query < queryCount; query++) {
    const heap = new TopK(args.labels, args.distances, query * args.k, args.k);
    for (let position = 0; position < scanCount; position++) {
      const row = candidates === undefined ? position : candidates[position]!;
      heap.push(distance(args.metric, args.queries, query, args.base, row, args.dim), row);
    }
    heap.finish();
  }
}

function referenceKMeansAssign(args: KMeansAssignArguments): void {
  const { pointCount, centroidCount } = checkKMeansAssignArguments(args);
  for (let point = 0; point < pointCount; point++) {
    let bestDistance = Number.POSITIVE_INFINITY;
    let bestCentroid = 0;
    for (let centroid = 0; centroid < centroidCount; centroid++) {
      const value = distance(args.metric, args.points, point, args.centroids, centroid, args.dim);
      // Strict comparison: the lower index wins ties and NaN never wins, as in C++.
      if (value < bestDistance) {
        bestDistance = value;
        bestCentroid = centroid;
      }
    }
    args.assignments[point] = bestCentroid;
    args.distances[point] = bestDistance;
  }
}

function referenceAdcTopK(args: AdcTopKArguments): void {
  const { queryCount, codeCount } = checkAdcTopKArguments(args);
  const { candidates, codes, m, tables } = args;
  const scanCount = candidates === undefined ? codeCount : candidates.length;
  const tableSize = m * ADC_TABLE_WIDTH;
  for (let query = 0; query < queryCount; query++) {
    const heap = new TopK(args.labels, args.distances, query * args.k, args.k);
    const tableStart = query * tableSize;
    for (let position = 0; position < scanCount; position++) {
      const row = candidates === undefined ? position : candidates[position]!;
      let sum = 0;
      for (let subspace = 0; subspace < m; subspace++) {
        sum += tables[tableStart + subspace * ADC_TABLE_WIDTH + codes[row * m + subspace]!]!;
      }
      heap.push(Math.fround(sum), row);
    }
    heap.finish();
  }
}

/**
 * The TypeScript twins of {@link nativeKernels}, with identical checks and output conventions.
 * @example
 * referenceKernels.kmeansAssign({ metric: 'l2', points, centroids, dim, assignments, distances });
 * @throws QuiverError INVALID_ARGUMENT on a bad shape.
 */
export const referenceKernels: NativeKernels = {
  distances: referenceDistances,
  exactTopK: referenceExactTopK,
  kmeansAssign: referenceKMeansAssign,
  adcTopK: referenceAdcTopK,
  // The project's one CRC-32 (node:zlib's, checked against the bit-at-a-time definition in its test).
  crc32: (bytes, previous = 0) => crc32(bytes, previous),
  readVectorSlots: referenceReadVectorSlots,
};

/** One positional read per slot, its label and CRC-32 checked, as native/vector-slots.cc does. */
function referenceReadVectorSlots(args: ReadVectorSlotsArguments): number {
  checkReadVectorSlotsArguments(args);
  const { fd, headerBytes, dim, labels, out, ok } = args;
  const payload = 4 + 4 * dim;
  const slot = Buffer.alloc(payload + 4);
  let read = 0;
  labels.forEach((label, i) => {
    ok[i] = 0;
    let got = 0;
    try {
      got = readSync(fd, slot, 0, slot.length, headerBytes + label * slot.length);
    } catch {
      return; // a read error, as the native reader treats it: the row is not read
    }
    if (got !== slot.length || slot.readUInt32LE(0) !== label) return;
    if (crc32(slot.subarray(0, payload)) !== slot.readUInt32LE(payload)) return;
    for (let d = 0; d < dim; d++) out[i * dim + d] = slot.readFloatLE(4 + 4 * d);
    ok[i] = 1;
    read++;
  });
  return read;
}
