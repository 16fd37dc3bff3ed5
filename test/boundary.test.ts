// Fault injection at the public boundary: the file system (node:fs, mocked at the seam) and SQLite
// (better-sqlite3's statements) fail on demand, better-sqlite3's addon fails to load (in a child process,
// since a process loads it once), or real conditions are set up (a file
// where a folder should be, a path below a file). Every public method must fail with a QuiverError of
// the documented code, the original error as `cause`, and leave nothing partial visible.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { open, QuiverError } from '../src/index.js';
import { tempDirectory } from './helpers/fixtures.js';

/** The fault each seam raises while set: an errno code for node:fs, a SQLite code for statements. */
const faults: { fs: Map<string, string>; sqlite: { method: string; code: string } | undefined } = {
  fs: new Map(),
  sqlite: undefined,
};

function errnoError(code: string, syscall: string): NodeJS.ErrnoException {
  const error: NodeJS.ErrnoException = new Error(`${code}: injected fault, ${syscall}`);
  error.code = code;
  error.syscall = syscall;
  return error;
}

vi.mock('node:fs', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:fs')>();
  const faulty =
    <F extends (...args: never[]) => unknown>(name: string, original: F) =>
    (...args: Parameters<F>): ReturnType<F> => {
      const code = faults.fs.get(name);
      if (code !== undefined) throw errnoError(code, name);
      return original(...args) as ReturnType<F>;
    };
  return {
    ...actual,
    default: actual,
    writeSync: faulty('writeSync', actual.writeSync),
    openSync: faulty('openSync', actual.openSync),
    mkdirSync: faulty('mkdirSync', actual.mkdirSync),
    renameSync: faulty('renameSync', actual.renameSync),
    fsyncSync: faulty('fsyncSync', actual.fsyncSync),
  };
});

// Statements: one prototype behind every prepared statement; its methods fail while a fault is set.
const probe = new Database(':memory:');
const statementPrototype = Object.getPrototypeOf(probe.prepare('SELECT 1')) as Record<string, unknown>;
probe.close();
for (const method of ['run', 'get', 'all', 'iterate']) {
  const original = statementPrototype[method] as (...args: unknown[]) => unknown;
  statementPrototype[method] = function (this: unknown, ...args: unknown[]) {
    if (faults.sqlite?.method === method) {
      throw new Database.SqliteError(`injected ${faults.sqlite.code}`, faults.sqlite.code);
    }
    return original.apply(this, args);
  };
}

let directory: { path: string; cleanup: () => void };
beforeEach(() => {
  directory = tempDirectory('quiver-faults-');
});
afterEach(() => {
  faults.fs.clear();
  faults.sqlite = undefined;
  directory.cleanup();
});

/** The error `body` throws (or its promise rejects with). */
async function caught(body: () => unknown): Promise<unknown> {
  try {
    await body();
  } catch (error) {
    return error;
  }
  throw new Error('expected a failure');
}

async function expectCode(body: () => unknown, code: string, cause = true): Promise<QuiverError> {
  const error = await caught(body);
  expect(error).toBeInstanceOf(QuiverError);
  expect((error as QuiverError).code).toBe(code);
  if (cause) expect((error as QuiverError).cause).toBeDefined();
  return error as QuiverError;
}

const records = (from: number, count: number) =>
  Array.from({ length: count }, (_, i) => ({ id: `r${from + i}`, vector: [from + i, 1, 2], metadata: { i } }));

