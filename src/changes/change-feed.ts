// The change feed of one open database: records each committed change (called by collections and
// the database inside their write transactions), reads them back in seq order, follows new commits
// (watch), keeps the named consumers' cursors and trims the log to the retention rules.
// Must not import src/collection/ or db.ts. Layout of its tables: storage/migrations/0007-changes.ts.
import { isQuiverError, QuiverError, toQuiverError } from '../errors.js';
import type { ChangeRow, ChangeStore, UpdateChangeRow, UpsertChangeRows } from '../storage/change-store.js';
import type {
  Change,
  ChangeConsumerInfo,
  ChangeFeedInfo,
  ChangeRetention,
  ChangesOptions,
  CollectionSettingsChange,
  Metadata,
  WatchOptions,
} from '../types.js';

/** Most changes one `changes()` call returns when no limit is given, and most a call may ask for. */
export const DEFAULT_CHANGES_LIMIT = 1000;
export const MAX_CHANGES_LIMIT = 100_000;
/** Changes committed between two trims by the writer (a trim is one DELETE; its cost is spread). */
const TRIM_EVERY = 1000;
/** How often watch() looks for commits of other processes (in-process commits wake it at once). */
const DEFAULT_POLL_MS = 20;
const RETENTION_ROWS_KEY = 'changes_retention_rows';
const RETENTION_AGE_KEY = 'changes_retention_age_ms';
const CONSUMER_NAME = /^[A-Za-z0-9_.:-]{1,128}$/;

/** What a collection tells the feed about a write, inside the write's transaction. */
export interface ChangeRecorder {
  upserts(collection: string, batch: UpsertChangeRows): void;
  deletes(collection: string, collectionId: number, labels: readonly number[]): void;
  /** Records whose metadata or text changed in place (vectors untouched). */
  updates(collection: string, rows: readonly UpdateChangeRow[]): void;
  /** After the write's transaction committed: wakes watchers and trims now and then. */
  committed(): void;
}

export class ChangeFeed implements ChangeRecorder {
  readonly #store: ChangeStore;
  readonly #readOnly: boolean;
  /** When false, writes record no changes (a replica's own database: it applies another's feed). */
  #recording = true;
  /** The last seq when the writer last trimmed (0: not yet in this process). */
  #trimmedAt = 0;
  readonly #waiters = new Set<() => void>();

  constructor(store: ChangeStore, readOnly: boolean) {
    this.#store = store;
    this.#readOnly = readOnly;
  }

  /** Stops recording changes (for a replica, whose database applies another database's feed). */
  stopRecording(): void {
    this.#recording = false;
  }

  get databaseId(): string {
    const id = this.#store.meta('database_id');
    if (id === undefined || !/^[0-9a-f]{32}$/.test(id)) {
      throw new QuiverError('CORRUPT', 'quiver.sqlite has no valid database_id in its meta table');
    }
    return id;
  }

