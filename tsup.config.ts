import type { Plugin } from 'esbuild';
import { defineConfig } from 'tsup';

// Builds the public entries (quiverdb, quiverdb/worker, quiverdb/langchain, quiverdb/replication) as ESM and CommonJS with type declarations for both, and the
// `quiver` command line as dist/cli.js (the package's bin). The two builds run in parallel, so
// the first one's clean spares the bin.
/**
 * The worker's modules take QuiverDB (and QuiverError) from the built entry beside them instead of
 * bundling a copy: an error from quiverdb/worker is then an instance of the QuiverError that
 * quiverdb exports, in the CJS build too (tsup splits chunks only in ESM).
 */
const workerImportsEntry: Plugin = {
  name: 'worker-imports-entry',
  setup(build) {
    const entry = build.initialOptions.format === 'cjs' ? './index.cjs' : './index.js';
    build.onResolve({ filter: /^\.\.\/(index|errors)\.js$/ }, (args) =>
      /[\\/]src[\\/]worker[\\/]/.test(args.importer) ? { path: entry, external: true } : undefined,
    );
  },
};

/**
 * The published build has no crash points: src/storage/crash-point.ts (the crash tests' fault
 * injection, read from QUIVERDB_CRASH_AT) is replaced by a function that does nothing, and every
 * call of it is dropped (see dropCrashPointCalls). Tests run the sources, where the points stay;
 * test/published-build.test.ts checks the build has none.
 */
const crashPointsCompiledOut: Plugin = {
  name: 'crash-points-compiled-out',
  setup(build) {
    build.onLoad({ filter: /[\\/]src[\\/]storage[\\/]crash-point\.ts$/ }, () => ({
      contents: 'export function crashPoint(_name: string): void {}\n',
      loader: 'ts',
    }));
  },
};

/**
 * Marks calls of crashPoint as free of side effects; esbuild removes such a call whose result is
 * unused when it simplifies syntax (minifySyntax: constant folding and shorter statements, names
 * and whitespace kept, so stack traces stay readable).
 */
function dropCrashPointCalls(options: { pure?: string[]; minifySyntax?: boolean }): void {
  options.pure = [...(options.pure ?? []), 'crashPoint'];
  options.minifySyntax = true;
}

export const cliConfig = {
  entry: { cli: 'src/cli/main.ts' },
  format: ['esm' as const],
  dts: false,
  sourcemap: true,
  clean: false,
  target: 'node20',
  platform: 'node' as const,
  banner: { js: '#!/usr/bin/env node' },
  esbuildPlugins: [crashPointsCompiledOut],
  esbuildOptions: dropCrashPointCalls,
};

export default defineConfig([
  {
    // quiverdb, quiverdb/worker (and the script its worker threads run), quiverdb/langchain,
    // quiverdb/replication (the NATS client it loads is an optional peer dependency).
    entry: {
      index: 'src/index.ts',
      worker: 'src/worker/index.ts',
      'worker-thread': 'src/worker/thread.ts',
      langchain: 'src/langchain/index.ts',
      replication: 'src/replication/index.ts',
    },
    format: ['esm', 'cjs'],
    esbuildPlugins: [workerImportsEntry, crashPointsCompiledOut],
    // QUIVERDB_NO_DTS=1 skips the declarations (the slow part) for tests that only run the JavaScript.
    dts: process.env.QUIVERDB_NO_DTS !== '1',
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
      dropCrashPointCalls(options);
    },
  },
  cliConfig,
]);
