// The change feed: every committed change exactly as committed, in seq order; consumers hold the
// log; retention trims it; CHANGES_EXPIRED for a reader that fell behind; nothing written on bad input.
import { join } from 'node:path';
import Sqlite from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Change, type Database, open, QuiverError } from '../../src/index.js';
import { tempDirectory } from '../helpers/fixtures.js';

let directory: ReturnType<typeof tempDirectory>;
let db: Database;
beforeEach(() => {
  directory = tempDirectory();
  db = open(directory.path, { durability: 'normal' });
  db.registerConsumer('test', { after: 0 });
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

/** A change without its time, vectors as plain arrays: for exact comparison. */
function plain(change: Change): Record<string, unknown> {
  const { committedAt, vector, ...rest } = change;
  expect(committedAt).toBeGreaterThan(0);
  return vector === undefined ? rest : { ...rest, vector: Array.from(vector) };
}

describe('db.changes', () => {
  it('describes creates, upserts (as committed), deletes by id and by filter, index declarations and drops in seq order', () => {
    const docs = db.collection('docs', { dim: 2, metric: 'cosine', index: { type: 'flat' }, indexes: ['tag'] });
    docs.upsert([
      { id: 'a', vector: [1, 0], metadata: { tag: 'x' } },
      { id: 'b', vector: [0, 1] },
    ]);
    docs.upsert([{ id: 'a', vector: [0.5, 0.5], metadata: { tag: 'y' } }]); // overwrites a
    docs.delete(['b', 'missing']);
    docs.upsert([{ id: 'c', vector: [1, 1], metadata: { tag: 'y' } }]);
    docs.delete({ filter: { tag: 'y' } });
    db.collection('docs', { dim: 2, metric: 'cosine', indexes: ['tag', 'n'] });
    expect(db.dropCollection('docs')).toBe(true);
    const changes = db.changes({ after: 0 }).map(plain);
    expect(changes).toEqual([
      {
        seq: 1,
        collection: 'docs',
        op: 'create',
        settings: { dim: 2, metric: 'cosine', index: { type: 'flat' }, indexes: ['tag'] },
      },
      { seq: 2, collection: 'docs', op: 'upsert', id: 'a', vector: [1, 0], metadata: { tag: 'x' } },
      { seq: 3, collection: 'docs', op: 'upsert', id: 'b', vector: [0, 1], metadata: {} },
      { seq: 4, collection: 'docs', op: 'upsert', id: 'a', vector: [0.5, 0.5], metadata: { tag: 'y' } },
      { seq: 5, collection: 'docs', op: 'delete', id: 'b' },
      { seq: 6, collection: 'docs', op: 'upsert', id: 'c', vector: [1, 1], metadata: { tag: 'y' } },
      { seq: 7, collection: 'docs', op: 'delete', id: 'a' },
      { seq: 8, collection: 'docs', op: 'delete', id: 'c' },
      { seq: 9, collection: 'docs', op: 'index', settings: { indexes: ['n'] } },
      { seq: 10, collection: 'docs', op: 'drop' },
    ]);
    expect(db.changeSeq()).toBe(10);
    expect(db.changes({ after: 8, limit: 1 }).map((change) => change.seq)).toEqual([9]);
  });

  it('records nothing for a rejected batch, a delete that removes nothing, or a failed create', () => {
    const docs = db.collection('docs', { dim: 2 });
    const before = db.changeSeq();
    expect(
      codeOf(() =>
        docs.upsert([
          { id: 'a', vector: [1, 0] },
          { id: 'b', vector: [1, Number.NaN] },
        ]),
      ),
    ).toBe('NOT_FINITE');
    expect(docs.delete(['nothing'])).toBe(0);
    expect(codeOf(() => db.collection('bad', { dim: 2, indexes: ['$bad'] }))).toBe('INVALID_FILTER');
    expect(db.changeSeq()).toBe(before);
    expect(db.changes({ after: before })).toEqual([]);
  });

  it('upsertArrow and large batches are described row by row', async () => {
    const docs = db.collection('docs', { dim: 3 });
    const records = Array.from({ length: 1000 }, (_, i) => ({
      id: `r${i}`,
      vector: [i, i + 1, i + 2],
      metadata: { i },
    }));
    docs.upsert(records);
    const changes = db.changes({ after: 1, limit: 5000 });
    expect(changes.length).toBe(1000);
    changes.forEach((change, i) => {
      expect(change.seq).toBe(i + 2);
      expect(change.id).toBe(`r${i}`);
      expect(Array.from(change.vector!)).toEqual([i, i + 1, i + 2]);
      expect(change.metadata).toEqual({ i });
    });
    await docs.upsertArrow(docs.toArrowTable());
    expect(db.changeSeq()).toBe(2001);
  });

  it("carries a record's text and a collection's text settings", () => {
    const notes = db.collection('notes', { dim: 2, text: true });
    notes.upsert([{ id: 'n', vector: [1, 0], text: 'hello world' }]);
    const [create, upsert] = db.changes({ after: 0 });
    expect(create?.settings?.text).toEqual({ tokenizer: 'porter', removeDiacritics: true });
    expect(upsert).toMatchObject({ op: 'upsert', id: 'n', text: 'hello world' });
  });

  it('rejects bad options with INVALID_ARGUMENT and unknown consumers with NOT_FOUND', () => {
    expect(codeOf(() => db.changes({ after: -1 }))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => db.changes({ after: 1.5 }))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => db.changes({ limit: 0 }))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => db.changes({ limit: 100_001 }))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => db.changes({ consumer: 'nobody' }))).toBe('NOT_FOUND');
    expect(codeOf(() => db.registerConsumer('bad name'))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => db.commitConsumer('nobody', 0))).toBe('NOT_FOUND');
    expect(codeOf(() => db.commitConsumer('test', 5))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => db.setChangeRetention({ rows: -1 }))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => db.setChangeRetention({ rows: 1, days: 2 } as never))).toBe('INVALID_ARGUMENT');
    expect(db.changeFeedInfo().retention).toEqual({});
  });

  it('a read-only opener reads the feed and moves a consumer while the writer holds the lock', () => {
    const docs = db.collection('docs', { dim: 2 });
    docs.upsert([{ id: 'a', vector: [1, 2] }]);
    const reader = open(directory.path, { readOnly: true });
    try {
      expect(reader.changes({ consumer: 'test' }).map((change) => change.op)).toEqual(['create', 'upsert']);
      reader.commitConsumer('test', 2);
      expect(db.listConsumers()).toEqual([{ name: 'test', seq: 2, updatedAt: expect.any(Number) }]);
      expect(codeOf(() => reader.setChangeRetention({ rows: 1 }))).toBe('READ_ONLY');
    } finally {
      reader.close();
    }
  });
});

