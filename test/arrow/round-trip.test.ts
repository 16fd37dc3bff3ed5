// Arrow import and export round trips: every supported id, vector and metadata column type, nulls,
// nested structs, typed and JSON export columns, filters, column selection, IPC files and streams.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  Bool,
  DateDay,
  DateMillisecond,
  Dictionary,
  Field,
  FixedSizeList,
  Float16,
  Float32,
  Float64,
  Int8,
  Int32,
  Int64,
  LargeList,
  LargeUtf8,
  List,
  makeData,
  Null,
  RecordBatch,
  Schema,
  Struct,
  Table,
  TimestampMicrosecond,
  TimestampNanosecond,
  TimestampSecond,
  tableFromIPC,
  tableToIPC,
  Uint64,
  Utf8,
  vectorFromArray,
} from 'apache-arrow';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Database, type Metadata, open, type UpsertRecord } from '../../src/index.js';
import { tempDirectory } from '../helpers/fixtures.js';

let directory: ReturnType<typeof tempDirectory>;
let db: Database;
beforeEach(() => {
  directory = tempDirectory('quiver-arrow-');
  db = open(directory.path, { durability: 'normal' });
});
afterEach(() => {
  db.close();
  directory.cleanup();
});

const listOf = (type: Float16 | Float32 | Float64 | Utf8 | Bool | Int32, nullable = true) =>
  new Field('item', type, nullable);

/** A vector column of `rows` from plain numbers, in the given Arrow list type. */
function vectorColumn(rows: (number[] | null)[], type: FixedSizeList | List | LargeList) {
  return vectorFromArray(rows, type);
}

