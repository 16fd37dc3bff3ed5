// The SQLite file that is the truth of a database: schema migrations, the format version,
// collections, records and the write-ahead log (oplog). Owns every SQL statement but the
// compiled filters. Knows nothing of ANN indexes. Layout: see migrations/0001-initial.ts.
import type Database from 'better-sqlite3';
import { QuiverError, toQuiverError } from '../errors.js';
import { fastIndexOptions, indexOptionsSchema } from '../index-options.js';
import { MAX_DIM } from '../limits.js';
import type { Metric } from '../metric.js';
import { openSqlite } from '../native-loader.js';
import { crc32 } from '../quant/crc32.js';
import { type IndexParams, indexKind } from '../index/registry.js';
import { parseTextSettings, type TextSettings, textSettingsJson } from '../text/settings.js';
import { ChangeStore } from './change-store.js';
import { migrations, upgrades } from './migrations/index.js';
import { recordChecksum, recordHeadChecksum } from './record-checksum.js';
import { MAX_KEYED_COLLECTION_ID, recordKey } from './record-key.js';
import type { StoredHead, StoredRecord } from './stored-record.js';
import { TextIndexTable, textTableName } from './text-index.js';

export type { StoredHead, StoredRecord } from './stored-record.js';

/** The on-disk format this code writes. Bump it, with a named upgrade, when the layout changes. */
export const FORMAT_VERSION = 1;

export type Durability = 'full' | 'normal';

export type { IndexParams };

export interface CollectionRow {
  readonly id: number;
  readonly name: string;
  readonly dim: number;
  readonly metric: Metric;
  readonly index: IndexParams;
  readonly createdAt: number;
  /** Dotted metadata paths with SQLite indexes, in declaration order. */
  readonly indexedFields: readonly string[];
  /** The full-text settings, or undefined when the collection keeps no full-text index. */
  readonly textSettings: TextSettings | undefined;
}

/** Most keys bound in one IN list by recordsByLabels (SQLite allows 32,766 parameters). */
const MAX_IN_LIST = 512;

interface CollectionSqlRow {
  id: number;
  name: string;
  dim: number;
  metric: string;
  index_type: string;
  index_params: string;
  created_at: number;
  indexed_fields: string;
  text_settings: string | null;
}

/** The columns a read without the vector selects: all that the head checksum covers, and it (a StoredHead). */
const HEAD_COLUMNS = 'id, label, metadata, text, head_checksum AS headChecksum';

/** The columns every record read selects: all that the record checksums cover, and both checksums. */
const RECORD_COLUMNS = `${HEAD_COLUMNS}, vector, checksum`;

/** Rows of a batch to insert: see {@link Store.insertRecords}. */
export interface RecordBatchRows {
  readonly ids: readonly string[];
  readonly labels: readonly number[];
  /** ids.length × dim numbers, row after row. */
  readonly vectors: Float32Array;
  readonly dim: number;
  /** JSON text per row, or one text for every row. */
  readonly metadata: readonly string[] | string;
  /** The text per row (null: none); undefined: no row has text. */
  readonly texts: readonly (string | null)[] | undefined;
  /** The rows to insert, as indexes into the arrays above. */
  readonly rows: readonly number[];
}

/**
 * Rows per INSERT statement, largest first: a batch goes in as many 256-row statements as fit, the
 * rest in smaller ones. Measured on 100,000 × 128 records: about 15% less time in SQLite than one
 * statement per row (better-sqlite3's per-call cost); 1,792 parameters are far below SQLite's 32,766.
 */
const INSERT_SIZES = [256, 64, 16, 4, 1] as const;

/** Parameters per inserted row: key, collection_id, id, label, vector, metadata, text, checksum, head_checksum. */
const INSERT_COLUMNS = 9;

/** The INSERT statement of each size in INSERT_SIZES. */
const INSERT_SQL = new Map<number, string>(
  INSERT_SIZES.map((rows) => [
    rows,
    `INSERT INTO records(key, collection_id, id, label, vector, metadata, text, checksum, head_checksum) VALUES ${Array(
      rows,
    )
      .fill(`(${'?, '.repeat(INSERT_COLUMNS - 1)}?)`)
      .join(', ')}`,
  ]),
);

export interface StoreOptions {
  readonly durability: Durability;
  readonly readOnly: boolean;
}

/** One handle on quiver.sqlite. All methods are synchronous, like better-sqlite3. */
export class Store {
  readonly #db: Database.Database;
  readonly #statements = new Map<string, Database.Statement>();
  readonly #textIndexes = new Map<number, TextIndexTable>();
  /** The change feed's tables, on the same connection (so its rows join the records' transactions). */
  readonly changes: ChangeStore;

  private constructor(db: Database.Database, file: string) {
    this.#db = db;
    this.changes = new ChangeStore(db, file);
  }

