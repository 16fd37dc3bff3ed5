// Migration 9 on a database of schema 8: records are rebuilt keyed by collection and label with the
// vector last; every record keeps its values and gains a head checksum, declared field indexes survive,
// and a record damaged before the upgrade stays CORRUPT rather than getting a checksum of its damage.
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { open, type QuiverRecord } from '../../../src/index.js';
import { recordKey } from '../../../src/storage/record-key.js';
import { tempDirectory } from '../../helpers/fixtures.js';
import { randomVectors } from '../../helpers/random.js';
import { recordsAsSchema8 } from '../../helpers/schema-8.js';

const DIM = 4;
const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

/** Two collections ('a' with text and a declared field index, 'b' without), then back to schema 8. */
function schema7Database(): { path: string; before: Map<string, QuiverRecord[]> } {
  const { path, cleanup } = tempDirectory('quiver-migrate-8-');
  cleanups.push(cleanup);
  const db = open(path);
  const a = db.collection('a', { dim: DIM, text: true, indexes: ['tag'] });
  a.upsert(
    randomVectors(50, DIM, 1).map((vector, i) => ({
      id: `a${i}`,
      vector,
      metadata: { tag: `t${i % 5}`, i },
      ...(i % 2 === 0 ? { text: `passage ${i}` } : {}),
    })),
  );
  a.delete(['a3', 'a4']);
  const b = db.collection('b', { dim: DIM, index: { type: 'flat' } });
  b.upsert(randomVectors(30, DIM, 2).map((vector, i) => ({ id: `b${i}`, vector, metadata: { i } })));
  const before = new Map([
    ['a', a.get({ filter: {} })],
    ['b', b.get({ filter: {} })],
  ]);
  db.close();
  const sqlite = new Database(join(path, 'quiver.sqlite'));
  recordsAsSchema8(sqlite);
  sqlite.close();
  return { path, before };
}

describe('migration 9: records keyed by collection and label', () => {
  it('keeps every record and field index, keys each by its label, and hits equal get', () => {
    const { path, before } = schema7Database();
    const db = open(path);
    for (const [name, records] of before) {
      const collection = db.collection(name);
      expect(collection.get({ filter: {} })).toEqual(records);
      for (const record of records.slice(0, 10)) {
        const [hit] = collection.query({ vector: record.vector, k: 1, includeVectors: true });
        expect(hit).toMatchObject({ id: record.id, metadata: record.metadata, vector: record.vector });
        expect(hit!.text).toEqual(record.text);
        expect(collection.queryIds({ vector: record.vector, k: 1 })[0]!.id).toBe(record.id);
      }
    }
    expect(db.collection('a').query({ text: 'passage 8', k: 1 })[0]!.id).toBe('a8');
    expect(
      db
        .collection('a')
        .get({ filter: { tag: 't2' } })
        .map((record) => record.id),
    ).toEqual(
      before
        .get('a')!
        .filter((record) => record.metadata.tag === 't2')
        .map((record) => record.id),
    );
    db.close();
    const sqlite = new Database(join(path, 'quiver.sqlite'), { readonly: true });
    expect(sqlite.pragma('user_version', { simple: true })).toBe(9);
    const rows = sqlite.prepare('SELECT key, collection_id, label, head_checksum FROM records').all() as {
      key: number;
      collection_id: number;
      label: number;
      head_checksum: number | null;
    }[];
    expect(rows).toHaveLength(48 + 30);
    for (const row of rows) {
      expect(row.key).toBe(recordKey(row.collection_id, row.label));
      expect(row.head_checksum).toEqual(expect.any(Number));
    }
    const fieldIndexes = sqlite
      .prepare("SELECT count(*) FROM sqlite_master WHERE type = 'index' AND tbl_name = 'records' AND sql IS NOT NULL")
      .pluck()
      .get();
    expect(fieldIndexes).toBe(3); // the value and type indexes of 'tag', and records_with_text (migration 8)
    const columns = sqlite.prepare("SELECT name FROM pragma_table_info('records')").pluck().all();
    expect(columns.at(-1)).toBe('vector');
    sqlite.close();
  });

  it('a record damaged before the upgrade gets no head checksum: its hits stay CORRUPT', () => {
    const { path } = schema7Database();
    const sqlite = new Database(join(path, 'quiver.sqlite'));
    sqlite.prepare(`UPDATE records SET metadata = '{"i":99}' WHERE id = 'b7'`).run();
    sqlite.close();
    const db = open(path);
    const b = db.collection('b');
    const vector = b.get('b8')!.vector;
    expect(b.query({ vector, k: 1 })[0]!.id).toBe('b8');
    const damaged = randomVectors(30, DIM, 2)[7]!;
    expect(() => b.query({ vector: damaged, k: 1 })).toThrow(/"b7".*no head checksum/);
    expect(() => b.queryIds({ vector: damaged, k: 1 })).toThrow(/"b7".*no head checksum/);
    db.close();
  });
});
