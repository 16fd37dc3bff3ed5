// Synchronous on-first-use loading of the heavy dependencies (Apache Arrow, zod), so that
// `import { open } from 'quiverdb'` costs only QuiverDB's own code. Works in the ESM and the CJS
// build and in a bundle; reads `import.meta` only where `require` does not exist (ESM).
// Imports only require-from-here.ts, node built-ins and types.
import { fileURLToPath } from 'node:url';
import type * as ArrowModule from 'apache-arrow';
import type * as ZodModule from 'zod';
import { requireFromHere } from './require-from-here.js';

/**
 * Loads a package synchronously. From ESM it loads the package's ESM entry (require of an ES
 * module, Node ≥ 20.19 and ≥ 22.12), so its classes are the very ones an ESM app imports — an
 * Arrow Table QuiverDB returns passes the app's `instanceof` checks; when that is not possible
 * (older Node, a bundle without `import.meta.resolve`) it loads the CJS entry, as the CJS build does.
 */
export function requirePackage<T>(specifier: string): T {
  const load = requireFromHere();
  if (typeof import.meta.resolve === 'function') {
    try {
      return load(fileURLToPath(import.meta.resolve(specifier))) as T;
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      if (code !== 'ERR_REQUIRE_ESM' && code !== 'ERR_REQUIRE_ASYNC_MODULE' && code !== 'ERR_INVALID_URL_SCHEME') {
        throw error;
      }
    }
  }
  return load(specifier) as T;
}

let arrowModule: typeof ArrowModule | undefined;
let zodModule: typeof ZodModule | undefined;

/** Apache Arrow, loaded on the first Arrow import or export (about 18 MB of RSS). */
export function arrow(): typeof ArrowModule {
  arrowModule ??= requirePackage<typeof ArrowModule>('apache-arrow');
  return arrowModule;
}

/** zod, loaded when the first options object is validated (about 12 MB of RSS). */
export function zod(): typeof ZodModule {
  zodModule ??= requirePackage<typeof ZodModule>('zod');
  return zodModule;
}

/** A zod schema built on its first use, so that importing QuiverDB does not load zod. */
export interface LazySchema<S extends ZodModule.ZodType> {
  /** The schema itself, built (and zod loaded) on first access. */
  readonly schema: S;
  safeParse(input: unknown): ZodModule.ZodSafeParseResult<ZodModule.output<S>>;
}

/** The schema type inside a {@link LazySchema}, for `z.infer<SchemaOf<typeof x>>`. */
export type SchemaOf<L> = L extends LazySchema<infer S> ? S : never;

/** Wraps a schema definition so it runs on the first `safeParse` (or `.schema`) instead of at import. */
export function lazySchema<S extends ZodModule.ZodType>(build: (z: typeof ZodModule.z) => S): LazySchema<S> {
  let built: S | undefined;
  return {
    get schema(): S {
      built ??= build(zod().z);
      return built;
    },
    safeParse(input: unknown) {
      return this.schema.safeParse(input) as ZodModule.ZodSafeParseResult<ZodModule.output<S>>;
    },
  };
}
