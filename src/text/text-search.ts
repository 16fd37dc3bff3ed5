// A collection's full-text index as the collection sees it: kept in step with the records inside
// their write transactions, checked on open, rebuilt from the records' text with a warning when
// missing or damaged, and searched by BM25 for a query's words: by its in-memory copy
// (memory-text-index.ts) when that can answer, else by FTS5. SQL lives in storage/text-index.ts.
import { QuiverError, toQuiverError } from '../errors.js';
import type { CompiledWhere, Store } from '../storage/store.js';
import { type TextCandidate, TextIndexDamaged, type TextIndexTable } from '../storage/text-index.js';
import type { QuiverProgress, QuiverWarning } from '../types.js';
import { MemoryTextIndex } from './memory-text-index.js';
import { matchExpression } from './query-words.js';
import type { TextSettings } from './settings.js';

/** Records indexed per page of a build, between progress reports. */
const BUILD_PAGE = 4096;

export interface TextEvents {
  readonly onWarning: (warning: QuiverWarning) => void;
  readonly onProgress: (progress: QuiverProgress) => void;
}

export class TextSearch {
  readonly settings: TextSettings;
  readonly #store: Store;
  readonly #table: TextIndexTable;
  readonly #collectionId: number;
  readonly #name: string;
  readonly #events: TextEvents;
  readonly #readOnly: boolean;
  /** The in-memory copy that answers queries; undefined for a tokenizer it cannot serve. */
  readonly #memory: MemoryTextIndex | undefined;

  constructor(
    store: Store,
    collectionId: number,
    name: string,
    settings: TextSettings,
    events: TextEvents,
    readOnly: boolean,
  ) {
    this.settings = settings;
    this.#store = store;
    this.#collectionId = collectionId;
    this.#name = name;
    this.#events = events;
    this.#readOnly = readOnly;
    this.#table = store.textIndex(collectionId);
    this.#memory = MemoryTextIndex.serves(settings)
      ? new MemoryTextIndex(store, this.#table, collectionId, name, settings)
      : undefined;
  }

  /**
   * Builds the index from every record's text and records the settings, in one transaction:
   * for a collection that declares `text` now, and for rebuilds.
   */
  build(): void {
    const total = this.#store.count(this.#collectionId);
    try {
      this.#store.transaction(() => {
        this.#table.create(this.settings);
        this.#store.setTextSettings(this.#collectionId, this.settings);
        let done = 0;
        let after = -1;
        this.#events.onProgress({ collection: this.#name, phase: 'text', done, total });
        for (;;) {
          const page = this.#table.fillPage(after, BUILD_PAGE);
          if (page === undefined) break;
          after = page.last;
          done += page.rows;
          this.#events.onProgress({ collection: this.#name, phase: 'text', done, total });
        }
      });
    } catch (error) {
      throw toQuiverError(error, `building the text index of collection '${this.#name}'`);
    }
  }

  /**
   * On open: a missing index, or one whose row count differs from the records with text, is
   * rebuilt; then the in-memory copy is loaded from it.
   */
  verify(): void {
    this.#check();
    this.#loadMemory();
  }

  /** Loads the in-memory copy; when the FTS5 table cannot be read, queries go to FTS5, which repairs or reports it. */
  #loadMemory(): void {
    if (this.#memory === undefined || !this.#table.exists()) return;
    try {
      this.#memory.load();
    } catch {
      this.#memory.drop();
    }
  }

  #check(): void {
    if (this.#readOnly) return; // a reader cannot repair; a damaged index shows up as CORRUPT on search
    if (!this.#table.exists()) {
      this.#rebuild('TEXT_INDEX_MISSING', 'was missing');
      return;
    }
    let counts: { indexed: number; withText: number };
    try {
      counts = this.#table.counts();
    } catch (error) {
      this.#rebuild('TEXT_INDEX_INVALID', 'could not be read', error);
      return;
    }
    if (counts.indexed !== counts.withText) {
      this.#rebuild('TEXT_INDEX_INVALID', `held ${counts.indexed} texts where the records hold ${counts.withText}`);
    }
  }

  #rebuild(code: 'TEXT_INDEX_MISSING' | 'TEXT_INDEX_INVALID', what: string, cause?: unknown): void {
    this.#memory?.drop();
    this.build();
    this.#events.onWarning({
      code,
      collection: this.#name,
      message: `the text index of collection '${this.#name}' ${what}; it was rebuilt from the records`,
      ...(cause === undefined ? {} : { cause }),
    });
  }

  /** A record was written (inside the write transaction): its old entry goes, its new text comes in. */
  written(label: number, text: string | null, existed: boolean): void {
    if (existed) this.#table.remove(label);
    if (text !== null) this.#table.insert(label, text);
    if (existed || text !== null) this.#memory?.changed(label, text);
  }

  /** A record was deleted (inside the delete transaction). */
  deleted(label: number): void {
    this.#table.remove(label);
    this.#memory?.changed(label, null);
  }

  /** The write transaction that called {@link written} or {@link deleted} committed. */
  committed(): void {
    this.#memory?.committed();
  }

  /** The write transaction that called {@link written} or {@link deleted} rolled back. */
  rolledBack(): void {
    this.#memory?.rolledBack();
  }

  /** A reader: another connection committed; the in-memory copy follows. */
  catchUp(): void {
    this.#memory?.catchUp();
  }

  /**
   * The best `limit` records for `words` by BM25, best first (only those matching `where`). A
   * damaged index is rebuilt with a warning and searched again; a reader reports it as CORRUPT.
   */
  search(words: readonly string[], limit: number, where: CompiledWhere | undefined): TextCandidate[] {
    const match = matchExpression(words);
    if (match === undefined) return [];
    try {
      const found = this.#memory?.search(words, limit, where);
      if (found !== undefined) return found;
      return this.#table.search(match, limit, where);
    } catch (error) {
      const code = (error as { code?: unknown } | null)?.code;
      const damaged =
        (typeof code === 'string' && code.startsWith('SQLITE_CORRUPT')) || error instanceof TextIndexDamaged;
      if (!damaged && this.#table.exists()) {
        throw toQuiverError(error, `searching the text index of collection '${this.#name}'`);
      }
      if (this.#readOnly) {
        throw new QuiverError(
          'CORRUPT',
          `the text index of collection '${this.#name}' is damaged; open the database for writing once to rebuild it`,
          { cause: error },
        );
      }
      this.#rebuild('TEXT_INDEX_INVALID', 'was damaged', error);
      return this.#table.search(match, limit, where);
    }
  }

  /** Bytes the in-memory copy takes (0 when there is none). */
  memoryBytes(): number {
    return this.#memory?.bytes() ?? 0;
  }

  /** Bytes the index takes in quiver.sqlite. */
  bytes(): number {
    return this.#table.bytes();
  }
}