describe('open() with a bad path', () => {
  it('a NUL in the path, a name too long, a path below a file: INVALID_ARGUMENT', async () => {
    await expectCode(() => open(join(directory.path, 'a\u0000b')), 'INVALID_ARGUMENT', false);
    await expectCode(() => open(join(directory.path, 'x'.repeat(300))), 'INVALID_ARGUMENT');
    writeFileSync(join(directory.path, 'file'), 'x');
    await expectCode(() => open(join(directory.path, 'file', 'db')), 'INVALID_ARGUMENT');
  });

  it('a read-only open of an existing empty directory is NOT_FOUND and creates nothing', async () => {
    await expectCode(() => open(directory.path, { readOnly: true }), 'NOT_FOUND', false);
    expect(readdirSync(directory.path)).toEqual([]);
  });

  it('EACCES creating the directory is IO_ERROR', async () => {
    faults.fs.set('mkdirSync', 'EACCES');
    await expectCode(() => open(join(directory.path, 'new')), 'IO_ERROR');
  });

  it("better-sqlite3's addon failing to load is NATIVE_ERROR saying what fixes it, and the lock is not kept", () => {
    // A file that is no loadable addon stands for a missing or foreign build (an install with
    // --ignore-scripts); once it no longer applies, the same process opens the same database.
    const bogus = join(directory.path, 'better_sqlite3.node');
    writeFileSync(bogus, Buffer.concat([Buffer.from([0x7f, 0x45, 0x4c, 0x46]), Buffer.alloc(60, 7)]));
    const script = `
      import { open } from './src/index.ts';
      const path = process.argv[1];
      const seen = [];
      try {
        open(path);
        seen.push('opened');
      } catch (error) {
        seen.push({ name: error.name, code: error.code, message: error.message });
      }
      delete process.env.QUIVERDB_SQLITE_NATIVE_PATH;
      open(path).close();
      seen.push('reopened');
      console.log(JSON.stringify(seen));`;
    const child = spawnSync(
      process.execPath,
      ['--import', 'tsx', '--input-type=module', '-e', script, join(directory.path, 'db')],
      {
        cwd: join(import.meta.dirname, '..'),
        env: { ...process.env, QUIVERDB_SQLITE_NATIVE_PATH: bogus },
        encoding: 'utf8',
        timeout: 60_000,
      },
    );
    expect(child.stderr).toBe('');
    const [failure, reopened] = JSON.parse(child.stdout.trim().split('\n').pop() ?? '[]') as [
      { name: string; code: string; message: string },
      string,
    ];
    expect(failure).toMatchObject({ name: 'QuiverError', code: 'NATIVE_ERROR' });
    expect(failure.message).toContain("better-sqlite3's native binding could not be loaded");
    expect(failure.message).toContain('QUIVERDB_SQLITE_NATIVE_PATH');
    expect(reopened).toBe('reopened');
  });
});

describe('SQLite failing under the public methods', () => {
  it('SQLITE_FULL during upsert and delete is IO_ERROR and nothing of the batch is visible', async () => {
    const db = open(directory.path);
    const c = db.collection('c', { dim: 3 });
    c.upsert(records(0, 10));
    faults.sqlite = { method: 'run', code: 'SQLITE_FULL' };
    const error = await expectCode(() => c.upsert(records(10, 5)), 'IO_ERROR');
    expect(error.message).toMatch(/disk is full/);
    await expectCode(() => c.delete(['r1']), 'IO_ERROR');
    await expectCode(() => c.upsertAsync(records(20, 5)), 'IO_ERROR');
    faults.sqlite = undefined;
    expect(c.count()).toBe(10);
    expect(c.get(['r1', 'r10', 'r20']).map((record) => record.id)).toEqual(['r1']);
    expect(c.query({ vector: [10, 1, 2], k: 1 })[0]!.id).toBe('r9');
    db.close();
  });

  it('SQLITE_CORRUPT on a read is CORRUPT from get, query, count and listCollections', async () => {
    const db = open(directory.path);
    const c = db.collection('c', { dim: 3 });
    c.upsert(records(0, 10));
    faults.sqlite = { method: 'get', code: 'SQLITE_CORRUPT' };
    await expectCode(() => c.get('r1'), 'CORRUPT');
    await expectCode(() => c.count({ filter: { i: 1 } }), 'CORRUPT');
    faults.sqlite = { method: 'all', code: 'SQLITE_CORRUPT' };
    await expectCode(() => c.query({ vector: [1, 1, 2], k: 3 }), 'CORRUPT');
    await expectCode(() => db.listCollections(), 'CORRUPT');
    await expectCode(() => c.get({ filter: {} }), 'CORRUPT');
    faults.sqlite = undefined;
    db.close();
  });

  it('SQLITE_FULL in close() is IO_ERROR, and the writer lock is released all the same', async () => {
    const db = open(directory.path);
    db.collection('c', { dim: 3 }).upsert(records(0, 5));
    faults.sqlite = { method: 'get', code: 'SQLITE_FULL' };
    await expectCode(() => db.close(), 'IO_ERROR');
    faults.sqlite = undefined;
    const again = open(directory.path);
    expect(again.collection('c').count()).toBe(5);
    again.close();
  });
});

