// Selection of the k smallest (distance, label) pairs from a stream, with a bounded max-heap.
// Ties are broken by the lower label so exact search is deterministic.

/** Keeps the k best (smallest distance) candidates pushed into it. */
export class TopK {
  readonly #capacity: number;
  readonly #distances: Float64Array;
  readonly #labels: Int32Array;
  #size = 0;

  constructor(capacity: number) {
    this.#capacity = capacity;
    this.#distances = new Float64Array(capacity);
    this.#labels = new Int32Array(capacity);
  }

  /** The distance a candidate must beat to enter, +Infinity while the heap is not full. */
  get bound(): number {
    return this.#size < this.#capacity ? Number.POSITIVE_INFINITY : this.#distances[0]!;
  }

  push(distance: number, label: number): void {
    if (this.#size < this.#capacity) {
      let index = this.#size++;
      while (index > 0) {
        const parent = (index - 1) >> 1;
        if (!this.#worse(distance, label, this.#distances[parent]!, this.#labels[parent]!)) break;
        this.#distances[index] = this.#distances[parent]!;
        this.#labels[index] = this.#labels[parent]!;
        index = parent;
      }
      this.#distances[index] = distance;
      this.#labels[index] = label;
      return;
    }
    if (!this.#worse(this.#distances[0]!, this.#labels[0]!, distance, label)) return;
    this.#siftDown(distance, label);
  }

  /** Returns the kept candidates best first. */
  sorted(): { labels: number[]; distances: number[] } {
    const order = Array.from({ length: this.#size }, (_, i) => i);
    order.sort((a, b) => this.#distances[a]! - this.#distances[b]! || this.#labels[a]! - this.#labels[b]!);
    return { labels: order.map((i) => this.#labels[i]!), distances: order.map((i) => this.#distances[i]!) };
  }

  /** True when (distanceA, labelA) ranks after (distanceB, labelB). */
  #worse(distanceA: number, labelA: number, distanceB: number, labelB: number): boolean {
    return distanceA > distanceB || (distanceA === distanceB && labelA > labelB);
  }

  #siftDown(distance: number, label: number): void {
    let index = 0;
    const size = this.#size;
    for (;;) {
      const left = 2 * index + 1;
      if (left >= size) break;
      const right = left + 1;
      let child = left;
      if (
        right < size &&
        this.#worse(this.#distances[right]!, this.#labels[right]!, this.#distances[left]!, this.#labels[left]!)
      ) {
        child = right;
      }
      if (!this.#worse(this.#distances[child]!, this.#labels[child]!, distance, label)) break;
      this.#distances[index] = this.#distances[child]!;
      this.#labels[index] = this.#labels[child]!;
      index = child;
    }
    this.#distances[index] = distance;
    this.#labels[index] = label;
  }
}
