// Damaged values inside quiver.sqlite: each is CORRUPT naming the collection (and the id of a damaged
// record), never a crash, a raw error or a silently wrong answer. Each case runs in a child process,
// since some of them used to crash it (a two-billion-entry free list ran V8 out of memory).
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { open } from '../../src/index.js';
import { recordChecksum } from '../../src/storage/record-checksum.js';
import { tempDirectory } from '../helpers/fixtures.js';
import { recordsAsSchema8 } from '../helpers/schema-8.js';

const READER = join(import.meta.dirname, 'damaged-reader.ts');
const DIM = 4;

interface Outcome {
  ok: boolean;
  result?: unknown;
  name?: string;
  code?: string;
  message?: string;
}

/** Runs one action on the database in a child process. */
function read(directory: string, action: string, argument?: string): Outcome {
  const ran = spawnSync(
    process.execPath,
    ['--import', 'tsx', READER, directory, action, ...(argument ? [argument] : [])],
    {
      encoding: 'utf8',
      timeout: 60_000,
    },
  );
  const line = ran.stdout.trim().split('\n').pop() ?? '';
  if (ran.status !== 0 || line === '') throw new Error(`the reader died (${ran.status ?? ran.signal}): ${ran.stderr}`);
  return JSON.parse(line) as Outcome;
}

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

/** A database with collection 'c' of 20 records r0…r19 (r_i = [i, 1, 2, 3], metadata { n: i }), closed. */
function build(index: 'hnsw' | 'flat' = 'hnsw'): string {
  const { path, cleanup } = tempDirectory('quiver-corrupt-');
  cleanups.push(cleanup);
  const db = open(path);
  const c = db.collection('c', { dim: DIM, index: { type: index } });
  c.upsert(Array.from({ length: 20 }, (_, i) => ({ id: `r${i}`, vector: [i, 1, 2, 3], metadata: { n: i } })));
  db.close();
  return path;
}

function damage(directory: string, sql: string, ...params: unknown[]): void {
  const sqlite = new Database(join(directory, 'quiver.sqlite'));
  sqlite.prepare(sql).run(...params);
  sqlite.close();
}

function expectCorrupt(outcome: Outcome, ...words: string[]): void {
  expect(outcome).toMatchObject({ ok: false, name: 'QuiverError', code: 'CORRUPT' });
  for (const word of words) expect(outcome.message).toContain(word);
}

