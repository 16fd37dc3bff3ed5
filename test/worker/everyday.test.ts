// update, page, get with an offset and upsert's onProgress through openInWorker: the same answers
// as in process, callbacks called on the calling thread, errors with the same codes.
import { afterEach, beforeEach, expect, it } from 'vitest';
import { QuiverError, type UpsertProgress } from '../../src/index.js';
import { openInWorker, type WorkerDatabase } from '../../src/worker/index.js';
import { tempDirectory } from '../helpers/fixtures.js';

let directory: ReturnType<typeof tempDirectory>;
let db: WorkerDatabase | undefined;
beforeEach(() => {
  directory = tempDirectory('quiver-worker-');
});
afterEach(async () => {
  await db?.close();
  db = undefined;
  directory.cleanup();
});

it('updates, pages and reports progress through the worker', async () => {
  db = await openInWorker(directory.path);
  const docs = await db.collection('docs', { dim: 2 });
  const reports: UpsertProgress[] = [];
  await docs.upsert(
    Array.from({ length: 30 }, (_, i) => ({ id: `r${String(i).padStart(2, '0')}`, vector: [i, 1], metadata: { i } })),
    { onProgress: (progress) => reports.push(progress) },
  );
  expect(reports).toEqual([
    { phase: 'write', done: 30, total: 30 },
    { phase: 'index', done: 0, total: 30 },
    { phase: 'index', done: 30, total: 30 },
  ]);
  expect(await docs.update({ filter: { i: { $lt: 5 } } }, { metadata: { low: true } })).toBe(5);
  expect((await docs.get('r03'))!.metadata).toEqual({ i: 3, low: true });
  const first = await docs.page({ limit: 20 });
  expect(first.next).toBe('r19');
  const second = await docs.page({ limit: 20, after: first.next });
  expect(second.records.map((record) => record.id)).toEqual(Array.from({ length: 10 }, (_, i) => `r${20 + i}`));
  expect(second.next).toBeUndefined();
  expect((await docs.get({ offset: 28 })).map((record) => record.id)).toEqual(['r28', 'r29']);
  const error = await docs.update({ ids: ['r01'] }, {}).catch((thrown: unknown) => thrown);
  expect(error).toBeInstanceOf(QuiverError);
  expect((error as QuiverError).code).toBe('INVALID_ARGUMENT');
});
