// The import suite end to end (`npm run bench -- --suite import --quick`, shrunk to 2,000 vectors):
// every index type under both durability modes imports the whole file and is reported; the import
// in a new process; the plan's defaults; and the file it writes reads back as the vectors it holds.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tableFromIPC } from 'apache-arrow';
import { expect, it } from 'vitest';
import { generateSynthetic } from '../../bench/datasets/synthetic.js';
import {
  type ImportResults,
  importMetadataOf,
  importPlan,
  measureImport,
  renderImportMarkdown,
  writeImportFile,
} from '../../bench/harness/import.js';
import { main } from '../../bench/harness/main.js';
import { parseOptions } from '../../bench/harness/options.js';
import { createProgress } from '../../bench/harness/progress.js';
import { tempDirectory } from '../helpers/fixtures.js';

it('imports the Arrow file into flat, ivfpq and hnsw under normal and full durability and writes JSON and Markdown', async () => {
  const out = tempDirectory('quiver-bench-import-');
  try {
    // efConstruction 40 keeps the two hnsw imports short; 2,000 rows are 2 batches under --quick.
    const argv = ['--suite', 'import', '--quick', '--vectors', '2000', '--ef-construction', '40', '--quiet'];
    expect(await main([...argv, '--out', out.path])).toBe(0);
    const results = JSON.parse(readFileSync(join(out.path, 'import.json'), 'utf8')) as ImportResults;
    expect(results.suite).toBe('import');
    expect(results.loadAverage.start.length).toBe(3);
    expect(results.parameters).toMatchObject({ vectors: 2000, batchRows: 1000, dim: 128, repeats: 1, warmup: 1 });
    expect(results.parameters.fileBytes).toBeGreaterThan(2000 * 128 * 4);
    expect(results.cases.map((entry) => `${entry.label}/${entry.durability}`)).toEqual([
      'flat/normal',
      'flat/full',
      'ivfpq nlist=256 m=dim/8/normal',
      'ivfpq nlist=256 m=dim/8/full',
      'hnsw m=16 efc=40/normal',
      'hnsw m=16 efc=40/full',
    ]);
    for (const entry of results.cases) {
      expect(entry).toMatchObject({ vectors: 2000, batches: 2 });
      expect(entry.runs.length).toBe(1);
      // flat and ivfpq import once untimed first; --quick makes no import in a new process.
      expect(entry.warmupRuns.length).toBe(entry.index.type === 'hnsw' ? 0 : 1);
      expect(entry.freshProcess).toBeUndefined();
      expect(entry.vectorsPerSecond).toBeCloseTo(2000 / entry.seconds);
      // A database of 2,000 records holds at least their vectors.
      expect(entry.diskBytes).toBeGreaterThan(2000 * 128 * 4);
    }
    const markdown = readFileSync(join(out.path, 'import.md'), 'utf8');
    expect(markdown).toContain('# QuiverDB Arrow import benchmark');
    expect(markdown).toContain('| hnsw m=16 efc=40 | full | 2,000 | 2 |');
  } finally {
    out.cleanup();
  }
});

it('plans 100,000 vectors in batches of 10,000 for every index and both durabilities by default', () => {
  const plan = importPlan(parseOptions(['--suite', 'import']));
  expect(plan).toMatchObject({
    vectors: 100_000,
    batchRows: 10_000,
    durabilities: ['normal', 'full'],
    repeats: 3,
    warmup: 1,
    fresh: true,
  });
  expect(plan.indexes).toEqual([
    { type: 'flat' },
    { type: 'ivfpq', nlist: 256, m: undefined },
    { type: 'hnsw', m: 16, efConstruction: 200 },
  ]);
  const quick = importPlan(parseOptions(['--suite', 'import', '--quick', '--index', 'flat', '--durability', 'full']));
  expect(quick).toMatchObject({
    vectors: 5_000,
    batchRows: 1_000,
    durabilities: ['full'],
    repeats: 1,
    warmup: 1,
    fresh: false,
  });
  const unwarmed = importPlan(parseOptions(['--suite', 'import', '--warmup', '0', '--passes', '5', '--metadata']));
  expect([unwarmed.warmup, unwarmed.repeats, unwarmed.metadata]).toEqual([0, 5, true]);
  expect(quick.indexes).toEqual([{ type: 'flat' }]);
});

it('imports once more in a new process when asked, and reports that import apart', async () => {
  const plan = {
    vectors: 300,
    batchRows: 100,
    metadata: true,
    indexes: [{ type: 'flat' as const }],
    durabilities: ['normal' as const],
    repeats: 1,
    warmup: 0,
    fresh: true,
  };
  const results = await measureImport(plan, false, createProgress({ bar: false, quiet: true }));
  const [entry] = results.cases;
  expect(entry).toMatchObject({ vectors: 300, batches: 3, warmupRuns: [] });
  expect(entry!.freshProcess!.vectorsPerSecond).toBeCloseTo(300 / entry!.freshProcess!.seconds);
  expect(entry!.freshProcess!.diskBytes).toBeGreaterThan(300 * 128 * 4);
  const markdown = renderImportMarkdown(results);
  expect(markdown).toContain('"new process"');
  expect(markdown).toContain('metadata `lang` Utf8, `year` Int32, `score` Float64');
});

it('writes the synthetic vectors with their row numbers as ids, in batches, and metadata when asked', () => {
  const folder = tempDirectory('quiver-bench-import-file-');
  try {
    const path = join(folder.path, 'file.arrow');
    writeImportFile(path, 250, 100, true);
    const table = tableFromIPC(readFileSync(path));
    expect(table.schema.fields.map((field) => field.name)).toEqual(['id', 'vector', 'lang', 'year', 'score']);
    expect(table.batches.map((batch) => batch.numRows)).toEqual([100, 100, 50]);
    const expected = generateSynthetic({ n: 250, dim: 128, queries: 1, seed: 2025 }).base;
    const ids = table.getChild('id')!;
    const vectors = table.getChild('vector')!;
    for (const row of [0, 99, 100, 249]) {
      expect(ids.get(row)).toBe(String(row));
      expect(table.get(row)?.toJSON()).toMatchObject(importMetadataOf(row));
      expect(Array.from(vectors.get(row)!.toArray() as Float32Array)).toEqual(
        Array.from(expected.subarray(row * 128, (row + 1) * 128)),
      );
    }
  } finally {
    folder.cleanup();
  }
});
