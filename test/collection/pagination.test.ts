// get({ filter, limit, offset }) and page({ filter, limit, after }): id order (the byte order of
// UTF-8, checked against a plain sort), offsets and limits against slices of that order, a cursor
// that returns every record present throughout exactly once while the collection changes between
// pages, bad options rejected, and a reader's page from one committed state.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Collection, type Database, type Filter, open, QuiverError, type QuiverRecord } from '../../src/index.js';
import { tempDirectory } from '../helpers/fixtures.js';
import { random } from '../helpers/random.js';

let directory: ReturnType<typeof tempDirectory>;
let db: Database;
let docs: Collection;
/** Ids with mixed lengths, digits, case and non-ASCII (whose UTF-8 byte order differs from UTF-16's). */
const IDS = Array.from({ length: 120 }, (_, i) =>
  i % 10 === 0 ? `ü${i}` : i % 7 === 0 ? `😀${i}` : i % 11 === 0 ? `\uffee${i}` : `d${i}`,
);
beforeEach(() => {
  directory = tempDirectory();
  db = open(directory.path);
  docs = db.collection('docs', { dim: 2, indexes: ['even'] });
  // Inserted as listed, so storage (label) order differs from id order.
  docs.upsert(IDS.map((id, i) => ({ id, vector: [i, 1], metadata: { even: i % 2 === 0, i } })));
});
afterEach(() => {
  db.close();
  directory.cleanup();
});

/** The reference order: ids sorted by the bytes of their UTF-8. */
function byBytes(ids: readonly string[]): string[] {
  return [...ids].sort((a, b) => Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8')));
}
const idsOf = (records: readonly QuiverRecord[]) => records.map((record) => record.id);

function codeOf(action: () => unknown): string | undefined {
  try {
    action();
  } catch (error) {
    return error instanceof QuiverError ? error.code : `raw: ${String(error)}`;
  }
  return undefined;
}

describe('get with a range', () => {
  it('returns every record in id order, and a filter the matching ones', () => {
    const all = byBytes(IDS);
    expect(idsOf(docs.get({}))).toEqual(all);
    expect(idsOf(docs.get({ filter: {} }))).toEqual(all);
    const even = byBytes(IDS.filter((_, i) => i % 2 === 0));
    expect(idsOf(docs.get({ filter: { even: true } }))).toEqual(even);
    expect(docs.get({ filter: { even: true } })[0]!.metadata).toMatchObject({ even: true });
  });

  it('applies offset then limit as a slice of that order', () => {
    const all = byBytes(IDS);
    for (const [offset, limit] of [
      [0, 1],
      [5, 10],
      [110, 50],
      [119, 1],
      [120, 5],
      [500, 1],
    ] as const) {
      expect(idsOf(docs.get({ offset, limit }))).toEqual(all.slice(offset, offset + limit));
    }
    expect(idsOf(docs.get({ offset: 37 }))).toEqual(all.slice(37));
    const even = byBytes(IDS.filter((_, i) => i % 2 === 0));
    expect(idsOf(docs.get({ filter: { even: true }, offset: 7, limit: 9 }))).toEqual(even.slice(7, 16));
  });

  it('rejects bad options', () => {
    expect(codeOf(() => docs.get({ limit: 0 }))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => docs.get({ limit: 1.5 }))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => docs.get({ offset: -1 }))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => docs.get({ offset: '3' as never }))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => docs.get({ after: 'a' } as never))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => docs.get({ filter: { i: { $nope: 1 } } }))).toBe('INVALID_FILTER');
  });
});

describe('page', () => {
  /** Every page from the start: the ids of each. */
  function allPages(collection: Collection, limit: number, filter?: Filter): string[][] {
    const pages: string[][] = [];
    let after: string | undefined;
    do {
      const page = collection.page({ limit, after, ...(filter === undefined ? {} : { filter }) });
      pages.push(idsOf(page.records));
      after = page.next;
    } while (after !== undefined);
    return pages;
  }

  it('walks the collection in id order, next undefined on the last page', () => {
    const all = byBytes(IDS);
    expect(allPages(docs, 50)).toEqual([all.slice(0, 50), all.slice(50, 100), all.slice(100)]);
    expect(allPages(docs, 40)).toEqual([all.slice(0, 40), all.slice(40, 80), all.slice(80)]); // exact fit: no empty page
    expect(allPages(docs, 1000)).toEqual([all]);
    expect(docs.page().records).toHaveLength(100);
    const even = byBytes(IDS.filter((_, i) => i % 2 === 0));
    expect(allPages(docs, 25, { even: true }).flat()).toEqual(even);
    expect(docs.page({ after: all[all.length - 1] })).toEqual({ records: [], next: undefined });
  });

  it('returns each record present throughout exactly once while the collection changes between pages', () => {
    const next = random(7);
    const stable = new Set(IDS.filter((_, i) => i % 3 !== 0)); // never deleted
    let live = new Set(IDS);
    const seen: string[] = [];
    let after: string | undefined;
    let made = 0;
    do {
      const page = docs.page({ limit: 9, after });
      seen.push(...idsOf(page.records));
      after = page.next;
      // Between pages: delete some deletable records, insert new ones anywhere in id order, overwrite others.
      const deletable = [...live].filter((id) => !stable.has(id));
      const doomed = deletable.filter(() => next() < 0.2);
      docs.delete(doomed);
      const fresh = Array.from({ length: 3 }, () => `${next() < 0.5 ? 'a' : 'z'}new${made++}`);
      docs.upsert(fresh.map((id) => ({ id, vector: [1, 2] })));
      docs.upsert([{ id: [...stable][Math.floor(next() * stable.size)]!, vector: [3, 4], metadata: { moved: true } }]);
      live = new Set([...live, ...fresh].filter((id) => !doomed.includes(id)));
    } while (after !== undefined);
    expect(new Set(seen).size).toBe(seen.length); // no record twice
    expect(byBytes(seen)).toEqual(seen); // in id order
    for (const id of stable) expect(seen).toContain(id);
  });

  it('rejects bad options', () => {
    expect(codeOf(() => docs.page({ limit: 0 }))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => docs.page({ limit: 10_001 }))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => docs.page({ after: '' }))).toBe('INVALID_ID');
    expect(codeOf(() => docs.page({ offset: 3 } as never))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => docs.page('a' as never))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => docs.page({ filter: { $or: 1 } }))).toBe('INVALID_FILTER');
  });

  it('answers a reader beside the writer from the committed state', () => {
    const reader = open(directory.path, { readOnly: true });
    try {
      const read = reader.collection('docs');
      const first = read.page({ limit: 10 });
      docs.upsert([{ id: '0first', vector: [1, 1] }]);
      expect(read.page({ limit: 1 }).records[0]!.id).toBe('0first');
      expect(idsOf(read.page({ limit: 10, after: first.next }).records)).toEqual(
        byBytes([...IDS, '0first']).slice(11, 21),
      );
    } finally {
      reader.close();
    }
  });
});
