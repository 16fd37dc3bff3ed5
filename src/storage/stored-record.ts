// The checks every record read back from SQLite passes before QuiverDB uses it: column types, the label
// range, the vector's length and finiteness, a text that is a string or NULL, the record checksums
// (record-checksum.ts) and metadata JSON that parses to an object. A read without the vector (a query
// hit) checks the rest against the head checksum alone. Damage is CORRUPT naming the collection and the
// id. Knows nothing of indexes.
import { QuiverError } from '../errors.js';
import { recordChecksum, recordHeadChecksum } from './record-checksum.js';

/** Labels are below 2^31: the allow-lists handed to the native search are Int32Arrays. */
export const LABEL_LIMIT = 0x7fffffff;

/** A records row without its vector, as SQLite returns it: nothing about its types is trusted yet. */
export interface StoredHead {
  readonly id: string;
  readonly label: number;
  readonly metadata: string;
  /** The record's text: a string, or null for none (anything else is damage). */
  readonly text: string | null;
  /** records.head_checksum. */
  readonly headChecksum: number | null;
}

/** A records row as SQLite returns it: nothing about its types is trusted yet. */
export interface StoredRecord extends StoredHead {
  readonly vector: Buffer;
  readonly checksum: number | null;
}

/** A record's head that passed every check of {@link inspectHead}. */
export interface CheckedHead {
  readonly id: string;
  readonly label: number;
  readonly metadata: Record<string, unknown>;
  /** The record's text, or undefined when it has none. */
  readonly text: string | undefined;
}

/** A record that passed every check. */
export interface CheckedRecord {
  readonly id: string;
  readonly label: number;
  readonly vector: Float32Array;
  readonly metadata: Record<string, unknown>;
  /** The record's text, or undefined when it has none. */
  readonly text: string | undefined;
}

/** True for a label a record may hold: an integer from 0 below LABEL_LIMIT. */
export function isValidLabel(label: unknown): label is number {
  return typeof label === 'number' && Number.isInteger(label) && label >= 0 && label < LABEL_LIMIT;
}

/** CORRUPT for a label read back from SQLite that no record may hold. */
export function checkLabel(label: unknown, collection: string): number {
  if (isValidLabel(label)) return label;
  throw new QuiverError(
    'CORRUPT',
    `collection '${collection}' has a record with label ${String(label)} in quiver.sqlite (labels are integers from 0 below ${LABEL_LIMIT}); run quiver verify`,
  );
}

/**
 * What is wrong with a stored record's head (id, label, metadata, text and the head checksum over them),
 * or its parsed metadata and text when it passes. The vector is neither read nor checked: for hits
 * returned without their vectors.
 */
export function inspectHead(
  row: StoredHead,
): { damage: string; kind: string } | { metadata: Record<string, unknown>; text: string | undefined } {
  const {
    id,
    label,
    metadata: json,
    text,
    headChecksum,
  } = row as {
    id: unknown;
    label: unknown;
    metadata: unknown;
    text: unknown;
    headChecksum: unknown;
  };
  if (typeof id !== 'string' || id.length === 0) return { kind: 'id', damage: `has an id that is ${typeOf(id)}` };
  if (!isValidLabel(label)) return { kind: 'label', damage: `has label ${String(label)}, out of range` };
  const metadata = parsedMetadata(json);
  if (metadata === undefined) return { kind: 'metadata', damage: 'has metadata that is not a JSON object' };
  if (text !== null && typeof text !== 'string') return { kind: 'text', damage: `has a text that is ${typeOf(text)}` };
  if (typeof headChecksum !== 'number') return { kind: 'checksum', damage: 'has no head checksum' };
  if (recordHeadChecksum({ label, id, metadata: json as string, text }) !== headChecksum) {
    return { kind: 'checksum', damage: 'has a head checksum that does not match its label, id, metadata and text' };
  }
  return { metadata, text: text ?? undefined };
}

/**
 * What is wrong with a stored record, or undefined when it passes every check; with the parsed
 * vector and metadata when it does. One function for reads and for `quiver verify`: the head
 * (inspectHead, with its checksum) and then the full checksum are checked.
 */
export function inspectRecord(
  row: StoredRecord,
  dim: number,
):
  | { damage: string; kind: string }
  | { vector: Float32Array; metadata: Record<string, unknown>; text: string | undefined } {
  const {
    id,
    label,
    vector: blob,
    metadata: json,
    text,
    checksum,
  } = row as {
    id: unknown;
    label: unknown;
    vector: unknown;
    metadata: unknown;
    text: unknown;
    checksum: unknown;
  };
  if (typeof id !== 'string' || id.length === 0) return { kind: 'id', damage: `has an id that is ${typeOf(id)}` };
  if (!isValidLabel(label)) return { kind: 'label', damage: `has label ${String(label)}, out of range` };
  if (!(blob instanceof Uint8Array) || blob.byteLength !== dim * 4) {
    const size = blob instanceof Uint8Array ? `${blob.byteLength} bytes` : typeOf(blob);
    return { kind: 'length', damage: `has a vector of ${size}; dim ${dim} needs ${dim * 4}` };
  }
  const vector = new Float32Array(dim);
  new Uint8Array(vector.buffer).set(blob);
  for (let i = 0; i < dim; i++) {
    const value = vector[i]!;
    if (value - value !== 0) return { kind: 'finite', damage: `has ${value} at vector[${i}]` };
  }
  const head = inspectHead(row);
  if ('damage' in head) return head;
  if (typeof checksum !== 'number') return { kind: 'checksum', damage: 'has no checksum' };
  if (recordChecksum({ label, id, vector: blob, metadata: json as string, text: text as string | null }) !== checksum) {
    return {
      kind: 'checksum',
      damage: 'has a checksum that does not match its label, id, vector, metadata and text',
    };
  }
  return { vector, metadata: head.metadata, text: head.text };
}

/** The metadata JSON text parsed, when it is a JSON object; undefined for anything else. */
function parsedMetadata(json: unknown): Record<string, unknown> | undefined {
  if (typeof json !== 'string') return undefined;
  let metadata: unknown;
  try {
    metadata = JSON.parse(json);
  } catch {
    return undefined;
  }
  if (metadata === null || typeof metadata !== 'object' || Array.isArray(metadata)) return undefined;
  return metadata as Record<string, unknown>;
}

/** The record, checked; CORRUPT naming the collection and the id when it is damaged. */
export function checkedRecord(row: StoredRecord, dim: number, collection: string): CheckedRecord {
  const inspected = inspectRecord(row, dim);
  if ('damage' in inspected) throw damaged(row, collection, inspected.damage);
  return { id: row.id, label: row.label, vector: inspected.vector, metadata: inspected.metadata, text: inspected.text };
}

/** The record's head, checked without its vector; CORRUPT naming the collection and the id when it is damaged. */
export function checkedHead(row: StoredHead, collection: string): CheckedHead {
  const inspected = inspectHead(row);
  if ('damage' in inspected) throw damaged(row, collection, inspected.damage);
  return { id: row.id, label: row.label, metadata: inspected.metadata, text: inspected.text };
}

function damaged(row: StoredHead, collection: string, damage: string): QuiverError {
  return new QuiverError(
    'CORRUPT',
    `record ${JSON.stringify(String(row.id))} of collection '${collection}' in quiver.sqlite is damaged: it ${damage}. Run quiver verify; upsert the record again or delete it`,
  );
}

function typeOf(value: unknown): string {
  if (value === null) return 'NULL';
  if (value instanceof Uint8Array) return 'a BLOB';
  return `a ${typeof value}`;
}