describe('import', () => {
  it('reads Utf8 ids, FixedSizeList<Float32> vectors and scalar metadata of each type', async () => {
    const docs = db.collection('docs', { dim: 3, index: { type: 'flat' } });
    const table = new Table({
      id: vectorFromArray(['a', 'b', 'c'], new Utf8()),
      vector: vectorColumn(
        [
          [1, 2, 3],
          [0.1, 0.2, 0.3],
          [-1, 0, 1],
        ],
        new FixedSizeList(3, listOf(new Float32())),
      ),
      title: vectorFromArray(['x', null, 'z'], new LargeUtf8()),
      score: vectorFromArray([1.5, 2, null], new Float64()),
      small: vectorFromArray([1, -2, 3], new Int8()),
      big: vectorFromArray([1n, 2n ** 40n, null], new Int64()),
      flag: vectorFromArray([true, false, null], new Bool()),
      nothing: vectorFromArray([null, null, null], new Null()),
      tags: vectorFromArray([['p', 'q'], [], null], new List(listOf(new Utf8()))),
      lang: vectorFromArray(['en', 'de', 'en'], new Dictionary(new Utf8(), new Int32())),
    });
    const progress: unknown[] = [];
    const result = await docs.upsertArrow(table, { onProgress: (p) => progress.push(p) });
    expect(result).toEqual({ inserted: 3, updated: 0, rows: 3, batches: 1 });
    expect(progress).toEqual([{ inserted: 3, updated: 0, rows: 3, batches: 1 }]);
    expect(docs.get('a')).toEqual({
      id: 'a',
      vector: new Float32Array([1, 2, 3]),
      metadata: { title: 'x', score: 1.5, small: 1, big: 1, flag: true, nothing: null, tags: ['p', 'q'], lang: 'en' },
    });
    expect(docs.get('b')?.metadata).toEqual({
      title: null,
      score: 2,
      small: -2,
      big: 2 ** 40,
      flag: false,
      nothing: null,
      tags: [],
      lang: 'de',
    });
    expect(docs.get('c')?.metadata).toMatchObject({ score: null, big: null, flag: null, tags: null });
  });

  it('writes scalar metadata columns as upsert writes the same objects, keys in column order', async () => {
    // Scalar columns are turned into JSON text directly; upsert of the same objects is the reference.
    const strings = ['plain', 'quote " and \\ back', 'line\nbreak\ttab\u0001', 'é日本🙂', '', '\u2028'];
    const numbers = [0, -0, 1e21, 5e-324, -1.5, 123456789.125];
    // One id that is not ASCII: the id column of the first batch is then read row by row.
    const ids = strings.map((_, i) => (i === 1 ? 'm1-ü' : `m${i}`));
    const plain = new Table({
      id: vectorFromArray(ids, new Utf8()),
      vector: vectorColumn(
        strings.map((_, i) => [i, 1]),
        new FixedSizeList(2, listOf(new Float32())),
      ),
      title: vectorFromArray(strings, new Utf8()),
      number: vectorFromArray(numbers, new Float64()),
      flag: vectorFromArray([true, false, null, true, false, true], new Bool()),
      lang: vectorFromArray(['en', 'de', 'en', null, 'fr', 'de'], new Dictionary(new Utf8(), new Int32())),
      day: vectorFromArray(
        [0, 1, -1, 19000, null, 2].map((days) => (days === null ? null : new Date(days * 86_400_000))),
        new DateDay(),
      ),
      'a key': vectorFromArray([null, null, null, null, null, null], new Null()),
      maybe: vectorFromArray([1, null, 3, null, 5, null], new Int32()),
    });
    // 'maybe' marked as QuiverDB's exports mark it: an Arrow null there means "no such key".
    const schema = new Schema(
      plain.schema.fields.map((field) =>
        field.name === 'maybe' ? new Field('maybe', field.type, true, new Map([['quiverdb.null', 'missing']])) : field,
      ),
    );
    const docs = db.collection('docs', { dim: 2, index: { type: 'flat' } });
    const batches = plain.batches.map((batch) => new RecordBatch(schema, batch.data));
    // Rows 0-2 (one non-ASCII id) and rows 3-5 (ASCII ids only, decoded at once) as two batches.
    await docs.upsertArrow([batches[0]!.slice(0, 3), batches[0]!.slice(3)]);
    const reference = db.collection('reference', { dim: 2, index: { type: 'flat' } });
    const records: UpsertRecord[] = strings.map((title, i) => {
      const metadata: Metadata = {
        title,
        number: numbers[i]!,
        flag: [true, false, null, true, false, true][i]!,
        lang: ['en', 'de', 'en', null, 'fr', 'de'][i]!,
        day: ['1970-01-01', '1970-01-02', '1969-12-31', '2022-01-08', null, '1970-01-03'][i]!,
        'a key': null,
      };
      if (i % 2 === 0) metadata['maybe'] = i + 1;
      return { id: ids[i]!, vector: [i, 1], metadata };
    });
    reference.upsert(records);
    expect(docs.count()).toBe(6);
    for (const { id } of records) {
      const imported = docs.get(id)!;
      // Same values and the same key order (JSON.parse keeps the stored text's order).
      expect(JSON.stringify(imported.metadata)).toBe(JSON.stringify(reference.get(id)!.metadata));
      expect(imported.metadata).toEqual(reference.get(id)!.metadata);
    }
    expect(Object.keys(docs.get('m0')!.metadata)).toEqual(['title', 'number', 'flag', 'lang', 'day', 'a key', 'maybe']);
  });

  it('reads integer ids (Int32, Int64, Uint64 beyond 2^53) as their decimal text', async () => {
    const docs = db.collection('docs', { dim: 2, index: { type: 'flat' } });
    const vectors = vectorColumn(
      [
        [1, 0],
        [0, 1],
      ],
      new FixedSizeList(2, listOf(new Float32())),
    );
    await docs.upsertArrow(new Table({ id: vectorFromArray([7, 8], new Int32()), vector: vectors }));
    await docs.upsertArrow(new Table({ id: vectorFromArray([2n ** 63n + 5n, 9n], new Uint64()), vector: vectors }));
    expect(docs.get([7, 8, '9223372036854775813', '9']).map((record) => record.id)).toEqual([
      '7',
      '8',
      '9223372036854775813',
      '9',
    ]);
  });

  it('converts Float16 and Float64 vectors, fixed-size and variable-size lists', async () => {
    const docs = db.collection('docs', { dim: 3, index: { type: 'flat' } });
    const rows = [
      [0.5, -2, 1024],
      [0.1, 0.2, 0.3],
    ];
    const cases = [
      new FixedSizeList(3, listOf(new Float16())),
      new FixedSizeList(3, listOf(new Float64())),
      new List(listOf(new Float32())),
      new List(listOf(new Float16())),
      new LargeList(listOf(new Float64())),
    ];
    for (const [i, type] of cases.entries()) {
      await docs.upsertArrow(
        new Table({ id: vectorFromArray([`${i}a`, `${i}b`], new Utf8()), vector: vectorColumn(rows, type) }),
      );
      const half = type.children[0]!.type instanceof Float16;
      expect(docs.get(`${i}a`)?.vector).toEqual(new Float32Array([0.5, -2, 1024]));
      // Float16 rounds 0.1 to 0.0999755859375; Float64 and Float32 round to the nearest float32.
      const expected = half
        ? new Float32Array([0.0999755859375, 0.199951171875, 0.300048828125])
        : new Float32Array([0.1, 0.2, 0.3]);
      expect(docs.get(`${i}b`)?.vector).toEqual(expected);
    }
    expect(docs.count()).toBe(10);
  });

  it('maps nested structs to objects, lists of scalars to arrays, dates and timestamps to ISO text', async () => {
    const docs = db.collection('docs', { dim: 1, index: { type: 'flat' } });
    const author = new Struct([
      new Field('name', new Utf8(), true),
      new Field(
        'address',
        new Struct([new Field('city', new Utf8(), true), new Field('zip', new Int32(), true)]),
        true,
      ),
      new Field('ranks', new List(listOf(new Float64())), true),
    ]);
    const table = new Table({
      id: vectorFromArray(['a', 'b'], new Utf8()),
      vector: vectorColumn([[1], [2]], new FixedSizeList(1, listOf(new Float32()))),
      author: vectorFromArray(
        [{ name: 'Ann', address: { city: 'Oslo', zip: 150 }, ranks: [1, null, 3] }, null],
        author,
      ),
      day: vectorFromArray([new Date(Date.UTC(2024, 1, 29)), null], new DateDay()),
      moment: vectorFromArray([new Date(Date.UTC(2024, 1, 29, 12, 30, 5, 250)), null], new DateMillisecond()),
      seconds: vectorFromArray([new Date(Date.UTC(1969, 11, 31, 23, 59, 59)), null], new TimestampSecond()),
    });
    await docs.upsertArrow(table);
    expect(docs.get('a')?.metadata).toEqual({
      author: { name: 'Ann', address: { city: 'Oslo', zip: 150 }, ranks: [1, null, 3] },
      day: '2024-02-29',
      moment: '2024-02-29T12:30:05.250Z',
      seconds: '1969-12-31T23:59:59Z',
    });
    expect(docs.get('b')?.metadata).toEqual({ author: null, day: null, moment: null, seconds: null });
  });

  it('keeps every digit of micro- and nanosecond timestamps, also before 1970', async () => {
    const docs = db.collection('docs', { dim: 1, index: { type: 'flat' } });
    const micro = makeData({
      type: new TimestampMicrosecond(),
      length: 2,
      nullCount: 0,
      data: new BigInt64Array([1_700_000_000_123_456n, -1n]),
    });
    const nano = makeData({
      type: new TimestampNanosecond(),
      length: 2,
      nullCount: 0,
      data: new BigInt64Array([1_700_000_000_123_456_789n, 5n]),
    });
    const vectors = vectorColumn([[1], [2]], new FixedSizeList(1, listOf(new Float32())));
    const batch = new RecordBatch({
      id: vectorFromArray(['a', 'b'], new Utf8()).data[0]!,
      vector: vectors.data[0]!,
      micro,
      nano,
    });
    await docs.upsertArrow(batch);
    expect(docs.get('a')?.metadata).toEqual({
      micro: '2023-11-14T22:13:20.123456Z',
      nano: '2023-11-14T22:13:20.123456789Z',
    });
    expect(docs.get('b')?.metadata).toEqual({
      micro: '1969-12-31T23:59:59.999999Z',
      nano: '1970-01-01T00:00:00.000000005Z',
    });
  });

  it('reads custom id and vector column names, a subset of metadata columns, iterables and async iterables', async () => {
    const docs = db.collection('docs', { dim: 2, index: { type: 'flat' } });
    const table = new Table({
      doc: vectorFromArray(['a', 'b', 'c', 'd'], new Utf8()),
      embedding: vectorColumn(
        [
          [1, 0],
          [0, 1],
          [1, 1],
          [2, 2],
        ],
        new FixedSizeList(2, listOf(new Float32())),
      ),
      keep: vectorFromArray([1, 2, 3, 4], new Float64()),
      drop: vectorFromArray([1, 2, 3, 4], new Float64()),
    });
    const slices = [table.slice(0, 1).batches[0]!, table.slice(1, 3).batches[0]!, table.slice(3).batches[0]!];
    async function* batches() {
      yield* slices;
    }
    const options = { idColumn: 'doc', vectorColumn: 'embedding', metadataColumns: ['keep'] };
    expect(await docs.upsertArrow(slices, options)).toEqual({ inserted: 4, updated: 0, rows: 4, batches: 3 });
    expect(await docs.upsertArrow(batches(), options)).toEqual({ inserted: 0, updated: 4, rows: 4, batches: 3 });
    expect(docs.get('c')).toEqual({ id: 'c', vector: new Float32Array([1, 1]), metadata: { keep: 3 } });
    expect(docs.get('d')?.vector).toEqual(new Float32Array([2, 2]));
  });

  it('reads IPC files and streams from disk, batch by batch', async () => {
    const docs = db.collection('docs', { dim: 2, index: { type: 'hnsw' } });
    const batches = Array.from({ length: 5 }, (_, b) => {
      const ids = Array.from({ length: 100 }, (_, i) => `r${b * 100 + i}`);
      const vectors = ids.map((_, i) => [b, i]);
      return new Table({
        id: vectorFromArray(ids, new Utf8()),
        vector: vectorColumn(vectors, new FixedSizeList(2, listOf(new Float32()))),
      }).batches[0]!;
    });
    const table = new Table(batches);
    for (const [name, format] of [
      ['file.arrow', 'file'],
      ['stream.arrows', 'stream'],
    ] as const) {
      const path = join(directory.path, name);
      await import('node:fs').then((fs) => fs.writeFileSync(path, tableToIPC(table, format)));
      const progress: number[] = [];
      const result = await docs.upsertArrow(path, { onProgress: ({ rows }) => progress.push(rows) });
      expect(result.batches).toBe(5);
      expect(progress).toEqual([100, 200, 300, 400, 500]);
    }
    expect(docs.count()).toBe(500);
    expect(docs.get('r417')?.vector).toEqual(new Float32Array([4, 17]));
  });
});

