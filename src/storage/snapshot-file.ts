// Reader and writer of index snapshot files, `<collection>/hnsw.<seq>.bin`: hnswlib's own graph
// file (which has no magic, version or checksum) wrapped in QuiverDB's header. Writes go
// tmp → fsync → rename → fsync directory. Knows nothing of SQLite.
//
// Layout, little-endian:
// | offset | bytes | field                                                        |
// |--------|-------|--------------------------------------------------------------|
// | 0      | 8     | magic "QUIVHNSW"                                             |
// | 8      | 4     | format version (1)                                           |
// | 12     | 4     | header length in bytes (64)                                  |
// | 16     | 4     | dim                                                          |
// | 20     | 1     | metric: 0 l2, 1 cosine, 2 ip                                 |
// | 21     | 1     | flags (format 2; zero in format 1): bit 0, graph without vectors |
// | 22     | 2     | reserved, zero                                               |
// | 24     | 4     | m                                                            |
// | 28     | 4     | efConstruction                                               |
// | 32     | 8     | seq covered (float64 holding an integer)                     |
// | 40     | 4     | live label count L                                           |
// | 44     | 8     | payload length P in bytes (float64 holding an integer)       |
// | 52     | 4     | CRC-32 of the payload                                        |
// | 56     | 4     | reserved, zero                                               |
// | 60     | 4     | CRC-32 of bytes 0..59                                        |
// | 64     | P     | payload: L uint32 live labels, then hnswlib's graph file     |
// Format 2 sets bit 0 of the flags when the graph file is the one without vectors
// (native/hnsw-file.h): a float graph's, whose live vectors the open fills from the records.
// A graph with its vectors (an int8 graph's codes) is still written as format 1.
// An open reads the header and the labels here (readSnapshotHeadSteps) and leaves the graph to the
// index, which reads its range of this file and continues the payload CRC-32 from the labels'.
import {
  closeSync,
  fstatSync,
  fsyncSync,
  openSync,
  readdirSync,
  readSync,
  renameSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { type FileHandle, open as openFile } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32 } from '../quant/crc32.js';
import { QuiverError } from '../errors.js';
import type { Metric } from '../metric.js';
import { runSync, type Steps, step } from '../steps.js';
import { crashPoint } from './crash-point.js';

const MAGIC = Buffer.from('QUIVHNSW', 'latin1');
export const SNAPSHOT_FORMAT_VERSION = 2;
/** Flags bit 0: the graph is written without its live vectors. */
const FLAG_WITHOUT_VECTORS = 1;
const HEADER_BYTES = 64;
const CHUNK_BYTES = 1 << 20;
const METRIC_CODES: readonly Metric[] = ['l2', 'cosine', 'ip'];

export interface SnapshotHeader {
  readonly dim: number;
  readonly metric: Metric;
  readonly m: number;
  readonly efConstruction: number;
  readonly seq: number;
  /** The graph file is written without its live vectors (the open fills them from the records). */
  readonly withoutVectors?: boolean;
}

export interface SnapshotWritten {
  readonly file: string;
  readonly checksum: number;
}

/**
 * The name for a new snapshot covering `seq`: `hnsw.<seq>.bin`, or `hnsw.<seq>.<n>.bin` when the
 * file the manifest names (`current`) covers the same seq — a snapshot never overwrites the file
 * the manifest points at, or a crash between the rename and the manifest commit would leave the
 * manifest's checksum describing a file that no longer exists.
 */
export function snapshotName(seq: number, current?: string): string {
  const match = current === undefined ? null : /(?:^|\/)hnsw\.(\d+)(?:\.(\d+))?\.bin$/.exec(current);
  if (match === null || Number(match[1]) !== seq) return `hnsw.${seq}.bin`;
  return `hnsw.${seq}.${Number(match[2] ?? 0) + 1}.bin`;
}

