// Damaged values inside quiver.sqlite: each is CORRUPT naming the collection (and the id of a damaged
// record), never a crash, a raw error or a silently wrong answer. Each case runs in a child process,
// since some of them used to crash it (a two-billion-entry free list ran V8 out of memory).
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { open } from '../../src/index.js';
import { tempDirectory } from '../helpers/fixtures.js';

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

  it('index_params that are not JSON, or not valid parameters, are CORRUPT on open and on listCollections', () => {
    const path = build();
    damage(path, "UPDATE collections SET index_params = '{\"m\":16,' WHERE name = 'c'");
    expectCorrupt(read(path, 'open'), "collection 'c'", 'index_params');
    expectCorrupt(read(path, 'list'), "collection 'c'", 'index_params');
    damage(path, "UPDATE collections SET index_params = '{\"m\":-1}' WHERE name = 'c'");
    expectCorrupt(read(path, 'open'), "collection 'c'", 'index_params');
  });
});

describe('the record checksum migration', () => {
  it('computes checksums for the records of a database written before it', () => {
    const path = build();
    // Back to schema 4: the checksum column did not exist yet.
    const sqlite = new Database(join(path, 'quiver.sqlite'));
    sqlite.exec('ALTER TABLE records DROP COLUMN checksum');
    sqlite.pragma('user_version = 4');
    sqlite.close();
    const db = open(path);
    expect(db.collection('c').get('r5')).toMatchObject({ id: 'r5', metadata: { n: 5 } });
    expect(db.collection('c').get({ filter: {} })).toHaveLength(20);
    db.close();
    const check = new Database(join(path, 'quiver.sqlite'), { readonly: true });
    expect(check.prepare('SELECT count(*) FROM records WHERE checksum IS NULL').pluck().get()).toBe(0);
    expect(check.pragma('user_version', { simple: true })).toBe(5);
    check.close();
  });
});
