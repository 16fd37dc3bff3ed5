// Arrow and text: a `text` column in and out, a metadata key named 'text' kept apart, nulls as no
// text, a named text column, and bad text columns rejected naming the row.
import { Field, FixedSizeList, Float32, Int32, LargeUtf8, Table, Utf8, vectorFromArray } from 'apache-arrow';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { type Database, open } from '../../src/index.js';
import { tempDirectory } from '../helpers/fixtures.js';

let directory: ReturnType<typeof tempDirectory>;
let db: Database;
beforeEach(() => {
  directory = tempDirectory();
  db = open(directory.path);
});
afterEach(() => {
  db.close();
  directory.cleanup();
});

it('exports records with text as a text column and imports it back, with the full-text index', async () => {
  const source = db.collection('source', { dim: 2, text: true });
  source.upsert([
    { id: 'a', vector: [1, 0], text: 'Résumé of the meeting', metadata: { text: 'a metadata key', n: 1 } },
    { id: 'b', vector: [0, 1], metadata: { n: 2 } },
  ]);
  const table = source.toArrowTable();
  expect(table.schema.fields.map((field) => field.name)).toEqual(['id', 'vector', 'text', 'n', 'metadata.text']);
  expect(table.getChild('text')?.toArray()).toEqual(['Résumé of the meeting', null]);
  const path = `${directory.path}/docs.arrow`;
  await source.exportArrow(path);
  const target = db.collection('target', { dim: 2, text: true });
  expect(await target.upsertArrow(path)).toMatchObject({ inserted: 2 });
  expect(target.get(['a', 'b'])).toEqual(source.get(['a', 'b']));
  expect(target.get('a')?.metadata).toEqual({ text: 'a metadata key', n: 1 });
  expect(target.query({ text: 'resume' }).map((hit) => hit.id)).toEqual(['a']);
  // Without text anywhere, no text column.
  const plain = db.collection('plain', { dim: 2 });
  plain.upsert([{ id: 'x', vector: [1, 1] }]);
  expect(plain.toArrowTable().schema.fields.map((field) => field.name)).toEqual(['id', 'vector']);
  // Asked for by name, it comes (all null).
  expect(
    plain
      .toArrowTable({ columns: ['id', 'text'] })
      .getChild('text')
      ?.toArray(),
  ).toEqual([null]);
});

it('reads a named text column (LargeUtf8) and rejects bad ones naming the row', async () => {
  const docs = db.collection('docs', { dim: 2, text: { tokenizer: 'unicode61' } });
  const vectors = vectorFromArray(
    [
      [1, 0],
      [0, 1],
    ],
    new FixedSizeList(2, new Field('item', new Float32(), false)),
  );
  const table = new Table({
    id: vectorFromArray(['p', 'q'], new Utf8()),
    vector: vectors,
    body: vectorFromArray(['large text', null], new LargeUtf8()),
  });
  await docs.upsertArrow(table, { textColumn: 'body' });
  expect(docs.get('p')?.text).toBe('large text');
  expect(docs.get('q')).not.toHaveProperty('text');
  expect(docs.get('p')?.metadata).toEqual({});
  await expect(docs.upsertArrow(table, { textColumn: 'missing' })).rejects.toMatchObject({
    code: 'INVALID_ARGUMENT',
    message: expect.stringMatching(/no text column 'missing'/),
  });
  const numbers = new Table({
    id: vectorFromArray(['y', 'z'], new Utf8()),
    vector: vectors,
    text: vectorFromArray([5, 6], new Int32()),
  });
  await expect(docs.upsertArrow(numbers)).rejects.toMatchObject({
    code: 'INVALID_ARGUMENT',
    message: expect.stringMatching(/text column 'text' has type Int32/),
  });
  const long = new Table({
    id: vectorFromArray(['ok', 'big'], new Utf8()),
    vector: vectors,
    text: vectorFromArray(['fine', 'x'.repeat(1_048_577)], new Utf8()),
  });
  await expect(docs.upsertArrow(long)).rejects.toMatchObject({
    code: 'INVALID_ARGUMENT',
    message: expect.stringMatching(/row 1, column 'text' is 1048577 bytes/),
  });
  expect(docs.get('ok')).toBeUndefined();
});
