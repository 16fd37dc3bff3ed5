// An in-memory inverted index over a collection's full-text terms, derived from the FTS5 index (its
// terms are FTS5's own tokens, handed in by the caller) and answering BM25 top-k queries with
// MaxScore pruning, with exactly FTS5's bm25() scores and order. Pure data structure: imports nothing.
//
// Layout: per term, its postings as two parallel typed arrays (labels ascending, term frequencies);
// per label, the document's length in tokens (-1: not indexed) and its term ids (to remove it).

/** FTS5's bm25() parameters (fts5_aux.c): k1 and b, and the floor of a term's idf. */
const K1 = 1.2;
const B = 0.75;
const IDF_FLOOR = 1e-6;
/**
 * Relative slack of the pruning tests: a bound is summed in another order than the exact score, so
 * a document is skipped only when its bound is below the threshold by more than rounding could explain.
 */
const PRUNE_SLACK = 1e-9;

/** A term's postings: labels ascending, with the term's frequency in each document. */
class Postings {
  labels: Int32Array;
  frequencies: Int32Array;
  length = 0;
  /**
   * The largest BM25 part (without idf) of any posting here, for the average length it was computed
   * with (NaN: not computed since the postings or lengths changed).
   */
  largestPart = 0;
  largestPartAverage = Number.NaN;

  constructor(capacity: number) {
    this.labels = new Int32Array(capacity);
    this.frequencies = new Int32Array(capacity);
  }

  #reserve(length: number): void {
    if (length <= this.labels.length) return;
    const capacity = Math.max(length, this.labels.length * 2, 4);
    const labels = new Int32Array(capacity);
    labels.set(this.labels.subarray(0, this.length));
    const frequencies = new Int32Array(capacity);
    frequencies.set(this.frequencies.subarray(0, this.length));
    this.labels = labels;
    this.frequencies = frequencies;
  }

  /** Adds `count` postings whose labels are ascending and absent here. */
  insert(labels: Int32Array, frequencies: Int32Array, count: number): void {
    if (count === 0) return;
    const old = this.length;
    this.#reserve(old + count);
    if (old === 0 || labels[0]! > this.labels[old - 1]!) {
      this.labels.set(labels.subarray(0, count), old);
      this.frequencies.set(frequencies.subarray(0, count), old);
    } else {
      // Merge from the back, in place: the new postings interleave with the old ones.
      let i = old - 1;
      let j = count - 1;
      for (let out = old + count - 1; j >= 0; out--) {
        if (i >= 0 && this.labels[i]! > labels[j]!) {
          this.labels[out] = this.labels[i]!;
          this.frequencies[out] = this.frequencies[i]!;
          i--;
        } else {
          this.labels[out] = labels[j]!;
          this.frequencies[out] = frequencies[j]!;
          j--;
        }
      }
    }
    this.length = old + count;
  }

  remove(label: number): void {
    const at = lowerBound(this.labels, 0, this.length, label);
    if (at === this.length || this.labels[at] !== label) return;
    this.labels.copyWithin(at, at + 1, this.length);
    this.frequencies.copyWithin(at, at + 1, this.length);
    this.length--;
  }
}

/** An Int32Array that grows as numbers are pushed. */
class GrowingInts {
  values = new Int32Array(1024);
  length = 0;

  push(value: number): void {
    if (this.length === this.values.length) {
      const grown = new Int32Array(this.values.length * 2);
      grown.set(this.values);
      this.values = grown;
    }
    this.values[this.length++] = value;
  }
}

/**
 * The first position in labels[from, to) holding a label ≥ `label` (`to` when none): galloping
 * from `from` (a cursor moves on by small steps), then a binary search.
 */
function lowerBound(labels: Int32Array, from: number, to: number, label: number): number {
  if (from >= to || labels[from]! >= label) return from;
  // labels[low] < label throughout; high is past it.
  let low = from;
  let step = 1;
  let high = from + 1;
  while (high < to && labels[high]! < label) {
    low = high;
    step *= 2;
    high = from + step;
  }
  if (high > to) high = to;
  low++;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (labels[middle]! < label) low = middle + 1;
    else high = middle;
  }
  return low;
}

