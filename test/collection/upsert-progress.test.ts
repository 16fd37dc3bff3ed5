// onProgress of upsert and upsertAsync: the phases and counts reported (write once, index in chunks
// from 0 to the batch, embed per embedding batch), the index holding the whole batch afterwards
// (every record its own nearest neighbour), a throwing callback (HOOK_FAILED after the batch is
// committed and indexed), and bad options rejected with nothing written.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { INDEX_PROGRESS_CHUNK } from '../../src/collection/upsert-progress.js';
import { type Collection, type Database, open, QuiverError, type UpsertProgress } from '../../src/index.js';
import { tempDirectory } from '../helpers/fixtures.js';
import { randomVectors } from '../helpers/random.js';

let directory: ReturnType<typeof tempDirectory>;
let db: Database;
beforeEach(() => {
  directory = tempDirectory();
  db = open(directory.path, { threads: 2 });
});
afterEach(() => {
  db.close();
  directory.cleanup();
});

const COUNT = 2 * INDEX_PROGRESS_CHUNK + 300;
const vectors = randomVectors(COUNT, 8, 3);
const records = vectors.map((vector, i) => ({ id: `r${i}`, vector }));

/** The 'index' reports expected for a batch of n records. */
function indexReports(n: number): UpsertProgress[] {
  const reports: UpsertProgress[] = [{ phase: 'index', done: 0, total: n }];
  for (let done = INDEX_PROGRESS_CHUNK; done < n; done += INDEX_PROGRESS_CHUNK)
    reports.push({ phase: 'index', done, total: n });
  reports.push({ phase: 'index', done: n, total: n });
  return reports;
}

/** Every record is its own nearest neighbour: the index holds the whole batch. */
function expectIndexed(collection: Collection): void {
  expect(collection.count()).toBe(COUNT);
  for (let i = 0; i < COUNT; i += 97) {
    expect(collection.queryIds({ vector: vectors[i]!, k: 1, ef: 200 })[0]!.id).toBe(`r${i}`);
  }
}

async function codeOf(action: () => unknown): Promise<string | undefined> {
  try {
    await action();
  } catch (error) {
    return error instanceof QuiverError ? error.code : `raw: ${String(error)}`;
  }
  return undefined;
}

describe('upsert onProgress', () => {
  for (const type of ['hnsw', 'flat'] as const) {
    it(`reports the commit, then the ${type} index taking the batch chunk by chunk`, () => {
      const docs = db.collection(`docs-${type}`, { dim: 8, index: { type } });
      const reports: UpsertProgress[] = [];
      expect(docs.upsert(records, { onProgress: (progress) => reports.push(progress) })).toEqual({
        inserted: COUNT,
        updated: 0,
      });
      expect(reports).toEqual([{ phase: 'write', done: COUNT, total: COUNT }, ...indexReports(COUNT)]);
      expectIndexed(docs);
    });
  }

  it('finishes the batch when the callback throws, then raises HOOK_FAILED', async () => {
    const docs = db.collection('docs', { dim: 8 });
    let calls = 0;
    const onProgress = () => {
      calls++;
      throw new Error('bar broke');
    };
    expect(await codeOf(() => docs.upsert(records, { onProgress }))).toBe('HOOK_FAILED');
    expect(calls).toBe(1); // not called again after it threw
    expectIndexed(docs);
  });

  it('rejects bad options before writing anything', async () => {
    const docs = db.collection('docs', { dim: 8 });
    expect(await codeOf(() => docs.upsert(records, { onProgress: 5 } as never))).toBe('INVALID_ARGUMENT');
    expect(await codeOf(() => docs.upsert(records, { progress: () => {} } as never))).toBe('INVALID_ARGUMENT');
    expect(await codeOf(() => docs.upsert(records, 'x' as never))).toBe('INVALID_ARGUMENT');
    expect(await codeOf(() => docs.upsertAsync(records, { onProgress: 5 } as never))).toBe('INVALID_ARGUMENT');
    expect(docs.count()).toBe(0);
    expect(db.changeSeq()).toBe(1); // the collection's creation only
  });
});

describe('upsertAsync onProgress', () => {
  it('reports the commit and the graph taking the batch, and resolves once it holds all of it', async () => {
    const docs = db.collection('docs', { dim: 8 });
    const reports: UpsertProgress[] = [];
    await docs.upsertAsync(records, { onProgress: (progress) => reports.push(progress) });
    expect(reports).toEqual([{ phase: 'write', done: COUNT, total: COUNT }, ...indexReports(COUNT)]);
    expectIndexed(docs);
  });

  it('reports embedding batches first when vectors come from text', async () => {
    const notes = db.collection('notes', {
      dim: 2,
      embed: (texts) => texts.map((text) => [text.length, 1]),
      embedBatchSize: 4,
      embedConcurrency: 1,
    });
    const reports: UpsertProgress[] = [];
    const texts = Array.from({ length: 10 }, (_, i) => ({ id: `n${i}`, text: 'x'.repeat(i + 1) }));
    await notes.upsertAsync(texts, { onProgress: (progress) => reports.push(progress) });
    expect(reports).toEqual([
      { phase: 'embed', done: 0, total: 10 },
      { phase: 'embed', done: 4, total: 10 },
      { phase: 'embed', done: 8, total: 10 },
      { phase: 'embed', done: 10, total: 10 },
      { phase: 'write', done: 10, total: 10 },
      { phase: 'index', done: 0, total: 10 },
      { phase: 'index', done: 10, total: 10 },
    ]);
    expect(notes.get('n9')!.vector).toEqual(new Float32Array([10, 1]));
  });

  it('finishes the batch when the callback throws, then rejects with HOOK_FAILED', async () => {
    const docs = db.collection('docs', { dim: 8 });
    const onProgress = (progress: UpsertProgress) => {
      if (progress.phase === 'index' && progress.done > 0) throw new Error('bar broke');
    };
    expect(await codeOf(() => docs.upsertAsync(records, { onProgress }))).toBe('HOOK_FAILED');
    expectIndexed(docs);
  });
});
