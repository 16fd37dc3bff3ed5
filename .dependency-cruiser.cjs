/**
 * The architecture of DESIGN.md as rules: arrows point one way, no cycles, and only
 * src/native.ts loads the addon.
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
      name: 'only-native-ts-loads-the-addon',
      severity: 'error',
      from: { pathNot: '^src/native\\.ts$' },
      to: { path: '\\.node$' },
    },
    {
      name: 'only-db-layer-imports-entry',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/(index|cli/.*)\\.ts$' },
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
