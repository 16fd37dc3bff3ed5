// Streaming reader of TEXMEX vector files (.fvecs float32, .bvecs uint8) for `quiver import`: the
// shape is checked from the file size before anything is read, then rows come in batches.
// Layout, little-endian, repeated per row: | int32 dim | dim elements (4 bytes fvecs, 1 byte bvecs) |
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { QuiverError } from '../errors.js';

export type TexmexKind = 'fvecs' | 'bvecs';

export interface TexmexShape {
  readonly kind: TexmexKind;
  readonly dim: number;
  readonly rows: number;
}

/** Dimensions beyond this are taken for a damaged header. */
const MAX_DIM = 65_536;

export function texmexKindOf(path: string): TexmexKind | undefined {
  const match = /\.(fvecs|bvecs)$/i.exec(path);
  return match ? (match[1]!.toLowerCase() as TexmexKind) : undefined;
}

function openFile(path: string): number {
  try {
    return openSync(path, 'r');
  } catch (error) {
    throw new QuiverError('INVALID_ARGUMENT', `cannot open ${path}: ${(error as Error).message}`, { cause: error });
  }
}

/** Reads the first header and checks that the file divides into whole rows. */
export function texmexShape(path: string, kind: TexmexKind): TexmexShape {
  const descriptor = openFile(path);
  try {
    const size = fstatSync(descriptor).size;
    if (size < 4) throw new QuiverError('CORRUPT', `${path} is ${size} bytes, too short for a .${kind} row`);
    const header = Buffer.alloc(4);
    readSync(descriptor, header, 0, 4, 0);
    const dim = header.readInt32LE(0);
    if (dim < 1 || dim > MAX_DIM) {
      throw new QuiverError('CORRUPT', `${path}: the first row claims dim ${dim}; is it really a .${kind} file?`);
    }
    const rowBytes = 4 + dim * (kind === 'fvecs' ? 4 : 1);
    if (size % rowBytes !== 0) {
      throw new QuiverError(
        'CORRUPT',
        `${path} is ${size} bytes, not a whole number of .${kind} rows of ${rowBytes} bytes (dim ${dim}): ` +
          `it is truncated or not a .${kind} file`,
      );
    }
    return { kind, dim, rows: size / rowBytes };
  } finally {
    closeSync(descriptor);
  }
}

/** Yields rows in batches of up to `batchSize`: the first row number and one float32 vector per row. */
export function* texmexBatches(
  path: string,
  shape: TexmexShape,
  batchSize: number,
): Generator<{ firstRow: number; vectors: Float32Array[] }> {
  const { dim, kind } = shape;
  const elementBytes = kind === 'fvecs' ? 4 : 1;
  const rowBytes = 4 + dim * elementBytes;
  const descriptor = openFile(path);
  try {
    // An ArrayBuffer of its own, so every fvecs row (4 + 4·dim bytes apart) is 4-byte aligned.
    const bytes = new Uint8Array(new ArrayBuffer(rowBytes * Math.min(batchSize, shape.rows)));
    const view = new DataView(bytes.buffer);
    for (let firstRow = 0; firstRow < shape.rows; firstRow += batchSize) {
      const count = Math.min(batchSize, shape.rows - firstRow);
      const length = count * rowBytes;
      let read = 0;
      while (read < length) {
        const got = readSync(descriptor, bytes, read, length - read, firstRow * rowBytes + read);
        if (got === 0) throw new QuiverError('CORRUPT', `${path} ended early at row ${firstRow}; was it truncated?`);
        read += got;
      }
      const vectors: Float32Array[] = new Array(count);
      for (let i = 0; i < count; i++) {
        const start = i * rowBytes;
        const rowDim = view.getInt32(start, true);
        if (rowDim !== dim) {
          throw new QuiverError('CORRUPT', `${path}: row ${firstRow + i} has dim ${rowDim}, but row 0 has dim ${dim}`);
        }
        vectors[i] =
          kind === 'fvecs'
            ? new Float32Array(bytes.buffer.slice(start + 4, start + rowBytes))
            : Float32Array.from(bytes.subarray(start + 4, start + rowBytes));
      }
      yield { firstRow, vectors };
    }
  } finally {
    closeSync(descriptor);
  }
}