  /** Opens (creating when allowed) the SQLite file, applies migrations and checks the format. */
  static open(file: string, options: StoreOptions): Store {
    let db: Database.Database;
    try {
      db = openSqlite(file, { readonly: options.readOnly, fileMustExist: options.readOnly, timeout: 5000 });
    } catch (error) {
      throw toQuiverError(error, `opening ${file}`);
    }
    try {
      // Larger pages suit rows of hundreds of bytes to kilobytes (a vector each); only takes effect
      // when the file is created.
      if (!options.readOnly) db.pragma('page_size = 16384');
      if (!options.readOnly) db.pragma('journal_mode = WAL');
      db.pragma(`synchronous = ${options.durability === 'full' ? 'FULL' : 'NORMAL'}`);
      db.pragma('foreign_keys = ON');
      // SQLite's own default page cache, 2 MiB, where better-sqlite3 builds SQLite with 16 MiB: a
      // connection that answers queries fills it with the record pages of its hits, which the OS page
      // cache holds anyway and the remembered hit heads make rare (14 MiB of RSS after 1,000 queryIds
      // at 100,000 records, docs/benchmarks.md "Open, memory and disk").
      db.pragma('cache_size = -2000');
      const store = new Store(db, file);
      store.#migrate(options.readOnly, file);
      return store;
    } catch (error) {
      db.close();
      throw toQuiverError(error, `opening ${file}`);
    }
  }

