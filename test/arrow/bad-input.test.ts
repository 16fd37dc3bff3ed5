// Malformed Arrow input: every bad row or column gives a QuiverError naming the source row and the
// column, the bad record batch writes nothing, and the batches before it stay written.
import { truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  Binary,
  Field,
  FixedSizeList,
  Float32,
  Float64,
  Int64,
  List,
  type RecordBatch,
  Table,
  tableToIPC,
  Utf8,
  type Vector,
  vectorFromArray,
} from 'apache-arrow';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Collection, type Database, open } from '../../src/index.js';
import { tempDirectory } from '../helpers/fixtures.js';

let directory: ReturnType<typeof tempDirectory>;
let db: Database;
let docs: Collection;
beforeEach(() => {
  directory = tempDirectory('quiver-arrow-bad-');
  db = open(directory.path, { durability: 'normal' });
  docs = db.collection('docs', { dim: 2, index: { type: 'flat' } });
});
afterEach(() => {
  db.close();
  directory.cleanup();
});

const fixed2 = new FixedSizeList(2, new Field('item', new Float32(), true));

/** One record batch with ids `first..first+n-1` and vectors [i, 1]. */
function batch(first: number, n: number, columns: Record<string, Vector> = {}): RecordBatch {
  const ids = Array.from({ length: n }, (_, i) => `r${first + i}`);
  return new Table({
    id: vectorFromArray(ids, new Utf8()),
    vector: vectorFromArray(
      ids.map((_, i) => [first + i, 1]),
      fixed2,
    ),
    ...columns,
  }).batches[0]!;
}

function table(columns: Record<string, Vector>): Table {
  return new Table(columns);
}

