// The full-text index of one collection: a contentless FTS5 table `records_text_<collection id>`
// whose rowid is the record's label; the text itself lives once, in records.text. Owns every SQL
// statement on that table. Knows nothing of queries beyond a MATCH expression and a compiled filter.
//
// Table: CREATE VIRTUAL TABLE records_text_<id> USING fts5(text, content='', contentless_delete=1,
//        tokenize='<fts5Tokenize(settings)>')   -- shadow tables records_text_<id>_{data,idx,docsize,config}
import type Database from 'better-sqlite3';
import { QuiverError } from '../errors.js';
import { fts5Tokenize, type TextSettings } from '../text/settings.js';

/** One candidate of a text search: the record's label and its BM25 score (higher is better). */
export interface TextCandidate {
  readonly label: number;
  readonly score: number;
}

/** The name of a collection's FTS5 table (the id is an integer: no quoting concerns). */
export function textTableName(collectionId: number): string {
  return `records_text_${collectionId}`;
}

export class TextIndexTable {
  readonly #db: Database.Database;
  readonly #table: string;
  readonly #collectionId: number;
  readonly #statements = new Map<string, Database.Statement>();

  constructor(db: Database.Database, collectionId: number) {
    this.#db = db;
    this.#collectionId = collectionId;
    this.#table = textTableName(collectionId);
  }

  #statement(sql: string): Database.Statement {
    let statement = this.#statements.get(sql);
    if (statement === undefined) {
      statement = this.#db.prepare(sql);
      this.#statements.set(sql, statement);
    }
    return statement;
  }

  /** True when the table exists. */
  exists(): boolean {
    return (
      this.#statement("SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = ?")
        .pluck()
        .get(this.#table) === 1
    );
  }

  /** Drops the table (if any) and creates it empty; call inside a transaction with {@link fill}. */
  create(settings: TextSettings): void {
    this.drop();
    // The tokenize value is built from fixed words only (settings are validated enums).
    this.#db.exec(
      `CREATE VIRTUAL TABLE ${this.#table} USING fts5(text, content='', contentless_delete=1, tokenize='${fts5Tokenize(settings)}')`,
    );
  }

  drop(): void {
    this.#statements.clear();
    this.#db.exec(`DROP TABLE IF EXISTS ${this.#table}`);
  }

  /** Indexes the text of every record with labels above `afterLabel`, up to `limit` of them; returns the last label read, or undefined when none was left. */
  fillPage(afterLabel: number, limit: number): { last: number; rows: number } | undefined {
    const rows = this.#statement(
      'SELECT label, text FROM records WHERE collection_id = ? AND label > ? ORDER BY label LIMIT ?',
    )
      .raw()
      .all(this.#collectionId, afterLabel, limit) as [number, unknown][];
    if (rows.length === 0) return undefined;
    const insert = this.#statement(`INSERT INTO ${this.#table}(rowid, text) VALUES (?, ?)`);
    for (const [label, text] of rows) {
      if (text === null) continue;
      if (typeof text !== 'string') throw corruptText(label);
      insert.run(label, text);
    }
    return { last: rows[rows.length - 1]![0], rows: rows.length };
  }

  insert(label: number, text: string): void {
    this.#statement(`INSERT INTO ${this.#table}(rowid, text) VALUES (?, ?)`).run(label, text);
  }

  remove(label: number): void {
    this.#statement(`DELETE FROM ${this.#table} WHERE rowid = ?`).run(label);
  }

  /** Rows the index holds, and records of the collection with text: equal when the index is whole. */
  counts(): { indexed: number; withText: number } {
    const indexed = this.#statement(`SELECT count(*) FROM ${this.#table}_docsize`).pluck().get() as number;
    const withText = this.#statement('SELECT count(*) FROM records WHERE collection_id = ? AND text IS NOT NULL')
      .pluck()
      .get(this.#collectionId) as number;
    return { indexed, withText };
  }

  /**
   * The `limit` records that best match `match` by BM25, best first; with `where`, only those whose
   * metadata matches it (a compiled filter over records.metadata).
   */
  search(
    match: string,
    limit: number,
    where?: { readonly sql: string; readonly params: readonly unknown[] },
  ): TextCandidate[] {
    // FTS5's bm25() is negative, more negative for better matches; the score is its negation.
    const rows =
      where === undefined
        ? (this.#statement(
            `SELECT rowid, -bm25(${this.#table}) FROM ${this.#table} WHERE ${this.#table} MATCH ? ORDER BY rank LIMIT ?`,
          )
            .raw()
            .all(match, limit) as [number, number][])
        : (this.#db
            .prepare(
              `SELECT t.rowid, -bm25(${this.#table}) AS score FROM ${this.#table} AS t ` +
                `JOIN records ON records.collection_id = ? AND records.label = t.rowid ` +
                `WHERE ${this.#table} MATCH ? AND (${where.sql}) ORDER BY score DESC, t.rowid LIMIT ?`,
            )
            .raw()
            .all(this.#collectionId, match, ...where.params, limit) as [number, number][]);
    return rows.map(([label, score]) => ({ label, score }));
  }

  /** Bytes of the table's shadow tables (the index's size on disk), by SQLite's dbstat. */
  bytes(): number {
    try {
      return this.#statement("SELECT coalesce(sum(pgsize), 0) FROM dbstat WHERE name LIKE ? ESCAPE '\\'")
        .pluck()
        .get(`${this.#table.replaceAll('_', '\\_')}\\_%`) as number;
    } catch (error) {
      throw new QuiverError('IO_ERROR', `measuring the text index of collection ${this.#collectionId}`, {
        cause: error,
      });
    }
  }
}

/** A record's text that is neither a string nor NULL. */
export function corruptText(label: number): QuiverError {
  return new QuiverError(
    'CORRUPT',
    `the record with label ${label} has a text that is not a string in quiver.sqlite; restore the database from a backup`,
  );
}
