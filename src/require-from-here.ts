// The one `require` QuiverDB makes for itself: with it, lazy-require.ts loads packages on first use
// and native-loader.ts loads the .node files. Nothing else may import it or node:module (a rule in
// .dependency-cruiser.cjs), so no other module can load native code. Imports only node built-ins.
import { createRequire } from 'node:module';

let localRequire: NodeJS.Require | undefined;

/** `require` of this module: one made from `import.meta.url` in ESM, the real one in CJS (whose `import.meta` is empty). */
export function requireFromHere(): NodeJS.Require {
  const url: unknown = import.meta.url;
  localRequire ??= typeof url === 'string' ? createRequire(url) : require;
  return localRequire;
}