/**
 * Writes `directory/name` (see snapshotName) from the live labels and an hnswlib graph file,
 * atomically: the content goes to a .tmp file that is fsynced and renamed, then the directory is
 * fsynced.
 */
export function writeSnapshot(
  directory: string,
  name: string,
  header: SnapshotHeader,
  liveLabels: Uint32Array,
  graphFile: string,
): SnapshotWritten {
  const temporary = join(directory, `${name}.tmp`);
  const output = openSync(temporary, 'w');
  try {
    writeSync(output, Buffer.alloc(HEADER_BYTES)); // placeholder, rewritten once the checksum is known
    const labelBytes = Buffer.from(liveLabels.buffer, liveLabels.byteOffset, liveLabels.byteLength);
    writeSync(output, labelBytes);
    let checksum = crc32(labelBytes);
    let payloadLength = labelBytes.byteLength;
    const input = openSync(graphFile, 'r');
    try {
      const chunk = Buffer.allocUnsafe(CHUNK_BYTES);
      for (;;) {
        const read = readSync(input, chunk, 0, CHUNK_BYTES, null);
        if (read === 0) break;
        const piece = chunk.subarray(0, read);
        checksum = crc32(piece, checksum);
        writeSync(output, piece);
        payloadLength += read;
      }
    } finally {
      closeSync(input);
    }
    writeSync(output, encodeHeader(header, liveLabels.length, payloadLength, checksum), 0, HEADER_BYTES, 0);
    fsyncSync(output);
    closeSync(output);
    crashPoint('snapshot-before-rename');
    renameSync(temporary, join(directory, name));
    syncDirectory(directory);
    return { file: name, checksum };
  } catch (error) {
    try {
      closeSync(output);
    } catch {
      // already closed
    }
    rmSync(temporary, { force: true });
    throw error;
  }
}

function encodeHeader(header: SnapshotHeader, labelCount: number, payloadLength: number, checksum: number): Buffer {
  const bytes = Buffer.alloc(HEADER_BYTES);
  MAGIC.copy(bytes, 0);
  bytes.writeUInt32LE(header.withoutVectors === true ? SNAPSHOT_FORMAT_VERSION : 1, 8);
  bytes.writeUInt32LE(HEADER_BYTES, 12);
  bytes.writeUInt32LE(header.dim, 16);
  bytes.writeUInt8(METRIC_CODES.indexOf(header.metric), 20);
  bytes.writeUInt8(header.withoutVectors === true ? FLAG_WITHOUT_VECTORS : 0, 21);
  bytes.writeUInt32LE(header.m, 24);
  bytes.writeUInt32LE(header.efConstruction, 28);
  bytes.writeDoubleLE(header.seq, 32);
  bytes.writeUInt32LE(labelCount, 40);
  bytes.writeDoubleLE(payloadLength, 44);
  bytes.writeUInt32LE(checksum, 52);
  bytes.writeUInt32LE(crc32(bytes.subarray(0, 60)), 60);
  return bytes;
}

export interface SnapshotRead {
  readonly header: SnapshotHeader;
  readonly checksum: number;
  readonly liveLabels: Uint32Array;
}

/** What the header of a snapshot file says, checked against the file's size. */
interface ParsedHeader {
  readonly header: SnapshotHeader;
  readonly labelCount: number;
  readonly checksum: number;
}

