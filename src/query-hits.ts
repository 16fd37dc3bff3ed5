// Query hits from an index's neighbours: `query`'s hits with their records read by key and checked
// (records.head_checksum alone unless the vectors are returned), and `queryIds`' ids from a memo filled
// by the same point reads. Reads through the store; knows nothing of indexes beyond their neighbours.
import { QuiverError } from './errors.js';
import type { Neighbours } from './index/types.js';
import type { Metric } from './schema.js';
import type { Store, StoredRecord } from './storage/store.js';
import { checkedHead, checkedRecord } from './storage/stored-record.js';
import type { Metadata, QueryHit } from './types.js';

/**
 * Most ids the memo keeps (about 100 bytes each with a short id): past it the oldest are forgotten, so
 * a large collection queried all over costs a bounded amount of memory, and a reread where it is evicted.
 */
const MEMO_CAPACITY = 2 ** 20;

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
 * The ids of labels, remembered after their first point read (nothing is read up front, so the first
 * query after open costs k point reads, not a scan of the collection). Writes on this connection keep it
 * current; `clear()` after another connection wrote.
 */
export class HitIds {
  readonly #source: HitSource;
  readonly #ids = new Map<number, string>();

  constructor(source: HitSource) {
    this.#source = source;
  }

  /** The ids of `labels`, in order; those not remembered are read in one statement and checked. */
  idsOf(labels: readonly number[]): string[] {
    const ids: string[] = new Array(labels.length);
    const missing: number[] = [];
    for (let i = 0; i < labels.length; i++) {
      const id = this.#ids.get(labels[i]!);
      if (id === undefined) missing.push(labels[i]!);
      else ids[i] = id;
    }
    if (missing.length === 0) return ids;
    const { store, collectionId, name } = this.#source;
    const rows = store.recordsByLabels(collectionId, missing, false);
    rows.forEach((row, i) => {
      const label = missing[i]!;
      if (row === undefined) throw noRecord(label, name);
      const head = checkedHead(row, name);
      if (head.label !== label) throw misplaced(head.id, head.label, label, name);
      this.remember(label, head.id);
    });
    for (let i = 0; i < labels.length; i++) ids[i] ??= this.#ids.get(labels[i]!)!;
    return ids;
  }

  /** Records that `label` now holds `id` (after a committed upsert). */
  remember(label: number, id: string): void {
    if (this.#ids.size >= MEMO_CAPACITY && !this.#ids.has(label)) {
      this.#ids.delete(this.#ids.keys().next().value!);
    }
    this.#ids.set(label, id);
  }

  /** Forgets `label` (after a committed delete). */
  forget(label: number): void {
    this.#ids.delete(label);
  }

  /** Forgets every id (another connection wrote). */
  clear(): void {
    this.#ids.clear();
  }
}

/**
 * The hits of `neighbours` with their records: one statement reads them all by key, each is checked
 * (with its vector only when `includeVectors`: the head checksum covers the rest) before it is returned.
 */
export function hydrateHits(
  source: HitSource,
  neighbours: Neighbours,
  includeVectors: boolean,
  includeText: boolean,
): QueryHit[] {
  const { store, collectionId, name, dim, metric } = source;
  const rows = store.recordsByLabels(collectionId, neighbours.labels, includeVectors);
  const hits: QueryHit[] = new Array(rows.length);
  for (let i = 0; i < rows.length; i++) {
    const label = neighbours.labels[i]!;
    const row = rows[i];
    if (row === undefined) throw noRecord(label, name);
    // With includeVectors the rows were read with their vectors and checksums (recordsByLabels).
    const full = includeVectors ? checkedRecord(row as StoredRecord, dim, name) : undefined;
    const record = full ?? checkedHead(row, name);
    if (record.label !== label) throw misplaced(record.id, record.label, label, name);
    const raw = neighbours.distances[i]!;
    const metadata = record.metadata as Metadata;
    const hit: QueryHit =
      metric === 'l2'
        ? { id: record.id, distance: Math.sqrt(Math.max(0, raw)), metadata }
        : { id: record.id, distance: raw, score: 1 - raw, metadata };
    if (includeText && record.text !== undefined) hit.text = record.text;
    if (full !== undefined) hit.vector = full.vector;
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
