// db.backup: a copy taken while the writer goes on opens to a committed prefix — exactly the
// source's state at the backup's changeSeq, answers included — with its snapshots; bad targets
// are INVALID_ARGUMENT and write nothing.
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { open, QuiverError } from '../../src/index.js';
import { tempDirectory } from '../helpers/fixtures.js';
import { random } from '../helpers/random.js';
import { type DatabaseState, stateOf } from '../replication/state.js';

const made: ReturnType<typeof tempDirectory>[] = [];
function directory(): string {
  const one = tempDirectory();
  made.push(one);
  return one.path;
}
afterEach(() => {
  for (const one of made.splice(0)) one.cleanup();
});

describe('db.backup', () => {
  it('taken during a stream of writes, opens to the state the source had at its changeSeq', async () => {
    const source = open(directory(), { durability: 'normal', snapshotThreshold: 500 });
    const dim = 32;
    const next = random(7);
    const docs = source.collection('docs', { dim, indexes: ['g'] });
    const flat = source.collection('flat', { dim, index: { type: 'flat' } });
    const batch = (size: number, salt: number) =>
      Array.from({ length: size }, (_, i) => ({
        id: `r${(salt * 37 + i) % 3000}`,
        vector: Array.from({ length: dim }, () => next()),
        metadata: { g: i % 7, salt },
      }));
    docs.upsert(batch(3000, 0)); // a few MB: the online backup takes several steps
    flat.upsert(batch(500, 1));
    docs.snapshot();
    // The state after every commit, by changeSeq.
    const states = new Map<number, DatabaseState>([[source.changeSeq(), stateOf(source)]]);
    let writing = true;
    let writesDuringBackup = 0;
    const writer = (async () => {
      for (let salt = 2; writing; salt++) {
        await new Promise((resolve) => setImmediate(resolve));
        (salt % 2 === 0 ? docs : flat).upsert(batch(40, salt));
        if (salt % 5 === 0) docs.delete({ filter: { g: salt % 7 } });
        states.set(source.changeSeq(), stateOf(source));
        writesDuringBackup++;
      }
    })();
    const target = join(directory(), 'backup');
    const result = await source.backup(target);
    writing = false;
    await writer;
    expect(writesDuringBackup).toBeGreaterThan(0);
    expect(result.snapshots).toBe(1);
    expect(result.bytes).toBeGreaterThan(3000 * dim * 4);
    expect(states.has(result.changeSeq)).toBe(true);
    const warnings: string[] = [];
    const copy = open(target, { onWarning: (warning) => warnings.push(warning.code) });
    expect(copy.changeSeq()).toBe(result.changeSeq);
    expect(stateOf(copy)).toEqual(states.get(result.changeSeq));
    expect(warnings).toEqual([]); // the snapshot came along: no rebuild
    expect(copy.changeFeedInfo().databaseId).toBe(source.changeFeedInfo().databaseId);
    copy.close();
    source.close();
  }, 60_000);

  it('brings an int8 collection’s float-vector file along with its snapshot', async () => {
    const source = open(directory(), { durability: 'normal' });
    const dim = 16;
    const next = random(11);
    const docs = source.collection('small', { dim, index: { type: 'hnsw', vectors: 'int8' } });
    docs.upsert(Array.from({ length: 1500 }, (_, i) => ({ id: i, vector: Array.from({ length: dim }, () => next()) })));
    docs.snapshot();
    const query = Array.from({ length: dim }, () => next());
    const answer = docs.query({ vector: query, k: 10 });
    const target = join(directory(), 'backup');
    const result = await source.backup(target);
    source.close();
    const copied = readdirSync(join(target, 'small')).sort();
    expect(copied.map((name) => name.replace(/\d+/, 'N'))).toEqual(['hnsw.N.bin', 'hnsw.N.f32']);
    expect(result.bytes).toBeGreaterThan(1500 * (dim * 4 + 8));
    const warnings: string[] = [];
    const copy = open(target, { onWarning: (warning) => warnings.push(warning.code) });
    expect(copy.collection('small').query({ vector: query, k: 10 })).toEqual(answer);
    expect(warnings).toEqual([]); // no VECTOR_FILE_INVALID: the file came along
    copy.close();
  });

  it('refuses a directory that is not empty, a file, or the database itself, writing nothing', async () => {
    const db = open(directory());
    db.collection('c', { dim: 2 }).upsert([{ id: 'a', vector: [1, 2] }]);
    const full = directory();
    writeFileSync(join(full, 'keep.txt'), 'x');
    const file = join(directory(), 'file');
    writeFileSync(file, 'x');
    for (const target of [full, file, db.path, '']) {
      await expect(db.backup(target)).rejects.toSatisfy(
        (error) => error instanceof QuiverError && error.code === 'INVALID_ARGUMENT',
      );
    }
    expect(readdirSync(full)).toEqual(['keep.txt']);
    const empty = join(directory(), 'empty');
    mkdirSync(empty);
    await db.backup(empty);
    expect(existsSync(join(empty, 'quiver.sqlite'))).toBe(true);
    expect(existsSync(join(empty, 'quiver.sqlite.partial'))).toBe(false);
    db.close();
    const copy = open(empty, { readOnly: true });
    expect(copy.collection('c').get('a')?.metadata).toEqual({});
    copy.close();
    rmSync(empty, { recursive: true });
  });
});
