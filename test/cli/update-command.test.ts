// `quiver update` through the built bin: by ids and by filter, merge and --replace, text set and
// removed, the count printed, and bad usage (exit 2) or bad input (exit 1) writing nothing.
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { open } from '../../src/index.js';
import { tempDirectory } from '../helpers/fixtures.js';
import { ensureBin, quiver, quiverJson } from './build-bin.js';

let directory: ReturnType<typeof tempDirectory>;
const database = () => join(directory.path, 'db');

beforeAll(async () => {
  await ensureBin();
  directory = tempDirectory();
  const db = open(database());
  const docs = db.collection('docs', { dim: 2, text: true });
  docs.upsert([
    { id: 'a', vector: [1, 0], metadata: { lang: 'en', n: 1 }, text: 'alpha' },
    { id: 'b', vector: [0, 1], metadata: { lang: 'en', n: 2 } },
    { id: 'c', vector: [1, 1], metadata: { lang: 'de', n: 3 } },
  ]);
  db.close();
}, 120_000);
afterAll(() => directory.cleanup());

function stored() {
  const db = open(database(), { readOnly: true });
  try {
    return db
      .collection('docs')
      .get(['a', 'b', 'c'])
      .map(({ id, metadata, text }) => ({ id, metadata, text }));
  } finally {
    db.close();
  }
}

it('updates by ids and by filter, merging or replacing, and sets or removes text', () => {
  const merged = quiverJson('update', database(), 'docs', '--ids', 'a,b,zz', '--metadata', '{"n":null,"ok":true}');
  expect(merged).toMatchObject({ status: 0, document: { collection: 'docs', updated: 2 } });
  const replaced = quiver(
    'update',
    database(),
    'docs',
    '--filter',
    '{"lang":"de"}',
    '--metadata',
    '{"x":1}',
    '--replace',
  );
  expect(replaced.status).toBe(0);
  expect(replaced.stdout).toBe('updated 1 records of docs\n');
  expect(quiver('update', database(), 'docs', '--ids', 'b', '--text', 'beta').status).toBe(0);
  expect(quiver('update', database(), 'docs', '--ids', 'a', '--no-text').status).toBe(0);
  expect(stored()).toEqual([
    { id: 'a', metadata: { lang: 'en', ok: true }, text: undefined },
    { id: 'b', metadata: { lang: 'en', ok: true }, text: 'beta' },
    { id: 'c', metadata: { x: 1 }, text: undefined },
  ]);
});

it('rejects bad usage with exit 2 and bad input with exit 1, writing nothing', () => {
  const before = stored();
  const usage = [
    ['--metadata', '{"a":1}'],
    ['--ids', 'a', '--filter', '{}', '--metadata', '{"a":1}'],
    ['--ids', 'a'],
    ['--ids', 'a', '--metadata', '[1]'],
    ['--ids', 'a', '--metadata', '{bad'],
    ['--ids', 'a', '--text', 'x', '--no-text'],
    ['--ids', 'a', '--text', 'x', '--replace'],
    ['--filter', '{"n":{"$nope":1}}', '--metadata', '{"a":1}'],
  ];
  for (const args of usage) expect(quiver('update', database(), 'docs', ...args).status).toBe(2);
  const bad = quiverJson('update', database(), 'docs', '--ids', 'a,', '--metadata', '{"a":1}');
  expect(bad).toMatchObject({ status: 1, document: { error: { code: 'INVALID_ID' } } });
  expect(quiverJson('update', database(), 'nope', '--ids', 'a', '--metadata', '{}').document).toMatchObject({
    error: { code: 'NOT_FOUND' },
  });
  expect(stored()).toEqual(before);
});
