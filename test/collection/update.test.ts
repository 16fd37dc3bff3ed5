// update(): metadata merged or replaced and text set or removed in place, vectors and the index
// untouched, checksums rewritten (the records read back after a reopen), the full-text index and the
// change feed following; every bad input rejected with nothing written; a damaged record is CORRUPT.
import { join } from 'node:path';
import Sqlite from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mergedMetadataJson } from '../../src/collection/update.js';
import { type Collection, type Database, open, QuiverError } from '../../src/index.js';
import { tempDirectory } from '../helpers/fixtures.js';

let directory: ReturnType<typeof tempDirectory>;
let db: Database;
let docs: Collection;
beforeEach(() => {
  directory = tempDirectory();
  db = open(directory.path);
  docs = db.collection('docs', { dim: 3, metric: 'cosine', text: true, indexes: ['lang'] });
  docs.upsert([
    { id: 'a', vector: [1, 0, 0], metadata: { lang: 'en', year: 2020, tags: ['x'] }, text: 'red apples' },
    { id: 'b', vector: [0, 1, 0], metadata: { lang: 'en', year: 2021 }, text: 'green pears' },
    { id: 'c', vector: [0, 0, 1], metadata: { lang: 'fr', year: 2022 } },
  ]);
});
afterEach(() => {
  db.close();
  directory.cleanup();
});

function codeOf(action: () => unknown): string | undefined {
  try {
    action();
  } catch (error) {
    return error instanceof QuiverError ? error.code : `raw: ${String(error)}`;
  }
  return undefined;
}

/** Log rows the index would replay (CollectionImpl's, not on the public interface). */
const logLength = (collection: Collection): number => (collection as unknown as { logLength: number }).logLength;

/** Everything a write could have changed: records, the change log's end, the index's log. */
function observable(collection: Collection) {
  return {
    records: collection.get(['a', 'b', 'c']).map(({ id, vector, metadata, text }) => ({
      id,
      vector: Array.from(vector),
      metadata,
      text,
    })),
    seq: db.changeSeq(),
    log: logLength(collection),
  };
}

