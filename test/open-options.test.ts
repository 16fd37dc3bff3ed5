// The zod-free checks of open()'s options, collection names and stored index options agree with the
// schemas: whatever they accept the schema accepts with the same values, and whatever the schema
// rejects they leave to the schema (which words the error). Opening and querying loads no zod.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fastIndexOptions, indexOptionsSchema } from '../src/index-options.js';
import { fastOpenOptions, isCollectionName } from '../src/open-options.js';
import { collectionNameSchema, openOptionsSchema } from '../src/schema.js';

const values = fc.constantFrom<unknown>(
  undefined,
  null,
  0,
  1,
  2,
  16,
  128,
  129,
  256,
  257,
  4096,
  4097,
  10_000,
  10_001,
  -1,
  1.5,
  Number.NaN,
  Number.POSITIVE_INFINITY,
  2 ** 53,
  '',
  'full',
  'normal',
  'hnsw',
  'flat',
  'ivfpq',
  './addon.node',
  'int8',
  'float32',
  0.5,
  0.95,
  1.0000001,
  true,
  false,
  () => {},
  [1],
  { a: 1 },
);

describe('the fast check of open() options', () => {
  const keys = fc.constantFrom(
    'durability',
    'readOnly',
    'snapshotThreshold',
    'onWarning',
    'onProgress',
    'threads',
    'addonPath',
    'sqliteAddonPath',
    'other',
  );

  it('accepts only what the schema accepts, as it returns it', () => {
    fc.assert(
      fc.property(fc.dictionary(keys, values), (options) => {
        const quick = fastOpenOptions(options);
        const parsed = openOptionsSchema.safeParse(options);
        if (quick !== undefined) {
          expect(parsed.success).toBe(true);
          // zod hands back a function option wrapped in one that calls it; the fast check, the function itself.
          const functionsMarked = (object: object) =>
            Object.fromEntries(
              Object.entries(object).map(([key, value]) => [key, typeof value === 'function' ? 'a function' : value]),
            );
          expect(functionsMarked(quick)).toEqual(functionsMarked(parsed.data!));
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('takes the common shapes, and leaves the rest to the schema', () => {
    const onWarning = () => {};
    expect(fastOpenOptions({})).toEqual({});
    expect(fastOpenOptions({ durability: 'full', threads: 2, onWarning, readOnly: true })).toBeDefined();
    expect(fastOpenOptions({ threads: 0 })).toBeUndefined();
    expect(fastOpenOptions({ durability: 'fast' })).toBeUndefined();
    expect(fastOpenOptions({ other: 1 })).toBeUndefined();
    expect(fastOpenOptions(Object.assign(Object.create({ threads: 0 }), {}))).toBeUndefined();
    expect(fastOpenOptions(null)).toBeUndefined();
  });
});

describe('the fast check of collection names', () => {
  it('accepts exactly what the schema accepts', () => {
    const names = fc.oneof(
      fc.string({ maxLength: 70 }),
      fc.stringMatching(/^[A-Za-z0-9_.-]{0,66}$/),
      fc.constantFrom<unknown>('docs', 'a', '_a', '.a', 'a'.repeat(64), 'a'.repeat(65), 'é', 'a b', 3, null, undefined),
    );
    fc.assert(
      fc.property(names, (name) => {
        expect(isCollectionName(name)).toBe(collectionNameSchema.safeParse(name).success);
      }),
      { numRuns: 3000 },
    );
  });
});

describe('the fast check of stored index options', () => {
  const keys = fc.constantFrom(
    'type',
    'm',
    'efConstruction',
    'ef',
    'vectors',
    'rerank',
    'nlist',
    'nprobe',
    'targetRecall',
    'other',
  );

  it('accepts only what the schema accepts, as it returns it', () => {
    fc.assert(
      fc.property(fc.dictionary(keys, values), (options) => {
        const quick = fastIndexOptions(options);
        const parsed = indexOptionsSchema.safeParse(options);
        if (quick !== undefined) {
          expect(parsed.success).toBe(true);
          expect(quick).toEqual(parsed.data);
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('takes hnsw and flat rows as a collection stores them', () => {
    expect(fastIndexOptions({ type: 'hnsw', m: 16, efConstruction: 200, ef: 64 })).toBeDefined();
    expect(fastIndexOptions({ type: 'flat' })).toBeDefined();
    expect(fastIndexOptions({ type: 'hnsw', m: 1 })).toBeUndefined();
    expect(
      fastIndexOptions({ type: 'hnsw', m: 16, efConstruction: 200, ef: 64, vectors: 'int8', rerank: 20 }),
    ).toBeDefined();
    expect(fastIndexOptions({ type: 'hnsw', vectors: 'int4' })).toBeUndefined();
    expect(
      fastIndexOptions({ type: 'ivfpq', nlist: 16, m: 8, nprobe: 4, rerank: 100, targetRecall: 0.95 }),
    ).toBeDefined();
    expect(fastIndexOptions({ type: 'ivfpq', targetRecall: 0 })).toBeUndefined();
    expect(fastIndexOptions({ type: 'toString' })).toBeUndefined();
  });
});

describe('opening and querying', () => {
  it('loads no zod', async () => {
    const { spawnSync } = await import('node:child_process');
    const script = `
      import { mkdtempSync } from 'node:fs';
      import { tmpdir } from 'node:os';
      import { join } from 'node:path';
      import { createRequire } from 'node:module';
      const { open } = await import(${JSON.stringify(new URL('../src/index.ts', import.meta.url).pathname)});
      const path = mkdtempSync(join(tmpdir(), 'quiver-zod-'));
      let db = open(path, { durability: 'normal' });
      db.collection('docs', { dim: 2, index: { type: 'hnsw', m: 8 } }).upsert([{ id: 'a', vector: [1, 2] }]);
      db.collection('small', { dim: 2, index: { type: 'hnsw', vectors: 'int8' } }).upsert([{ id: 'b', vector: [3, 4] }]);
      db.collection('coarse', { dim: 2, index: { type: 'ivfpq', targetRecall: 0.9 } }).upsert([{ id: 'c', vector: [5, 6] }]);
      db.close();
      const loaded = () => Object.keys(createRequire(import.meta.url).cache).some((key) => key.includes('/node_modules/zod/'));
      if (loaded() !== true) throw new Error('creating a collection with options should have loaded zod');
      console.log('created');
    `;
    const reopen = `
      import { createRequire } from 'node:module';
      const { open } = await import(${JSON.stringify(new URL('../src/index.ts', import.meta.url).pathname)});
      const db = open(process.argv[2], { readOnly: true, threads: 1 });
      const hits = ['docs', 'small', 'coarse'].flatMap((name) => db.collection(name).queryIds({ vector: [1, 2], k: 1 }));
      console.log(JSON.stringify({ hits, zod: Object.keys(createRequire(import.meta.url).cache).some((key) => key.includes('/node_modules/zod/')) }));
    `;
    const { mkdtempSync, writeFileSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const folder = mkdtempSync(join(tmpdir(), 'quiver-zod-test-'));
    try {
      const database = join(folder, 'db');
      writeFileSync(
        join(folder, 'create.mts'),
        script.replace("mkdtempSync(join(tmpdir(), 'quiver-zod-'))", JSON.stringify(database)),
      );
      writeFileSync(join(folder, 'reopen.mts'), reopen);
      const run = (file: string, ...args: string[]) =>
        spawnSync(process.execPath, ['--import', 'tsx', join(folder, file), ...args], { encoding: 'utf8' });
      const created = run('create.mts');
      expect(created.stdout.trim(), created.stderr).toBe('created');
      const reopened = run('reopen.mts', database);
      expect(JSON.parse(reopened.stdout.trim().split('\n').at(-1) ?? 'null'), reopened.stderr).toEqual({
        hits: [
          { id: 'a', distance: 0 },
          { id: 'b', distance: Math.hypot(2, 2) },
          { id: 'c', distance: Math.hypot(4, 4) },
        ],
        zod: false,
      });
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });
});
