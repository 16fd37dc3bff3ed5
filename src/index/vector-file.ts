// The float-vector file of an int8 HNSW snapshot, `<collection>/hnsw.<seq>[.<n>].f32` beside
// `hnsw.<seq>[.<n>].bin`: the float vectors of the labels live in that snapshot, one fixed-size slot
// per label, so that a rescoring reads a candidate with one positional read instead of a SQLite
// point read. Written once, with its snapshot (tmp → fsync → rename, before the snapshot's own
// rename), and never changed afterwards: a reader holding it open reads the state of its snapshot
// whatever the writer does meanwhile. Labels changed after the snapshot are not read from it (the
// index tracks them; see hnsw-int8.ts). Must not import src/storage/.
//
// Layout, little-endian:
// | offset | bytes     | field                                                         |
// |--------|-----------|---------------------------------------------------------------|
// | 0      | 8         | magic "QUIVVECF"                                              |
// | 8      | 4         | format version (1)                                            |
// | 12     | 4         | header length in bytes (64)                                   |
// | 16     | 4         | dim                                                           |
// | 20     | 1         | metric: 0 l2, 1 cosine (rows stored normalised), 2 ip         |
// | 21     | 3         | reserved, zero                                                |
// | 24     | 4         | slot count S (the highest live label + 1)                     |
// | 28     | 4         | reserved, zero                                                |
// | 32     | 8         | seq of the snapshot (float64 holding an integer)              |
// | 40     | 20        | reserved, zero                                                |
// | 60     | 4         | CRC-32 of bytes 0..59                                         |
// | 64     | S·(8+4·d) | slot L: uint32 L, d float32, CRC-32 of those 4 + 4·d bytes    |
// A label not live in the snapshot has a slot of zeros, which fails its CRC-32 (CRC-32 of zeros is
// not zero): it is never read as a vector.
import { closeSync, fstatSync, fsyncSync, openSync, readSync, writeSync } from 'node:fs';
import { QuiverError } from '../errors.js';
import type { Metric } from '../metric.js';
import { type NativeKernels, nativeKernels } from '../native/kernels.js';
import { crc32 } from '../quant/crc32.js';

const MAGIC = Buffer.from('QUIVVECF', 'latin1');
const VERSION = 1;
export const VECTOR_FILE_HEADER_BYTES = 64;
const METRIC_CODES: readonly Metric[] = ['l2', 'cosine', 'ip'];
/** Slots written per write call. */
const WRITE_SLOTS = 256;

/** Bytes of one slot of `dim` floats: the label, the floats, the CRC-32. */
export function slotBytes(dim: number): number {
  return 8 + 4 * dim;
}

/** The float-vector file that goes with a snapshot file: `hnsw.<seq>.bin` → `hnsw.<seq>.f32`. */
export function vectorFileOf(snapshotFile: string): string {
  return snapshotFile.replace(/\.bin$/, '.f32');
}

/** What a float-vector file must say of itself to serve a snapshot. */
export interface VectorFileShape {
  readonly dim: number;
  readonly metric: Metric;
  readonly seq: number;
}

/** Reads one slot's row of floats for each label; the native reader, or its TypeScript twin in tests. */
export type SlotReader = NativeKernels['readVectorSlots'];

/** An open float-vector file, its header checked. Reads are positional: it may be shared by any caller. */
export class VectorFile {
  readonly path: string;
  readonly dim: number;
  /** Slots in the file: labels at or above it are not in it. */
  readonly slots: number;
  readonly #fd: number;
  /** The reader given to open(); undefined: the addon's (looked up at each read). */
  readonly #read: SlotReader | undefined;
  #closed = false;

  private constructor(path: string, fd: number, dim: number, slots: number, read: SlotReader | undefined) {
    this.path = path;
    this.#fd = fd;
    this.dim = dim;
    this.slots = slots;
    this.#read = read;
  }

  /**
   * Opens `path` and checks its header against `shape` and its length against its slot count.
   * @throws QuiverError IO_ERROR when it cannot be opened (ENOENT: it is missing), CORRUPT when its
   *   header is damaged, of another collection shape or snapshot, or its length is wrong.
   */
  static open(path: string, shape: VectorFileShape, read?: SlotReader): VectorFile {
    let fd: number;
    try {
      fd = openSync(path, 'r');
    } catch (error) {
      const code = (error as { code?: string }).code;
      throw new QuiverError('IO_ERROR', `cannot open ${path} (${code ?? String(error)})`, { cause: error });
    }
    try {
      const header = Buffer.alloc(VECTOR_FILE_HEADER_BYTES);
      const got = readSync(fd, header, 0, header.length, 0);
      const slots = checkHeader(header, got, shape);
      const expected = VECTOR_FILE_HEADER_BYTES + slots * slotBytes(shape.dim);
      const size = fstatSync(fd).size;
      if (size !== expected) {
        throw new QuiverError(
          'CORRUPT',
          `it is ${size} bytes; its ${slots} slots of dim ${shape.dim} need ${expected}`,
        );
      }
      return new VectorFile(path, fd, shape.dim, slots, read);
    } catch (error) {
      closeSync(fd);
      if (error instanceof QuiverError) throw error;
      throw new QuiverError('IO_ERROR', `cannot read ${path}: ${String(error)}`, { cause: error });
    }
  }