describe('damaged values read back from SQLite', () => {
  it('a label of two billion is CORRUPT on open, not a giant free list', () => {
    const path = build();
    damage(path, "UPDATE records SET label = 2000000000 WHERE id = 'r3'");
    expectCorrupt(read(path, 'open'), "collection 'c'", '2000000000');
  });

  it('a negative label is CORRUPT on open, not a RangeError', () => {
    const path = build('flat');
    damage(path, "UPDATE records SET label = -7 WHERE id = 'r3'");
    expectCorrupt(read(path, 'open'), "collection 'c'", '-7');
  });

  it('a label that is not an integer is CORRUPT', () => {
    const path = build('flat');
    damage(path, "UPDATE records SET label = 2.5 WHERE id = 'r3'");
    expectCorrupt(read(path, 'open'), "collection 'c'");
  });

  it('metadata that is no longer JSON is CORRUPT naming the record', () => {
    const path = build();
    damage(path, `UPDATE records SET metadata = '{"n":3' WHERE id = 'r3'`);
    expectCorrupt(read(path, 'get', 'r3'), '"r3"', "collection 'c'");
    expectCorrupt(read(path, 'get-all'), '"r3"');
    expectCorrupt(read(path, 'query', '[3, 1, 2, 3]'), '"r3"');
    expect(read(path, 'get', 'r4')).toEqual({ ok: true, result: 'r4' });
  });

  it('metadata changed to other valid JSON fails the record checksum (it used to be returned silently)', () => {
    const path = build();
    damage(path, `UPDATE records SET metadata = '{"n":33}' WHERE id = 'r3'`);
    expectCorrupt(read(path, 'get', 'r3'), '"r3"', 'checksum');
  });

  it('metadata that parses to an array is CORRUPT', () => {
    const path = build();
    damage(path, `UPDATE records SET metadata = '[3]' WHERE id = 'r3'`);
    expectCorrupt(read(path, 'get', 'r3'), '"r3"', 'JSON object');
  });

  it('a short vector blob is CORRUPT, not returned as if valid', () => {
    const path = build();
    damage(path, "UPDATE records SET vector = x'0000803f' WHERE id = 'r3'");
    expectCorrupt(read(path, 'get', 'r3'), '"r3"', '4 bytes');
  });

  it('a NaN in a stored vector is CORRUPT', () => {
    const path = build();
    const nan = Buffer.from(new Float32Array([Number.NaN, 1, 2, 3]).buffer);
    damage(path, "UPDATE records SET vector = ? WHERE id = 'r3'", nan);
    expectCorrupt(read(path, 'get', 'r3'), '"r3"', 'NaN');
  });

  it('a changed id fails the record checksum', () => {
    const path = build();
    damage(path, "UPDATE records SET id = 'r3x' WHERE id = 'r3'");
    expectCorrupt(read(path, 'get', 'r3x'), '"r3x"', 'checksum');
  });

  it('a record without a checksum is CORRUPT', () => {
    const path = build();
    damage(path, "UPDATE records SET checksum = NULL WHERE id = 'r3'");
    expectCorrupt(read(path, 'get', 'r3'), '"r3"', 'no checksum');
  });

  it('a query hit is checked without its vector: metadata changed to other valid JSON fails the head checksum', () => {
    const path = build();
    damage(path, `UPDATE records SET metadata = '{"n":33}' WHERE id = 'r3'`);
    expectCorrupt(read(path, 'query', '[3, 1, 2, 3]'), '"r3"', 'head checksum');
    expectCorrupt(read(path, 'query-ids', '[3, 1, 2, 3]'), '"r3"', 'head checksum');
    expect(read(path, 'query', '[15, 1, 2, 3]')).toEqual({ ok: true, result: 5 });
  });

  it('a record without a head checksum is CORRUPT for query, queryIds and get', () => {
    const path = build();
    damage(path, "UPDATE records SET head_checksum = NULL WHERE id = 'r3'");
    expectCorrupt(read(path, 'query', '[3, 1, 2, 3]'), '"r3"', 'no head checksum');
    expectCorrupt(read(path, 'query-ids', '[3, 1, 2, 3]'), '"r3"', 'no head checksum');
    expectCorrupt(read(path, 'get', 'r3'), '"r3"', 'no head checksum');
    expect(read(path, 'verify').result).toEqual({
      status: 1,
      findings: [expect.stringMatching(/^record record 'r3' .* has no head checksum/)],
    });
  });

  it('a damaged vector is CORRUPT when the graph is filled from the records, naming the record', () => {
    // The snapshot keeps a checksum of each vector, not the vector: the open finds the record's
    // vector differing with no logged change, and the record's own checksum names the damage.
    const path = build();
    const nan = Buffer.from(new Float32Array([Number.NaN, 1, 2, 3]).buffer);
    damage(path, "UPDATE records SET vector = ? WHERE id = 'r3'", nan);
    expectCorrupt(read(path, 'open'), '"r3"', 'NaN');
    expectCorrupt(read(path, 'get', 'r3'), '"r3"', 'NaN');
  });

  it('a vector changed to other finite numbers fails the record checksum at open (it used to be searched silently)', () => {
    const path = build();
    const other = Buffer.from(new Float32Array([3, 1, 2, 3.5]).buffer);
    damage(path, "UPDATE records SET vector = ? WHERE id = 'r3'", other);
    expectCorrupt(read(path, 'open'), '"r3"', 'checksum');
    expectCorrupt(read(path, 'query-ids', '[3, 1, 2, 3]'), '"r3"', 'checksum');
  });

  it("a vector changed together with its record's checksums (a change the log never saw) makes the snapshot unusable: rebuilt", () => {
    const path = build();
    const sqlite = new Database(join(path, 'quiver.sqlite'));
    const row = sqlite.prepare("SELECT label, id, metadata, text FROM records WHERE id = 'r3'").get() as {
      label: number;
      id: string;
      metadata: string;
      text: string | null;
    };
    const vector = new Uint8Array(new Float32Array([3, 1, 2, 3.5]).buffer);
    sqlite
      .prepare("UPDATE records SET vector = ?, checksum = ? WHERE id = 'r3'")
      .run(vector, recordChecksum({ ...row, vector }));
    sqlite.close();
    // quiver verify fills the graph as an open does, and names what the snapshot does not explain.
    expect(read(path, 'verify').result).toEqual({
      status: 1,
      findings: [
        expect.stringMatching(
          /^vectors c\/hnsw\.\d+\.bin: the records of 1 labels \(3\) differ from what the snapshot kept/,
        ),
      ],
    });
    const warnings: string[] = [];
    const db = open(path, { readOnly: true, onWarning: (warning) => warnings.push(warning.code) });
    try {
      const hits = db.collection('c').queryIds({ vector: [3, 1, 2, 3.5], k: 1 });
      expect(hits.map((hit) => [hit.id, hit.distance])).toEqual([['r3', 0]]);
      expect(warnings).toEqual(['SNAPSHOT_INVALID']);
    } finally {
      db.close();
    }
  });

  it('a record moved off the key its label gives is CORRUPT for the queries that reach it', () => {
    const path = build();
    damage(path, "UPDATE records SET key = key + 1000 WHERE id = 'r3'");
    expectCorrupt(read(path, 'query', '[3, 1, 2, 3]'), "collection 'c'", 'label 3', 'key');
    expectCorrupt(read(path, 'query-ids', '[3, 1, 2, 3]'), "collection 'c'", 'label 3', 'key');
    expect(read(path, 'verify').result).toEqual({
      status: 1,
      findings: [
        expect.stringMatching(/^record record 'r3' .* is stored under rowid \d+; its label needs \d+/),
        // Filled by key, the graph finds a record under label 1003 that it lacks, and none under label 3.
        expect.stringMatching(/^vectors c\/hnsw\.\d+\.bin: the records of 2 labels \(1003, 3\) differ/),
      ],
    });
  });

  it('index_params that are not JSON, or not valid parameters, are CORRUPT on open and on listCollections', () => {
    const path = build();
    damage(path, "UPDATE collections SET index_params = '{\"m\":16,' WHERE name = 'c'");
    expectCorrupt(read(path, 'open'), "collection 'c'", 'index_params');
    expectCorrupt(read(path, 'list'), "collection 'c'", 'index_params');
    damage(path, "UPDATE collections SET index_params = '{\"m\":-1}' WHERE name = 'c'");
    expectCorrupt(read(path, 'open'), "collection 'c'", 'index_params');
  });
});