  #migrate(readOnly: boolean, file: string): void {
    const applied = this.#db.pragma('user_version', { simple: true }) as number;
    if (applied > migrations.length) {
      throw new QuiverError(
        'FORMAT_TOO_NEW',
        `${file} has schema version ${applied}; this QuiverDB knows ${migrations.length}. Upgrade quiverdb to open it.`,
      );
    }
    if (applied < migrations.length) {
      if (readOnly) {
        throw new QuiverError(
          'READ_ONLY',
          `${file} needs a schema upgrade (${applied} → ${migrations.length}); open it once for writing first`,
        );
      }
      this.#db.transaction(() => {
        for (let version = applied + 1; version <= migrations.length; version++) {
          this.#db.exec(migrations[version - 1]!);
          upgrades.get(version)?.(this.#db);
        }
        this.#db
          .prepare("INSERT OR IGNORE INTO meta(key, value) VALUES ('format_version', ?)")
          .run(String(FORMAT_VERSION));
        this.#db.prepare("INSERT OR IGNORE INTO meta(key, value) VALUES ('created_at', ?)").run(String(Date.now()));
        this.#db.pragma(`user_version = ${migrations.length}`);
      })();
    }
    const stored = Number(this.meta('format_version'));
    if (!Number.isInteger(stored) || stored < 1) {
      throw new QuiverError('CORRUPT', `${file} has no valid format_version in its meta table`);
    }
    if (stored > FORMAT_VERSION) {
      throw new QuiverError(
        'FORMAT_TOO_NEW',
        `${file} was written in format ${stored}; this QuiverDB reads up to ${FORMAT_VERSION}. Upgrade quiverdb to open it.`,
      );
    }
  }

  #statement(sql: string): Database.Statement {
    let statement = this.#statements.get(sql);
    if (statement === undefined) {
      statement = this.#db.prepare(sql);
      this.#statements.set(sql, statement);
    }
    return statement;
  }

  /** True for a read-only connection (a reader beside the writer). */
  get readOnly(): boolean {
    return this.#db.readonly;
  }

  /** True inside {@link Store.transaction}. */
  get inTransaction(): boolean {
    return this.#db.inTransaction;
  }

  /** Runs `body` in one transaction: all of it commits, or none of it. */
  transaction<T>(body: () => T): T {
    return this.#db.transaction(body)();
  }

  meta(key: string): string | undefined {
    const row = this.#statement('SELECT value FROM meta WHERE key = ?').get(key) as { value: string } | undefined;
    return row?.value;
  }

  listCollections(): CollectionRow[] {
    const rows = this.#statement('SELECT * FROM collections ORDER BY name').all() as CollectionSqlRow[];
    return rows.map(toCollectionRow);
  }

  findCollection(name: string): CollectionRow | undefined {
    const row = this.#statement('SELECT * FROM collections WHERE name = ?').get(name) as CollectionSqlRow | undefined;
    return row === undefined ? undefined : toCollectionRow(row);
  }

  createCollection(name: string, dim: number, metric: Metric, index: IndexParams): CollectionRow {
    const { type, ...params } = index;
    const next = this.#statement('SELECT coalesce(max(id), 0) + 1 FROM collections').pluck().get() as number;
    if (next > MAX_KEYED_COLLECTION_ID) {
      throw new QuiverError(
        'INVALID_ARGUMENT',
        `this database has used collection ids up to ${next - 1}; record keys allow ${MAX_KEYED_COLLECTION_ID}. Copy the collections into a new database`,
      );
    }
    const createdAt = Date.now();
    const result = this.#statement(
      'INSERT INTO collections(name, dim, metric, index_type, index_params, created_at) VALUES (?, ?, ?, ?, ?, ?)',
    ).run(name, dim, metric, type, JSON.stringify(params), createdAt);
    return {
      id: Number(result.lastInsertRowid),
      name,
      dim,
      metric,
      index,
      createdAt,
      indexedFields: [],
      textSettings: undefined,
    };
  }

  /** The full-text index table of a collection (whether or not it exists yet). */
  textIndex(collectionId: number): TextIndexTable {
    let table = this.#textIndexes.get(collectionId);
    if (table === undefined) {
      table = new TextIndexTable(this.#db, collectionId);
      this.#textIndexes.set(collectionId, table);
    }
    return table;
  }

  /** Records a collection's full-text settings (call in the transaction that builds its index). */
  setTextSettings(collectionId: number, settings: TextSettings): void {
    this.#statement('UPDATE collections SET text_settings = ? WHERE id = ?').run(
      textSettingsJson(settings),
      collectionId,
    );
  }

  /** Removes a collection with its records and log rows. */
  dropCollection(collectionId: number): void {
    this.transaction(() => {
      for (const name of this.#fieldIndexNames(collectionId)) this.#db.exec(`DROP INDEX IF EXISTS "${name}"`);
      this.#statement('DELETE FROM records WHERE collection_id = ?').run(collectionId);
      this.#statement('DELETE FROM oplog WHERE collection_id = ?').run(collectionId);
      this.#statement('DELETE FROM manifest WHERE collection_id = ?').run(collectionId);
      this.#statement('DELETE FROM collections WHERE id = ?').run(collectionId);
      this.#db.exec(`DROP TABLE IF EXISTS ${textTableName(collectionId)}`);
    });
    this.#textIndexes.delete(collectionId);
  }

  /**
   * Inserts the records at `rows` of a batch (row r: ids[r], labels[r], numbers r·dim … (r+1)·dim of
   * `vectors`, metadata[r] or the one metadata text), many rows per INSERT statement.
   */
  insertRecords(collectionId: number, batch: RecordBatchRows): void {
    const { ids, labels, vectors, dim, metadata, texts, rows } = batch;
    const bytes = blobOf(vectors);
    const width = dim * 4;
    let at = 0;
    for (const size of INSERT_SIZES) {
      if (rows.length - at < size) continue;
      const statement = this.#statement(INSERT_SQL.get(size)!);
      const params: unknown[] = new Array(size * INSERT_COLUMNS);
      for (; rows.length - at >= size; at += size) {
        for (let i = 0; i < size; i++) {
          const row = rows[at + i]!;
          const base = i * INSERT_COLUMNS;
          const id = ids[row]!;
          const label = labels[row]!;
          const vector = bytes.subarray(row * width, (row + 1) * width);
          const json = typeof metadata === 'string' ? metadata : metadata[row]!;
          const text = texts === undefined ? null : (texts[row] ?? null);
          params[base] = recordKey(collectionId, label);
          params[base + 1] = collectionId;
          params[base + 2] = id;
          params[base + 3] = label;
          params[base + 4] = vector;
          params[base + 5] = json;
          params[base + 6] = text;
          params[base + 7] = recordChecksum({ label, id, vector, metadata: json, text });
          params[base + 8] = recordHeadChecksum({ label, id, metadata: json, text });
        }
        statement.run(params);
      }
    }
  }

  /** Replaces the vector, metadata and text of the record `id` under `label` (and its checksums). */
  updateRecord(
    collectionId: number,
    label: number,
    id: string,
    vector: Float32Array,
    metadata: string,
    text: string | null,
  ): void {
    const blob = blobOf(vector);
    this.#statement(
      'UPDATE records SET vector = ?, metadata = ?, text = ?, checksum = ?, head_checksum = ? WHERE key = ?',
    ).run(
      blob,
      metadata,
      text,
      recordChecksum({ label, id, vector: blob, metadata, text }),
      recordHeadChecksum({ label, id, metadata, text }),
      recordKey(collectionId, label),
    );
  }

  /**
   * Replaces the metadata and text of a stored record, keeping its vector, and recomputes its
   * checksum over the stored vector bytes (an update that leaves the index alone).
   */
  rewriteFields(collectionId: number, record: StoredRecord, metadata: string, text: string | null): void {
    const { label, id, vector } = record;
    this.#statement('UPDATE records SET metadata = ?, text = ?, checksum = ?, head_checksum = ? WHERE key = ?').run(
      metadata,
      text,
      recordChecksum({ label, id, vector, metadata, text }),
      recordHeadChecksum({ label, id, metadata, text }),
      recordKey(collectionId, label),
    );
  }

  deleteRecord(collectionId: number, label: number): void {
    this.#statement('DELETE FROM records WHERE key = ?').run(recordKey(collectionId, label));
  }

  /** Appends one log row per label, in order, in one statement; returns the last seq. */
  appendLogBatch(collectionId: number, op: 'upsert' | 'delete', labels: readonly number[]): number {
    const result = this.#statement(
      'INSERT INTO oplog(collection_id, op, label) SELECT ?, ?, value FROM json_each(?) ORDER BY key',
    ).run(collectionId, op, JSON.stringify(labels));
    return Number(result.lastInsertRowid);
  }

  /** The labels of those of `ids` that exist in a collection, by id (one statement). */
  labelsOfIds(collectionId: number, ids: readonly string[]): Map<string, number> {
    const rows = this.#statement(
      'SELECT id, label FROM records WHERE collection_id = ? AND id IN (SELECT value FROM json_each(?))',
    )
      .raw()
      .all(collectionId, JSON.stringify(ids)) as [string, number][];
    return new Map(rows);
  }

  /** Removes a collection's log rows up to and including `seq`. */
  truncateLog(collectionId: number, seq: number): void {
    this.#statement('DELETE FROM oplog WHERE collection_id = ? AND seq <= ?').run(collectionId, seq);
  }

  /** The highest seq ever written (0 for none), across all collections. */
  lastSeq(): number {
    const row = this.#statement("SELECT seq FROM sqlite_sequence WHERE name = 'oplog'").get() as
      | { seq: number }
      | undefined;
    return row?.seq ?? 0;
  }

  /**
   * The records under `labels`, in the order of `labels` (undefined where a label has no record), with
   * their vectors, or without them (`withVectors` false: the vector's pages are never read). Each is a
   * point read of its key (record-key.ts) in the rowid b-tree, so a row is found under the label its
   * key says even when its label column was damaged (the record checks catch that). Keys go in as bound
   * parameters of an IN list whose size is the next power of two (padded with -1, which no record has),
   * so a handful of cached statements serve every k: one statement per call, and bound parameters are a
   * third cheaper than expanding a JSON array in SQL, which matters on the per-query path. More than
   * MAX_IN_LIST labels are read in chunks inside one read transaction.
   */
  recordsByLabels(collectionId: number, labels: readonly number[], withVectors: true): (StoredRecord | undefined)[];
  recordsByLabels(collectionId: number, labels: readonly number[], withVectors: boolean): (StoredHead | undefined)[];
  recordsByLabels(collectionId: number, labels: readonly number[], withVectors: boolean): (StoredHead | undefined)[] {
    const columns = withVectors ? RECORD_COLUMNS : HEAD_COLUMNS;
    const rows =
      labels.length <= MAX_IN_LIST
        ? this.#keysInList(collectionId, labels, 0, labels.length, columns)
        : this.#db.transaction(() => {
            const found: (StoredHead & { key: number })[] = [];
            for (let start = 0; start < labels.length; start += MAX_IN_LIST) {
              const end = Math.min(labels.length, start + MAX_IN_LIST);
              for (const row of this.#keysInList(collectionId, labels, start, end, columns)) found.push(row);
            }
            return found;
          })();
    const byKey = new Map<number, StoredHead>();
    for (const row of rows) byKey.set(row.key, row);
    return labels.map((label) => byKey.get(recordKey(collectionId, label)));
  }

  #keysInList(
    collectionId: number,
    labels: readonly number[],
    start: number,
    end: number,
    columns: string,
  ): (StoredHead & { key: number })[] {
    let size = 1;
    while (size < end - start) size *= 2;
    const list = '?,'.repeat(size - 1);
    const statement = this.#statement(`SELECT key, ${columns} FROM records WHERE key IN (${list}?)`);
    const parameters: number[] = new Array(size);
    for (let i = start; i < end; i++) parameters[i - start] = recordKey(collectionId, labels[i]!);
    for (let i = end - start; i < size; i++) parameters[i] = -1;
    return statement.all(parameters) as (StoredHead & { key: number })[];
  }

  recordById(collectionId: number, id: string): StoredRecord | undefined {
    return this.#statement(`SELECT ${RECORD_COLUMNS} FROM records WHERE collection_id = ? AND id = ?`).get(
      collectionId,
      id,
    ) as StoredRecord | undefined;
  }

  count(collectionId: number): number {
    const row = this.#statement('SELECT count(*) AS n FROM records WHERE collection_id = ?').get(collectionId) as {
      n: number;
    };
    return row.n;
  }

  /**
   * The lowest and the highest label of a collection's records (undefined when it has none): two
   * seeks in the (collection_id, label) index, whatever the collection's size.
   */
  labelRange(collectionId: number): { lowest: unknown; highest: unknown } | undefined {
    const row = this.#statement(
      `SELECT (SELECT min(label) FROM records WHERE collection_id = ?) AS lowest,
              (SELECT max(label) FROM records WHERE collection_id = ?) AS highest`,
    ).get(collectionId, collectionId) as { lowest: unknown; highest: unknown };
    return row.lowest === null ? undefined : row;
  }

  /** The highest label of a collection's records by their keys (undefined when it has none): one seek. */
  highestLabel(collectionId: number): number | undefined {
    const base = recordKey(collectionId, 0);
    const key = this.#statement('SELECT max(key) FROM records WHERE key >= ? AND key < ?')
      .pluck()
      .get(base, recordKey(collectionId + 1, 0)) as number | null;
    return key === null ? undefined : key - base;
  }

  /**
   * The vectors of a collection's records with labels in [first, first + count), in label order, to
   * fill a graph loaded without vectors: SQLite concatenates the run's vector BLOBs itself
   * (group_concat over the key range, scanned in key = label order; a BLOB's bytes pass through
   * unchanged in a UTF-8 database), so no row object is made per record — about 4× faster than
   * reading the rows. `vectors` holds `labels.length` rows of `dim` float32s. The rows are not
   * checked against their records' checksums: the caller compares each with the checksum its
   * snapshot kept, which also catches rows out of order. Undefined when the BLOBs are not `dim`
   * float32s each (damage: the caller reads the run's records one by one to name it).
   */
  vectorRun(
    collectionId: number,
    first: number,
    count: number,
    dim: number,
  ): { labels: Uint32Array; vectors: Uint8Array } | undefined {
    const base = recordKey(collectionId, 0);
    const from = base + first;
    const [rows, lowest, highest, joined] = this.#statement(
      "SELECT count(*), min(key), max(key), CAST(group_concat(vector, '') AS BLOB) FROM records WHERE key >= ? AND key < ?",
    )
      .raw()
      .get(from, from + count) as [number, number | null, number | null, Buffer | null];
    if (rows === 0 || lowest === null || highest === null)
      return { labels: new Uint32Array(0), vectors: new Uint8Array(0) };
    let labels: Uint32Array;
    let vectors = joined;
    if (highest - lowest + 1 === rows) {
      labels = new Uint32Array(rows);
      for (let i = 0; i < rows; i++) labels[i] = lowest - base + i;
    } else {
      // Labels with gaps: listed by the same pass that joins the vectors, so they pair up in order.
      const [keys, again] = this.#statement(
        "SELECT group_concat(key - ?), CAST(group_concat(vector, '') AS BLOB) FROM records WHERE key >= ? AND key < ?",
      )
        .raw()
        .get(base, from, from + count) as [string | null, Buffer | null];
      labels = Uint32Array.from(keys === null ? [] : keys.split(','), Number);
      vectors = again;
    }
    if (vectors === null || vectors.byteLength !== labels.length * dim * 4) return undefined;
    return { labels, vectors };
  }

  /** Every live label of a collection, ascending. */
  labels(collectionId: number): number[] {
    return this.#statement('SELECT label FROM records WHERE collection_id = ? ORDER BY label')
      .pluck()
      .all(collectionId) as number[];
  }

  /** Streams (label, vector) for every record of a collection, in label order. */
  *vectors(collectionId: number): Generator<{ label: number; vector: Buffer }> {
    const statement = this.#db.prepare('SELECT label, vector FROM records WHERE collection_id = ? ORDER BY label');
    yield* statement.iterate(collectionId) as IterableIterator<{ label: number; vector: Buffer }>;
  }

  /**
   * Up to `limit` (label, vector) pairs of a collection with labels above `afterLabel`, in label
   * order: one page of a rebuild, read without holding a statement open between pages.
   */
  vectorsAfterLabel(collectionId: number, afterLabel: number, limit: number): { label: number; vector: Buffer }[] {
    return this.#statement(
      'SELECT label, vector FROM records WHERE collection_id = ? AND label > ? ORDER BY label LIMIT ?',
    ).all(collectionId, afterLabel, limit) as { label: number; vector: Buffer }[];
  }

  /** The snapshot manifest row of a collection, if it has one. */
  manifest(collectionId: number): ManifestRow | undefined {
    return this.#statement('SELECT file, seq, checksum, params FROM manifest WHERE collection_id = ?').get(
      collectionId,
    ) as ManifestRow | undefined;
  }

  /** Records the snapshot `file` as covering the log of a collection up to `seq`. */
  setManifest(collectionId: number, row: ManifestRow): void {
    this.#statement(
      `INSERT INTO manifest (collection_id, file, seq, checksum, params, created_at) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (collection_id) DO UPDATE SET file = excluded.file, seq = excluded.seq,
         checksum = excluded.checksum, params = excluded.params, created_at = excluded.created_at`,
    ).run(collectionId, row.file, row.seq, row.checksum, row.params, Date.now());
  }

  removeManifest(collectionId: number): void {
    this.#statement('DELETE FROM manifest WHERE collection_id = ?').run(collectionId);
  }

  /** Number of a collection's log rows after `seq`. */
  logLength(collectionId: number, afterSeq = 0): number {
    return (
      this.#statement('SELECT count(*) AS n FROM oplog WHERE collection_id = ? AND seq > ?').get(
        collectionId,
        afterSeq,
      ) as { n: number }
    ).n;
  }

  /** The distinct labels a collection's log touches after `seq`, ascending. */
  labelsLoggedAfter(collectionId: number, seq: number): number[] {
    return this.#statement('SELECT DISTINCT label FROM oplog WHERE collection_id = ? AND seq > ? ORDER BY label')
      .pluck()
      .all(collectionId, seq) as number[];
  }

  /** Changes whenever another connection commits (PRAGMA data_version); cheap to poll. */
  dataVersion(): number {
    return this.#db.pragma('data_version', { simple: true }) as number;
  }

  /**
   * Copies the database into `file` with SQLite's online backup, a few pages per turn of the event
   * loop: commits made meanwhile on this connection are carried into the copy, which ends as of one
   * commit. Resolves to the copy's page count.
   */
  async backupTo(file: string): Promise<number> {
    try {
      const { totalPages } = await this.#db.backup(file);
      return totalPages;
    } catch (error) {
      throw toQuiverError(error, `backing up to ${file}`);
    }
  }

  /** Checkpoints SQLite's WAL into the main file and truncates it. */
  checkpoint(): void {
    this.#db.pragma('wal_checkpoint(TRUNCATE)');
  }

  /** Rewrites the SQLite file without free pages. */
  vacuum(): void {
    this.#db.exec('VACUUM');
  }

  close(): void {
    if (!this.#db.open) return;
    try {
      this.changes.close();
      if (!this.#db.readonly) this.#db.pragma('optimize');
    } finally {
      this.#db.close();
    }
  }

  /**
   * Up to `limit` records of a collection with labels above `afterLabel`, in label order, matching
   * `where` when given: a compiled metadata filter over the `metadata` column. One finished statement
   * per page, so nothing stays open between pages (callers may write in between).
   */
  recordsAfterLabel(
    collectionId: number,
    afterLabel: number,
    limit: number,
    where?: { readonly sql: string; readonly params: readonly unknown[] },
  ): StoredRecord[] {
    const filter = where === undefined ? '' : ` AND (${where.sql})`;
    const sql = `SELECT ${RECORD_COLUMNS} FROM records WHERE collection_id = ? AND label > ?${filter} ORDER BY label LIMIT ?`;
    // Filtered statements are prepared per page rather than cached: filters are many and short-lived.
    const statement = where === undefined ? this.#statement(sql) : this.#db.prepare(sql);
    return statement.all(collectionId, afterLabel, ...(where?.params ?? []), limit) as StoredRecord[];
  }

  /**
   * Up to `limit` records with ids above `afterId` (from the first when undefined), in id order
   * (SQLite's BINARY collation: the byte order of their UTF-8), matching `where` when given, after
   * skipping `offset` of them. Served by the (collection_id, id) unique index.
   */
  recordsAfterId(
    collectionId: number,
    afterId: string | undefined,
    limit: number,
    offset: number,
    where?: { readonly sql: string; readonly params: readonly unknown[] },
  ): StoredRecord[] {
    const filter = where === undefined ? '' : ` AND (${where.sql})`;
    const sql = `SELECT ${RECORD_COLUMNS} FROM records WHERE collection_id = ? AND id > ?${filter} ORDER BY id LIMIT ? OFFSET ?`;
    const statement = where === undefined ? this.#statement(sql) : this.#db.prepare(sql);
    // Ids are never empty, so every id sorts after ''.
    return statement.all(collectionId, afterId ?? '', ...(where?.params ?? []), limit, offset) as StoredRecord[];
  }

  /** Streams every record of a collection with its rowid, in rowid order (for verification: trusts no index). */
  *scanRecords(collectionId: number): Generator<StoredRecord & { readonly rowid: number }> {
    const statement = this.#db.prepare(
      `SELECT rowid AS rowid, ${RECORD_COLUMNS} FROM records NOT INDEXED WHERE collection_id = ? ORDER BY rowid`,
    );
    yield* statement.iterate(collectionId) as IterableIterator<StoredRecord & { rowid: number }>;
  }

  /** For each label a collection's log touches, the op of its latest log row. */
  lastLoggedOps(collectionId: number): { label: number; op: string; seq: number }[] {
    return this.#statement(
      'SELECT label, op, max(seq) AS seq FROM oplog WHERE collection_id = ? GROUP BY label ORDER BY label',
    ).all(collectionId) as { label: number; op: string; seq: number }[];
  }

  /** Collection ids that log rows name but that do not exist. */
  orphanLogCollections(): number[] {
    return this.#statement(
      'SELECT DISTINCT collection_id FROM oplog WHERE collection_id NOT IN (SELECT id FROM collections)',
    )
      .pluck()
      .all() as number[];
  }

  /**
   * SQLite's own check of the file: ['ok'] when sound, else what is wrong. integrity_check, not
   * quick_check: only it compares every index with its table, so a damaged index entry (an id that
   * `get` would no longer find) is caught.
   */
  integrityCheck(): string[] {
    const rows = this.#db.pragma('integrity_check') as Record<string, unknown>[];
    return rows.map((row) => String(Object.values(row)[0]));
  }

  /** Bytes of a collection's ids, metadata and vectors (what its records hold, not counting SQLite's pages). */
  recordBytes(collectionId: number): number {
    return (
      this.#statement(
        'SELECT coalesce(sum(length(CAST(id AS BLOB)) + length(CAST(metadata AS BLOB)) + length(vector) + ' +
          'coalesce(length(CAST(text AS BLOB)), 0)), 0) AS n ' +
          'FROM records WHERE collection_id = ?',
      ).get(collectionId) as { n: number }
    ).n;
  }

  /**
   * Records `fields` as the collection's indexed metadata fields and creates, for each, the two
   * expression indexes the filter compiler's SQL can use (`value` and `type` give their exact
   * text: SQLite matches expression indexes textually). An index covers the whole records table,
   * so collections that declare the same field share it. Idempotent.
   */
  declareFieldIndexes(
    collectionId: number,
    fields: readonly { readonly field: string; readonly value: string; readonly type: string }[],
  ): void {
    this.transaction(() => {
      const row = this.#statement('SELECT indexed_fields FROM collections WHERE id = ?').get(collectionId) as {
        indexed_fields: string;
      };
      const declared = JSON.parse(row.indexed_fields) as string[];
      for (const { field, value, type } of fields) {
        if (!declared.includes(field)) declared.push(field);
        // Index names hold only hex digits; the expressions come from the filter compiler, which
        // writes the path as a quoted SQL literal.
        const prefix = fieldIndexPrefix(field);
        this.#db.exec(`CREATE INDEX IF NOT EXISTS "${prefix}_value" ON records(collection_id, ${value})`);
        this.#db.exec(`CREATE INDEX IF NOT EXISTS "${prefix}_type" ON records(collection_id, ${type})`);
      }
      this.#statement('UPDATE collections SET indexed_fields = ? WHERE id = ?').run(
        JSON.stringify(declared),
        collectionId,
      );
    });
    this.#db.exec('ANALYZE records');
  }

  /**
   * Refreshes SQLite's planner statistics of the records table, so that filters keep using the
   * declared metadata indexes as collections grow. (A sampled ANALYZE, PRAGMA analysis_limit,
   * misjudges the collection_id column and leads SQLite away from those indexes.)
   */
  analyze(): void {
    this.#db.exec('ANALYZE records');
  }

  /** Names of the field indexes that only this collection declares (dropped with it). */
  #fieldIndexNames(collectionId: number): string[] {
    const rows = this.#statement('SELECT id, indexed_fields FROM collections').all() as {
      id: number;
      indexed_fields: string;
    }[];
    const own = new Set<string>();
    const others = new Set<string>();
    for (const row of rows) {
      for (const field of JSON.parse(row.indexed_fields) as string[])
        (row.id === collectionId ? own : others).add(field);
    }
    return [...own]
      .filter((field) => !others.has(field))
      .flatMap((field) => [`${fieldIndexPrefix(field)}_value`, `${fieldIndexPrefix(field)}_type`]);
  }

  /** Labels of a collection's records whose metadata matches a compiled filter, ascending. */
  labelsMatching(collectionId: number, where: CompiledWhere): Int32Array {
    const labels = this.#db
      .prepare(`SELECT label FROM records WHERE collection_id = ? AND (${where.sql}) ORDER BY label`)
      .pluck()
      .all(collectionId, ...where.params) as number[];
    return Int32Array.from(labels);
  }

  /** Labels and vectors of the records matching a compiled filter. */
  vectorsMatching(collectionId: number, where: CompiledWhere): { label: number; vector: Buffer }[] {
    return this.#db
      .prepare(`SELECT label, vector FROM records WHERE collection_id = ? AND (${where.sql})`)
      .all(collectionId, ...where.params) as { label: number; vector: Buffer }[];
  }

  /** Number of records matching a compiled filter. */
  countMatching(collectionId: number, where: CompiledWhere): number {
    return this.#db
      .prepare(`SELECT count(*) FROM records WHERE collection_id = ? AND (${where.sql})`)
      .pluck()
      .get(collectionId, ...where.params) as number;
  }

  /** How SQLite runs a filter's label scan (EXPLAIN QUERY PLAN details), for explain output. */
  planOf(collectionId: number, where: CompiledWhere): string[] {
    return this.#db
      .prepare(`EXPLAIN QUERY PLAN SELECT label FROM records WHERE collection_id = ? AND (${where.sql})`)
      .all(collectionId, ...where.params)
      .map((row) => (row as { detail: string }).detail);
  }

  /**
   * Labels and stored vectors of the records under `labels` (any order; missing ones absent): a
   * point read of each record's key (record-key.ts). Up to KEYS_PER_STATEMENT labels go in one
   * statement with that many bound keys (unused ones -1, which no record has): it measured about
   * twice as fast as one JSON list of keys through json_each, which a rescoring of every query pays.
   */
  vectorsByLabels(collectionId: number, labels: readonly number[]): { label: number; vector: Buffer }[] {
    const statement = this.#statement(
      `SELECT label, vector FROM records WHERE key IN (${Array(KEYS_PER_STATEMENT).fill('?').join(',')})`,
    );
    const keys: number[] = new Array(KEYS_PER_STATEMENT);
    const rows: { label: number; vector: Buffer }[] = [];
    for (let start = 0; start < labels.length; start += KEYS_PER_STATEMENT) {
      for (let i = 0; i < KEYS_PER_STATEMENT; i++) {
        const label = labels[start + i];
        keys[i] = label === undefined ? -1 : recordKey(collectionId, label);
      }
      for (const row of statement.all(...keys) as { label: number; vector: Buffer }[]) rows.push(row);
    }
    return rows;
  }

  /** The persisted IVF-PQ state of a collection (codebook, the seq and params it covers, code chunks in order). */
  ivfpqState(
    collectionId: number,
  ): { seq: number; params: string; codebook: Uint8Array; chunks: Uint8Array[] } | undefined {
    const row = this.#statement('SELECT seq, params, codebook FROM ivfpq_codebooks WHERE collection_id = ?').get(
      collectionId,
    ) as { seq: number; params: string; codebook: Buffer } | undefined;
    if (row === undefined) return undefined;
    const chunks = this.#statement('SELECT data FROM ivfpq_codes WHERE collection_id = ? ORDER BY chunk')
      .pluck()
      .all(collectionId) as Buffer[];
    return { seq: row.seq, params: row.params, codebook: row.codebook, chunks };
  }

  /** Replaces a collection's IVF-PQ state; call inside the transaction that records the manifest. */
  setIvfpqState(
    collectionId: number,
    seq: number,
    params: string,
    codebook: Uint8Array,
    chunks: readonly Uint8Array[],
  ): void {
    this.removeIvfpqState(collectionId);
    this.#statement('INSERT INTO ivfpq_codebooks (collection_id, seq, params, codebook) VALUES (?, ?, ?, ?)').run(
      collectionId,
      seq,
      params,
      codebook,
    );
    const insert = this.#statement('INSERT INTO ivfpq_codes (collection_id, chunk, data) VALUES (?, ?, ?)');
    chunks.forEach((data, chunk) => {
      insert.run(collectionId, chunk, data);
    });
  }

  /** Drops a collection's IVF-PQ state (codebook and codes). */
  removeIvfpqState(collectionId: number): void {
    this.#statement('DELETE FROM ivfpq_codebooks WHERE collection_id = ?').run(collectionId);
    this.#statement('DELETE FROM ivfpq_codes WHERE collection_id = ?').run(collectionId);
  }
}

