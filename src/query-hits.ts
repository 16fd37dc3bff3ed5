// Query hits from an index's neighbours: record heads (id, metadata, text) remembered by label after a
// point read by key checked against records.head_checksum, for `query` and `queryIds`; hits with vectors
// read whole and checked by both checksums. Reads through the store; knows nothing of indexes.
import { QuiverError } from './errors.js';
import type { Neighbours } from './index/types.js';
import type { Metric } from './schema.js';
import type { Store } from './storage/store.js';
import { checkedHead, checkedRecord } from './storage/stored-record.js';
import type { Metadata, QueryHit } from './types.js';

/** Where a collection's hits come from. */
export interface HitSource {
  readonly store: Store;
  readonly collectionId: number;
  /** The collection's name, for messages. */
  readonly name: string;
  readonly dim: number;
  readonly metric: Metric;
}

/**
 * Bytes of strings the memo keeps at most (UTF-16, two bytes a character, plus HEAD_OVERHEAD per entry):
 * past it the oldest entries are forgotten, so a collection queried all over costs a bounded amount of
 * memory, and a reread where an entry was evicted.
 */
const MEMO_BYTES = 32 * 2 ** 20;

/** Bytes an entry costs beside its strings (the Map slot, the object and its fields), roughly. */
const HEAD_OVERHEAD = 96;

/** A record's head as stored, after it passed its checks (metadata is the JSON text of an object). */
export interface RememberedHead {
  readonly id: string;
  readonly metadata: string;
  readonly text: string | null;
}

/**
 * The heads (id, metadata JSON text, text) of records by label, remembered after their first point read
 * and check: nothing is read up front, so the first query after open costs k point reads, not a scan of
 * the collection, and a repeated hit costs no SQLite read. Metadata is kept as text and parsed for each
 * hit, so no caller shares an object. Writes on this connection forget what they change; `clear()` after
 * another connection wrote.
 */
export class HitHeads {
  readonly #source: HitSource;
  readonly #heads = new Map<number, RememberedHead>();
  #bytes = 0;

  constructor(source: HitSource) {
    this.#source = source;
  }

  /** The heads of `labels`, in order; those not remembered are read in one statement and checked. */
  headsOf(labels: readonly number[]): RememberedHead[] {
    const heads: RememberedHead[] = new Array(labels.length);
    const missing: number[] = [];
    for (let i = 0; i < labels.length; i++) {
      const head = this.#heads.get(labels[i]!);
      if (head === undefined) missing.push(labels[i]!);
      else heads[i] = head;
    }
    if (missing.length === 0) return heads;
    const { store, collectionId, name } = this.#source;
    const rows = store.recordsByLabels(collectionId, missing, false);
    const read = new Map<number, RememberedHead>();
    rows.forEach((row, i) => {
      const label = missing[i]!;
      if (row === undefined) throw noRecord(label, name);
      const checked = checkedHead(row, name);
      if (checked.label !== label) throw misplaced(checked.id, checked.label, label, name);
      const head: RememberedHead = { id: row.id, metadata: row.metadata, text: row.text };
      read.set(label, head);
      this.#remember(label, head);
    });
    for (let i = 0; i < labels.length; i++) heads[i] ??= read.get(labels[i]!)!;
    return heads;
  }

  #remember(label: number, head: RememberedHead): void {
    this.forget(label);
    this.#heads.set(label, head);
    this.#bytes += bytesOf(head);
    while (this.#bytes > MEMO_BYTES) {
      const [oldest, evicted] = this.#heads.entries().next().value!;
      this.#heads.delete(oldest);
      this.#bytes -= bytesOf(evicted);
    }
  }

  /** Forgets `label` (after a committed upsert or delete of it). */
  forget(label: number): void {
    const head = this.#heads.get(label);
    if (head === undefined) return;
    this.#heads.delete(label);
    this.#bytes -= bytesOf(head);
  }

  /** Forgets every head (another connection wrote). */
  clear(): void {
    this.#heads.clear();
    this.#bytes = 0;
  }
}

function bytesOf(head: RememberedHead): number {
  return HEAD_OVERHEAD + 2 * (head.id.length + head.metadata.length + (head.text?.length ?? 0));
}

/**
 * The hits of `neighbours` with their records. Without vectors, from the remembered heads (each read
 * and checked against its head checksum once); with them, all read by key in one statement and checked
 * whole (both checksums) before they are returned.
 */
export function hydrateHits(
  source: HitSource,
  heads: HitHeads,
  neighbours: Neighbours,
  includeVectors: boolean,
  includeText: boolean,
): QueryHit[] {
  const { labels, distances } = neighbours;
  const l2 = source.metric === 'l2';
  const hits: QueryHit[] = new Array(labels.length);
  if (!includeVectors) {
    const found = heads.headsOf(labels);
    for (let i = 0; i < labels.length; i++) {
      const head = found[i]!;
      const raw = distances[i]!;
      const metadata = JSON.parse(head.metadata) as Metadata;
      const hit: QueryHit = l2
        ? { id: head.id, distance: Math.sqrt(Math.max(0, raw)), metadata }
        : { id: head.id, distance: raw, score: 1 - raw, metadata };
      if (includeText && head.text !== null) hit.text = head.text;
      hits[i] = hit;
    }
    return hits;
  }
  const { store, collectionId, name, dim } = source;
  const rows = store.recordsByLabels(collectionId, labels, true);
  for (let i = 0; i < rows.length; i++) {
    const label = labels[i]!;
    const row = rows[i];
    if (row === undefined) throw noRecord(label, name);
    const record = checkedRecord(row, dim, name);
    if (record.label !== label) throw misplaced(record.id, record.label, label, name);
    const raw = distances[i]!;
    const metadata = record.metadata as Metadata;
    const hit: QueryHit = l2
      ? { id: record.id, distance: Math.sqrt(Math.max(0, raw)), metadata, vector: record.vector }
      : { id: record.id, distance: raw, score: 1 - raw, metadata, vector: record.vector };
    if (includeText && record.text !== undefined) hit.text = record.text;
    hits[i] = hit;
  }
  return hits;
}

/** The index found a label that has no record under its key: a record stored under another key (damage). */
function noRecord(label: number, name: string): QuiverError {
  return new QuiverError(
    'CORRUPT',
    `label ${label} of collection '${name}' has no record under its key in quiver.sqlite; run quiver verify`,
  );
}

/** A row found under one label's key whose label column says another: damage to records. */
function misplaced(id: string, stored: number, label: number, name: string): QuiverError {
  return new QuiverError(
    'CORRUPT',
    `record ${JSON.stringify(id)} of collection '${name}' in quiver.sqlite is damaged: it has label ${stored} but is stored under label ${label}. Run quiver verify; upsert the record again or delete it`,
  );
}