/** Checks the 64 header bytes of `file` (of `size` bytes). @throws QuiverError CORRUPT, FORMAT_TOO_NEW */
function parseHeader(file: string, bytes: Buffer, size: number): ParsedHeader {
  if (!bytes.subarray(0, 8).equals(MAGIC)) throw corrupt(file, 'it does not start with the snapshot magic');
  const version = bytes.readUInt32LE(8);
  if (crc32(bytes.subarray(0, 60)) !== bytes.readUInt32LE(60)) throw corrupt(file, 'its header checksum is wrong');
  if (version > SNAPSHOT_FORMAT_VERSION) {
    throw new QuiverError(
      'FORMAT_TOO_NEW',
      `snapshot ${file} has format ${version}; this QuiverDB reads up to ${SNAPSHOT_FORMAT_VERSION}`,
    );
  }
  if (version === 0) throw corrupt(file, 'its format version is 0');
  const flags = version >= 2 ? bytes.readUInt8(21) : 0;
  if ((flags & ~FLAG_WITHOUT_VECTORS) !== 0) throw corrupt(file, `its flags ${flags} are unknown`);
  if (bytes.readUInt32LE(12) !== HEADER_BYTES) throw corrupt(file, 'its header length is wrong');
  const metric = METRIC_CODES[bytes.readUInt8(20)];
  if (metric === undefined) throw corrupt(file, 'its metric code is unknown');
  const header: SnapshotHeader = {
    dim: bytes.readUInt32LE(16),
    metric,
    m: bytes.readUInt32LE(24),
    efConstruction: bytes.readUInt32LE(28),
    seq: bytes.readDoubleLE(32),
    withoutVectors: (flags & FLAG_WITHOUT_VECTORS) !== 0,
  };
  const labelCount = bytes.readUInt32LE(40);
  const payloadLength = bytes.readDoubleLE(44);
  if (payloadLength !== size - HEADER_BYTES) {
    throw corrupt(file, `it holds ${size - HEADER_BYTES} payload bytes; its header says ${payloadLength}`);
  }
  if (labelCount * 4 > payloadLength) throw corrupt(file, 'its label count exceeds its payload');
  return { header, labelCount, checksum: bytes.readUInt32LE(52) };
}

function cannotOpen(file: string, error: unknown): QuiverError {
  return new QuiverError('CORRUPT', `snapshot ${file} cannot be opened: ${(error as Error).message}`, { cause: error });
}

/**
 * Verifies `file` completely (magic, version, header checksum, length, payload checksum), reading
 * it a MiB at a time, for `quiver verify`. Throws CORRUPT, FORMAT_TOO_NEW or IO_ERROR; never returns
 * unverified data. (An open reads the graph once, straight into the index: readSnapshotHeadSteps.)
 */
export function readSnapshot(file: string): SnapshotRead {
  return runSync(readSnapshotSteps(file));
}

/** A file descriptor (synchronous run) or a FileHandle (asynchronous run). */
type Handle = number | FileHandle;

const openHandle = (path: string, flags: string) =>
  step<Handle>(
    () => openSync(path, flags),
    () => openFile(path, flags),
  );
const sizeOf = (handle: Handle) =>
  step(
    () => fstatSync(handle as number).size,
    async () => (await (handle as FileHandle).stat()).size,
  );
const readAt = (handle: Handle, buffer: Buffer, length: number, position: number) =>
  step(
    () => readSync(handle as number, buffer, 0, length, position),
    async () => (await (handle as FileHandle).read(buffer, 0, length, position)).bytesRead,
  );
const closeHandle = (handle: Handle) =>
  step(
    () => closeSync(handle as number),
    () => (handle as FileHandle).close(),
  );

/**
 * A snapshot file whose header and live labels are verified and whose graph is still in the file:
 * bytes [graphOffset, graphOffset + graphLength), which the loader reads straight into the index and
 * checks against `checksum` (the payload's CRC-32), continuing `labelsChecksum` (the CRC-32 of the
 * labels before them).
 */
export interface SnapshotHead extends SnapshotRead {
  readonly graphOffset: number;
  readonly graphLength: number;
  readonly labelsChecksum: number;
}

/**
 * Reads and verifies `file`'s header and live labels only (magic, version, header checksum, length,
 * the labels' bytes): the graph after them is left for the index to read and checksum as it loads
 * (native/hnsw-file.h, ReadGraphRange), so it is read once and never copied.
 * @throws QuiverError CORRUPT, FORMAT_TOO_NEW
 */