  upserts(collection: string, batch: UpsertChangeRows): void {
    if (this.#recording) this.#store.appendUpserts(collection, batch, Date.now());
  }

  deletes(collection: string, collectionId: number, labels: readonly number[]): void {
    if (this.#recording && labels.length > 0)
      this.#store.appendDeletesOfLabels(collection, collectionId, labels, Date.now());
  }

  updates(collection: string, rows: readonly UpdateChangeRow[]): void {
    if (this.#recording && rows.length > 0) this.#store.appendUpdates(collection, rows, Date.now());
  }

  /** A collection created (settings: dim, metric, index, indexes), given new field indexes, or dropped. */
  collectionChanged(collection: string, op: 'create' | 'index' | 'drop', settings?: CollectionSettingsChange): void {
    if (this.#recording)
      this.#store.appendCollectionChange(collection, op, settings === undefined ? null : JSON.stringify(settings));
  }

  committed(): void {
    for (const wake of this.#waiters) wake();
    this.#waiters.clear();
    if (this.#readOnly) return;
    const last = this.#store.lastSeq();
    if (last - this.#trimmedAt < TRIM_EVERY) return;
    this.#trimmedAt = last;
    this.trim();
  }

  lastSeq(): number {
    return this.#store.lastSeq();
  }

  changes(options: ChangesOptions = {}): Change[] {
    const limit = checkLimit(options.limit);
    let after = options.after;
    if (options.consumer !== undefined) {
      const consumer = this.#store.consumer(checkConsumerName(options.consumer));
      if (consumer === undefined) {
        throw new QuiverError(
          'NOT_FOUND',
          `no consumer '${options.consumer}'; create it with db.registerConsumer('${options.consumer}')`,
        );
      }
      after ??= consumer.seq;
    }
    after = checkSeq(after ?? 0, 'options.after');
    const rows = this.#store.read(after, limit);
    // Checked after the read: a trim between the two would otherwise go unnoticed.
    this.#checkKept(after, rows[0]?.seq);
    return rows.map(toChange);
  }

  /** Throws CHANGES_EXPIRED when changes after `after` were trimmed before being read. */
  #checkKept(after: number, firstRead: number | undefined): void {
    const first = firstRead ?? this.#store.firstSeq() ?? this.#store.lastSeq() + 1;
    if (first > after + 1 && after < this.#store.lastSeq()) {
      throw new QuiverError(
        'CHANGES_EXPIRED',
        `the changes after seq ${after} up to ${first - 1} are no longer kept (retention or no consumer held them); ` +
          'bootstrap again from a backup (db.backup) and read on from its changeSeq()',
      );
    }
  }

  async *watch(options: WatchOptions = {}): AsyncGenerator<Change, void, undefined> {
    const pollMs = options.pollMs ?? DEFAULT_POLL_MS;
    if (!Number.isFinite(pollMs) || pollMs < 1)
      throw new QuiverError('INVALID_ARGUMENT', `options.pollMs must be at least 1; got ${pollMs}`);
    const signal = options.signal;
    let after: number | undefined = options.after;
    const base: ChangesOptions = options.consumer === undefined ? {} : { consumer: options.consumer };
    while (signal?.aborted !== true) {
      const page = this.changes({ ...base, ...(after === undefined ? {} : { after }), limit: DEFAULT_CHANGES_LIMIT });
      if (page.length > 0) {
        for (const change of page) yield change;
        after = page[page.length - 1]!.seq;
        continue;
      }
      after ??= options.consumer === undefined ? 0 : (this.#store.consumer(options.consumer)?.seq ?? 0);
      await new Promise<void>((resolve) => {
        const wake = (): void => {
          clearTimeout(timer);
          this.#waiters.delete(wake);
          signal?.removeEventListener('abort', wake);
          resolve();
        };
        const timer = setTimeout(wake, pollMs);
        this.#waiters.add(wake);
        signal?.addEventListener('abort', wake, { once: true });
      });
    }
  }

  registerConsumer(name: string, after?: number): ChangeConsumerInfo {
    checkConsumerName(name);
    const existing = this.#store.consumer(name);
    if (existing !== undefined && after === undefined) return toConsumer(existing);
    const seq = after === undefined ? this.#store.lastSeq() : checkSeq(after, 'options.after');
    if (seq > this.#store.lastSeq()) {
      throw new QuiverError(
        'INVALID_ARGUMENT',
        `options.after is ${seq}; the newest change is ${this.#store.lastSeq()}`,
      );
    }
    this.#checkKept(seq, this.#store.read(seq, 1)[0]?.seq);
    this.#store.setConsumer(name, seq, true);
    return toConsumer(this.#store.consumer(name)!);
  }

  commitConsumer(name: string, seq: number): void {
    checkConsumerName(name);
    checkSeq(seq, 'seq');
    if (seq > this.#store.lastSeq()) {
      throw new QuiverError('INVALID_ARGUMENT', `seq ${seq} is beyond the newest change (${this.#store.lastSeq()})`);
    }
    if (!this.#store.setConsumer(name, seq, false)) {
      throw new QuiverError('NOT_FOUND', `no consumer '${name}'; create it with db.registerConsumer('${name}')`);
    }
  }

  removeConsumer(name: string): boolean {
    return this.#store.removeConsumer(checkConsumerName(name));
  }

  listConsumers(): ChangeConsumerInfo[] {
    return this.#store.consumers().map(toConsumer);
  }

  retention(): ChangeRetention {
    const rows = this.#store.meta(RETENTION_ROWS_KEY);
    const age = this.#store.meta(RETENTION_AGE_KEY);
    return {
      ...(rows === undefined ? {} : { rows: Number(rows) }),
      ...(age === undefined ? {} : { ageMs: Number(age) }),
    };
  }

  setRetention(retention: ChangeRetention): void {
    if (retention === null || typeof retention !== 'object')
      throw new QuiverError('INVALID_ARGUMENT', 'retention must be an object { rows?, ageMs? }');
    for (const key of Object.keys(retention)) {
      if (key !== 'rows' && key !== 'ageMs')
        throw new QuiverError('INVALID_ARGUMENT', `retention has an unknown key '${key}'; use rows and ageMs`);
    }
    for (const key of ['rows', 'ageMs'] as const) {
      const value = retention[key];
      if (value !== undefined && (!Number.isSafeInteger(value) || value < 0)) {
        throw new QuiverError(
          'INVALID_ARGUMENT',
          `retention.${key} must be a non-negative integer; got ${String(value)}`,
        );
      }
    }
    this.#store.setMeta(RETENTION_ROWS_KEY, retention.rows?.toString());
    this.#store.setMeta(RETENTION_AGE_KEY, retention.ageMs?.toString());
    this.trim();
  }

  /**
   * Removes the changes no one may still read: those every consumer has passed (all of them when
   * there is no consumer), and regardless of consumers those beyond the retention limit.
   */
  trim(): number {
    if (this.#readOnly) return 0;
    const last = this.#store.lastSeq();
    const consumers = this.#store.consumers();
    let floor = consumers.length === 0 ? last : Math.min(...consumers.map((consumer) => consumer.seq));
    const { rows, ageMs } = this.retention();
    if (rows !== undefined) floor = Math.max(floor, last - rows);
    if (ageMs !== undefined) floor = Math.max(floor, this.#store.lastSeqBefore(Date.now() - ageMs));
    const first = this.#store.firstSeq();
    if (first === undefined || floor < first) return 0;
    try {
      return this.#store.trim(floor);
    } catch (error) {
      throw toQuiverError(error, 'trimming the change log');
    }
  }

  info(): ChangeFeedInfo {
    const { rows, bytes } = this.#store.usage();
    const last = this.#store.lastSeq();
    return {
      databaseId: this.databaseId,
      lastSeq: last,
      firstSeq: this.#store.firstSeq() ?? last + 1,
      rows,
      bytes,
      retention: this.retention(),
      consumers: this.listConsumers(),
    };
  }
}

function toConsumer(row: { name: string; seq: number; updated_at: number }): ChangeConsumerInfo {
  return { name: row.name, seq: row.seq, updatedAt: row.updated_at };
}

function checkConsumerName(name: unknown): string {
  if (typeof name !== 'string' || !CONSUMER_NAME.test(name)) {
    throw new QuiverError(
      'INVALID_ARGUMENT',
      `a consumer name is 1 to 128 letters, digits and _ . : -; got ${JSON.stringify(name)}`,
    );
  }
  return name;
}

function checkSeq(seq: unknown, what: string): number {
  if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 0) {
    throw new QuiverError('INVALID_ARGUMENT', `${what} must be a seq (an integer ≥ 0); got ${String(seq)}`);
  }
  return seq;
}

function checkLimit(limit: unknown): number {
  if (limit === undefined) return DEFAULT_CHANGES_LIMIT;
  if (typeof limit !== 'number' || !Number.isSafeInteger(limit) || limit < 1 || limit > MAX_CHANGES_LIMIT) {
    throw new QuiverError(
      'INVALID_ARGUMENT',
      `options.limit must be an integer from 1 to ${MAX_CHANGES_LIMIT}; got ${String(limit)}`,
    );
  }
  return limit;
}

const OPS = new Set(['upsert', 'update', 'delete', 'create', 'index', 'drop']);

/** A stored row as the public Change; damage is CORRUPT. */
export function toChange(row: ChangeRow): Change {
  try {
    if (!OPS.has(row.op)) throw new Error(`unknown op '${row.op}'`);
    const change: Change = {
      seq: row.seq,
      collection: row.collection,
      op: row.op as Change['op'],
      committedAt: row.committed_at,
    };
    if (row.id !== null) change.id = row.id;
    if (row.vector !== null) {
      if (row.vector.byteLength % 4 !== 0 || row.vector.byteLength === 0)
        throw new Error(`a vector of ${row.vector.byteLength} bytes`);
      const vector = new Float32Array(row.vector.byteLength / 4);
      new Uint8Array(vector.buffer).set(row.vector);
      change.vector = vector;
    }
    if (row.metadata !== null) change.metadata = parseObject(row.metadata) as Metadata;
    if (row.text !== null) change.text = row.text;
    if (row.settings !== null) change.settings = parseObject(row.settings) as CollectionSettingsChange;
    if ((row.op === 'upsert' || row.op === 'delete' || row.op === 'update') && row.id === null)
      throw new Error('no id');
    if (row.op === 'upsert' && (change.vector === undefined || change.metadata === undefined))
      throw new Error('no vector or metadata');
    if ((row.op === 'create' || row.op === 'index') && change.settings === undefined) throw new Error('no settings');
    return change;
  } catch (error) {
    if (isQuiverError(error)) throw error;
    throw new QuiverError('CORRUPT', `change ${row.seq} in quiver.sqlite is damaged (${(error as Error).message})`, {
      cause: error,
    });
  }
}

function parseObject(json: string): object {
  const value = JSON.parse(json) as unknown;
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw new Error('JSON that is not an object');
  return value;
}
