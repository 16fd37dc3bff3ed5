// `quiver import` restores what `exportArrow` wrote: every collection setting carried in the schema
// metadata (index kind and parameters, field indexes, full text), with options given taking
// precedence; exports from before those keys still import; malformed settings create nothing.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Field, FixedSizeList, Float32, Schema, Table, tableToIPC, Utf8, vectorFromArray } from 'apache-arrow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CollectionInfo, CollectionOptions, Database } from '../../src/index.js';
import { open } from '../../src/index.js';
import { tempDirectory } from '../helpers/fixtures.js';
import { randomVectors } from '../helpers/random.js';
import { ensureBin, quiver, quiverJson } from './build-bin.js';

const directory = tempDirectory();
const path = (name: string) => join(directory.path, name);
const DIM = 8;
const vectors = randomVectors(300, DIM, 18);
const queries = randomVectors(12, DIM, 19);
const words = ['river', 'stone', 'café', 'cafe', 'lamp', 'north'];

beforeAll(async () => {
  await ensureBin();
}, 120_000);
afterAll(() => directory.cleanup());

/** Creates `name` in a fresh database with `options`, fills it, exports it, and returns its info. */
async function exported(name: string, options: CollectionOptions): Promise<CollectionInfo> {
  const db = open(path(`${name}.source`));
  try {
    const collection = db.collection(name, options);
    collection.upsert(
      vectors.map((vector, i) => ({
        id: `r${i}`,
        vector,
        text: `${words[i % words.length]} ${words[(i * 7) % words.length]} ${i}`,
        metadata: { lang: i % 3 === 0 ? 'en' : 'de', year: 2000 + (i % 25), authors: [{ name: `a${i % 9}` }] },
      })),
    );
    await collection.exportArrow(path(`${name}.arrow`));
    return db.listCollections()[0]!;
  } finally {
    db.close();
  }
}

/** Every answer the two collections give to the same vector, filtered and text queries. */
function answers(db: Database, name: string, text: boolean): unknown[] {
  const collection = db.collection(name);
  const results: unknown[] = [];
  for (const vector of queries) {
    results.push(collection.query({ vector, k: 10 }));
    results.push(collection.query({ vector, k: 5, filter: { lang: 'en', 'authors.name': { $in: ['a1', 'a3'] } } }));
  }
  if (text) results.push(collection.query({ text: 'cafe lamp', k: 10 }), collection.query({ text: 'CAFÉ', k: 10 }));
  results.push(collection.get({ filter: { year: { $gte: 2020 } } }));
  return results;
}

/** Writes an Arrow file of two records (dim 2) whose schema metadata is exactly `metadata`. */
function writeWithMetadata(file: string, metadata: Map<string, string>): void {
  const table = new Table({
    id: vectorFromArray(['a', 'b'], new Utf8()),
    vector: vectorFromArray(
      [
        [1, 0],
        [0, 1],
      ],
      new FixedSizeList(2, new Field('item', new Float32(), false)),
    ),
  });
  writeFileSync(file, tableToIPC(new Table(new Schema(table.schema.fields, metadata), table.batches), 'file'));
}

function withoutName(info: CollectionInfo | undefined): Omit<CollectionInfo, 'name'> {
  const { name: _name, ...rest } = info!;
  return rest;
}