describe('damage', () => {
  it('a damaged change row or database id is CORRUPT, never a raw error or a wrong change', () => {
    db.collection('docs', { dim: 2 }).upsert([
      { id: 'a', vector: [1, 2] },
      { id: 'b', vector: [3, 4] },
      { id: 'c', vector: [5, 6] },
    ]);
    db.close();
    const damage = (sql: string): string | undefined => {
      const raw = new Sqlite(join(directory.path, 'quiver.sqlite'));
      raw.exec(sql);
      raw.close();
      const reader = open(directory.path, { readOnly: true });
      try {
        return codeOf(() => reader.changes({ after: 0 }));
      } finally {
        reader.close();
      }
    };
    expect(damage('SELECT 1')).toBeUndefined();
    expect(damage("UPDATE changes SET vector = x'010203' WHERE seq = 2")).toBe('CORRUPT');
    expect(damage("UPDATE changes SET vector = x'0000803f00000040', metadata = '[1' WHERE seq = 2")).toBe('CORRUPT');
    expect(damage("UPDATE changes SET metadata = '{}' WHERE seq = 2")).toBeUndefined();
    expect(damage('UPDATE changes SET id = NULL WHERE seq = 3')).toBe('CORRUPT');
    expect(damage("UPDATE changes SET id = 'b' WHERE seq = 3")).toBeUndefined();
    expect(damage("UPDATE changes SET settings = 'null' WHERE seq = 1")).toBe('CORRUPT');
    expect(
      damage("UPDATE changes SET settings = '{\"dim\":2}'; DELETE FROM meta WHERE key = 'database_id'"),
    ).toBeUndefined();
    const reader = open(directory.path, { readOnly: true });
    expect(codeOf(() => reader.changeFeedInfo())).toBe('CORRUPT');
    reader.close();
    db = open(directory.path);
  });
});