describe('bad rows reject their record batch, naming the row and column', () => {
  it('a null vector in the third batch: batches 0 and 1 stay, batch 2 writes nothing', async () => {
    const bad = new Table({
      id: vectorFromArray(['r20', 'r21', 'r22'], new Utf8()),
      vector: vectorFromArray([[1, 1], null, [2, 2]], fixed2),
    }).batches[0]!;
    const error = await docs.upsertArrow([batch(0, 10), batch(10, 10), bad]).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect((error as Error).message).toMatch(/row 21, column 'vector' is null/);
    expect(docs.count()).toBe(20);
    expect(docs.get('r20')).toBeUndefined();
  });

  it('a vector of the wrong length in a List column names its row; a FixedSizeList of another size names the column', async () => {
    const list = new Table({
      id: vectorFromArray(['a', 'b'], new Utf8()),
      vector: vectorFromArray(
        [
          [1, 2],
          [1, 2, 3],
        ],
        new List(new Field('item', new Float64(), true)),
      ),
    });
    await expect(docs.upsertArrow(list)).rejects.toMatchObject({
      code: 'DIMENSION_MISMATCH',
      message: expect.stringMatching(/row 1, column 'vector' has 3 numbers; collection 'docs' has dim 2/),
    });
    const wide = table({
      id: vectorFromArray(['a'], new Utf8()),
      vector: vectorFromArray([[1, 2, 3]], new FixedSizeList(3, new Field('item', new Float32(), true))),
    });
    await expect(docs.upsertArrow(wide)).rejects.toMatchObject({
      code: 'DIMENSION_MISMATCH',
      message: expect.stringMatching(/column 'vector' holds vectors of 3 numbers/),
    });
    expect(docs.count()).toBe(0);
  });

  it('NaN, overflow to float32 infinity, and null elements', async () => {
    const rows = (vectors: (number | null)[][]) =>
      table({
        id: vectorFromArray(
          vectors.map((_, i) => `v${i}`),
          new Utf8(),
        ),
        vector: vectorFromArray(vectors, new FixedSizeList(2, new Field('item', new Float64(), true))),
      });
    await expect(
      docs.upsertArrow(
        rows([
          [1, 1],
          [1, Number.NaN],
        ]),
      ),
    ).rejects.toMatchObject({
      code: 'NOT_FINITE',
      message: expect.stringMatching(/row 1, column 'vector'\[1\] is NaN/),
    });
    await expect(docs.upsertArrow(rows([[1e39, 1]]))).rejects.toMatchObject({
      code: 'NOT_FINITE',
      message: expect.stringMatching(/row 0, column 'vector'\[0\] is 1e\+39 \(Infinity as float32\)/),
    });
    await expect(docs.upsertArrow(rows([[1, null]]))).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: expect.stringMatching(/row 0, column 'vector'\[1\] is null/),
    });
    expect(docs.count()).toBe(0);
  });

  it('duplicate, null and empty ids', async () => {
    const ids = (values: (string | null)[]) =>
      table({
        id: vectorFromArray(values, new Utf8()),
        vector: vectorFromArray(
          values.map(() => [1, 1]),
          fixed2,
        ),
      });
    await expect(docs.upsertArrow(ids(['a', 'b', 'c', 'b']))).rejects.toMatchObject({
      code: 'INVALID_ID',
      message: expect.stringMatching(/row 3, column 'id' repeats id 'b' of row 1 in the same record batch/),
    });
    await expect(docs.upsertArrow(ids(['a', null]))).rejects.toMatchObject({
      code: 'INVALID_ID',
      message: expect.stringMatching(/row 1, column 'id' is null/),
    });
    await expect(docs.upsertArrow(ids(['a', '']))).rejects.toMatchObject({
      code: 'INVALID_ID',
      message: expect.stringMatching(/row 1, column 'id' is empty/),
    });
    expect(docs.count()).toBe(0);
    // The same id in two batches is an update, not an error.
    expect(await docs.upsertArrow([batch(0, 2), batch(1, 2)])).toMatchObject({ inserted: 3, updated: 1 });
  });

  it('Float32 vectors read from a file: the first bad value in row order is named, its batch not written', async () => {
    // Columns are checked whole first; the row-by-row pass behind them finds the earliest bad value.
    const rows = (ids: string[], vectors: number[][]) =>
      new Table({ id: vectorFromArray(ids, new Utf8()), vector: vectorFromArray(vectors, fixed2) }).batches[0]!;
    const path = join(directory.path, 'bad.arrow');
    const ids = Array.from({ length: 10 }, (_, i) => `s${i}`);
    const vectors = ids.map((_, i) => [i, 1]);
    const laterRepeat = ids.map((id, i) => (i === 7 ? 's1' : id));
    const earlierNaN = vectors.map((vector, i) => (i === 4 ? [1, Number.NaN] : vector));
    writeFileSync(path, tableToIPC(new Table([rows(ids, vectors), rows(laterRepeat, earlierNaN)]), 'file'));
    await expect(docs.upsertArrow(path)).rejects.toMatchObject({
      code: 'NOT_FINITE',
      message: expect.stringMatching(/row 14, column 'vector'\[1\] is NaN/),
    });
    expect(docs.count()).toBe(10);
    expect(docs.get('s1')?.vector).toEqual(new Float32Array([1, 1]));

    const emptyThenInfinite = rows(
      ['t0', '', 't2', 't3'],
      [
        [1, 1],
        [1, 1],
        [1, 1],
        [Number.POSITIVE_INFINITY, 1],
      ],
    );
    await expect(docs.upsertArrow(emptyThenInfinite)).rejects.toMatchObject({
      code: 'INVALID_ID',
      message: expect.stringMatching(/row 1, column 'id' is empty/),
    });
    const long = rows(
      ['ok', 'x'.repeat(513)],
      [
        [1, 1],
        [2, 2],
      ],
    );
    await expect(docs.upsertArrow(long)).rejects.toMatchObject({
      code: 'INVALID_ID',
      message: expect.stringMatching(/row 1, column 'id' is 513 bytes long/),
    });
    expect(docs.count()).toBe(10);
  });

  it('a zero vector under cosine', async () => {
    const cosine = db.collection('cos', { dim: 2, metric: 'cosine' });
    const zero = table({
      id: vectorFromArray(['a', 'b'], new Utf8()),
      vector: vectorFromArray(
        [
          [1, 0],
          [0, 0],
        ],
        fixed2,
      ),
    });
    await expect(cosine.upsertArrow(zero)).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: expect.stringMatching(/row 1, column 'vector' is all zeros/),
    });
  });

  it('metadata that JSON cannot hold: integers beyond 2^53, NaN', async () => {
    await expect(
      docs.upsertArrow([batch(0, 3), batch(3, 2, { big: vectorFromArray([1n, 2n ** 60n], new Int64()) })]),
    ).rejects.toMatchObject({
      code: 'INVALID_METADATA',
      message: expect.stringMatching(/row 4, column 'big' holds 1152921504606846976, beyond ±2\^53/),
    });
    expect(docs.count()).toBe(3);
    await expect(
      docs.upsertArrow(batch(5, 2, { score: vectorFromArray([1, Number.NaN], new Float64()) })),
    ).rejects.toMatchObject({
      code: 'INVALID_METADATA',
      message: expect.stringMatching(/row 1, column 'score' is NaN/),
    });
  });
});

