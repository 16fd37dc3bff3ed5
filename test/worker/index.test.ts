// openInWorker: the same methods as in process, each a promise, answered by a worker thread; errors
// with the same codes; callbacks; Arrow values; close ends the worker; a crashed worker rejects its
// pending calls with CLOSED and releases the writer lock.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { open, QuiverError } from '../../src/index.js';
import { openInWorker, type WorkerDatabase } from '../../src/worker/index.js';
import { tempDirectory } from '../helpers/fixtures.js';

const records = [
  { id: 'a', vector: [1, 0, 0], metadata: { lang: 'en' } },
  { id: 'b', vector: [0, 1, 0], metadata: { lang: 'de' } },
  { id: 'c', vector: [0, 0, 1], metadata: { lang: 'en' } },
];

describe('openInWorker', () => {
  let directory: ReturnType<typeof tempDirectory>;
  let db: WorkerDatabase | undefined;
  beforeEach(() => {
    directory = tempDirectory('quiver-worker-');
  });
  afterEach(async () => {
    await db?.close();
    db = undefined;
    delete process.env.QUIVERDB_WORKER_TEST_CRASH_ON;
    directory.cleanup();
  });

  it('answers exactly as the in-process database does', async () => {
    db = await openInWorker(directory.path);
    expect(db.path).toBe(directory.path);
    const docs = await db.collection('docs', { dim: 3, metric: 'cosine' });
    expect(docs.name).toBe('docs');
    expect(docs.dim).toBe(3);
    expect(await db.collection('docs')).toBe(docs);
    await docs.upsert(records);
    const query = { vector: new Float32Array([0.9, 0.1, 0]), k: 2, includeVectors: true };
    const remoteHits = await docs.query(query);
    const remoteRecord = await docs.get('b');
    const remoteFiltered = await docs.get({ filter: { lang: 'en' } });
    const remoteCount = await docs.count({ filter: { lang: 'en' } });
    const batch = await docs.queryIdsBatch({ vectors: [records[1]!.vector, records[2]!.vector], k: 1 });
    await db.close();
    db = undefined;

    const local = open(directory.path);
    const localDocs = local.collection('docs');
    expect(remoteHits).toEqual(localDocs.query(query));
    expect(remoteHits[0]?.vector).toBeInstanceOf(Float32Array);
    expect(remoteRecord).toEqual(localDocs.get('b'));
    expect(remoteFiltered).toEqual(localDocs.get({ filter: { lang: 'en' } }));
    expect(remoteCount).toBe(2);
    expect(batch.map((hits) => hits[0]?.id)).toEqual(['b', 'c']);
    local.close();
  });

  it('rejects with QuiverError and the same code as in process, and keeps working', async () => {
    db = await openInWorker(directory.path);
    const docs = await db.collection('docs', { dim: 3 });
    const failure = await docs.upsert([{ id: 'x', vector: [1, 2] }]).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(QuiverError);
    expect(failure).toMatchObject({ code: 'DIMENSION_MISMATCH' });
    await expect(db.collection('nope')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(docs.query({ vector: [1, 0, 0], k: 0 })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect(await docs.count()).toBe(0);
  });

  it('calls function options (onProgress) on the calling thread', async () => {
    db = await openInWorker(directory.path);
    const docs = await db.collection('docs', { dim: 3 });
    await docs.upsert(records);
    const seen: number[] = [];
    const table = await docs.toArrowTable();
    expect(table.numRows).toBe(3);
    expect(table.getChild('id')?.toArray()).toEqual(['a', 'b', 'c']);
    const copy = await db.collection('copy', { dim: 3 });
    const result = await copy.upsertArrow(table, { onProgress: (progress) => seen.push(progress.rows) });
    expect(result.rows).toBe(3);
    expect(seen.at(-1)).toBe(3);
    const batches = [];
    for await (const batch of await docs.toArrow({ batchSize: 2 })) batches.push(batch.numRows);
    expect(batches).toEqual([2, 1]);
  });

  it('an argument that cannot cross threads is INVALID_ARGUMENT, and nothing is written', async () => {
    db = await openInWorker(directory.path);
    const docs = await db.collection('docs', { dim: 3 });
    async function* batches() {
      yield* [];
    }
    await expect(docs.upsertArrow(batches())).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: expect.stringContaining('cannot be sent to the worker'),
    });
    expect(await docs.count()).toBe(0);
  });

  it('moves typed-array arguments without a copy when asked to', async () => {
    db = await openInWorker(directory.path, { transfer: true });
    const docs = await db.collection('docs', { dim: 3 });
    const vector = new Float32Array([1, 0, 0]);
    await docs.upsert([{ id: 'a', vector }]);
    expect(vector.length).toBe(0); // detached: its buffer moved to the worker
    expect((await docs.get('a'))?.vector).toEqual(new Float32Array([1, 0, 0]));
  });

  it('close() ends the worker: later calls are CLOSED and the lock is free', async () => {
    const worker = await openInWorker(directory.path);
    const docs = await worker.collection('docs', { dim: 3 });
    await worker.close();
    await expect(docs.count()).rejects.toMatchObject({ code: 'CLOSED' });
    await worker.close();
    open(directory.path).close();
  });

  it('a worker that crashes rejects its pending calls with CLOSED and its writer lock dies with it', async () => {
    process.env.QUIVERDB_WORKER_TEST_CRASH_ON = 'queryBatch';
    db = await openInWorker(directory.path);
    const docs = await db.collection('docs', { dim: 3 });
    await docs.upsert(records);
    // Held by the worker: a second writer is refused.
    expect(() => open(directory.path)).toThrow(expect.objectContaining({ code: 'LOCKED' }));
    const pending = docs.queryBatch({ vectors: [[1, 0, 0]], k: 1 });
    await expect(pending).rejects.toMatchObject({ code: 'CLOSED', message: expect.stringContaining('queryBatch') });
    await expect(docs.count()).rejects.toMatchObject({ code: 'CLOSED' });
    const reopened = open(directory.path);
    expect(reopened.collection('docs').count()).toBe(3);
    reopened.close();
    db = undefined;
  });

  it('an open that fails rejects with its code and leaves no worker behind', async () => {
    const holder = open(directory.path);
    await expect(openInWorker(directory.path)).rejects.toMatchObject({ code: 'LOCKED' });
    holder.close();
    await expect(openInWorker(directory.path, { threads: 0 })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });
});