describe('the file system failing under snapshots, compaction and export', () => {
  for (const code of ['ENOSPC', 'EIO', 'EACCES']) {
    it(`${code} while writing a snapshot is IO_ERROR; the old state stays whole`, async () => {
      const db = open(directory.path);
      const c = db.collection('c', { dim: 3 });
      c.upsert(records(0, 50));
      faults.fs.set('writeSync', code);
      await expectCode(() => c.snapshot(), 'IO_ERROR');
      await expectCode(() => c.compact(), 'IO_ERROR');
      await expectCode(() => db.compact(), 'IO_ERROR');
      faults.fs.clear();
      expect(readdirSync(join(directory.path, 'c')).filter((name) => name.endsWith('.tmp'))).toEqual([]);
      expect(c.count()).toBe(50);
      db.close();
      const warnings: string[] = [];
      const again = open(directory.path, { onWarning: (warning) => warnings.push(warning.code) });
      expect(again.collection('c').query({ vector: [7, 1, 2], k: 1 })[0]!.id).toBe('r7');
      expect(warnings.filter((warning) => warning === 'SNAPSHOT_INVALID')).toEqual([]);
      again.close();
    });
  }

  it('ENOSPC during exportArrow rejects with IO_ERROR and leaves no file', async () => {
    const db = open(directory.path);
    const c = db.collection('c', { dim: 3 });
    c.upsert(records(0, 50));
    const target = join(directory.path, 'out.arrow');
    faults.fs.set('writeSync', 'ENOSPC');
    await expectCode(() => c.exportArrow(target), 'IO_ERROR');
    faults.fs.clear();
    expect(existsSync(target)).toBe(false);
    db.close();
  });

  it("a file where a collection's folder should be: snapshot() and close() are IO_ERROR, the lock is released", async () => {
    const db = open(directory.path);
    const c = db.collection('c', { dim: 3 });
    c.upsert(records(0, 20));
    rmSync(join(directory.path, 'c'), { recursive: true, force: true });
    writeFileSync(join(directory.path, 'c'), 'not a folder');
    await expectCode(() => c.snapshot(), 'IO_ERROR');
    c.upsert(records(20, 1));
    await expectCode(() => db.close(), 'IO_ERROR');
    rmSync(join(directory.path, 'c'));
    mkdirSync(join(directory.path, 'c'));
    const again = open(directory.path, { onWarning: () => {} });
    expect(again.collection('c').count()).toBe(21);
    again.close();
  });
});

describe('errors already QuiverErrors pass unchanged', () => {
  it('bad input keeps its code through the boundary, sync and async', async () => {
    const db = open(directory.path);
    const c = db.collection('c', { dim: 3 });
    await expectCode(() => c.upsert([{ id: 'a', vector: [1, 2] }]), 'DIMENSION_MISMATCH', false);
    await expectCode(() => c.upsertAsync([{ id: 'a', vector: [1, 2] }]), 'DIMENSION_MISMATCH', false);
    expect(db.collection('c')).toBe(c);
    db.close();
    await expectCode(() => c.count(), 'CLOSED', false);
  });
});

// Keep the linter from dropping the namespace import used for its type only.
void fs;
