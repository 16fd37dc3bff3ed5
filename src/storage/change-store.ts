// The SQL of the change feed: the changes table, the named consumers and the feed's settings in
// meta (layout: migrations/0007-changes.ts). Rows are appended inside the caller's transaction
// (the one that writes the records); nothing here opens a transaction of its own but trim.
import type Database from 'better-sqlite3';
import { toQuiverError } from '../errors.js';
import { openSqlite } from '../native-loader.js';

/** A change row as stored. */
export interface ChangeRow {
  readonly seq: number;
  readonly collection: string;
  readonly op: string;
  readonly id: string | null;
  readonly vector: Buffer | null;
  readonly metadata: string | null;
  readonly text: string | null;
  readonly settings: string | null;
  readonly committed_at: number;
}

export interface ConsumerRow {
  readonly name: string;
  readonly seq: number;
  readonly updated_at: number;
}

/** Rows per INSERT statement for upserts, largest first (7 parameters a row, far below SQLite's 32,766). */
const INSERT_SIZES = [256, 64, 16, 4, 1] as const;

const INSERT_SQL = new Map<number, string>(
  INSERT_SIZES.map((rows) => [
    rows,
    `INSERT INTO changes(collection, op, id, vector, metadata, text, committed_at) VALUES ${Array(rows)
      .fill("(?, 'upsert', ?, ?, ?, ?, ?)")
      .join(', ')}`,
  ]),
);

/** The rows of an upsert batch to describe: row r is ids[r], numbers r·dim … (r+1)·dim, metadata[r]. */
export interface UpsertChangeRows {
  readonly ids: readonly string[];
  readonly vectors: Float32Array;
  readonly dim: number;
  /** JSON text per row, or one text for every row. */
  readonly metadata: readonly string[] | string;
  /** Text per row (undefined: records carry no text). */
  readonly texts?: readonly (string | null)[] | undefined;
}

/** An updated record as the change log keeps it: its metadata JSON and its text (null: none) after the update. */
export interface UpdateChangeRow {
  readonly id: string;
  readonly metadata: string;
  readonly text: string | null;
}

export class ChangeStore {
  readonly #db: Database.Database;
  readonly #file: string;
  readonly #statements = new Map<string, Database.Statement>();
  /** A writable connection for consumer cursors when #db is read-only (opened on first use). */
  #cursorConnection: Database.Database | undefined;

  constructor(db: Database.Database, file: string) {
    this.#db = db;
    this.#file = file;
  }