  /**
   * Reads the rows of `labels` (each below {@link slots}) into `out` (labels.length × dim); ok[i] is 1
   * where row i was read whole and checked, else 0. Returns the number read.
   */
  read(labels: Uint32Array, out: Float32Array, ok: Uint8Array): number {
    if (this.#closed) throw new QuiverError('INTERNAL', `the float-vector file ${this.path} is closed`);
    const args = { fd: this.#fd, headerBytes: VECTOR_FILE_HEADER_BYTES, dim: this.dim, labels, out, ok };
    return this.#read === undefined ? nativeKernels.readVectorSlots(args) : this.#read(args);
  }

  /** Closes the file; a second close does nothing. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    closeSync(this.#fd);
  }
}

/** The slot count of a header that fits `shape`. @throws QuiverError CORRUPT */
function checkHeader(header: Buffer, got: number, shape: VectorFileShape): number {
  if (got < VECTOR_FILE_HEADER_BYTES)
    throw new QuiverError('CORRUPT', `it ends within its ${VECTOR_FILE_HEADER_BYTES}-byte header`);
  if (!header.subarray(0, 8).equals(MAGIC)) throw new QuiverError('CORRUPT', 'it does not start with QUIVVECF');
  if (crc32(header.subarray(0, 60)) !== header.readUInt32LE(60)) {
    throw new QuiverError('CORRUPT', 'its header fails its CRC-32');
  }
  const version = header.readUInt32LE(8);
  if (version > VERSION) {
    throw new QuiverError('FORMAT_TOO_NEW', `its format version is ${version}; this QuiverDB reads up to ${VERSION}`);
  }
  if (version !== VERSION) {
    throw new QuiverError('CORRUPT', `its format version is ${version}; this QuiverDB reads ${VERSION}`);
  }
  const dim = header.readUInt32LE(16);
  const metric = METRIC_CODES[header.readUInt8(20)];
  const seq = header.readDoubleLE(32);
  if (header.readUInt32LE(12) !== VECTOR_FILE_HEADER_BYTES || dim !== shape.dim || metric !== shape.metric) {
    throw new QuiverError(
      'CORRUPT',
      `it holds dim ${dim} ${String(metric)} vectors; the collection has dim ${shape.dim} ${shape.metric}`,
    );
  }
  if (seq !== shape.seq) throw new QuiverError('CORRUPT', `it belongs to the snapshot of seq ${seq}, not ${shape.seq}`);
  return header.readUInt32LE(24);
}

/**
 * Writes a float-vector file of `slots` slots to `path` and fsyncs it. `fill` is called with runs of
 * ascending live labels and fills row i of `out` for labels[i], setting ok[i] to 1 (0 leaves that
 * label's slot empty: it will never be read). `labels` holds every live label, ascending, each
 * below `slots`. Cosine rows must be given normalised.
 */
export function writeVectorFile(
  path: string,
  shape: VectorFileShape,
  labels: Uint32Array,
  fill: (labels: Uint32Array, out: Float32Array, ok: Uint8Array) => void,
): void {
  const { dim } = shape;
  const slots = labels.length === 0 ? 0 : labels[labels.length - 1]! + 1;
  const header = Buffer.alloc(VECTOR_FILE_HEADER_BYTES);
  MAGIC.copy(header, 0);
  header.writeUInt32LE(VERSION, 8);
  header.writeUInt32LE(VECTOR_FILE_HEADER_BYTES, 12);
  header.writeUInt32LE(dim, 16);
  header.writeUInt8(METRIC_CODES.indexOf(shape.metric), 20);
  header.writeUInt32LE(slots, 24);
  header.writeDoubleLE(shape.seq, 32);
  header.writeUInt32LE(crc32(header.subarray(0, 60)), 60);
  const size = slotBytes(dim);
  const fd = openSync(path, 'w');
  try {
    writeSync(fd, header);
    const out = new Float32Array(WRITE_SLOTS * dim);
    const ok = new Uint8Array(WRITE_SLOTS);
    // Slots go out in order through one buffer of WRITE_SLOTS slots: `next` is the next slot's label.
    const chunk = Buffer.alloc(WRITE_SLOTS * size);
    let used = 0;
    let next = 0;
    const put = (label: number, row: number): void => {
      const slot = chunk.subarray(used * size, (used + 1) * size);
      slot.fill(0);
      if (row >= 0) {
        slot.writeUInt32LE(label, 0);
        Buffer.from(out.buffer, out.byteOffset + row * dim * 4, dim * 4).copy(slot, 4);
        slot.writeUInt32LE(crc32(slot.subarray(0, size - 4)), size - 4);
      }
      if (++used === WRITE_SLOTS) {
        writeSync(fd, chunk);
        used = 0;
      }
    };
    for (let start = 0; start < labels.length; start += WRITE_SLOTS) {
      const run = labels.subarray(start, Math.min(labels.length, start + WRITE_SLOTS));
      ok.fill(0);
      fill(run, out, ok);
      run.forEach((label, i) => {
        if (label < next) throw new QuiverError('INTERNAL', `live labels must ascend; ${label} follows ${next - 1}`);
        for (; next < label; next++) put(next, -1);
        put(label, ok[i] === 1 ? i : -1);
        next = label + 1;
      });
    }
    if (used > 0) writeSync(fd, chunk, 0, used * size);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