/** Postings handed to {@link InvertedIndex.add} that do not fit the documents being added. */
export class InconsistentPostings extends Error {}

/** Receives one term's postings for the documents being added: labels ascending, `count` of them. */
export type PostingsVisitor = (term: string, labels: Int32Array, frequencies: Int32Array, count: number) => void;

/** A query's answer: labels best first and their BM25 scores (higher is better). */
export interface ScoredLabels {
  readonly labels: number[];
  readonly scores: number[];
}

/** One query term while searching: its postings, idf and upper bound. */
interface Cursor {
  readonly phrase: number;
  readonly postings: Postings;
  readonly idf: number;
  readonly bound: number;
}

export class InvertedIndex {
  readonly #termIds = new Map<string, number>();
  readonly #postings: Postings[] = [];
  /** Tokens per label; -1 for a label the index does not hold. */
  #lengths = new Int32Array(0).fill(-1);
  /** Term ids per label, to take a document out of its postings. */
  readonly #documentTerms: (Int32Array | undefined)[] = [];
  #documents = 0;
  #tokens = 0;
  /** idf by number of documents holding the term, for FTS5's row count #idfRows. */
  readonly #idfs = new Map<number, number>();
  #idfRows = -1;
  readonly #log: (value: number) => number;

  /**
   * @param log the natural logarithm to compute idf with; FTS5 calls the C library's log(), and
   *   the caller passes the same function (through SQLite) so that scores agree to the last bit.
   */
  constructor(log: (value: number) => number) {
    this.#log = log;
  }

  /** Documents held: records with text, with or without tokens. */
  get documents(): number {
    return this.#documents;
  }

  /** Tokens over all documents held. */
  get tokens(): number {
    return this.#tokens;
  }

  /** Distinct terms ever seen (a term whose documents all went keeps its empty postings). */
  get terms(): number {
    return this.#postings.length;
  }

  /** True when the index holds the document with this label. */
  has(label: number): boolean {
    return label < this.#lengths.length && this.#lengths[label]! >= 0;
  }

  /** The document's length in tokens, or -1 when the index does not hold it. */
  lengthOf(label: number): number {
    return label < this.#lengths.length ? this.#lengths[label]! : -1;
  }

  /** Documents holding `term` (its document frequency). */
  documentFrequency(term: string): number {
    const id = this.#termIds.get(term);
    return id === undefined ? 0 : this.#postings[id]!.length;
  }