describe('quiver import restores an export', () => {
  it.each([
    [
      'hnsw with parameters, field indexes and full text',
      {
        dim: DIM,
        metric: 'cosine',
        index: { type: 'hnsw', m: 8, efConstruction: 120, ef: 80 },
        indexes: ['lang', 'authors.name'],
        text: { tokenizer: 'unicode61', removeDiacritics: false },
      },
    ],
    ['flat with ip', { dim: DIM, metric: 'ip', index: { type: 'flat' }, indexes: ['year'] }],
    ['hnsw with int8 vectors', { dim: DIM, metric: 'ip', index: { type: 'hnsw', vectors: 'int8', rerank: 50 } }],
    [
      'ivfpq with fixed nprobe, rerank and target recall',
      { dim: DIM, metric: 'l2', index: { type: 'ivfpq', nlist: 4, m: 4, nprobe: 2, rerank: 40, targetRecall: 0.9 } },
    ],
    ['ivfpq with calibrated defaults', { dim: DIM, index: { type: 'ivfpq', nlist: 8, m: 2 } }],
  ] as [string, CollectionOptions][])('%s: equal settings and equal answers', async (name, options) => {
    const slug = name.replaceAll(/[^a-z]+/g, '-');
    const source = await exported(slug, options);
    const ran = quiverJson('import', path(`${slug}.restored`), 'copy', path(`${slug}.arrow`));
    expect(ran.status, ran.stderr).toBe(0);
    expect(ran.document).toMatchObject({ created: true, rows: 300, index: options.index!.type });

    const before = open(path(`${slug}.source`), { readOnly: true });
    const after = open(path(`${slug}.restored`), { readOnly: true });
    try {
      const restored = after.listCollections().find((info) => info.name === 'copy');
      expect(withoutName(restored)).toEqual(withoutName(source));
      expect(answers(after, 'copy', options.text !== undefined)).toEqual(
        answers(before, slug, options.text !== undefined),
      );
    } finally {
      before.close();
      after.close();
    }
  });

  it('options given take precedence over the file, and --indexes adds to its field indexes', async () => {
    await exported('base', { dim: DIM, index: { type: 'hnsw', m: 8, efConstruction: 100, ef: 40 }, indexes: ['lang'] });
    const tuned = quiverJson(
      'import',
      path('tuned.quiver'),
      'docs',
      path('base.arrow'),
      '--ef',
      '90',
      '--indexes',
      'year,authors.name',
    );
    expect(tuned.status, tuned.stderr).toBe(0);
    const switched = quiverJson(
      'import',
      path('tuned.quiver'),
      'small',
      path('base.arrow'),
      '--index',
      'ivfpq',
      '--nlist',
      '4',
      '--m',
      '2',
    );
    expect(switched.status, switched.stderr).toBe(0);
    const db = open(path('tuned.quiver'), { readOnly: true });
    try {
      const infos = Object.fromEntries(db.listCollections().map((info) => [info.name, info]));
      expect(infos['docs']).toMatchObject({
        index: { type: 'hnsw', m: 8, efConstruction: 100, ef: 90 },
        indexes: ['lang', 'year', 'authors.name'],
        count: 300,
      });
      expect(infos['small']?.index).toMatchObject({ type: 'ivfpq', nlist: 4, m: 2 });
      expect(infos['small']?.indexes).toEqual(['lang']);
    } finally {
      db.close();
    }
    // An existing collection keeps its settings; --indexes adds field indexes to it.
    const again = quiverJson('import', path('tuned.quiver'), 'small', path('base.arrow'), '--indexes', 'year');
    expect(again.status, again.stderr).toBe(0);
    const reopened = open(path('tuned.quiver'), { readOnly: true });
    try {
      expect(reopened.listCollections().find((info) => info.name === 'small')?.indexes).toEqual(['lang', 'year']);
    } finally {
      reopened.close();
    }
  });

  it('--vectors int8 (with --rerank) makes an int8 hnsw collection, and quiver info says so', async () => {
    await exported('plain', { dim: DIM, index: { type: 'hnsw', m: 8, efConstruction: 100, ef: 40 } });
    const ran = quiverJson(
      'import',
      path('int8.quiver'),
      'docs',
      path('plain.arrow'),
      '--vectors',
      'int8',
      '--rerank',
      '30',
    );
    expect(ran.status, ran.stderr).toBe(0);
    const db = open(path('int8.quiver'), { readOnly: true });
    try {
      expect(db.listCollections()[0]?.index).toEqual({
        type: 'hnsw',
        m: 8,
        efConstruction: 100,
        ef: 40,
        vectors: 'int8',
        rerank: 30,
      });
    } finally {
      db.close();
    }
    expect(quiver('info', path('int8.quiver')).stdout).toMatch(
      /hnsw m=8 efConstruction=100 ef=40 vectors=int8 rerank=30/,
    );
    // A bare --rerank is ivfpq's; --vectors takes float32 or int8 only.
    const bare = quiverJson(
      'import',
      path('bare.quiver'),
      'docs',
      path('plain.arrow'),
      '--index',
      'ivfpq',
      '--rerank',
      '30',
    );
    expect(bare.status, bare.stderr).toBe(0);
    expect(quiver('import', path('bad.quiver'), 'docs', path('plain.arrow'), '--vectors', 'int4').status).toBe(2);
  });

  it('imports an export that carries only dim and metric, with the default index', () => {
    writeWithMetadata(
      path('old.arrow'),
      new Map([
        ['quiverdb.collection', 'docs'],
        ['quiverdb.dim', '2'],
        ['quiverdb.metric', 'cosine'],
      ]),
    );
    const ran = quiverJson('import', path('old.quiver'), 'docs', path('old.arrow'));
    expect(ran.status, ran.stderr).toBe(0);
    const db = open(path('old.quiver'), { readOnly: true });
    try {
      expect(db.listCollections()[0]).toMatchObject({
        dim: 2,
        metric: 'cosine',
        index: { type: 'hnsw', m: 16, efConstruction: 200, ef: 64 },
        indexes: [],
        count: 2,
      });
      expect(db.listCollections()[0]!.text).toBeUndefined();
    } finally {
      db.close();
    }
  });

  it.each([
    ['quiverdb.index', '{"type":"annoy"}', /quiverdb.index = .*annoy.*expected a JSON object/],
    ['quiverdb.index', '{"type":"hnsw","m":"8"}', /quiverdb.index/],
    ['quiverdb.indexes', '"lang"', /quiverdb.indexes .* expected a JSON array/],
    ['quiverdb.text', '{"tokenizer":"icu","removeDiacritics":true}', /quiverdb.text/],
    ['quiverdb.metric', 'hamming', /quiverdb.metric = "hamming"; expected l2, cosine or ip/],
  ])('a malformed %s is CORRUPT and creates nothing', (key, value, message) => {
    const file = path(`bad-${key}-${value.length}.arrow`);
    writeWithMetadata(
      file,
      new Map([
        ['quiverdb.dim', '2'],
        [key, value],
      ]),
    );
    const ran = quiverJson<{ error: { code: string; message: string } }>('import', path('bad.quiver'), 'docs', file);
    expect(ran.status).toBe(1);
    expect(ran.document.error.code).toBe('CORRUPT');
    expect(ran.document.error.message).toMatch(message);
    const db = open(path('bad.quiver'));
    try {
      expect(db.listCollections()).toEqual([]);
    } finally {
      db.close();
    }
  });

  it.each([
    [['--index', 'flat', '--m', '4'], /--index flat takes no index parameters/],
    [['--ef', '5', '--nlist', '4'], /--ef, --nlist do not apply to one index kind: hnsw takes --m/],
    [
      ['--index', 'hnsw', '--nprobe', '3'],
      /--index hnsw takes --m, --ef-construction, --ef, --vectors, --rerank; --nprobe does not apply/,
    ],
    [['--index', 'ivfpq', '--ef-construction', '3'], /--index ivfpq takes .*; --ef-construction does not apply/],
    [['--target-recall', '1.5'], /--target-recall takes a number above 0 and at most 1/],
    [['--indexes', 'lang,a..b'], /empty path segment/],
    [['--index', 'hnsw', '--m', '300'], /--m '300' does not suit --index hnsw: .*128/],
  ])('bad usage %j exits 2', (args, message) => {
    const ran = quiver('import', path('usage.quiver'), 'docs', path('missing.arrow'), ...args);
    expect(ran.status).toBe(2);
    expect(ran.stderr).toMatch(message);
  });
});
