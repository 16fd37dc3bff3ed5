// The full-text index of one collection: a contentless FTS5 table `records_text_<collection id>`
// whose rowid is the record's label; the text itself lives once, in records.text. Owns every SQL
// statement on that table. Knows nothing of queries beyond a MATCH expression and a compiled filter.
//
// Table: CREATE VIRTUAL TABLE records_text_<id> USING fts5(text, content='', contentless_delete=1,
//        tokenize='<fts5Tokenize(settings)>')   -- shadow tables records_text_<id>_{data,idx,docsize,config}
// Per connection, in the temp schema (never on disk): quiver_text_vocabulary_<id>, an fts5vocab
// 'instance' table over it (its terms, per document); quiver_text_tokens_<id>, an empty contentless
// FTS5 table with the same tokenizer that new texts and query words pass through to become FTS5's
// own terms, and quiver_text_tokens_vocabulary_<id> over that.
import type Database from 'better-sqlite3';
import { QuiverError } from '../errors.js';
import type { PostingsVisitor } from '../text/inverted-index.js';
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
    this.#db.exec(`DROP TABLE IF EXISTS temp.${this.#vocabulary}`);
    this.#db.exec(`DROP TABLE IF EXISTS temp.${this.#tokensVocabulary}`);
    this.#db.exec(`DROP TABLE IF EXISTS temp.${this.#tokens}`);
    this.#db.exec(`DROP TABLE IF EXISTS ${this.#table}`);
  }

  get #vocabulary(): string {
    return `quiver_text_vocabulary_${this.#collectionId}`;
  }

  get #tokens(): string {
    return `quiver_text_tokens_${this.#collectionId}`;
  }

  get #tokensVocabulary(): string {
    return `quiver_text_tokens_vocabulary_${this.#collectionId}`;
  }

  /** Labels of the records the index holds (with or without a token), ascending. */
  indexedLabels(): Int32Array {
    return Int32Array.from(
      this.#statement(`SELECT id FROM ${this.#table}_docsize ORDER BY id`).pluck().all() as number[],
    );
  }

  /**
   * Hands `visit` every term of the index with its postings (labels ascending, frequencies), term
   * after term, read through an fts5vocab 'instance' table: FTS5's own tokens, not a re-tokenising.
   */
  postings(visit: PostingsVisitor): void {
    this.#db.exec(
      `CREATE VIRTUAL TABLE IF NOT EXISTS temp.${this.#vocabulary} USING fts5vocab(main, ${this.#table}, instance)`,
    );
    readPostings(
      this.#statement(`SELECT term, group_concat(doc, ' ') FROM temp.${this.#vocabulary} GROUP BY term`),
      visit,
    );
  }

  /**
   * Tokenises `texts` (label, text) with this index's tokenizer and hands `visit` each term's
   * postings among them, as {@link postings} does for the index: the texts go through an empty
   * temporary FTS5 table with the same tokenize option, emptied again before returning.
   */
  tokenize(texts: readonly (readonly [number, string])[], settings: TextSettings, visit: PostingsVisitor): void {
    if (texts.length === 0) return;
    this.#db.exec(
      `CREATE VIRTUAL TABLE IF NOT EXISTS temp.${this.#tokens} USING fts5(text, content='', tokenize='${fts5Tokenize(settings)}')`,
    );
    this.#db.exec(
      `CREATE VIRTUAL TABLE IF NOT EXISTS temp.${this.#tokensVocabulary} USING fts5vocab(temp, ${this.#tokens}, instance)`,
    );
    const insert = this.#statement(`INSERT INTO temp.${this.#tokens}(rowid, text) VALUES (?, ?)`);
    try {
      for (const [label, text] of texts) insert.run(label, text);
      readPostings(
        this.#statement(`SELECT term, group_concat(doc, ' ') FROM temp.${this.#tokensVocabulary} GROUP BY term`),
        visit,
      );
    } finally {
      this.#statement(`INSERT INTO temp.${this.#tokens}(${this.#tokens}) VALUES ('delete-all')`).run();
    }
  }

  /** The text of each of `labels` that has a record with text (a label without one is absent). */
  textsOf(labels: readonly number[]): Map<number, string> {
    const rows = this.#statement(
      'SELECT label, text FROM records WHERE collection_id = ? AND label IN (SELECT value FROM json_each(?)) AND text IS NOT NULL',
    )
      .raw()
      .all(this.#collectionId, JSON.stringify(labels)) as [number, unknown][];
    const texts = new Map<number, string>();
    for (const [label, text] of rows) {
      if (typeof text !== 'string') throw corruptText(label);
      texts.set(label, text);
    }
    return texts;
  }

  /**
   * FTS5's own totals, which its bm25() takes N and the average length from: rows inserted and
   * their tokens, from the averages record (row 1 of the _data shadow table: a varint of rows, then
   * one of tokens per column). With contentless_delete, FTS5 adds to them on insert and never
   * subtracts on delete, so they count every text ever inserted since the table was built.
   */
  totals(): { rows: number; tokens: number } {
    const block = this.#statement(`SELECT block FROM ${this.#table}_data WHERE id = 1`).pluck().get() as
      | Buffer
      | undefined;
    if (block === undefined) return { rows: 0, tokens: 0 };
    if (!Buffer.isBuffer(block)) throw new TextIndexDamaged('its totals record is not a blob');
    // An empty table's record is empty; FTS5 reads numbers past the end of the record as 0.
    const rows = block.length === 0 ? { value: 0, next: 0 } : readVarint(block, 0);
    const tokens = rows.next >= block.length ? { value: 0 } : readVarint(block, rows.next);
    return { rows: rows.value, tokens: tokens.value };
  }

  /** The natural logarithm as SQLite computes it: the C library's log(), which FTS5's bm25() calls. */
  naturalLog(value: number): number {
    return this.#statement('SELECT ln(?)').pluck().get(value) as number;
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
   * The `limit` records that best match `match` by BM25, best first (equal scores by label); with `where`, only those whose
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
            `SELECT rowid, -bm25(${this.#table}) AS score FROM ${this.#table} WHERE ${this.#table} MATCH ? ORDER BY score DESC, rowid LIMIT ?`,
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

/** Initial room for one term's postings while reading them. */
const POSTINGS_CAPACITY = 1024;

/**
 * Runs `SELECT term, group_concat(doc, ' ')` over an fts5vocab 'instance' table, which yields one
 * row per term with the label of each of its occurrences, ascending (fts5vocab scans in term, doc
 * order, so SQLite groups without sorting): a run of one label is that document's term frequency.
 */
function readPostings(statement: Database.Statement, visit: PostingsVisitor): void {
  let labels = new Int32Array(POSTINGS_CAPACITY);
  let frequencies = new Int32Array(POSTINGS_CAPACITY);
  for (const [term, occurrences] of statement.raw().iterate() as IterableIterator<[string, string]>) {
    let count = 0;
    let label = 0;
    let previous = -1;
    for (let i = 0; i <= occurrences.length; i++) {
      const code = i < occurrences.length ? occurrences.charCodeAt(i) : 32;
      if (code !== 32) {
        label = label * 10 + (code - 48);
        continue;
      }
      if (label === previous) {
        frequencies[count - 1]!++;
      } else {
        if (count === labels.length) {
          const grownLabels = new Int32Array(count * 2);
          grownLabels.set(labels);
          labels = grownLabels;
          const grownFrequencies = new Int32Array(count * 2);
          grownFrequencies.set(frequencies);
          frequencies = grownFrequencies;
        }
        labels[count] = label;
        frequencies[count] = 1;
        count++;
        previous = label;
      }
      label = 0;
    }
    visit(term, labels, frequencies, count);
  }
}

/**
 * An SQLite varint (FTS5 writes its totals with them): big-endian groups of 7 bits, each byte but
 * the last with its high bit set, the ninth byte whole. A value past 2^53 or a cut varint is damage.
 */
function readVarint(bytes: Buffer, start: number): { value: number; next: number } {
  let value = 0;
  for (let i = start; i < bytes.length && i < start + 9; i++) {
    const byte = bytes[i]!;
    if (i === start + 8) return { value: value * 256 + byte, next: i + 1 };
    value = value * 128 + (byte & 0x7f);
    if (value > Number.MAX_SAFE_INTEGER) break;
    if ((byte & 0x80) === 0) return { value, next: i + 1 };
  }
  throw new TextIndexDamaged('its totals record holds a damaged number');
}

/** The FTS5 table holds something FTS5 itself would not have written: rebuild it (as for SQLITE_CORRUPT). */
export class TextIndexDamaged extends Error {}

/** A record's text that is neither a string nor NULL. */
export function corruptText(label: number): QuiverError {
  return new QuiverError(
    'CORRUPT',
    `the record with label ${label} has a text that is not a string in quiver.sqlite; restore the database from a backup`,
  );
}