describe('a damaged text', () => {
  /** Collection 'c' with a full-text index; r_i has the text `passage number i about topic i`. */
  function buildWithText(): string {
    const { path, cleanup } = tempDirectory('quiver-corrupt-text-');
    cleanups.push(cleanup);
    const db = open(path);
    const c = db.collection('c', { dim: DIM, text: true });
    c.upsert(
      Array.from({ length: 20 }, (_, i) => ({
        id: `r${i}`,
        vector: [i, 1, 2, 3],
        text: `passage number ${i} about topic${i}`,
        metadata: { n: i },
      })),
    );
    db.close();
    return path;
  }

  it('a flipped byte in a stored text is CORRUPT on every read of it and found by quiver verify', () => {
    const path = buildWithText();
    const sqlite = new Database(join(path, 'quiver.sqlite'));
    const stored = sqlite.prepare("SELECT CAST(text AS BLOB) FROM records WHERE id = 'r3'").pluck().get() as Buffer;
    const flipped = Buffer.from(stored);
    flipped[0] = flipped[0]! ^ 0x01; // 'p' → 'q': still valid UTF-8, still a string
    sqlite.prepare("UPDATE records SET text = ? WHERE id = 'r3'").run(flipped.toString('utf8'));
    sqlite.close();
    expectCorrupt(read(path, 'get', 'r3'), '"r3"', "collection 'c'", 'checksum');
    expectCorrupt(read(path, 'query', '[3, 1, 2, 3]'), '"r3"', 'checksum');
    // The full-text index still finds r3 by its words: the hit's record read is what catches it.
    expectCorrupt(read(path, 'text-query', 'topic3'), '"r3"', 'checksum');
    expectCorrupt(read(path, 'hybrid-query', 'topic3'), '"r3"', 'checksum');
    expect(read(path, 'get', 'r4')).toEqual({ ok: true, result: 'r4' });
    expect(read(path, 'text-query', 'topic4')).toEqual({ ok: true, result: 1 });
    const verified = read(path, 'verify');
    expect(verified.result).toMatchObject({ status: 1 });
    const findings = (verified.result as { findings: string[] }).findings;
    expect(findings).toEqual([expect.stringMatching(/^record record 'r3' .* checksum that does not match/)]);
  });

  it('a text that is not a string is CORRUPT on read and found by quiver verify', () => {
    const path = buildWithText();
    // A BLOB keeps its type in a TEXT column (a number would be stored as its text).
    damage(path, "UPDATE records SET text = x'00ff' WHERE id = 'r3'");
    expectCorrupt(read(path, 'get', 'r3'), '"r3"', 'text');
    const verified = read(path, 'verify');
    expect(verified.result).toMatchObject({ status: 1 });
    expect((verified.result as { findings: string[] }).findings).toEqual([
      expect.stringMatching(/^record record 'r3' .* has a text that is a BLOB/),
    ]);
  });

  it('an undamaged database with texts passes quiver verify', () => {
    const path = buildWithText();
    expect(read(path, 'verify')).toEqual({ ok: true, result: { status: 0, findings: [] } });
  });
});

