// The bytes of one published change (one JetStream message). Imports no NATS code.
//
// | bytes        | content                                                                    |
// |--------------|----------------------------------------------------------------------------|
// | 0 … n-1      | UTF-8 JSON header: { v: 1, db, seq, collection, op, at, id?, metadata?,    |
// |              |   text?, settings?, dim? } — dim is the vector's length, when there is one  |
// | n            | 0x0A (newline; JSON text holds none)                                       |
// | n+1 … end    | the vector: dim little-endian float32 numbers (absent when dim is absent)  |
import { QuiverError } from '../errors.js';
import type { Change, CollectionSettingsChange, Metadata } from '../types.js';

const FORMAT = 1;
const NEWLINE = 0x0a;
const OPS = new Set(['upsert', 'update', 'delete', 'create', 'index', 'drop']);

interface Header {
  v: number;
  db: string;
  seq: number;
  collection: string;
  op: Change['op'];
  at: number;
  id?: string;
  metadata?: Metadata;
  text?: string;
  settings?: CollectionSettingsChange;
  dim?: number;
}

/** A decoded message: the change and the id of the database it came from. */
export interface ChangeMessage {
  readonly databaseId: string;
  readonly change: Change;
}

export function encodeChange(databaseId: string, change: Change): Uint8Array {
  const header: Header = {
    v: FORMAT,
    db: databaseId,
    seq: change.seq,
    collection: change.collection,
    op: change.op,
    at: change.committedAt,
  };
  if (change.id !== undefined) header.id = change.id;
  if (change.metadata !== undefined) header.metadata = change.metadata;
  if (change.text !== undefined) header.text = change.text;
  if (change.settings !== undefined) header.settings = change.settings;
  if (change.vector !== undefined) header.dim = change.vector.length;
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const vectorBytes = change.vector === undefined ? 0 : change.vector.byteLength;
  const bytes = Buffer.allocUnsafe(json.length + 1 + vectorBytes);
  json.copy(bytes, 0);
  bytes[json.length] = NEWLINE;
  if (change.vector !== undefined) {
    bytes.set(new Uint8Array(change.vector.buffer, change.vector.byteOffset, vectorBytes), json.length + 1);
  }
  return bytes;
}

/** Decodes a message; anything malformed is CORRUPT (a stream QuiverDB did not write, or damage). */
export function decodeChange(bytes: Uint8Array): ChangeMessage {
  const end = bytes.indexOf(NEWLINE);
  let header: Header;
  try {
    if (end < 0) throw new Error('no header line');
    header = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, end).toString('utf8')) as Header;
  } catch (error) {
    throw new QuiverError('CORRUPT', `a message of the stream is not a QuiverDB change (${(error as Error).message})`, {
      cause: error,
    });
  }
  const bad = (why: string): QuiverError =>
    new QuiverError('CORRUPT', `a message of the stream (seq ${String(header.seq)}) is damaged: ${why}`);
  if (header.v !== FORMAT) {
    if (typeof header.v === 'number' && header.v > FORMAT) {
      throw new QuiverError(
        'FORMAT_TOO_NEW',
        `the stream holds change format ${header.v}; upgrade quiverdb to read it`,
      );
    }
    throw bad(`unknown format ${String(header.v)}`);
  }
  if (typeof header.db !== 'string' || !/^[0-9a-f]{32}$/.test(header.db)) throw bad('no database id');
  if (!Number.isSafeInteger(header.seq) || header.seq < 1) throw bad('no seq');
  if (typeof header.collection !== 'string' || header.collection.length === 0) throw bad('no collection');
  if (!OPS.has(header.op)) throw bad(`unknown op '${String(header.op)}'`);
  if (!Number.isFinite(header.at)) throw bad('no commit time');
  const change: Change = { seq: header.seq, collection: header.collection, op: header.op, committedAt: header.at };
  if (header.id !== undefined) {
    if (typeof header.id !== 'string') throw bad('an id that is not a string');
    change.id = header.id;
  }
  if (header.metadata !== undefined) {
    if (header.metadata === null || typeof header.metadata !== 'object' || Array.isArray(header.metadata)) {
      throw bad('metadata that is not an object');
    }
    change.metadata = header.metadata;
  }
  if (header.text !== undefined) change.text = header.text;
  if (header.settings !== undefined) change.settings = header.settings;
  const vectorBytes = bytes.length - end - 1;
  if (header.dim !== undefined) {
    if (!Number.isSafeInteger(header.dim) || header.dim < 1 || vectorBytes !== header.dim * 4) {
      throw bad(`a vector of ${vectorBytes} bytes for dim ${String(header.dim)}`);
    }
    const vector = new Float32Array(header.dim);
    new Uint8Array(vector.buffer).set(bytes.subarray(end + 1));
    change.vector = vector;
  } else if (vectorBytes !== 0) {
    throw bad(`${vectorBytes} bytes after the header`);
  }
  const needsId = change.op === 'upsert' || change.op === 'delete' || change.op === 'update';
  if (needsId && change.id === undefined) throw bad(`an ${change.op} without an id`);
  if (change.op === 'upsert' && (change.vector === undefined || change.metadata === undefined)) {
    throw bad('an upsert without its vector or metadata');
  }
  if ((change.op === 'create' || change.op === 'index') && change.settings === undefined) {
    throw bad(`a ${change.op} without settings`);
  }
  return { databaseId: header.db, change };
}
