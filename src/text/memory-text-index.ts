// The in-memory copy of a collection's full-text index that answers BM25 queries fast: loaded from
// the FTS5 index's own terms on open, fed the writer's changes after they commit, caught up from
// the log by readers, and dropped (to be loaded again) whenever it could be out of step. The FTS5
// table stays the truth. SQL lives in storage/text-index.ts; imports no collection code.
import type { CompiledWhere, Store } from '../storage/store.js';
import { type TextCandidate, TextIndexDamaged, type TextIndexTable } from '../storage/text-index.js';
import { InconsistentPostings, InvertedIndex } from './inverted-index.js';
import type { TextSettings } from './settings.js';

/** Query words whose terms are remembered; the map is emptied when it grows past this. */
const MAX_REMEMBERED_WORDS = 100_000;
/** Changes waiting to be applied past which loading the index again is cheaper (at least this many). */
const MIN_PENDING_LIMIT = 4096;
/** UTF-16 code units of text the waiting changes may hold before the index is dropped instead. */
const MAX_PENDING_TEXT = 32 * 1024 * 1024;

/** A committed change waiting to be applied: a record's new text, or null when it has none now. */
interface Change {
  readonly label: number;
  readonly text: string | null;
}

export class MemoryTextIndex {
  readonly #store: Store;
  readonly #table: TextIndexTable;
  readonly #collectionId: number;
  readonly #name: string;
  readonly #settings: TextSettings;
  #index: InvertedIndex | undefined;
  /** The log position the index reflects (readers follow the writer from there). */
  #appliedSeq = 0;
  /**
   * The change-feed position the index reflects: `update()` changes text without a log row, so a
   * reader learns of it from the feed's 'update' changes.
   */
  #appliedChangeSeq = 0;
  #pending: Change[] = [];
  /** Code units of text in #pending. */
  #pendingText = 0;
  /** Uncommitted changes of the write transaction under way. */
  #uncommitted: Change[] = [];
  /** FTS5's totals (TextIndexTable.totals) as of the last read; undefined once a write may have changed them. */
  #totals: { rows: number; tokens: number } | undefined;
  /** Each query word's one FTS5 term; null for a word FTS5 does not turn into exactly one term. */
  readonly #terms = new Map<string, string | null>();

  constructor(store: Store, table: TextIndexTable, collectionId: number, name: string, settings: TextSettings) {
    this.#store = store;
    this.#table = table;
    this.#collectionId = collectionId;
    this.#name = name;
    this.#settings = settings;
  }

  /**
   * True when this index can answer the collection's queries: not for the trigram tokenizer, whose
   * quoted words are phrases of trigrams (substring matches) that postings of single terms cannot serve.
   */
  static serves(settings: TextSettings): boolean {
    return settings.tokenizer !== 'trigram';
  }

  /** Loads the index from the FTS5 table (one read transaction): its documents, terms and postings. */
  load(): void {
    this.#totals = undefined;
    this.#index = undefined;
    this.#pending = [];
    this.#pendingText = 0;
    this.#uncommitted = [];
    const index = new InvertedIndex((value) => this.#table.naturalLog(value));
    try {
      this.#store.transaction(() => {
        this.#appliedSeq = this.#store.lastSeq();
        this.#appliedChangeSeq = this.#store.changes.lastSeq();
        index.add(this.#table.indexedLabels(), (visit) => this.#table.postings(visit));
      });
    } catch (error) {
      // The FTS5 table's terms name documents it does not hold: damage, which a rebuild repairs.
      if (error instanceof InconsistentPostings) throw new TextIndexDamaged(error.message, { cause: error });
      throw error;
    }
    this.#index = index;
  }

  /** Forgets the index; the next search loads it again. */
  drop(): void {
    this.#totals = undefined;
    this.#index = undefined;
    this.#pending = [];
    this.#pendingText = 0;
    this.#uncommitted = [];
  }

  /** Bytes the loaded index takes in memory (0 when not loaded). */
  bytes(): number {
    return this.#index?.bytes() ?? 0;
  }