/** A compiled metadata filter: a SQL boolean expression over `metadata` and its parameters. */
export interface CompiledWhere {
  readonly sql: string;
  readonly params: readonly unknown[];
}

export interface ManifestRow {
  readonly file: string;
  readonly seq: number;
  readonly checksum: number;
  readonly params: string;
}

/** The name prefix of a declared field's indexes: a checksum of its path, so any key is safe. */
function fieldIndexPrefix(field: string): string {
  return `records_field_${crc32(Buffer.from(field, 'utf8')).toString(16).padStart(8, '0')}`;
}

function toCollectionRow(row: CollectionSqlRow): CollectionRow {
  const corrupt = (what: string, cause?: unknown) =>
    new QuiverError('CORRUPT', `collection '${row.name}' has ${what} in quiver.sqlite; run quiver verify`, {
      cause,
    });
  if (!Number.isInteger(row.dim) || row.dim < 1 || row.dim > MAX_DIM) throw corrupt(`dim ${String(row.dim)}`);
  if (row.metric !== 'l2' && row.metric !== 'cosine' && row.metric !== 'ip') {
    throw corrupt(`unknown metric '${String(row.metric)}'`);
  }
  let params: unknown;
  try {
    params = JSON.parse(row.index_params);
  } catch (error) {
    throw corrupt('index_params that are not JSON', error);
  }
  const stored = { ...(isObject(params) ? params : { invalid: params }), type: row.index_type };
  let options = fastIndexOptions(stored);
  if (options === undefined) {
    const parsed = indexOptionsSchema.safeParse(stored);
    if (!parsed.success) throw corrupt(`invalid index_params ${JSON.stringify(row.index_params)}`, parsed.error);
    options = parsed.data;
  }
  const index = indexKind(options.type).storedParams(options, row.dim);
  let indexedFields: unknown;
  try {
    indexedFields = JSON.parse(row.indexed_fields);
  } catch (error) {
    throw corrupt('indexed_fields that are not JSON', error);
  }
  if (!Array.isArray(indexedFields) || !indexedFields.every((field) => typeof field === 'string')) {
    throw corrupt('indexed_fields that are not a list of field paths');
  }
  return {
    id: row.id,
    name: row.name,
    dim: row.dim,
    metric: row.metric,
    index,
    createdAt: row.created_at,
    indexedFields,
    textSettings: parseTextSettings(row.text_settings, row.name),
  };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** The BLOB form of a vector: its little-endian float32 bytes, without a copy. */
export function blobOf(vector: Float32Array): Buffer {
  return Buffer.from(vector.buffer, vector.byteOffset, vector.byteLength);
}

/** Keys bound per statement by {@link Store.vectorsByLabels}: a rescoring's candidates fit in one or two. */
const KEYS_PER_STATEMENT = 64;

/** Copies a vector BLOB into a new Float32Array (a BLOB's bytes need not be 4-byte aligned); CORRUPT unless dim finite numbers. */
export function vectorOf(blob: Buffer, dim: number): Float32Array {
  if (blob.byteLength !== dim * 4) {
    throw new QuiverError('CORRUPT', `a stored vector has ${blob.byteLength} bytes; expected ${dim * 4} (dim ${dim})`);
  }
  const vector = new Float32Array(dim);
  new Uint8Array(vector.buffer).set(blob);
  for (let i = 0; i < dim; i++) {
    const value = vector[i]!;
    if (value - value !== 0)
      throw new QuiverError('CORRUPT', `a stored vector holds ${value} at [${i}]; run quiver verify`);
  }
  return vector;
}