export function* readSnapshotHeadSteps(file: string): Steps<SnapshotHead> {
  let input: Handle;
  try {
    input = yield* openHandle(file, 'r');
  } catch (error) {
    throw cannotOpen(file, error);
  }
  try {
    const size = yield* sizeOf(input);
    if (size < HEADER_BYTES) throw corrupt(file, `it is ${size} bytes, shorter than its header`);
    const bytes = Buffer.alloc(HEADER_BYTES);
    yield* readAt(input, bytes, HEADER_BYTES, 0);
    const { header, labelCount, checksum } = parseHeader(file, bytes, size);
    const liveLabels = new Uint32Array(labelCount);
    const labelBytes = new Uint8Array(liveLabels.buffer);
    const read = yield* readAt(input, Buffer.from(liveLabels.buffer), labelBytes.byteLength, HEADER_BYTES);
    if (read !== labelBytes.byteLength) throw corrupt(file, 'it ended early');
    const graphOffset = HEADER_BYTES + labelBytes.byteLength;
    return {
      header,
      checksum,
      liveLabels,
      graphOffset,
      graphLength: size - graphOffset,
      labelsChecksum: crc32(labelBytes),
    };
  } finally {
    yield* closeHandle(input);
  }
}

/** The algorithm of {@link readSnapshot}, as steps. */
function* readSnapshotSteps(file: string): Steps<SnapshotRead> {
  const head = yield* readSnapshotHeadSteps(file);
  let input: Handle;
  try {
    input = yield* openHandle(file, 'r');
  } catch (error) {
    throw cannotOpen(file, error);
  }
  try {
    let computed = head.labelsChecksum;
    const chunk = Buffer.allocUnsafe(CHUNK_BYTES);
    const end = head.graphOffset + head.graphLength;
    for (let position = head.graphOffset; position < end; ) {
      const read = yield* readAt(input, chunk, Math.min(CHUNK_BYTES, end - position), position);
      if (read === 0) throw corrupt(file, 'it ended early');
      computed = crc32(chunk.subarray(0, read), computed);
      position += read;
    }
    if (computed !== head.checksum) throw corrupt(file, 'its payload checksum is wrong');
    return { header: head.header, checksum: head.checksum, liveLabels: head.liveLabels };
  } finally {
    yield* closeHandle(input);
  }
}

/** Removes every snapshot, float-vector or temporary file in `directory` except `keep` and its float-vector file. */
export function removeSnapshotsExcept(directory: string, keep: string | undefined): void {
  let names: string[];
  try {
    names = readdirSync(directory);
  } catch {
    return;
  }
  // The snapshot's float-vector file (`.f32`, src/index/vector-file.ts) goes with it.
  const keepVectors = keep?.replace(/\.bin$/, '.f32');
  for (const name of names) {
    if (name !== keep && name !== keepVectors && /^hnsw\.\d+(\.\d+)?\.(bin|f32)(\.tmp|\.graph\.tmp)?$/.test(name))
      rmSync(join(directory, name), { force: true });
    // A graph copy `load.<pid>.<n>.graph.tmp`, left by an earlier QuiverDB (which copied the graph out of
    // the snapshot before loading it) killed while loading (never one of a live process).
    const loading = /^load\.(\d+)\.\d+\.graph\.tmp$/.exec(name);
    if (loading !== null && !processAlive(Number(loading[1]))) rmSync(join(directory, name), { force: true });
  }
}

/** True while process `pid` lives (signal 0 checks without signalling; EPERM: alive, another user's). */
function processAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as { code?: unknown }).code === 'EPERM';
  }
}

/** fsyncs a directory so a rename inside it is durable. */
export function syncDirectory(directory: string): void {
  const descriptor = openSync(directory, 'r');
  try {
    fsyncSync(descriptor);
  } finally {
    closeSync(descriptor);
  }
}

function corrupt(file: string, why: string): QuiverError {
  return new QuiverError('CORRUPT', `snapshot ${file} is damaged: ${why}`);
}
