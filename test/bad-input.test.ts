// Every bad input is a QuiverError with a stable code and a message naming the offending item,
// and a rejected batch writes nothing — checked in memory and after a reopen.
import Sqlite from 'better-sqlite3';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Collection, type Database, type ErrorCode, open, QuiverError } from '../src/index.js';
import { tempDirectory } from './helpers/fixtures.js';

function expectQuiverError(action: () => unknown, code: ErrorCode, message?: RegExp): void {
  let caught: unknown;
  try {
    action();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(QuiverError);
  expect((caught as QuiverError).code).toBe(code);
  if (message) expect((caught as QuiverError).message).toMatch(message);
}

let directory: ReturnType<typeof tempDirectory>;
let db: Database;
let docs: Collection;
beforeEach(() => {
  directory = tempDirectory();
  db = open(directory.path);
  docs = db.collection('docs', { dim: 3 });
  docs.upsert([{ id: 'existing', vector: [1, 2, 3], metadata: { keep: true } }]);
});
afterEach(() => {
  db.close();
  directory.cleanup();
});

/** Asserts the collection still holds exactly the one record written in beforeEach, also after reopen. */
function expectNothingWritten(): void {
  const check = (collection: Collection) => {
    expect(collection.count()).toBe(1);
    expect(collection.get(['good', 'existing', 'also-good']).map((record) => record.id)).toEqual(['existing']);
    expect(collection.get('existing')?.metadata).toEqual({ keep: true });
    expect(collection.get('existing')?.vector).toEqual(new Float32Array([1, 2, 3]));
  };
  check(docs);
  db.close();
  db = open(directory.path);
  docs = db.collection('docs');
  check(docs);
}

describe('a bad record rejects the whole batch', () => {
  const cases: { name: string; bad: unknown; code: ErrorCode; message: RegExp }[] = [
    {
      name: 'wrong dimension',
      bad: { id: 'bad', vector: [1, 2] },
      code: 'DIMENSION_MISMATCH',
      message: /record 1\.vector has 2 numbers; collection 'docs' has dim 3/,
    },
    {
      name: 'NaN',
      bad: { id: 'bad', vector: [1, Number.NaN, 3] },
      code: 'NOT_FINITE',
      message: /record 1\.vector\[1\] is NaN/,
    },
    {
      name: 'Infinity',
      bad: { id: 'bad', vector: new Float32Array([1, 2, Number.POSITIVE_INFINITY]) },
      code: 'NOT_FINITE',
      message: /record 1\.vector\[2\] is Infinity/,
    },
    {
      name: 'a non-number element',
      bad: { id: 'bad', vector: [1, '2', 3] },
      code: 'INVALID_ARGUMENT',
      message: /record 1\.vector\[1\] is a string/,
    },
    {
      name: 'a missing vector',
      bad: { id: 'bad' },
      code: 'INVALID_ARGUMENT',
      message: /record 1\.vector is undefined/,
    },
    { name: 'an empty id', bad: { id: '', vector: [1, 2, 3] }, code: 'INVALID_ID', message: /record 1\.id is empty/ },
    {
      name: 'an id over 512 bytes',
      bad: { id: 'é'.repeat(257), vector: [1, 2, 3] },
      code: 'INVALID_ID',
      message: /514 bytes/,
    },
    {
      name: 'a fractional number id',
      bad: { id: 1.5, vector: [1, 2, 3] },
      code: 'INVALID_ID',
      message: /record 1\.id is the number 1\.5/,
    },
    {
      name: 'a duplicate id',
      bad: { id: 'good', vector: [1, 2, 3] },
      code: 'INVALID_ID',
      message: /record 1\.id 'good' repeats record 0/,
    },
    {
      name: 'metadata that is an array',
      bad: { id: 'bad', vector: [1, 2, 3], metadata: [1] },
      code: 'INVALID_METADATA',
      message: /record 1\.metadata is an array/,
    },
    {
      name: 'a Date in metadata',
      bad: { id: 'bad', vector: [1, 2, 3], metadata: { when: new Date() } },
      code: 'INVALID_METADATA',
      message: /record 1\.metadata\.when is a Date/,
    },
    {
      name: 'NaN in metadata',
      bad: { id: 'bad', vector: [1, 2, 3], metadata: { x: Number.NaN } },
      code: 'INVALID_METADATA',
      message: /metadata\.x is NaN/,
    },
    {
      name: 'an object inside a metadata array',
      bad: { id: 'bad', vector: [1, 2, 3], metadata: { x: [{ a: 1 }] } },
      code: 'INVALID_METADATA',
      message: /metadata\.x\[0\] is an object/,
    },
    {
      name: 'undefined in metadata',
      bad: { id: 'bad', vector: [1, 2, 3], metadata: { x: undefined } },
      code: 'INVALID_METADATA',
      message: /metadata\.x is undefined/,
    },
    {
      name: 'an unknown record field',
      bad: { id: 'bad', vector: [1, 2, 3], meta: {} },
      code: 'INVALID_ARGUMENT',
      message: /record 1 has unknown field 'meta'/,
    },
    { name: 'a record that is not an object', bad: 42, code: 'INVALID_ARGUMENT', message: /record 1 is the number 42/ },
  ];
  for (const { name, bad, code, message } of cases) {
    it(`${name} → ${code}`, () => {
      const batch = [{ id: 'good', vector: [0, 0, 1] }, bad, { id: 'also-good', vector: [0, 1, 0] }];
      expectQuiverError(() => docs.upsert(batch as never), code, message);
      expectNothingWritten();
    });
  }

  it('a zero vector in a cosine collection → INVALID_ARGUMENT', () => {
    const cosine = db.collection('cos', { dim: 2, metric: 'cosine' });
    expectQuiverError(() => cosine.upsert([{ id: 'z', vector: [0, 0] }]), 'INVALID_ARGUMENT', /all zeros/);
    expect(cosine.count()).toBe(0);
  });

  it('a batch that is not an array → INVALID_ARGUMENT', () => {
    expectQuiverError(() => docs.upsert({ id: 'a' } as never), 'INVALID_ARGUMENT', /array of records/);
    expectNothingWritten();
  });
});

describe('bad deletes write nothing', () => {
  it('an invalid id among valid ones → INVALID_ID', () => {
    expectQuiverError(() => docs.delete(['existing', '']), 'INVALID_ID', /ids\[1\] is empty/);
    expectNothingWritten();
  });
});

describe('bad queries', () => {
  const cases: { name: string; query: unknown; code: ErrorCode; message: RegExp }[] = [
    { name: 'k = 0', query: { vector: [1, 2, 3], k: 0 }, code: 'INVALID_ARGUMENT', message: /query\.k/ },
    { name: 'k > 10,000', query: { vector: [1, 2, 3], k: 10_001 }, code: 'INVALID_ARGUMENT', message: /query\.k/ },
    { name: 'fractional k', query: { vector: [1, 2, 3], k: 2.5 }, code: 'INVALID_ARGUMENT', message: /query\.k/ },
    { name: 'an unknown option', query: { vector: [1, 2, 3], kk: 3 }, code: 'INVALID_ARGUMENT', message: /kk/ },
    {
      name: 'wrong dimension',
      query: { vector: [1, 2] },
      code: 'DIMENSION_MISMATCH',
      message: /query vector has 2 numbers/,
    },
    { name: 'NaN', query: { vector: [Number.NaN, 2, 3] }, code: 'NOT_FINITE', message: /query vector\[0\] is NaN/ },
    { name: 'no vector', query: { k: 3 }, code: 'INVALID_ARGUMENT', message: /query\.vector/ },
    { name: 'ef = 0', query: { vector: [1, 2, 3], ef: 0 }, code: 'INVALID_ARGUMENT', message: /query\.ef/ },
  ];
  for (const { name, query, code, message } of cases) {
    it(`${name} → ${code}`, () => expectQuiverError(() => docs.query(query as never), code, message));
  }
});

describe('collections and databases', () => {
  it('reopening with another dim or metric → SETTINGS_MISMATCH, nothing changed', () => {
    expectQuiverError(() => db.collection('docs', { dim: 4 }), 'SETTINGS_MISMATCH', /dim 4 \(stored: 3\)/);
    expectQuiverError(
      () => db.collection('docs', { dim: 3, metric: 'cosine' }),
      'SETTINGS_MISMATCH',
      /metric 'cosine'/,
    );
    expectQuiverError(
      () => db.collection('docs', { dim: 3, index: { type: 'flat' } }),
      'SETTINGS_MISMATCH',
      /index 'flat'/,
    );
    expectQuiverError(
      () => db.collection('docs', { dim: 3, index: { type: 'hnsw', m: 32 } }),
      'SETTINGS_MISMATCH',
      /m 32 \(stored: 16\)/,
    );
    expect(db.listCollections()[0]).toMatchObject({ dim: 3, metric: 'l2', count: 1 });
    db.close();
    db = open(directory.path);
    expectQuiverError(() => db.collection('docs', { dim: 4 }), 'SETTINGS_MISMATCH');
    docs = db.collection('docs');
    expectNothingWritten();
  });

  it('reopening with only some options compares only those (defaults are not requests)', () => {
    const cosine = db.collection('cosine', { dim: 3, metric: 'cosine', index: { type: 'hnsw', ef: 99 } });
    expect(db.collection('cosine', { dim: 3 })).toBe(cosine);
    expect(db.collection('cosine', { dim: 3, index: { type: 'hnsw' } })).toBe(cosine);
    expectQuiverError(() => db.collection('cosine', { dim: 3, metric: 'l2' }), 'SETTINGS_MISMATCH', /metric 'l2'/);
    db.dropCollection('cosine');
  });

  it('bad collection options and names → INVALID_ARGUMENT, nothing created', () => {
    expectQuiverError(() => db.collection('new', { dim: 0 }), 'INVALID_ARGUMENT', /options\.dim/);
    expectQuiverError(
      () => db.collection('new', { dim: 3, metric: 'hamming' as never }),
      'INVALID_ARGUMENT',
      /options\.metric/,
    );
    expectQuiverError(() => db.collection('new', { dim: 3, colour: 'red' } as never), 'INVALID_ARGUMENT', /colour/);
    expectQuiverError(
      () => db.collection('new', { dim: 3, index: { type: 'hnsw', m: 1 } }),
      'INVALID_ARGUMENT',
      /options\.index\.m/,
    );
    expectQuiverError(() => db.collection('../escape', { dim: 3 }), 'INVALID_ARGUMENT', /collection name/);
    expectQuiverError(() => db.collection('', { dim: 3 }), 'INVALID_ARGUMENT', /collection name/);
    expect(db.listCollections().map((info) => info.name)).toEqual(['docs']);
  });

  it('a missing collection without options → NOT_FOUND', () => {
    expectQuiverError(() => db.collection('nope'), 'NOT_FOUND', /db\.collection\('nope', \{ dim, metric \}\)/);
  });

  it('unknown open options → INVALID_ARGUMENT', () => {
    expectQuiverError(() => open(directory.path, { durable: true } as never), 'INVALID_ARGUMENT', /durable/);
    expectQuiverError(
      () => open(directory.path, { durability: 'sometimes' as never }),
      'INVALID_ARGUMENT',
      /durability/,
    );
  });

  it('a closed database and its collections → CLOSED; close() is idempotent', () => {
    db.close();
    db.close();
    expectQuiverError(() => docs.count(), 'CLOSED');
    expectQuiverError(() => docs.query({ vector: [1, 2, 3] }), 'CLOSED');
    expectQuiverError(() => docs.upsert([{ id: 'x', vector: [1, 2, 3] }]), 'CLOSED');
    expectQuiverError(() => db.collection('docs'), 'CLOSED');
    expectQuiverError(() => db.listCollections(), 'CLOSED');
    db = open(directory.path);
    docs = db.collection('docs');
    expectNothingWritten();
  });

  it('a database written by a newer format → FORMAT_TOO_NEW', () => {
    db.close();
    const sqlite = new Sqlite(join(directory.path, 'quiver.sqlite'));
    sqlite.prepare("UPDATE meta SET value = '99' WHERE key = 'format_version'").run();
    sqlite.close();
    expectQuiverError(() => open(directory.path), 'FORMAT_TOO_NEW', /format 99/);
    const again = new Sqlite(join(directory.path, 'quiver.sqlite'));
    again.pragma('user_version = 999');
    again.close();
    expectQuiverError(() => open(directory.path), 'FORMAT_TOO_NEW', /schema version 999/);
  });

  it('a path that is a file → INVALID_ARGUMENT; a missing read-only database → NOT_FOUND', () => {
    expectQuiverError(() => open(join(directory.path, 'quiver.sqlite')), 'INVALID_ARGUMENT', /is a file/);
    expectQuiverError(() => open(join(directory.path, 'absent'), { readOnly: true }), 'NOT_FOUND');
  });

  it('writes to a read-only database → READ_ONLY', () => {
    db.close();
    db = open(directory.path, { readOnly: true });
    docs = db.collection('docs');
    expect(docs.query({ vector: [1, 2, 3], k: 1 })[0]?.id).toBe('existing');
    expectQuiverError(() => docs.upsert([{ id: 'good', vector: [1, 2, 3] }]), 'READ_ONLY');
    expectQuiverError(() => docs.delete('existing'), 'READ_ONLY');
    expectQuiverError(() => db.dropCollection('docs'), 'READ_ONLY');
    expectQuiverError(() => db.collection('new', { dim: 2 }), 'READ_ONLY');
    expectNothingWritten();
  });
});
