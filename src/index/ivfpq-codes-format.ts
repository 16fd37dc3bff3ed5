// Reader and writer of one chunk of IVF-PQ codes: which label sits in which list with which PQ code.
// Little-endian; the CRC-32 covers every byte before it. Must not import src/storage/.
//
// | offset     | bytes | type | field                                      |
// |------------|-------|------|--------------------------------------------|
// | 0          | 4     | u8×4 | magic "QVIC"                               |
// | 4          | 4     | u32  | format version (1)                         |
// | 8          | 4     | u32  | m, bytes per code                          |
// | 12         | 4     | u32  | c, entries in this chunk                   |
// | 16         | 4·c   | u32  | labels                                     |
// | 16 + 4c    | 4·c   | u32  | IVF list of each label                     |
// | 16 + 8c    | m·c   | u8   | PQ codes, one row of m bytes per label     |
// | 16 + (8+m)c| 4     | u32  | CRC-32 of every byte before it             |
import { QuiverError } from '../errors.js';
import { crc32 } from '../quant/crc32.js';

/** "QVIC" */
const MAGIC = [0x51, 0x56, 0x49, 0x43] as const;
/** The format version this module writes and the newest it reads. */
export const IVF_CODES_FORMAT_VERSION = 1;
const HEADER_BYTES = 16;
const CHECKSUM_BYTES = 4;

/** The entries of one chunk: `labels[i]` sits in list `lists[i]` with code `codes[i·m … (i+1)·m)`. */
export interface IvfCodesChunk {
  readonly m: number;
  readonly labels: Uint32Array;
  readonly lists: Uint32Array;
  readonly codes: Uint8Array;
}

/**
 * Serialises a chunk (layout in this module's header).
 * @example
 * const bytes = writeIvfCodes({ m: 16, labels, lists, codes });
 * @throws QuiverError INVALID_ARGUMENT when the arrays' lengths do not agree.
 */
export function writeIvfCodes(chunk: IvfCodesChunk): Uint8Array {
  const { m, labels, lists, codes } = chunk;
  const count = labels.length;
  if (lists.length !== count || codes.length !== count * m) {
    throw new QuiverError(
      'INVALID_ARGUMENT',
      `writeIvfCodes: ${count} labels need ${count} lists and ${count * m} code bytes`,
    );
  }
  const length = HEADER_BYTES + (8 + m) * count + CHECKSUM_BYTES;
  const bytes = new Uint8Array(length);
  const view = new DataView(bytes.buffer);
  bytes.set(MAGIC, 0);
  view.setUint32(4, IVF_CODES_FORMAT_VERSION, true);
  view.setUint32(8, m, true);
  view.setUint32(12, count, true);
  let offset = HEADER_BYTES;
  for (const values of [labels, lists]) {
    for (let index = 0; index < count; index++, offset += 4) view.setUint32(offset, values[index]!, true);
  }
  bytes.set(codes, offset);
  offset += codes.length;
  view.setUint32(offset, crc32(bytes.subarray(0, offset)), true);
  return bytes;
}

/**
 * Parses bytes written by {@link writeIvfCodes}, checking magic, version, sizes and checksum.
 * @example
 * const { labels, lists, codes } = readIvfCodes(bytes, 16);
 * @throws QuiverError CORRUPT on a bad magic, checksum, truncation or another m; FORMAT_TOO_NEW.
 */
export function readIvfCodes(bytes: Uint8Array, m: number): IvfCodesChunk {
  if (bytes.length < HEADER_BYTES + CHECKSUM_BYTES) throw corrupt(`it is ${bytes.length} bytes (truncated?)`);
  if (MAGIC.some((byte, index) => bytes[index] !== byte)) throw corrupt('the magic is not "QVIC"');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const storedM = view.getUint32(8, true);
  const count = view.getUint32(12, true);
  const expected = HEADER_BYTES + (8 + storedM) * count + CHECKSUM_BYTES;
  if (expected !== bytes.length) throw corrupt(`its header needs ${expected} bytes but it has ${bytes.length}`);
  const checksumAt = bytes.length - CHECKSUM_BYTES;
  if (view.getUint32(checksumAt, true) !== crc32(bytes.subarray(0, checksumAt))) {
    throw corrupt('the checksum does not match the contents');
  }
  const version = view.getUint32(4, true);
  if (version > IVF_CODES_FORMAT_VERSION) {
    throw new QuiverError(
      'FORMAT_TOO_NEW',
      `IVF codes format version ${version} is newer than the ${IVF_CODES_FORMAT_VERSION} this QuiverDB reads; upgrade QuiverDB`,
    );
  }
  if (version !== IVF_CODES_FORMAT_VERSION) throw corrupt(`format version ${version} does not exist`);
  if (storedM !== m) throw corrupt(`it holds codes of ${storedM} bytes; the codebook has m ${m}`);
  const labels = new Uint32Array(count);
  const lists = new Uint32Array(count);
  let offset = HEADER_BYTES;
  for (const values of [labels, lists]) {
    for (let index = 0; index < count; index++, offset += 4) values[index] = view.getUint32(offset, true);
  }
  const codes = bytes.slice(offset, offset + count * m);
  return { m, labels, lists, codes };
}

function corrupt(reason: string): QuiverError {
  return new QuiverError('CORRUPT', `a chunk of IVF-PQ codes is damaged: ${reason}`);
}