describe('bad columns are refused before anything is read', () => {
  it('an id column of a floating type, a missing column, an unsupported metadata type', async () => {
    const floatIds = table({ id: vectorFromArray([1.5], new Float64()), vector: vectorFromArray([[1, 1]], fixed2) });
    await expect(docs.upsertArrow(floatIds)).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: expect.stringMatching(/id column 'id' has type Float64/),
    });
    const noVector = table({ id: vectorFromArray(['a'], new Utf8()), emb: vectorFromArray([[1, 1]], fixed2) });
    await expect(docs.upsertArrow(noVector)).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: expect.stringMatching(/no vector column 'vector'; its columns are 'id', 'emb'/),
    });
    expect(await docs.upsertArrow(noVector, { vectorColumn: 'emb' })).toMatchObject({ inserted: 1 });
    const scalarVector = table({ id: vectorFromArray(['a'], new Utf8()), vector: vectorFromArray([1], new Float64()) });
    await expect(docs.upsertArrow(scalarVector)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    const blob = batch(0, 1, { blob: vectorFromArray([new Uint8Array([1])], new Binary()) });
    await expect(docs.upsertArrow(blob)).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: expect.stringMatching(/column 'blob' has Arrow type Binary/),
    });
    expect(await docs.upsertArrow(blob, { metadataColumns: [] })).toMatchObject({ inserted: 1 });
  });

  it('options and sources of the wrong shape', async () => {
    await expect(docs.upsertArrow(batch(0, 1), { idcolumn: 'x' } as never)).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: expect.stringMatching(/no option 'idcolumn'/),
    });
    await expect(docs.upsertArrow(42 as never)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(docs.upsertArrow([{ not: 'a batch' }] as never)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(docs.upsertArrow(join(directory.path, 'missing.arrow'))).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: expect.stringMatching(/cannot open/),
    });
  });

  it('a read-only database refuses before reading', async () => {
    db.close();
    db = open(directory.path, { readOnly: true });
    await expect(db.collection('docs').upsertArrow(batch(0, 1))).rejects.toMatchObject({ code: 'READ_ONLY' });
  });
});

describe('damaged IPC files', () => {
  const five = () => new Table([0, 1, 2, 3, 4].map((b) => batch(b * 10, 10)));

  it('a truncated stream: the whole batches before the cut are written, then CORRUPT', async () => {
    const path = join(directory.path, 'cut.arrows');
    const bytes = tableToIPC(five(), 'stream');
    writeFileSync(path, bytes.subarray(0, Math.floor(bytes.byteLength * 0.7)));
    const error = await docs.upsertArrow(path).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'CORRUPT' });
    expect((error as Error).message).toMatch(/could not be read past row \d+ \(record batch \d+\)/);
    const written = docs.count();
    expect(written % 10).toBe(0);
    expect(written).toBeGreaterThan(0);
    expect(written).toBeLessThan(50);
  });

  it('a truncated file (its footer gone) and a file that is not Arrow at all', async () => {
    const path = join(directory.path, 'cut.arrow');
    writeFileSync(path, tableToIPC(five(), 'file'));
    truncateSync(path, 300);
    await expect(docs.upsertArrow(path)).rejects.toMatchObject({ code: 'CORRUPT' });
    const garbage = join(directory.path, 'garbage.arrow');
    writeFileSync(garbage, 'id,vector\na,"[1,2]"\n');
    await expect(docs.upsertArrow(garbage)).rejects.toMatchObject({ code: 'CORRUPT' });
    const empty = join(directory.path, 'empty.arrow');
    writeFileSync(empty, '');
    await expect(docs.upsertArrow(empty)).rejects.toMatchObject({ code: 'CORRUPT' });
    expect(docs.count()).toBe(0);
  });
});