  /** Inside a write transaction: the record with `label` now has `text` (null: none, or deleted). */
  changed(label: number, text: string | null): void {
    this.#totals = undefined;
    if (this.#index !== undefined) this.#uncommitted.push({ label, text });
  }

  /** The write transaction committed: its changes apply at the next search. */
  committed(): void {
    if (this.#index === undefined) return;
    for (const change of this.#uncommitted) {
      this.#pending.push(change);
      this.#pendingText += change.text?.length ?? 0;
    }
    this.#uncommitted = [];
    if (this.#pending.length > this.#pendingLimit() || this.#pendingText > MAX_PENDING_TEXT) this.drop();
  }

  /** The write transaction rolled back: its changes never happened. */
  rolledBack(): void {
    this.#totals = undefined;
    this.#uncommitted = [];
  }

  /**
   * For a reader: queues what other connections committed since the index was loaded (the labels
   * the log names, with their current text), or drops the index when the log no longer reaches back.
   */
  catchUp(): void {
    this.#totals = undefined; // another connection committed: even a rebuild, which logs nothing, changes them
    if (this.#index !== undefined) this.#store.transaction(() => this.#follow());
  }

  #follow(): void {
    if (!this.#followUpdates()) return;
    const seq = this.#store.lastSeq();
    if (seq === this.#appliedSeq) return;
    this.#totals = undefined;
    const manifest = this.#store.manifest(this.#collectionId);
    if (manifest !== undefined && manifest.seq > this.#appliedSeq) {
      this.drop(); // a snapshot truncated the log past what was applied
      return;
    }
    const labels = this.#store.labelsLoggedAfter(this.#collectionId, this.#appliedSeq);
    if (labels.length > this.#pendingLimit()) {
      this.drop();
      return;
    }
    const texts = this.#table.textsOf(labels);
    for (const label of labels) {
      const text = texts.get(label) ?? null;
      this.#pending.push({ label, text });
      this.#pendingText += text?.length ?? 0;
    }
    this.#appliedSeq = seq;
    if (this.#pendingText > MAX_PENDING_TEXT) this.drop();
  }

  /**
   * Queues the records whose text `update()` may have changed since the index was loaded (the
   * feed's 'update' changes of this collection). Drops the index, and returns false, when the
   * feed was trimmed past what this reader saw: which records changed is then unknown.
   */
  #followUpdates(): boolean {
    const changes = this.#store.changes;
    const last = changes.lastSeq();
    if (last === this.#appliedChangeSeq) return true;
    const first = changes.firstSeq();
    if (first === undefined || first > this.#appliedChangeSeq + 1) {
      this.drop();
      return false;
    }
    const ids = changes.idsUpdatedAfter(this.#name, this.#appliedChangeSeq);
    this.#appliedChangeSeq = last;
    if (ids.length === 0) return true;
    const labels = [...this.#store.labelsOfIds(this.#collectionId, ids).values()];
    const texts = this.#table.textsOf(labels);
    for (const label of labels) {
      const text = texts.get(label) ?? null;
      this.#pending.push({ label, text });
      this.#pendingText += text?.length ?? 0;
    }
    return true;
  }

  #pendingLimit(): number {
    return Math.max(MIN_PENDING_LIMIT, this.#index?.documents ?? 0);
  }

  /**
   * The best `limit` records for `words` by BM25, exactly as the FTS5 table ranks and scores them;
   * undefined when this index cannot answer (a word FTS5 does not make one term of): ask FTS5.
   */
  search(words: readonly string[], limit: number, where: CompiledWhere | undefined): TextCandidate[] | undefined {
    const terms = this.#termsOf(words);
    if (terms === undefined) return undefined;
    const index = this.#current();
    let accept: ((label: number) => boolean) | undefined;
    if (where !== undefined) {
      const matching = this.#store.labelsMatching(this.#collectionId, where);
      const bitmap = new Uint8Array(matching.length === 0 ? 0 : matching[matching.length - 1]! + 1);
      for (const label of matching) bitmap[label] = 1;
      accept = (label) => bitmap[label] === 1;
    }
    this.#totals ??= this.#table.totals();
    const found = index.search(terms, limit, this.#totals, accept);
    return found.labels.map((label, i) => ({ label, score: found.scores[i]! }));
  }

  /** The index with every committed change applied, loaded when it was not. */
  #current(): InvertedIndex {
    if (this.#index === undefined) this.load();
    const index = this.#index!;
    if (this.#pending.length === 0) return index;
    const changes = this.#pending;
    this.#pending = [];
    this.#pendingText = 0;
    try {
      const latest = new Map<number, string | null>();
      for (const { label, text } of changes) latest.set(label, text);
      const added: [number, string][] = [];
      for (const [label, text] of latest) {
        index.remove(label);
        if (text !== null) added.push([label, text]);
      }
      added.sort((a, b) => a[0] - b[0]);
      index.add(
        added.map(([label]) => label),
        (visit) => this.#table.tokenize(added, this.#settings, visit),
      );
    } catch (error) {
      this.drop();
      throw error;
    }
    return index;
  }

  /** The FTS5 term of each word, by FTS5's tokenizer; undefined when a word is not exactly one term. */
  #termsOf(words: readonly string[]): string[] | undefined {
    const unknown = [...new Set(words.filter((word) => !this.#terms.has(word)))];
    if (unknown.length > 0) {
      if (this.#terms.size + unknown.length > MAX_REMEMBERED_WORDS) this.#terms.clear();
      const tokens = new Map<number, string[]>();
      const repeated = new Set<number>();
      this.#table.tokenize(
        unknown.map((word, i) => [i, word] as const),
        this.#settings,
        (term, labels, frequencies, count) => {
          for (let i = 0; i < count; i++) {
            const list = tokens.get(labels[i]!) ?? [];
            list.push(term);
            tokens.set(labels[i]!, list);
            if (frequencies[i]! > 1) repeated.add(labels[i]!);
          }
        },
      );
      // A word of several tokens (even equal ones) or of none is a phrase FTS5 matches as such.
      unknown.forEach((word, i) => {
        const list = tokens.get(i);
        this.#terms.set(word, list !== undefined && list.length === 1 && !repeated.has(i) ? list[0]! : null);
      });
    }
    const terms: string[] = [];
    for (const word of words) {
      const term = this.#terms.get(word);
      if (term === null || term === undefined) return undefined;
      terms.push(term);
    }
    return terms;
  }
}
