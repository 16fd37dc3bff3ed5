// The two per-record checksums, written in the transaction that writes the record. records.checksum is a
// CRC-32 over a record's label, id, vector, metadata and optional text, verified on every read that
// returns the vector and by `quiver verify`. records.head_checksum (migration 9) is the same CRC-32 over
// the same bytes without the vector's two rows, verified on every read (a query hit without its vector
// is checked by it alone, so hydrating hits never reads the vector). Imports only the project's CRC-32.
// The bytes the full checksum covers, in order (lengths little-endian uint32; text absent and text null
// are the same):
// | bytes | field                                              |
// |-------|----------------------------------------------------|
// | 4     | label                                              |
// | 4     | id length n in UTF-8 bytes                         |
// | n     | id, UTF-8                                          |
// | 4     | vector length v in bytes (dim × 4)                 |
// | v     | vector, little-endian float32, as stored           |
// | 4     | metadata length m in UTF-8 bytes                   |
// | m     | metadata JSON text, UTF-8, as stored               |
// | 1     | 1 when the record has text, 0 when absent or null  |
// | 4     | text length t in UTF-8 bytes (only with text)      |
// | t     | text, UTF-8 (only with text)                       |
import { crc32 } from '../quant/crc32.js';

/** What the head checksum covers of one record (everything but the vector), as stored in SQLite. */
export interface ChecksummedHead {
  readonly label: number;
  readonly id: string;
  /** The stored JSON text. */
  readonly metadata: string;
  /** The record's text, when it has one. */
  readonly text?: string | null | undefined;
}

/** What the checksum covers of one record, as stored in SQLite. */
export interface ChecksummedRecord extends ChecksummedHead {
  /** The stored BLOB: dim float32 numbers, little-endian. */
  readonly vector: Uint8Array;
}

const word = Buffer.alloc(4);
const flag = Buffer.alloc(1);

function crcOfWord(value: number, previous: number): number {
  word.writeUInt32LE(value >>> 0, 0);
  return crc32(word, previous);
}

/** CRC-32 of a length-prefixed piece: its length then its bytes. */
function crcOfPiece(bytes: Uint8Array, previous: number): number {
  return crc32(bytes, crcOfWord(bytes.byteLength, previous));
}

/**
 * The checksum of a record (an unsigned 32-bit integer), over the bytes in this module's header table.
 * @example
 * const checksum = recordChecksum({ label: 0, id: 'a', vector: new Uint8Array(12), metadata: '{}' });
 */
export function recordChecksum(record: ChecksummedRecord): number {
  let crc = crcOfWord(record.label, 0);
  crc = crcOfPiece(Buffer.from(record.id, 'utf8'), crc);
  crc = crcOfPiece(record.vector, crc);
  return crcOfTail(record, crc);
}

/**
 * The head checksum of a record: the bytes of {@link recordChecksum} without the vector's length and
 * bytes (label, id, metadata, text).
 * @example
 * const head = recordHeadChecksum({ label: 0, id: 'a', metadata: '{}' });
 */
export function recordHeadChecksum(record: ChecksummedHead): number {
  let crc = crcOfWord(record.label, 0);
  crc = crcOfPiece(Buffer.from(record.id, 'utf8'), crc);
  return crcOfTail(record, crc);
}

/** Continues a checksum over the metadata and the text. */
function crcOfTail(record: ChecksummedHead, previous: number): number {
  let crc = crcOfPiece(Buffer.from(record.metadata, 'utf8'), previous);
  const text = record.text;
  flag[0] = text === undefined || text === null ? 0 : 1;
  crc = crc32(flag, crc);
  if (text !== undefined && text !== null) crc = crcOfPiece(Buffer.from(text, 'utf8'), crc);
  return crc;
}