/** A collection with metadata of every kind the export distinguishes. */
function seed(database: Database) {
  const docs = database.collection('docs', { dim: 4, metric: 'cosine' });
  const records: UpsertRecord[] = [];
  for (let i = 0; i < 50; i++) {
    const metadata: Metadata = {
      n: i * 1.25,
      s: `s${i}`,
      b: i % 2 === 0,
      tags: i % 3 === 0 ? [] : [`t${i}`, `u${i}`],
      nums: [i, null, -i],
      // missing in some records (typed column, null = missing)
      ...(i % 4 === 0 ? {} : { sometimes: i }),
      // null in some, present in all (typed column, null = null)
      nullable: i % 5 === 0 ? null : `v${i}`,
      // mixed types, nested objects, null and missing together: JSON columns
      mixed: i % 2 === 0 ? i : `m${i}`,
      nested: { deep: { x: i, list: [i] } },
      ...(i % 7 === 0 ? {} : { nullAndMissing: i % 3 === 0 ? null : i }),
      mixedList: i % 2 === 0 ? [1, 'a'] : [true],
      // metadata keys named like the id and vector columns
      id: `meta-${i}`,
      vector: i,
      'with.dot and "quotes"': 'x',
    };
    records.push({ id: `doc-${i}`, vector: new Float32Array([i + 0.1, -i, Math.PI * i, 1e-30]), metadata });
  }
  docs.upsert(records);
  return { docs, records };
}