  /** Bytes of the typed arrays and an estimate of the term dictionary. */
  bytes(): number {
    let bytes = this.#lengths.byteLength;
    for (const postings of this.#postings) bytes += postings.labels.byteLength + postings.frequencies.byteLength + 48;
    for (const terms of this.#documentTerms) if (terms !== undefined) bytes += terms.byteLength + 64;
    for (const term of this.#termIds.keys()) bytes += 2 * term.length + 40;
    return bytes;
  }

  /**
   * Adds documents, each absent from the index: `labels` lists them all (a document without a
   * token too), and `read` hands `visit` each term's postings for them.
   */
  add(labels: ArrayLike<number>, read: (visit: PostingsVisitor) => void): void {
    let largest = -1;
    for (let i = 0; i < labels.length; i++) largest = Math.max(largest, labels[i]!);
    this.#reserveLabels(largest + 1);
    const adding = new Uint8Array(largest + 1);
    for (let i = 0; i < labels.length; i++) {
      const label = labels[i]!;
      if (this.#lengths[label]! >= 0 || adding[label] === 1)
        throw new InconsistentPostings(`label ${label} is already in the text index`);
      adding[label] = 1;
    }
    // Every (term, label, frequency) of the batch, in the order read (term after term).
    const terms = new GrowingInts();
    const owners = new GrowingInts();
    const counts = new GrowingInts();
    read((term, postingLabels, frequencies, count) => {
      let id = this.#termIds.get(term);
      if (id === undefined) {
        id = this.#postings.length;
        this.#termIds.set(term, id);
        this.#postings.push(new Postings(count));
      }
      for (let i = 0; i < count; i++) {
        const label = postingLabels[i]!;
        if (label > largest || adding[label] !== 1) {
          throw new InconsistentPostings(`the postings of '${term}' name label ${label}, not one being added`);
        }
        terms.push(id);
        owners.push(label);
        counts.push(frequencies[i]!);
      }
      this.#postings[id]!.insert(postingLabels, frequencies, count);
    });
    // Each document's terms, in one buffer for the batch (a view per document), and its length.
    const termsPerLabel = new Int32Array(largest + 1);
    for (let i = 0; i < labels.length; i++) this.#lengths[labels[i]!] = 0;
    for (let i = 0; i < owners.length; i++) {
      const label = owners.values[i]!;
      termsPerLabel[label]!++;
      this.#lengths[label]! += counts.values[i]!;
      this.#tokens += counts.values[i]!;
    }
    const buffer = new Int32Array(owners.length);
    const next = new Int32Array(largest + 1);
    let offset = 0;
    for (let i = 0; i < labels.length; i++) {
      const label = labels[i]!;
      next[label] = offset;
      this.#documentTerms[label] = buffer.subarray(offset, offset + termsPerLabel[label]!);
      offset += termsPerLabel[label]!;
    }
    for (let i = 0; i < owners.length; i++) buffer[next[owners.values[i]!]!++] = terms.values[i]!;
    for (let i = 0; i < owners.length; i++) this.#postings[terms.values[i]!]!.largestPartAverage = Number.NaN;
    this.#documents += labels.length;
  }

  /** Takes a document out (nothing when the index does not hold it). */
  remove(label: number): void {
    if (!this.has(label)) return;
    const terms = this.#documentTerms[label]!;
    for (let i = 0; i < terms.length; i++) {
      const postings = this.#postings[terms[i]!]!;
      postings.remove(label);
      postings.largestPartAverage = Number.NaN;
    }
    this.#tokens -= this.#lengths[label]!;
    this.#lengths[label] = -1;
    this.#documentTerms[label] = undefined;
    this.#documents--;
  }

  #reserveLabels(size: number): void {
    if (size <= this.#lengths.length) return;
    const lengths = new Int32Array(Math.max(size, this.#lengths.length * 2)).fill(-1);
    lengths.set(this.#lengths);
    this.#lengths = lengths;
  }

  /**
   * The largest BM25 part (without idf) among a term's postings: computed over them once, then kept
   * until they, or FTS5's average length, change (a bound for MaxScore that is the term's own maximum).
   */
  #largestPart(postings: Postings, averageLength: number): number {
    if (postings.largestPartAverage !== averageLength) {
      let largest = 0;
      for (let i = 0; i < postings.length; i++) {
        const part = termPart(postings.frequencies[i]!, this.#lengths[postings.labels[i]!]!, averageLength);
        if (part > largest) largest = part;
      }
      postings.largestPart = largest;
      postings.largestPartAverage = averageLength;
    }
    return postings.largestPart;
  }

  /** FTS5's idf of a term held by `holding` of `rows` documents: ln((N − n + 0.5) / (n + 0.5)), at least 1e-6. */
  #idf(holding: number, rows: number): number {
    if (this.#idfRows !== rows) {
      this.#idfs.clear();
      this.#idfRows = rows;
    }
    let idf = this.#idfs.get(holding);
    if (idf === undefined) {
      const value = this.#log((rows - holding + 0.5) / (holding + 0.5));
      idf = value <= 0 ? IDF_FLOOR : value;
      this.#idfs.set(holding, idf);
    }
    return idf;
  }

  /**
   * The best `k` documents for the query terms `phrases` (one per query word, repeats counting
   * again, as FTS5 scores each phrase of an OR query), by FTS5's bm25(): best first, ties to the
   * lower label; only documents holding a term and, with `accept`, accepted by it. `totals` are
   * FTS5's row and token counts, which its bm25() takes N and the average length from (they may
   * exceed the documents held: see TextIndexTable.totals).
   *
   * MaxScore (Turtle and Flood 1995): terms sorted by their score bound; the terms whose bounds
   * together cannot lift a document into the top k only score documents found through the others.
   * Every document that can enter the top k gets its exact score, summed in phrase order as FTS5 does.
   */
  search(
    phrases: readonly string[],
    k: number,
    totals: { readonly rows: number; readonly tokens: number },
    accept?: (label: number) => boolean,
  ): ScoredLabels {
    if (k <= 0 || this.#documents === 0 || totals.rows === 0) return { labels: [], scores: [] };
    const averageLength = totals.tokens / totals.rows;
    const cursors: Cursor[] = [];
    const idfs = new Float64Array(phrases.length);
    phrases.forEach((term, phrase) => {
      const id = this.#termIds.get(term);
      const postings = id === undefined ? undefined : this.#postings[id]!;
      if (postings === undefined || postings.length === 0) return;
      const idf = this.#idf(postings.length, totals.rows);
      idfs[phrase] = idf;
      const bound = idf * this.#largestPart(postings, averageLength) * (1 + PRUNE_SLACK);
      cursors.push({ phrase, postings, idf, bound });
    });
    if (cursors.length === 0) return { labels: [], scores: [] };
    cursors.sort((a, b) => a.bound - b.bound);
    // The cursors as parallel arrays, by increasing bound; boundsBelow[i]: bounds of 0..i summed.
    const count = cursors.length;
    const postingLabels = cursors.map((cursor) => cursor.postings.labels);
    const postingFrequencies = cursors.map((cursor) => cursor.postings.frequencies);
    const ends = Int32Array.from(cursors, (cursor) => cursor.postings.length);
    const phraseOf = Int32Array.from(cursors, (cursor) => cursor.phrase);
    const idfOf = Float64Array.from(cursors, (cursor) => cursor.idf);
    const positions = new Int32Array(count);
    const boundsBelow = new Float64Array(count);
    let sum = 0;
    for (let i = 0; i < count; i++) {
      sum += cursors[i]!.bound;
      boundsBelow[i] = sum;
    }

    const heap = new TopK(k);
    const frequencies = new Float64Array(phrases.length);
    // The phrases given a frequency for the current document, to zero again after it.
    const touched = new Int32Array(count);
    let touchedCount = 0;
    const lengthFactor = B / averageLength;
    // Cursors [0, firstEssential) are non-essential: they score documents, never find them.
    let firstEssential = 0;
    // A document whose score bound is below floor cannot enter the top k (-1 until k are kept).
    let floor = -1;
    for (;;) {
      let label = 0x7fffffff;
      for (let i = firstEssential; i < count; i++) {
        const position = positions[i]!;
        if (position < ends[i]!) {
          const candidate = postingLabels[i]![position]!;
          if (candidate < label) label = candidate;
        }
      }
      if (label === 0x7fffffff) break;
      const length = this.#lengths[label]!;
      const norm = K1 * (1 - B + lengthFactor * length);
      let partial = 0;
      for (let i = firstEssential; i < count; i++) {
        const position = positions[i]!;
        if (position < ends[i]! && postingLabels[i]![position] === label) {
          const frequency = postingFrequencies[i]![position]!;
          frequencies[phraseOf[i]!] = frequency;
          touched[touchedCount++] = phraseOf[i]!;
          partial += (idfOf[i]! * (frequency * (K1 + 1.0))) / (frequency + norm);
          positions[i] = position + 1;
        }
      }
      let candidate = accept === undefined || accept(label);
      for (let i = firstEssential - 1; candidate && i >= 0; i--) {
        if (partial + boundsBelow[i]! < floor) {
          candidate = false;
          break;
        }
        const labels = postingLabels[i]!;
        const position = lowerBound(labels, positions[i]!, ends[i]!, label);
        positions[i] = position;
        if (position < ends[i]! && labels[position] === label) {
          const frequency = postingFrequencies[i]![position]!;
          frequencies[phraseOf[i]!] = frequency;
          touched[touchedCount++] = phraseOf[i]!;
          partial += (idfOf[i]! * (frequency * (K1 + 1.0))) / (frequency + norm);
        }
      }
      if (candidate && partial >= floor) {
        // The exact score, with FTS5's arithmetic in FTS5's order (fts5Bm25Function adds each
        // phrase's part to the sum in turn).
        let score = 0;
        for (let phrase = 0; phrase < phrases.length; phrase++) {
          const frequency = frequencies[phrase]!;
          if (frequency > 0) {
            score +=
              idfs[phrase]! * ((frequency * (K1 + 1.0)) / (frequency + K1 * (1 - B + (B * length) / averageLength)));
          }
        }
        if (heap.offer(label, score) && heap.full) {
          floor = heap.worstScore * (1 - PRUNE_SLACK);
          while (firstEssential < count && boundsBelow[firstEssential]! < floor) firstEssential++;
        }
      }
      while (touchedCount > 0) frequencies[touched[--touchedCount]!] = 0;
    }
    return heap.sorted();
  }
}

/** A term's BM25 part without its idf, for a frequency and a document length. */
function termPart(frequency: number, length: number, averageLength: number): number {
  return (frequency * (K1 + 1.0)) / (frequency + K1 * (1 - B + (B * length) / averageLength));
}

/**
 * The best `k` (label, score) pairs offered, in a binary min-heap whose root is the worst kept:
 * lowest score, and among equal scores the highest label. Labels are offered ascending, so a later
 * label with an equal score ranks below every kept one and is refused.
 */
class TopK {
  readonly #k: number;
  readonly #labels: number[] = [];
  readonly #scores: number[] = [];

  constructor(k: number) {
    this.#k = k;
  }

  get full(): boolean {
    return this.#labels.length === this.#k;
  }

  get worstScore(): number {
    return this.#scores[0]!;
  }

  /** Keeps the pair when it ranks above the worst kept (or there is room); true when kept. */
  offer(label: number, score: number): boolean {
    const labels = this.#labels;
    const scores = this.#scores;
    if (labels.length < this.#k) {
      labels.push(label);
      scores.push(score);
      let at = labels.length - 1;
      while (at > 0) {
        const parent = (at - 1) >> 1;
        if (!this.#worse(at, parent)) break;
        this.#swap(at, parent);
        at = parent;
      }
      return true;
    }
    if (!(score > scores[0]!)) return false;
    labels[0] = label;
    scores[0] = score;
    let at = 0;
    for (;;) {
      const left = 2 * at + 1;
      const right = left + 1;
      let worst = at;
      if (left < labels.length && this.#worse(left, worst)) worst = left;
      if (right < labels.length && this.#worse(right, worst)) worst = right;
      if (worst === at) break;
      this.#swap(at, worst);
      at = worst;
    }
    return true;
  }

  #worse(a: number, b: number): boolean {
    const scores = this.#scores;
    return scores[a]! < scores[b]! || (scores[a] === scores[b] && this.#labels[a]! > this.#labels[b]!);
  }

  #swap(a: number, b: number): void {
    const labels = this.#labels;
    const scores = this.#scores;
    [labels[a], labels[b]] = [labels[b]!, labels[a]!];
    [scores[a], scores[b]] = [scores[b]!, scores[a]!];
  }

  /** The pairs kept, best first (score descending, then label ascending). */
  sorted(): ScoredLabels {
    const order = this.#labels.map((_, i) => i);
    order.sort((a, b) => this.#scores[b]! - this.#scores[a]! || this.#labels[a]! - this.#labels[b]!);
    return { labels: order.map((i) => this.#labels[i]!), scores: order.map((i) => this.#scores[i]!) };
  }
}
