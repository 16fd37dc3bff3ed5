import { defineConfig } from 'tsup';

// Builds the one public entry as ESM and CommonJS with type declarations for both.
export default defineConfig({
  entry: { index: 'src/index.ts' },
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'node20',
  platform: 'node',
  shims: true,
});