describe('export', () => {
  it('round-trips the loader shapes: arrays of objects, nested arrays, Dates stored as ISO text', async () => {
    const docs = db.collection('shapes', { dim: 2 });
    const metadata = [
      { authors: [{ name: 'a' }, { name: 'b', x: [1, [2]] }], when: new Date(0), grid: [[1, 2], [3]] },
      { authors: [], grid: [[5]], other: 1 },
    ];
    docs.upsert(metadata.map((value, i) => ({ id: `r${i}`, vector: [i, 1], metadata: value })));
    const copy = db.collection('copy', { dim: 2 });
    await copy.upsertArrow(docs.toArrowTable());
    const stored = JSON.parse(JSON.stringify(metadata)) as Metadata[];
    expect(copy.get(['r0', 'r1']).map((record) => record.metadata)).toEqual(stored);
    expect(docs.get(['r0', 'r1']).map((record) => record.metadata)).toEqual(stored);
  });

  it('types consistent fields, falls back to JSON text, and round-trips losslessly through a table', async () => {
    const { docs, records } = seed(db);
    const table = docs.toArrowTable();
    const types = Object.fromEntries(table.schema.fields.map((field) => [field.name, String(field.type)]));
    expect(types).toEqual({
      id: 'Utf8',
      vector: 'FixedSizeList[4]<Float32>',
      n: 'Float64',
      s: 'Utf8',
      b: 'Bool',
      tags: 'List<Utf8>',
      nums: 'List<Float64>',
      sometimes: 'Float64',
      nullable: 'Utf8',
      mixed: 'Utf8',
      nested: 'Utf8',
      nullAndMissing: 'Utf8',
      mixedList: 'Utf8',
      'metadata.id': 'Utf8',
      'metadata.vector': 'Float64',
      'with.dot and "quotes"': 'Utf8',
    });
    expect(table.schema.metadata.get('quiverdb.metric')).toBe('cosine');
    expect(table.numRows).toBe(50);
    const copy = db.collection('copy', { dim: 4, metric: 'cosine' });
    await copy.upsertArrow(table);
    for (const record of records) {
      const back = copy.get(record.id)!;
      // As stored (JSON keeps no -0), and as given otherwise.
      expect(back.metadata).toEqual(docs.get(record.id)?.metadata);
      expect(back.metadata).toEqual(JSON.parse(JSON.stringify(record.metadata)));
      // bit-exact float32
      expect(new Uint8Array(back.vector.buffer)).toEqual(new Uint8Array((record.vector as Float32Array).buffer));
    }
  });

  it('round-trips through IPC files and streams written by exportArrow, in several batches', async () => {
    const { docs, records } = seed(db);
    for (const name of ['out.arrow', 'out.arrows']) {
      const path = join(directory.path, name);
      const batches: number[] = [];
      const result = await docs.exportArrow(path, { batchSize: 16, onProgress: (p) => batches.push(p.batches) });
      expect(result).toMatchObject({ path, rows: 50, batches: 4 });
      expect(result.bytes).toBe(readFileSync(path).byteLength);
      expect(batches).toEqual([1, 2, 3, 4]);
      expect(tableFromIPC(readFileSync(path)).batches.map((batch) => batch.numRows)).toEqual([16, 16, 16, 2]);
      const copy = db.collection(`copy-${name.replace('.', '-')}`, { dim: 4, metric: 'cosine' });
      await copy.upsertArrow(path);
      expect(copy.get(records.map((record) => record.id))).toEqual(docs.get(records.map((record) => record.id)));
    }
  });

  it('filters with the metadata filter language and selects columns', async () => {
    const { docs } = seed(db);
    const batches = [];
    for await (const batch of docs.toArrow({ filter: { b: true, n: { $lt: 20 } }, columns: ['id', 'n', 'tags'] })) {
      batches.push(batch);
    }
    const table = new Table(batches);
    expect(table.schema.fields.map((field) => field.name)).toEqual(['id', 'n', 'tags']);
    // label order, which is insertion order here
    expect(table.getChild('id')?.toArray()).toEqual([
      'doc-0',
      'doc-2',
      'doc-4',
      'doc-6',
      'doc-8',
      'doc-10',
      'doc-12',
      'doc-14',
    ]);
    expect(table.getChild('n')?.get(1)).toBe(2.5);
    await expect(async () => {
      for await (const _ of docs.toArrow({ filter: { n: { $bogus: 1 } } })) void _;
    }).rejects.toMatchObject({ code: 'INVALID_FILTER' });
  });

  it('writes a schema-only file for an empty result, and keeps the previous file when the export fails', async () => {
    const { docs } = seed(db);
    const path = join(directory.path, 'empty.arrow');
    expect(await docs.exportArrow(path, { filter: { n: -1 } })).toMatchObject({ rows: 0, batches: 0 });
    const empty = tableFromIPC(readFileSync(path));
    expect(empty.numRows).toBe(0);
    expect(empty.schema.fields[0]?.name).toBe('id');
    const before = readFileSync(path);
    await expect(docs.exportArrow(path, { batchSize: 0 })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect(readFileSync(path)).toEqual(before);
    const fs = await import('node:fs');
    expect(fs.readdirSync(directory.path).filter((name) => name.endsWith('.tmp'))).toEqual([]);
  });

  it('exports only id and vector for records without metadata', async () => {
    const one = db.collection('one', { dim: 1, index: { type: 'flat' } });
    one.upsert([{ id: 'x', vector: [3] }]);
    const table = one.toArrowTable();
    expect(table.schema.fields.map((field) => field.name)).toEqual(['id', 'vector']);
    expect(table.getChild('vector')?.get(0)?.toArray()).toEqual(new Float32Array([3]));
  });
});
