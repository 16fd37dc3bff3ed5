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
    // quiverdb/replication: a second entry; the NATS client it loads is an optional peer dependency.
    entry: { index: 'src/index.ts', replication: 'src/replication/index.ts' },
    format: ['esm', 'cjs'],
    dts: true,
    sourcemap: true,
    clean: ['!cli.js', '!cli.js.map'],
    target: 'node20',
    platform: 'node',
    shims: true,
  },
  cliConfig,
]);
