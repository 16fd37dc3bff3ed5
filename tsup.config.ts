import { defineConfig } from 'tsup';

// Builds the one public entry as ESM and CommonJS with type declarations for both, and the
// `quiver` command line as dist/cli.js (the package's bin). The two builds run in parallel, so
// the first one's clean spares the bin.
export const cliConfig = {
  entry: { cli: 'src/cli/main.ts' },
  format: ['esm' as const],
  dts: false,
  sourcemap: true,
  clean: false,
  target: 'node20',
  platform: 'node' as const,
  banner: { js: '#!/usr/bin/env node' },
};

export default defineConfig([
  {
    entry: { index: 'src/index.ts' },
    format: ['esm', 'cjs'],
    dts: true,
    sourcemap: true,
    clean: ['!cli.js', '!cli.js.map'],
    target: 'node20',
    platform: 'node',
    // No shims: the CJS build reads `require` and `__filename`, never `import.meta` (which a shim would
    // fake with paths that are wrong once an app bundles this file).
    shims: false,
    // The CJS build's `import.meta` is an empty object on purpose: every read of it is guarded.
    esbuildOptions(options) {
      options.logOverride = { ...options.logOverride, 'empty-import-meta': 'silent' };
    },
  },
  cliConfig,
]);