describe('update', () => {
  it('merges metadata keys by default: given keys replace, null removes, others stay', () => {
    expect(docs.update({ ids: ['a', 'missing'] }, { metadata: { year: 2030, tags: null, reviewed: true } })).toBe(1);
    expect(docs.get('a')!.metadata).toEqual({ lang: 'en', year: 2030, reviewed: true });
    expect(Object.keys(docs.get('a')!.metadata)).toEqual(['lang', 'year', 'reviewed']);
    expect(docs.get('a')!.text).toBe('red apples');
  });

  it('replaces metadata whole with merge: false (null is then a stored value)', () => {
    expect(docs.update({ ids: ['a', 'b'] }, { metadata: { lang: 'de', note: null } }, { merge: false })).toBe(2);
    expect(docs.get('a')!.metadata).toEqual({ lang: 'de', note: null });
    expect(docs.get('b')!.metadata).toEqual({ lang: 'de', note: null });
    expect(docs.get('c')!.metadata).toEqual({ lang: 'fr', year: 2022 });
  });

  it('selects by filter, and filters see the new metadata at once', () => {
    expect(docs.count({ filter: { lang: 'en' } })).toBe(2); // fills the filter's cache
    expect(docs.query({ vector: [1, 0.1, 0], k: 3 })[0]!.metadata).toMatchObject({ lang: 'en' }); // remembers the hits
    expect(docs.update({ filter: { lang: 'en' } }, { metadata: { lang: 'en-GB' } })).toBe(2);
    expect(docs.count({ filter: { lang: 'en' } })).toBe(0);
    expect(docs.get({ filter: { lang: 'en-GB' } }).map((record) => record.id)).toEqual(['a', 'b']);
    const hits = docs.query({ vector: [1, 0.1, 0], k: 3, filter: { lang: 'en-GB' } });
    expect(hits.map((hit) => hit.id)).toEqual(['a', 'b']);
    expect(hits[0]!.metadata).toEqual({ lang: 'en-GB', year: 2020, tags: ['x'] });
    expect(docs.update({ filter: { lang: 'none' } }, { metadata: { x: 1 } })).toBe(0);
  });

  it('sets and removes text, and the full-text index follows', () => {
    expect(docs.update({ ids: ['a'] }, { text: 'blue plums' })).toBe(1);
    expect(docs.update({ ids: ['c'] }, { text: 'yellow apples' })).toBe(1);
    expect(docs.update({ ids: ['b'] }, { text: null })).toBe(1);
    expect(docs.get('a')!.text).toBe('blue plums');
    expect(docs.get('b')!.text).toBeUndefined();
    expect(docs.query({ text: 'apples' }).map((hit) => hit.id)).toEqual(['c']);
    expect(docs.query({ text: 'plums' }).map((hit) => hit.id)).toEqual(['a']);
    expect(docs.query({ text: 'pears' })).toEqual([]);
  });

  it('leaves vectors and the index alone, and the records read back checked after a reopen', () => {
    const before = docs.query({ vector: [1, 1, 0], k: 3 }).map((hit) => [hit.id, hit.distance]);
    const log = logLength(docs);
    docs.update({ ids: ['a', 'b', 'c'] }, { metadata: { n: 1 }, text: 'same words' });
    expect(logLength(docs)).toBe(log); // nothing for the index to replay
    expect(docs.query({ vector: [1, 1, 0], k: 3 }).map((hit) => [hit.id, hit.distance])).toEqual(before);
    db.close();
    db = open(directory.path);
    docs = db.collection('docs');
    // Every read checks the record's checksum: a stale one would be CORRUPT.
    expect(docs.get(['a', 'b', 'c']).map((record) => [record.id, Array.from(record.vector), record.text])).toEqual([
      ['a', [1, 0, 0], 'same words'],
      ['b', [0, 1, 0], 'same words'],
      ['c', [0, 0, 1], 'same words'],
    ]);
    expect(docs.get('c')!.metadata).toEqual({ lang: 'fr', year: 2022, n: 1 });
    expect(docs.query({ text: 'words' }).length).toBe(3);
  });

  it('is in the change feed as one update per record, with the whole metadata and text afterwards', () => {
    const after = db.changeSeq();
    docs.update({ ids: ['a', 'c'] }, { metadata: { year: null } });
    docs.update({ ids: ['a'] }, { text: null });
    const changes = db.changes({ after }).map(({ seq, committedAt, ...change }) => change);
    expect(changes).toEqual([
      { collection: 'docs', op: 'update', id: 'a', metadata: { lang: 'en', tags: ['x'] }, text: 'red apples' },
      { collection: 'docs', op: 'update', id: 'c', metadata: { lang: 'fr' } },
      { collection: 'docs', op: 'update', id: 'a', metadata: { lang: 'en', tags: ['x'] } },
    ]);
    expect(db.changeSeq()).toBe(after + 3);
  });

  it('is seen by a reader beside the writer', () => {
    const reader = open(directory.path, { readOnly: true });
    try {
      const read = reader.collection('docs');
      expect(read.count({ filter: { lang: 'fr' } })).toBe(1);
      docs.update({ ids: ['a'] }, { metadata: { lang: 'fr' } });
      expect(read.count({ filter: { lang: 'fr' } })).toBe(2);
      expect(codeOf(() => read.update({ ids: ['a'] }, { metadata: {} }))).toBe('READ_ONLY');
    } finally {
      reader.close();
    }
  });

  it('changes text that a reader beside the writer finds by its new words', () => {
    const reader = open(directory.path, { readOnly: true });
    try {
      const read = reader.collection('docs');
      expect(read.query({ text: 'apples' }).map((hit) => hit.id)).toEqual(['a']); // loads the reader's text index
      docs.update({ ids: ['a'] }, { text: 'blue plums' });
      docs.update({ ids: ['c'] }, { text: 'yellow apples' });
      expect(read.query({ text: 'apples' }).map((hit) => hit.id)).toEqual(['c']);
      expect(read.query({ text: 'plums' }).map((hit) => hit.id)).toEqual(['a']);
      docs.update({ ids: ['c'] }, { text: null });
      expect(read.query({ text: 'apples' })).toEqual([]);
      expect(read.query({ text: 'apples' })).toEqual(docs.query({ text: 'apples' }));
    } finally {
      reader.close();
    }
  });

  it('rejects bad input with a QuiverError and writes nothing', () => {
    const before = observable(docs);
    const cases: [() => unknown, string][] = [
      [() => docs.update(undefined as never, { metadata: {} }), 'INVALID_ARGUMENT'],
      [() => docs.update({ ids: ['a'], filter: {} } as never, { metadata: {} }), 'INVALID_ARGUMENT'],
      [() => docs.update({ id: 'a' } as never, { metadata: {} }), 'INVALID_ARGUMENT'],
      [() => docs.update({ ids: 'a' } as never, { metadata: {} }), 'INVALID_ARGUMENT'],
      [() => docs.update({ ids: ['a', ''] }, { metadata: { x: 1 } }), 'INVALID_ID'],
      [() => docs.update({ filter: { year: { $bad: 1 } } }, { metadata: { x: 1 } }), 'INVALID_FILTER'],
      [() => docs.update({ ids: ['a'] }, {}), 'INVALID_ARGUMENT'],
      [() => docs.update({ ids: ['a'] }, null as never), 'INVALID_ARGUMENT'],
      [() => docs.update({ ids: ['a'] }, { vector: [1, 2, 3] } as never), 'INVALID_ARGUMENT'],
      [() => docs.update({ ids: ['a'] }, { metadata: { big: 1n } as never }), 'INVALID_METADATA'],
      [() => docs.update({ ids: ['a'] }, { metadata: [] as never }), 'INVALID_METADATA'],
      [() => docs.update({ ids: ['a'] }, { metadata: { x: 1 }, text: 5 as never }), 'INVALID_ARGUMENT'],
      [() => docs.update({ ids: ['a'] }, { text: 'x'.repeat(1_048_577) }), 'INVALID_ARGUMENT'],
      [() => docs.update({ ids: ['a'] }, { metadata: {} }, { merge: 'yes' as never }), 'INVALID_ARGUMENT'],
      [() => docs.update({ ids: ['a'] }, { metadata: {} }, { replace: true } as never), 'INVALID_ARGUMENT'],
    ];
    for (const [action, code] of cases) expect(codeOf(action)).toBe(code);
    expect(observable(docs)).toEqual(before);
  });

  it('reports a damaged record as CORRUPT and writes nothing', () => {
    db.close();
    const sqlite = new Sqlite(join(directory.path, 'quiver.sqlite'));
    sqlite.prepare('UPDATE records SET metadata = \'{"lang":"xx"}\' WHERE id = \'b\'').run();
    sqlite.close();
    db = open(directory.path);
    docs = db.collection('docs');
    const seq = db.changeSeq();
    expect(codeOf(() => docs.update({ ids: ['a', 'b'] }, { metadata: { ok: true } }))).toBe('CORRUPT');
    expect(db.changeSeq()).toBe(seq);
    expect(docs.get('a')!.metadata).toEqual({ lang: 'en', year: 2020, tags: ['x'] });
  });

  it('rolls back whole when SQLite fails midway (SQLITE_FULL is IO_ERROR), leaving no change behind', () => {
    const before = observable(docs);
    const probe = new Sqlite(':memory:');
    const prototype = Object.getPrototypeOf(probe.prepare('SELECT 1')) as { run: (...args: unknown[]) => unknown };
    probe.close();
    const run = prototype.run;
    let rewrites = 0;
    prototype.run = function (this: { source: string }, ...args: unknown[]) {
      // The second record's rewrite fails: the first one's must not survive.
      if (this.source.startsWith('UPDATE records SET metadata') && ++rewrites === 2) {
        throw new Sqlite.SqliteError('injected SQLITE_FULL', 'SQLITE_FULL');
      }
      return run.apply(this, args);
    };
    try {
      expect(codeOf(() => docs.update({ ids: ['a', 'b', 'c'] }, { metadata: { n: 1 }, text: 'x' }))).toBe('IO_ERROR');
    } finally {
      prototype.run = run;
    }
    expect(rewrites).toBe(2);
    expect(observable(docs)).toEqual(before);
    expect(docs.query({ text: 'apples' }).map((hit) => hit.id)).toEqual(['a']);
  });

  it('raises CLOSED after the database is closed', () => {
    db.close();
    expect(codeOf(() => docs.update({ ids: ['a'] }, { metadata: {} }))).toBe('CLOSED');
  });
});

describe('mergedMetadataJson', () => {
  it('treats __proto__ as an ordinary key', () => {
    const patch = JSON.parse('{"__proto__":{"polluted":true},"b":2}') as Record<string, unknown>;
    const merged = JSON.parse(mergedMetadataJson({ a: 1 }, patch)) as Record<string, unknown>;
    expect(Object.keys(merged)).toEqual(['a', '__proto__', 'b']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});