describe('the record checksum migration (6)', () => {
  /** Removes what migrations 9 (keyed records), 8 (records_with_text) and 7 (the change log) add, so the file is as an older QuiverDB left it. */
  function dropChangeLog(sqlite: Database.Database): void {
    recordsAsSchema8(sqlite);
    sqlite.exec('DROP INDEX records_with_text');
    sqlite.exec("DROP TABLE changes; DROP TABLE change_consumers; DELETE FROM meta WHERE key = 'database_id'");
  }

  function schemaVersion(path: string): { version: unknown; missing: unknown } {
    const check = new Database(join(path, 'quiver.sqlite'), { readonly: true });
    const version = check.pragma('user_version', { simple: true });
    const missing = check.prepare('SELECT count(*) FROM records WHERE checksum IS NULL').pluck().get();
    check.close();
    return { version, missing };
  }

  it('opens a database of schema 4 (before text): text and checksums are added, every record checks', () => {
    const path = build();
    // Back to schema 4: neither the text columns (migration 5), the checksum (6) nor the change log (7) existed yet.
    const sqlite = new Database(join(path, 'quiver.sqlite'));
    dropChangeLog(sqlite);
    sqlite.exec('ALTER TABLE records DROP COLUMN checksum');
    sqlite.exec('ALTER TABLE records DROP COLUMN text');
    sqlite.exec('ALTER TABLE collections DROP COLUMN text_settings');
    sqlite.pragma('user_version = 4');
    sqlite.close();
    const db = open(path);
    expect(db.collection('c').get('r5')).toEqual({
      id: 'r5',
      vector: new Float32Array([5, 1, 2, 3]),
      metadata: { n: 5 },
    });
    expect(db.collection('c').get({ filter: {} })).toHaveLength(20);
    expect(db.collection('c').query({ vector: [5, 1, 2, 3], k: 1 })[0]).toMatchObject({ id: 'r5', distance: 0 });
    db.close();
    expect(schemaVersion(path)).toEqual({ version: 9, missing: 0 });
  });

  it('opens a database of schema 5 (text, no checksums): the checksums computed cover the texts', () => {
    const { path, cleanup } = tempDirectory('quiver-migrate-5-');
    cleanups.push(cleanup);
    const db = open(path);
    const c = db.collection('c', { dim: DIM, text: true });
    c.upsert(
      Array.from({ length: 20 }, (_, i) => ({
        id: `r${i}`,
        vector: [i, 1, 2, 3],
        metadata: { n: i },
        ...(i % 2 === 0 ? { text: `passage ${i} about topic${i}` } : {}),
      })),
    );
    db.close();
    const sqlite = new Database(join(path, 'quiver.sqlite'));
    dropChangeLog(sqlite);
    sqlite.exec('ALTER TABLE records DROP COLUMN checksum');
    sqlite.pragma('user_version = 5');
    sqlite.close();
    const reopened = open(path);
    const docs = reopened.collection('c');
    expect(docs.get('r4')).toEqual({
      id: 'r4',
      vector: new Float32Array([4, 1, 2, 3]),
      metadata: { n: 4 },
      text: 'passage 4 about topic4',
    });
    expect(docs.get('r5')).toEqual({ id: 'r5', vector: new Float32Array([5, 1, 2, 3]), metadata: { n: 5 } });
    expect(docs.query({ text: 'topic6', k: 3 }).map((hit) => hit.id)).toEqual(['r6']);
    reopened.close();
    expect(schemaVersion(path)).toEqual({ version: 9, missing: 0 });
    // The computed checksum covers the text: changing it afterwards is caught.
    damage(path, "UPDATE records SET text = 'passage 4 about topic5' WHERE id = 'r4'");
    expectCorrupt(read(path, 'get', 'r4'), '"r4"', 'checksum');
  });
});