describe('retention', () => {
  /** Writes `count` single-record upserts (one change each, beyond the collection's create). */
  function write(count: number, from = 0): void {
    const docs = db.collection('docs', { dim: 2 });
    for (let i = from; i < from + count; i++) docs.upsert([{ id: `r${i}`, vector: [i, 1] }]);
  }

  it('keeps what a consumer has not passed, trims what every consumer passed, and a consumer never goes back', () => {
    write(1500); // seqs 1 (create) … 1501; the writer trims every 1,000 changes
    expect(db.changeFeedInfo().firstSeq).toBe(1);
    db.commitConsumer('test', 1200);
    db.commitConsumer('test', 10); // no step back
    expect(db.listConsumers()[0]!.seq).toBe(1200);
    write(1000, 1500);
    const info = db.changeFeedInfo();
    expect(info.firstSeq).toBe(1201);
    expect(info.lastSeq).toBe(2501);
    expect(info.rows).toBe(1301);
    expect(info.bytes).toBeGreaterThan(1301 * 8);
    expect(db.changes({ consumer: 'test', limit: 1 })[0]!.seq).toBe(1201);
    expect(codeOf(() => db.changes({ after: 1199 }))).toBe('CHANGES_EXPIRED');
    expect(db.changes({ after: 1200, limit: 1 })[0]!.seq).toBe(1201);
    expect(codeOf(() => db.registerConsumer('late', { after: 5 }))).toBe('CHANGES_EXPIRED');
  });

  it('a row limit trims past a consumer that fell behind, which then gets CHANGES_EXPIRED', () => {
    write(100);
    db.setChangeRetention({ rows: 10 });
    expect(db.changeFeedInfo()).toMatchObject({ firstSeq: 92, lastSeq: 101, rows: 10, retention: { rows: 10 } });
    expect(codeOf(() => db.changes({ consumer: 'test' }))).toBe('CHANGES_EXPIRED');
    db.registerConsumer('test', { after: 95 });
    expect(db.changes({ consumer: 'test' }).map((change) => change.seq)).toEqual([96, 97, 98, 99, 100, 101]);
    db.setChangeRetention({});
    expect(db.changeFeedInfo().retention).toEqual({});
  });

  it('an age limit trims changes older than it', async () => {
    write(20);
    await new Promise((resolve) => setTimeout(resolve, 100));
    const start = Date.now();
    write(5, 20);
    // Older than the last five (written after `start`), younger than the first 21 (100 ms earlier).
    db.setChangeRetention({ ageMs: Date.now() - start + 50 });
    const info = db.changeFeedInfo();
    expect(info.firstSeq).toBe(22);
    expect(info.rows).toBe(5);
  });

  it('with no consumer, the log is trimmed as it grows; the retention setting survives reopening', () => {
    db.removeConsumer('test');
    write(2500);
    const { rows, lastSeq } = db.changeFeedInfo();
    expect(lastSeq).toBe(2501);
    expect(rows).toBeLessThan(1000);
    expect(codeOf(() => db.changes({ after: 0 }))).toBe('CHANGES_EXPIRED');
    db.setChangeRetention({ rows: 7, ageMs: 60_000 });
    db.close();
    db = open(directory.path);
    expect(db.changeFeedInfo().retention).toEqual({ rows: 7, ageMs: 60_000 });
    expect(db.changeSeq()).toBe(2501);
  });
});

describe('db.watch', () => {
  it('yields the backlog, then each new commit of this handle and of another process, until aborted', async () => {
    const docs = db.collection('docs', { dim: 2 });
    docs.upsert([{ id: 'a', vector: [1, 2] }]);
    const controller = new AbortController();
    const seen: string[] = [];
    const done = (async () => {
      for await (const change of db.watch({ after: 0, signal: controller.signal, pollMs: 5 })) {
        seen.push(`${change.seq}:${change.op}:${change.id ?? ''}`);
        if (seen.length === 4) controller.abort();
      }
    })();
    await new Promise((resolve) => setTimeout(resolve, 20));
    docs.upsert([{ id: 'b', vector: [3, 4] }]);
    await new Promise((resolve) => setTimeout(resolve, 20));
    docs.delete('a');
    await done;
    expect(seen).toEqual(['1:create:', '2:upsert:a', '3:upsert:b', '4:delete:a']);
  });

  it('a reader follows the writer through watch', async () => {
    const docs = db.collection('docs', { dim: 2 });
    const reader = open(directory.path, { readOnly: true });
    try {
      const iterator = reader.watch({ after: 1, pollMs: 5 });
      const next = iterator.next();
      docs.upsert([{ id: 'x', vector: [0, 1] }]);
      const { value } = await next;
      expect(value).toMatchObject({ seq: 2, op: 'upsert', id: 'x', metadata: {} });
      await iterator.return?.();
    } finally {
      reader.close();
    }
  });
});
