// db.collectionAsync: loading a snapshot, replaying the log and rebuilding from the records off
// the event loop give the same index as the synchronous open (threads 1: the same graph), with
// the same progress and warnings, while timers keep running; closing, dropping or opening the
// collection synchronously meanwhile is safe.
import { cpSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  type Collection,
  type Database,
  open,
  type OpenOptions,
  type QuiverProgress,
  type QuiverWarning,
} from '../../src/index.js';
import { tempDirectory } from '../helpers/fixtures.js';
import { randomVectors } from '../helpers/random.js';

const DIM = 16;
const INDEX = { type: 'hnsw' as const, m: 8, efConstruction: 32, ef: 32 };
const queries = randomVectors(10, DIM, 2);

let directory: ReturnType<typeof tempDirectory>;
const databases: Database[] = [];
let warnings: QuiverWarning[];
let progress: QuiverProgress[];
const options = (extra: OpenOptions = {}): OpenOptions => ({
  threads: 1,
  onWarning: (warning) => warnings.push(warning),
  onProgress: (event) => progress.push(event),
  ...extra,
});

function track(db: Database): Database {
  databases.push(db);
  return db;
}

beforeEach(() => {
  directory = tempDirectory();
  warnings = [];
  progress = [];
});
afterEach(() => {
  for (const db of databases.splice(0)) db.close();
  directory.cleanup();
});

/**
 * A writer left open: 3,000 records and deletions covered by a snapshot, then 5,000 more records
 * and deletions in the log (two replay batches).
 */
function writerWithLog(index: Record<string, unknown> = INDEX): Database {
  const db = track(open(join(directory.path, 'db'), { threads: 1 }));
  const docs = db.collection('docs', { dim: DIM, index: index as typeof INDEX });
  const vectors = randomVectors(8000, DIM, 1);
  docs.upsert(vectors.slice(0, 3000).map((vector, i) => ({ id: i, vector, metadata: { i } })));
  docs.delete([0, 1, 2]);
  docs.snapshot();
  docs.upsert(vectors.slice(3000).map((vector, i) => ({ id: 3000 + i, vector, metadata: { i: 3000 + i } })));
  docs.delete([3, 4000, 7999]);
  return db;
}

function answers(docs: Collection): unknown[] {
  return queries.map((vector) => docs.query({ vector, k: 10, includeVectors: true }));
}

/** Resolves `pending`, reporting whether a setImmediate callback queued now ran before it settled. */
async function settlesAfterTheEventLoopTurned<T>(pending: Promise<T>): Promise<{ value: T; turned: boolean }> {
  let turned = false;
  setImmediate(() => {
    turned = true;
  });
  const value = await pending;
  return { value, turned };
}

describe('collectionAsync', () => {
  it('loads the snapshot and replays the log as collection() does', async () => {
    writerWithLog();
    // Readers beside the open writer see the snapshot plus the log, as a reopen after a crash would.
    const sync = track(open(join(directory.path, 'db'), options({ readOnly: true }))).collection('docs');
    const syncProgress = progress.splice(0);
    const reader = track(open(join(directory.path, 'db'), options({ readOnly: true })));
    const { value: docs, turned } = await settlesAfterTheEventLoopTurned(reader.collectionAsync('docs'));
    expect(turned).toBe(true);
    expect(warnings).toEqual([]);
    expect(progress).toEqual(syncProgress);
    expect(progress.map((event) => event.phase)).toEqual(['load', 'replay', 'replay']);
    // 5,001 labels: the 5,000 upserted (the deletions among them included) and label 3.
    expect(progress.at(-1)).toMatchObject({ phase: 'replay', done: 5001, total: 5001 });
    expect(docs.count()).toBe(7994);
    expect(answers(docs)).toEqual(answers(sync));
    expect(await reader.collectionAsync('docs')).toBe(docs);
  });

  for (const index of [INDEX, { type: 'flat' as const }]) {
    it(`rebuilds a ${index.type} index from the records with progress and a warning`, async () => {
      writerWithLog(index).close();
      rmSync(join(directory.path, 'db', 'docs'), { recursive: true, force: true }); // the snapshot, if any
      cpSync(join(directory.path, 'db'), join(directory.path, 'copy'), { recursive: true });
      const sync = track(open(join(directory.path, 'copy'), options())).collection('docs');
      const syncWarnings = warnings.splice(0).map((warning) => warning.code);
      const syncProgress = progress.splice(0);

      const db = track(open(join(directory.path, 'db'), options()));
      const { value: docs, turned } = await settlesAfterTheEventLoopTurned(db.collectionAsync('docs'));
      expect(turned).toBe(true);
      expect(warnings.map((warning) => warning.code)).toEqual(syncWarnings);
      expect(progress).toEqual(syncProgress);
      if (index.type === 'hnsw') {
        expect(syncWarnings).toEqual(['SNAPSHOT_INVALID']);
        expect(progress.map((event) => event.done)).toEqual([4096, 7994]);
        expect(progress.every((event) => event.phase === 'rebuild' && event.total === 7994)).toBe(true);
      }
      expect(docs.count()).toBe(7994);
      expect(answers(docs)).toEqual(answers(sync));
      // The rebuilt index is snapshotted on close: the next open loads it.
      db.close();
      progress = [];
      const again = track(open(join(directory.path, 'db'), options()));
      expect(answers(await again.collectionAsync('docs'))).toEqual(answers(sync));
      if (index.type === 'hnsw') expect(progress.map((event) => event.phase)).toEqual(['load']);
    });
  }

  it('rejects with CLOSED when the database closes while it opens', async () => {
    writerWithLog().close();
    rmSync(join(directory.path, 'db', 'docs'), { recursive: true });
    const db = open(join(directory.path, 'db'), options());
    const pending = db.collectionAsync('docs');
    db.close();
    await expect(pending).rejects.toMatchObject({ code: 'CLOSED' });
    const reopened = track(open(join(directory.path, 'db'), options()));
    expect(reopened.collection('docs').count()).toBe(7994);
  });

  it('rejects with NOT_FOUND when the collection is dropped while it opens', async () => {
    const db = writerWithLog();
    db.close();
    const again = track(open(join(directory.path, 'db'), options()));
    const pending = again.collectionAsync('docs');
    expect(again.dropCollection('docs')).toBe(true);
    await expect(pending).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect(again.listCollections()).toEqual([]);
  });

  it('shares one open between callers and yields to a synchronous open meanwhile', async () => {
    writerWithLog().close();
    const db = track(open(join(directory.path, 'db'), options()));
    const first = db.collectionAsync('docs');
    const second = db.collectionAsync('docs');
    const sync = db.collection('docs');
    expect(await first).toBe(sync);
    expect(await second).toBe(sync);
    expect(sync.count()).toBe(7994);
  });

  it('creates, refuses and validates as collection() does', async () => {
    const db = track(open(join(directory.path, 'db'), options()));
    const created = await db.collectionAsync('fresh', { dim: 4 });
    expect(db.collection('fresh')).toBe(created);
    await expect(db.collectionAsync('missing')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(db.collectionAsync('fresh', { dim: 5 })).rejects.toMatchObject({ code: 'SETTINGS_MISMATCH' });
    await expect(db.collectionAsync('bad name!')).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    db.close();
    await expect(db.collectionAsync('fresh')).rejects.toMatchObject({ code: 'CLOSED' });
  });
});
