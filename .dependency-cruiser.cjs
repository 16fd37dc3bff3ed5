/**
 * The architecture of DESIGN.md as rules: arrows point one way, no cycles, and only
 * src/native-loader.ts loads the addon.
 * @type {import('dependency-cruiser').IConfiguration}
 */
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
      name: 'only-native-loader-ts-loads-the-addon',
      severity: 'error',
      from: { pathNot: '^src/native-loader\\.ts$' },
      to: { path: '\\.node$' },
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
