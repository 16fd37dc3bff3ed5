// Labels and vectors read from SQLite rows, checked, handed to an index as one batch.
import { QuiverError } from '../errors.js';
import { checkLabel } from '../storage/stored-record.js';

/** Labels and their vectors read from SQLite rows, handed to an index at once. */
export class RecordBatch {
  readonly labels: Uint32Array;
  readonly vectors: Float32Array;
  readonly #dim: number;
  readonly #bytes: Uint8Array;
  count = 0;

  constructor(dim: number, capacity: number) {
    this.#dim = dim;
    this.labels = new Uint32Array(capacity);
    this.vectors = new Float32Array(capacity * dim);
    this.#bytes = new Uint8Array(this.vectors.buffer);
  }

  get full(): boolean {
    return this.count === this.labels.length;
  }

  /**
   * Appends a stored vector (a float32 BLOB of dim numbers) under its label.
   * @throws QuiverError CORRUPT on a label out of range, a wrong length or a number that is not finite
   */
  add(label: number, blob: Uint8Array, collection: string): void {
    const bytes = this.#dim * 4;
    checkLabel(label, collection);
    if (!(blob instanceof Uint8Array) || blob.byteLength !== bytes) {
      throw new QuiverError(
        'CORRUPT',
        `the record under label ${label} of collection '${collection}' has a stored vector of ${blob?.byteLength} bytes; expected ${bytes} (dim ${this.#dim}); run quiver verify`,
      );
    }
    const at = this.count * this.#dim;
    this.#bytes.set(blob, at * 4);
    for (let i = at; i < at + this.#dim; i++) {
      const value = this.vectors[i]!;
      if (value - value !== 0) {
        throw new QuiverError(
          'CORRUPT',
          `the record under label ${label} of collection '${collection}' has a stored vector holding ${value}; run quiver verify`,
        );
      }
    }
    this.labels[this.count++] = label;
  }
}

export function allUpserts(
  changes: readonly { label: number; vector: Float32Array | undefined }[],
): changes is readonly { label: number; vector: Float32Array }[] {
  return changes.every((change) => change.vector !== undefined);
}