  #statement(sql: string): Database.Statement {
    let statement = this.#statements.get(sql);
    if (statement === undefined) {
      statement = this.#db.prepare(sql);
      this.#statements.set(sql, statement);
    }
    return statement;
  }

  /** Appends one upsert change per row, in row order. */
  appendUpserts(collection: string, batch: UpsertChangeRows, committedAt: number): void {
    const { ids, vectors, dim, metadata, texts } = batch;
    const bytes = Buffer.from(vectors.buffer, vectors.byteOffset, vectors.byteLength);
    const width = dim * 4;
    let row = 0;
    for (const size of INSERT_SIZES) {
      if (ids.length - row < size) continue;
      const statement = this.#statement(INSERT_SQL.get(size)!);
      const params: unknown[] = new Array(size * 6);
      for (; ids.length - row >= size; row += size) {
        for (let i = 0; i < size; i++) {
          const r = row + i;
          const base = i * 6;
          params[base] = collection;
          params[base + 1] = ids[r];
          params[base + 2] = bytes.subarray(r * width, (r + 1) * width);
          params[base + 3] = typeof metadata === 'string' ? metadata : metadata[r];
          params[base + 4] = texts === undefined ? null : (texts[r] ?? null);
          params[base + 5] = committedAt;
        }
        statement.run(params);
      }
    }
  }

  /** Appends one update change per row, in order: the record's whole metadata and text after the update. */
  appendUpdates(collection: string, rows: readonly UpdateChangeRow[], committedAt: number): void {
    const statement = this.#statement(
      "INSERT INTO changes(collection, op, id, metadata, text, committed_at) VALUES (?, 'update', ?, ?, ?, ?)",
    );
    for (const row of rows) statement.run(collection, row.id, row.metadata, row.text, committedAt);
  }

  /** Inserts changes of another database with their own seqs (a replica mirrors its source's log). */
  insertExact(rows: readonly ChangeRow[]): void {
    const statement = this.#statement(
      'INSERT INTO changes(seq, collection, op, id, vector, metadata, text, settings, committed_at) ' +
        'VALUES (@seq, @collection, @op, @id, @vector, @metadata, @text, @settings, @committed_at)',
    );
    for (const row of rows) statement.run(row);
  }

  /** Appends one delete change per record of `collectionId` under `labels` (call before deleting them). */
  appendDeletesOfLabels(
    collection: string,
    collectionId: number,
    labels: readonly number[],
    committedAt: number,
  ): void {
    this.#statement(
      "INSERT INTO changes(collection, op, id, committed_at) SELECT ?, 'delete', id, ? FROM records " +
        'WHERE collection_id = ? AND label IN (SELECT value FROM json_each(?)) ORDER BY label',
    ).run(collection, committedAt, collectionId, JSON.stringify(labels));
  }

  /** Appends a collection-level change (create, index, drop) with its settings JSON. */
  appendCollectionChange(collection: string, op: 'create' | 'index' | 'drop', settings: string | null): void {
    this.#statement('INSERT INTO changes(collection, op, settings, committed_at) VALUES (?, ?, ?, ?)').run(
      collection,
      op,
      settings,
      Date.now(),
    );
  }

  /** The seq of the newest change ever committed (0 for none), whether or not it is still kept. */
  lastSeq(): number {
    const row = this.#statement("SELECT seq FROM sqlite_sequence WHERE name = 'changes'").get() as
      | { seq: number }
      | undefined;
    return row?.seq ?? 0;
  }

  /** The oldest kept seq, or undefined when no change is kept. */
  firstSeq(): number | undefined {
    return (this.#statement('SELECT min(seq) FROM changes').pluck().get() as number | null) ?? undefined;
  }

  /** The ids of `collection`'s 'update' changes after `after` (each once). */
  idsUpdatedAfter(collection: string, after: number): string[] {
    return this.#statement("SELECT DISTINCT id FROM changes WHERE seq > ? AND collection = ? AND op = 'update'")
      .pluck()
      .all(after, collection) as string[];
  }

  /** Up to `limit` changes after `after`, in seq order. */
  read(after: number, limit: number): ChangeRow[] {
    return this.#statement('SELECT * FROM changes WHERE seq > ? ORDER BY seq LIMIT ?').all(after, limit) as ChangeRow[];
  }

  /** The newest seq committed before `time` (ms), or 0. */
  lastSeqBefore(time: number): number {
    return (
      (this.#statement('SELECT max(seq) FROM changes WHERE committed_at < ?').pluck().get(time) as number | null) ?? 0
    );
  }

  /** Kept rows and the bytes their ids, vectors, metadata, text and settings hold. */
  usage(): { rows: number; bytes: number } {
    return this.#statement(
      'SELECT count(*) AS rows, coalesce(sum(length(CAST(collection AS BLOB)) + coalesce(length(CAST(id AS BLOB)), 0) + ' +
        'coalesce(length(vector), 0) + coalesce(length(CAST(metadata AS BLOB)), 0) + coalesce(length(CAST(text AS BLOB)), 0) + ' +
        'coalesce(length(CAST(settings AS BLOB)), 0)), 0) AS bytes FROM changes',
    ).get() as { rows: number; bytes: number };
  }

  /** Removes the changes up to and including `seq`. */
  trim(seq: number): number {
    return this.#statement('DELETE FROM changes WHERE seq <= ?').run(seq).changes;
  }

  meta(key: string): string | undefined {
    return (
      (this.#statement('SELECT value FROM meta WHERE key = ?').pluck().get(key) as string | undefined) ?? undefined
    );
  }

  setMeta(key: string, value: string | undefined): void {
    if (value === undefined) this.#statement('DELETE FROM meta WHERE key = ?').run(key);
    else
      this.#statement(
        'INSERT INTO meta(key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
      ).run(key, value);
  }

  consumers(): ConsumerRow[] {
    return this.#statement('SELECT name, seq, updated_at FROM change_consumers ORDER BY name').all() as ConsumerRow[];
  }

  consumer(name: string): ConsumerRow | undefined {
    return this.#statement('SELECT name, seq, updated_at FROM change_consumers WHERE name = ?').get(name) as
      | ConsumerRow
      | undefined;
  }

  /**
   * Sets a consumer's cursor (creating it when `create`, else only moving an existing one forward).
   * Goes through a writable connection of its own when this store's connection is read-only: a
   * consumer's cursor is the one thing a read-only opener writes (SQLite serialises it with the writer).
   */
  setConsumer(name: string, seq: number, create: boolean): boolean {
    const sql = create
      ? 'INSERT INTO change_consumers(name, seq, updated_at) VALUES (@name, @seq, @now) ' +
        'ON CONFLICT (name) DO UPDATE SET seq = excluded.seq, updated_at = excluded.updated_at'
      : 'UPDATE change_consumers SET seq = max(seq, @seq), updated_at = @now WHERE name = @name';
    const statement = this.#db.readonly ? this.#cursorDb().prepare(sql) : this.#statement(sql);
    return statement.run({ name, seq, now: Date.now() }).changes > 0;
  }

  removeConsumer(name: string): boolean {
    const sql = 'DELETE FROM change_consumers WHERE name = ?';
    const db = this.#db.readonly ? this.#cursorDb() : this.#db;
    return db.prepare(sql).run(name).changes > 0;
  }

  #cursorDb(): Database.Database {
    if (this.#cursorConnection === undefined) {
      try {
        this.#cursorConnection = openSqlite(this.#file, { fileMustExist: true, timeout: 5000 });
      } catch (error) {
        throw toQuiverError(error, `opening ${this.#file} to record a consumer's cursor`);
      }
    }
    return this.#cursorConnection;
  }

  close(): void {
    this.#cursorConnection?.close();
    this.#cursorConnection = undefined;
  }
}
