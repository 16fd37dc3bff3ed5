// The layer rules of .dependency-cruiser.cjs fire: dependency-cruiser, run with the project's own
// config (as `npm run lint` runs it), is pointed at a small tree of deliberately wrong imports and
// must report each one under its rule, and nothing for the same tree's allowed imports.
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDirectory } from './helpers/fixtures.js';
import { REPOSITORY } from './helpers/package-tarball.js';

interface Violation {
  readonly from: string;
  readonly to: string;
  readonly rule: { readonly name: string };
}

// Each wrong import and the rule that must report it. Both spellings of the collection (a file
// src/collection.ts, a folder src/collection/) are covered.
const WRONG: ReadonlyArray<{ file: string; imports: string; rule: string; to: string }> = [
  {
    file: 'src/index/hnsw.ts',
    imports: "import type { Metric } from '../schema.js';",
    rule: 'lower-layers-never-import-the-collection-database-or-schema',
    to: 'src/schema.ts',
  },
  {
    file: 'src/storage/store.ts',
    imports: "import { CollectionImpl } from '../collection.js';",
    rule: 'lower-layers-never-import-the-collection-database-or-schema',
    to: 'src/collection.ts',
  },
  {
    file: 'src/quant/pq.ts',
    imports: "import { write } from '../collection/write.js';",
    rule: 'lower-layers-never-import-the-collection-database-or-schema',
    to: 'src/collection/write.ts',
  },
  {
    file: 'src/filter/compile.ts',
    imports: "import { DatabaseImpl } from '../db.js';",
    rule: 'lower-layers-never-import-the-collection-database-or-schema',
    to: 'src/db.ts',
  },
  {
    file: 'src/text/fusion.ts',
    imports: "import { describe } from '../schema.js';",
    rule: 'lower-layers-never-import-the-collection-database-or-schema',
    to: 'src/schema.ts',
  },
  {
    file: 'src/native/kernels.ts',
    imports: "import { open } from '../collection.js';",
    rule: 'lower-layers-never-import-the-collection-database-or-schema',
    to: 'src/collection.ts',
  },
  {
    file: 'src/collection/write.ts',
    imports: "import { DatabaseImpl } from '../db.js';",
    rule: 'the-collection-never-imports-the-database',
    to: 'src/db.ts',
  },
  {
    file: 'src/collection.ts',
    imports: "import { DatabaseImpl } from './db.js';",
    rule: 'the-collection-never-imports-the-database',
    to: 'src/db.ts',
  },
  {
    file: 'src/index/flat.ts',
    imports: "import addon from '../../build/Release/quiver_native.node';",
    rule: 'only-native-loader-ts-loads-the-addon',
    to: 'build/Release/quiver_native.node',
  },
  {
    file: 'src/quant/kmeans.ts',
    imports: "import load from 'node-gyp-build';",
    rule: 'only-native-loader-ts-loads-the-addon',
    to: 'node-gyp-build',
  },
  {
    file: 'src/native-kernels.ts',
    imports: "import { requireFromHere } from './require-from-here.js';",
    rule: 'only-the-loaders-make-a-require',
    to: 'src/require-from-here.ts',
  },
  {
    file: 'src/storage/lock.ts',
    imports: "import { createRequire } from 'node:module';",
    rule: 'only-require-from-here-ts-imports-node-module',
    to: 'module',
  },
];

// Imports the rules allow, in the same tree: none of them may be reported.
const ALLOWED: ReadonlyArray<{ file: string; imports: string }> = [
  { file: 'src/index/ivfpq.ts', imports: "import type { Metric } from '../metric.js';" },
  { file: 'src/collection/query.ts', imports: "import type { Metric } from '../schema.js';" },
  { file: 'src/db.ts', imports: "import { query } from './collection/query.js';" },
  { file: 'src/native-loader.ts', imports: "import { requireFromHere } from './require-from-here.js';" },
  { file: 'src/lazy-require.ts', imports: "import { requireFromHere } from './require-from-here.js';" },
  { file: 'src/require-from-here.ts', imports: "import { createRequire } from 'node:module';" },
];

const LEAVES = ['src/schema.ts', 'src/metric.ts', 'src/collection/write.ts', 'build/Release/quiver_native.node'];

let tree: ReturnType<typeof tempDirectory>;
let violations: Violation[];

function write(file: string, text: string): void {
  const path = join(tree.path, file);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);
}

beforeAll(() => {
  tree = tempDirectory('quiver-layers-');
  for (const leaf of LEAVES) write(leaf, 'export const leaf = 1;\n');
  const sources = new Map<string, string[]>();
  for (const { file, imports } of [...WRONG, ...ALLOWED]) sources.set(file, [...(sources.get(file) ?? []), imports]);
  for (const [file, imports] of sources) write(file, `${imports.join('\n')}\nexport const uses = 1;\n`);
  write('tsconfig.json', JSON.stringify({ compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext' } }));
  const result = spawnSync(
    process.execPath,
    [
      join(REPOSITORY, 'node_modules', 'dependency-cruiser', 'bin', 'dependency-cruise.mjs'),
      'src',
      '--config',
      join(REPOSITORY, '.dependency-cruiser.cjs'),
      '--output-type',
      'json',
    ],
    { cwd: tree.path, encoding: 'utf8' },
  );
  // dependency-cruiser exits with the number of errors it found; its report is on stdout either way.
  expect(result.stdout, result.stderr).not.toBe('');
  violations = (JSON.parse(result.stdout) as { summary: { violations: Violation[] } }).summary.violations;
});

afterAll(() => tree.cleanup());

describe('.dependency-cruiser.cjs', () => {
  it.each(WRONG)('reports $file → $to under $rule', ({ file, rule, to }) => {
    expect(violations).toContainEqual(
      expect.objectContaining({ from: file, to, rule: expect.objectContaining({ name: rule }) }),
    );
  });

  it('reports nothing else (the allowed imports pass)', () => {
    const reported = violations
      .map((violation) => `${violation.from} → ${violation.to}: ${violation.rule.name}`)
      .sort();
    const expected = WRONG.map((wrong) => `${wrong.file} → ${wrong.to}: ${wrong.rule}`).sort();
    expect(reported).toEqual(expected);
  });
});
