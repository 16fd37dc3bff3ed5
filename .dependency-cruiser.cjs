/**
 * The architecture of DESIGN.md and docs/architecture.md as rules: arrows point one way, no cycles,
 * the layers below the collection never reach up, and only src/native-loader.ts loads native code.
 * test/dependency-rules.test.ts runs each rule on a deliberately wrong tree and sees it fire.
 * @type {import('dependency-cruiser').IConfiguration}
 */

// The collection: the folder src/collection/ (or a file src/collection.ts), with the planner.
const COLLECTION = '^src/(collection(\\.ts$|/)|filtered-search\\.ts$)';

module.exports = {
  forbidden: [
    { name: 'no-cycles', severity: 'error', from: {}, to: { circular: true } },
    {
      name: 'index-and-quant-never-import-storage',
      severity: 'error',
      from: { path: '^src/(index|quant)/' },
      to: { path: '^src/storage/' },
    },
    {
      name: 'lower-layers-never-import-the-collection-database-or-schema',
      comment:
        'index/, quant/, filter/, storage/, text/ and native/ sit below the collection: shared types and limits come from leaf modules (metric.ts, limits.ts, index-options.ts, vector-input.ts), never from the public validation (schema.ts), the collection or the database.',
      severity: 'error',
      from: { path: '^src/(index|quant|filter|storage|text|native)/' },
      to: { path: [COLLECTION, '^src/(db|schema)\\.ts$'] },
    },
    {
      name: 'the-collection-never-imports-the-database',
      comment: 'The database owns its collections; a collection gets what it needs from the database as arguments.',
      severity: 'error',
      from: { path: COLLECTION },
      to: { path: '^src/db\\.ts$' },
    },
    {
      name: 'only-native-loader-ts-loads-the-addon',
      comment:
        'A .node file, or a package whose job is to find one (node-gyp-build, bindings), is loaded by src/native-loader.ts alone.',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/native-loader\\.ts$' },
      to: { path: ['\\.node$', '(^|/)node_modules/(node-gyp-build|bindings)/', '^(node-gyp-build|bindings)$'] },
    },
    {
      name: 'only-the-loaders-make-a-require',
      comment:
        'native-loader.ts loads .node files by computed paths, which no import shows: it does so with the require of require-from-here.ts, the one module that imports node:module. Only it and lazy-require.ts (packages on first use) may use that require, so no other module can load native code.',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/(require-from-here|lazy-require|native-loader)\\.ts$' },
      to: { path: '^src/require-from-here\\.ts$' },
    },
    {
      name: 'only-require-from-here-ts-imports-node-module',
      comment: 'node:module makes a require (createRequire) that loads any path, .node files included.',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/require-from-here\\.ts$' },
      to: { path: '^module$', dependencyTypes: ['core'] },
    },
    {
      name: 'only-native-loader-ts-loads-better-sqlite3',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/native-loader\\.ts$' },
      to: { path: 'node_modules/better-sqlite3/', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'heavy-packages-load-on-first-use',
      comment: 'Arrow and zod cost ~30 MB of RSS: src/lazy-require.ts loads them when first used, not at import.',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: 'node_modules/(apache-arrow|zod|cli-progress|h5wasm)/', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'only-db-layer-imports-entry',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/(index|cli/.*|worker/thread)\\.ts$' },
      to: { path: '^src/index\\.ts$' },
    },
    {
      name: 'src-never-imports-tests-or-bench',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: '^(test|bench)/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js', '.mjs', '.cjs'] },
  },
};
