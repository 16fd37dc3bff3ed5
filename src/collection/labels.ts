// Label allocation of one collection: dense labels, freed ones reused first, allocations of a
// failed transaction rolled back. Imports errors and the stored-label check only.
import { QuiverError } from '../errors.js';
import { checkLabel } from '../storage/stored-record.js';

/**
 * Hands out dense labels: freed labels first (so the index does not grow under churn), then
 * the next never-used label. Allocations inside a failed transaction are rolled back.
 */
export class LabelAllocator {
  #free: number[];
  #next: number;
  #journal: number[] = [];

  /**
   * `used` must be ascending. Every label a record holds was once fresh, with an upsert logged under
   * a higher seq, so a label at or above `lastSeq` is damage (CORRUPT) — and never a giant free list.
   */
  constructor(used: readonly number[], lastSeq: number, collection: string) {
    const free: number[] = [];
    let expected = 0;
    for (const label of used) {
      checkStoredLabel(label, lastSeq, collection);
      for (; expected < label; expected++) free.push(expected);
      expected = label + 1;
    }
    this.#free = free.reverse(); // pop() yields the lowest free label first
    this.#next = expected;
  }

  /** Labels in use (0: the collection holds no records). */
  get live(): number {
    return this.#next - this.#free.length;
  }

  allocate(): number {
    const label = this.#free.length > 0 ? this.#free.pop()! : this.#next++;
    this.#journal.push(label);
    return label;
  }

  release(label: number): void {
    this.#free.push(label);
  }

  commit(): void {
    this.#journal = [];
  }

  rollback(): void {
    for (let i = this.#journal.length - 1; i >= 0; i--) {
      const label = this.#journal[i]!;
      if (label === this.#next - 1) this.#next--;
      else this.#free.push(label);
    }
    this.#journal = [];
  }
}

/**
 * Checks a label read back from the records: an integer label (checkLabel) below `lastSeq` — every
 * label a record holds was once fresh, with an upsert logged under a higher seq, so a label at or
 * above it is damage. An open checks the lowest and the highest label this way (two index seeks),
 * the allocator every label when the first upsert builds it.
 * @throws QuiverError CORRUPT
 */
export function checkStoredLabel(label: unknown, lastSeq: number, collection: string): number {
  const checked = checkLabel(label, collection);
  if (checked >= lastSeq) {
    throw new QuiverError(
      'CORRUPT',
      `collection '${collection}' has a record with label ${checked}, above the ${lastSeq} changes ever logged; run quiver verify`,
    );
  }
  return checked;
}
