// Arrow exports in the order `get` uses: toArrow, toArrowTable and exportArrow with order 'id' give
// the records of get({ filter }) in the same order, across record batches; 'storage' (the default)
// keeps insertion order here; a bad order is INVALID_ARGUMENT.
import { join } from 'node:path';
import { tableFromIPC } from 'apache-arrow';
import { readFileSync } from 'node:fs';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { type Collection, type Database, open, QuiverError } from '../../src/index.js';
import { tempDirectory } from '../helpers/fixtures.js';

let directory: ReturnType<typeof tempDirectory>;
let db: Database;
let docs: Collection;
const IDS = Array.from({ length: 50 }, (_, i) => (i % 4 === 0 ? `ü${i}` : `r${49 - i}`));
beforeEach(() => {
  directory = tempDirectory();
  db = open(directory.path);
  docs = db.collection('docs', { dim: 2 });
  docs.upsert(IDS.map((id, i) => ({ id, vector: [i, 1], metadata: { odd: i % 2 === 1 } })));
});
afterEach(() => {
  db.close();
  directory.cleanup();
});

it('exports in id order with order: id, the same order as get', async () => {
  const expected = docs.get({ filter: { odd: true } }).map((record) => record.id);
  const options = { filter: { odd: true }, order: 'id', batchSize: 7 } as const;
  expect(docs.toArrowTable(options).getChild('id')!.toArray()).toEqual(expected);
  const streamed: string[] = [];
  for await (const batch of docs.toArrow(options)) streamed.push(...(batch.getChild('id')!.toArray() as string[]));
  expect(streamed).toEqual(expected);
  const file = join(directory.path, 'out.arrow');
  await docs.exportArrow(file, options);
  expect(tableFromIPC(readFileSync(file)).getChild('id')!.toArray()).toEqual(expected);
  expect(docs.toArrowTable({ order: 'id' }).getChild('id')!.toArray()).toEqual(docs.get({}).map((r) => r.id));
});

it('keeps storage order by default, and rejects an unknown order', () => {
  expect(docs.toArrowTable({ batchSize: 9 }).getChild('id')!.toArray()).toEqual(IDS);
  expect(docs.toArrowTable({ order: 'storage' }).getChild('id')!.toArray()).toEqual(IDS);
  let code: string | undefined;
  try {
    docs.toArrowTable({ order: 'label' as never });
  } catch (error) {
    code = error instanceof QuiverError ? error.code : 'raw';
  }
  expect(code).toBe('INVALID_ARGUMENT');
});
