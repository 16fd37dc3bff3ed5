// Finds and loads the two native binaries QuiverDB runs on: its own addon (quiver_native, a Node-API
// module: one binary per platform serves every Node ≥ 20 and every Electron) and better-sqlite3's.
// The addon is looked for as an override (the `addonPath` open() option or QUIVERDB_NATIVE_PATH),
// else a prebuild, build/Release, build/Debug. Imports only errors.ts, require-from-here.ts and node built-ins.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type BetterSqlite3 from 'better-sqlite3';
import { QuiverError } from './errors.js';
import { requireFromHere } from './require-from-here.js';

/** Environment variable naming QuiverDB's addon (a .node file, or a folder holding quiverdb's files). */
export const NATIVE_PATH_VARIABLE = 'QUIVERDB_NATIVE_PATH';
/** Environment variable naming better-sqlite3's addon (a better_sqlite3.node file). */
export const SQLITE_NATIVE_PATH_VARIABLE = 'QUIVERDB_SQLITE_NATIVE_PATH';

/** Overrides given to open(); each wins over its environment variable. */
export interface NativePaths {
  readonly addonPath?: string | undefined;
  readonly sqliteAddonPath?: string | undefined;
}

/** One place the addon was looked for, and why it was not used (undefined when it loaded). */
export interface AddonCandidate {
  readonly path: string;
  readonly problem?: string;
}

let chosenPaths: NativePaths = {};
let quiverAddon: { readonly exports: unknown; readonly override: string | undefined } | undefined;
let sqlite:
  | { readonly Database: typeof BetterSqlite3; readonly binding: unknown; readonly override: string | undefined }
  | undefined;

/**
 * Records the overrides of an open() call before anything is loaded. A process loads each addon
 * once, so a different override after that load is refused rather than silently ignored.
 * @throws QuiverError INVALID_ARGUMENT when an addon is already loaded from elsewhere.
 */
export function useNativePaths(paths: NativePaths): void {
  const check = (given: string | undefined, loaded: { override: string | undefined } | undefined, name: string) => {
    if (given === undefined || loaded === undefined) return;
    if (loaded.override !== resolve(given)) {
      throw new QuiverError(
        'INVALID_ARGUMENT',
        `options.${name}: this process already loaded that addon from ${loaded.override ?? 'its default place'}; ` +
          `a process loads it once, so give the same ${name} to every open() or set it before the first one`,
      );
    }
  };
  check(paths.addonPath, quiverAddon, 'addonPath');
  check(paths.sqliteAddonPath, sqlite, 'sqliteAddonPath');
  chosenPaths = {
    addonPath: paths.addonPath ?? chosenPaths.addonPath,
    sqliteAddonPath: paths.sqliteAddonPath ?? chosenPaths.sqliteAddonPath,
  };
}

/**
 * The package root: this module sits one level below it both as src/native-loader.ts (vitest, tsx)
 * and bundled into dist/*.js or dist/*.cjs.
 */
export function packageRoot(): string {
  return resolve(dirname(thisFile()), '..');
}

/**
 * This module's file. ESM has `import.meta.url`; the CJS build's `import.meta` is an empty object, so
 * there `__filename` is used (checked second: an eval'd worker defines a global `__filename`).
 */
function thisFile(): string {
  const url: unknown = import.meta.url;
  return typeof url === 'string' ? fileURLToPath(url) : __filename;
}

function overrideOf(option: string | undefined, variable: string): string | undefined {
  const given = option ?? process.env[variable];
  return given === undefined || given === '' ? undefined : resolve(given);
}

/** Whether this Linux process runs on musl (Alpine) rather than glibc; prebuilds are tagged by libc. */
function libc(): 'glibc' | 'musl' | undefined {
  if (process.platform !== 'linux') return undefined;
  const header = (process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined)?.header;
  return header?.glibcVersionRuntime === undefined ? 'musl' : 'glibc';
}

/**
 * The prebuild for this platform under `root`: prebuilds/<platform>-<arch>/quiverdb[.glibc|.musl].node
 * (prebuildify's Node-API names; node-gyp-build reads the same). A file tagged for an ABI or another
 * runtime is not ours; on Linux one tagged for the other libc is skipped and a libc-tagged one is
 * preferred. Undefined when the folder has none that fits.
 */
function prebuildIn(root: string): string | undefined {
  const folder = join(root, 'prebuilds', `${process.platform}-${process.arch}`);
  let files: string[];
  try {
    files = readdirSync(folder);
  } catch {
    return undefined;
  }
  const ours = libc();
  const fitting = files
    .filter((file) => file.endsWith('.node'))
    .map((file) => ({ file, tags: file.split('.').slice(1, -1) }))
    .filter(({ tags }) => !tags.some((tag) => tag.startsWith('abi') || tag === 'electron' || tag === 'node-webkit'))
    .filter(
      ({ tags }) => ours === undefined || !tags.some((tag) => (tag === 'glibc' || tag === 'musl') && tag !== ours),
    )
    .sort((a, b) => b.tags.length - a.tags.length);
  const best = fitting[0];
  return best === undefined ? undefined : join(folder, best.file);
}

/** The platforms `root` has prebuilds for, to say so when none fits this one. */
function prebuildPlatforms(root: string): string[] {
  try {
    return readdirSync(join(root, 'prebuilds'));
  } catch {
    return [];
  }
}

/** The files to try, in order, for a package root or an override (a .node file, or a folder). */
export function addonCandidates(root: string, override: string | undefined): string[] {
  if (override !== undefined) {
    let folder = false;
    try {
      folder = statSync(override).isDirectory();
    } catch {
      // A missing path is reported as missing when it is tried.
    }
    if (!folder) return [override];
    return [join(override, 'quiver_native.node'), ...addonCandidates(override, undefined)];
  }
  const prebuild = prebuildIn(root);
  const platform = `${process.platform}-${process.arch}`;
  const release = join(root, 'build', 'Release', 'quiver_native.node');
  const candidates = [
    prebuild ?? join(root, 'prebuilds', platform, `quiverdb${libc() === undefined ? '' : `.${libc()}`}.node`),
    release,
    join(root, 'build', 'Debug', 'quiver_native.node'),
  ];
  // An installed package has build/Release only when no prebuild fitted. In a checkout, a prebuild
  // left by `npm run build:prebuild` goes stale once the sources change: a newer build/Release wins.
  return prebuild !== undefined && modifiedAt(release) > modifiedAt(prebuild)
    ? [release, prebuild, join(root, 'build', 'Debug', 'quiver_native.node')]
    : candidates;
}

function modifiedAt(path: string): number {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return 0;
  }
}

/**
 * Loads the first candidate that loads. Exported with its root and override as parameters so tests
 * can point it at a folder without a binary.
 * @throws QuiverError NATIVE_ERROR listing every place looked and the command that fixes it.
 */
export function loadAddonFrom(root: string, override: string | undefined): unknown {
  const tried: AddonCandidate[] = [];
  const load = requireFromHere();
  for (const path of addonCandidates(root, override)) {
    if (!existsSync(path)) {
      tried.push({ path, problem: 'missing' });
      continue;
    }
    try {
      return load(path);
    } catch (error) {
      tried.push({ path, problem: firstLine(error) });
    }
  }
  const platform = `${process.platform}-${process.arch}${libc() === 'musl' ? ' (musl)' : ''}`;
  const others = prebuildPlatforms(root).filter((name) => name !== `${process.platform}-${process.arch}`);
  const looked = tried.map((candidate) => `${candidate.path} (${candidate.problem})`).join('; ');
  const fix =
    override === undefined
      ? `This package has ${others.length === 0 ? 'no prebuilt binary for another platform either' : `prebuilt binaries for ${others.join(', ')} only`}. ` +
        'Reinstall quiverdb so its prebuilt binary is unpacked (`npm install quiverdb`), or build it for this ' +
        `platform with \`npm rebuild quiverdb\` (needs Python 3 and a C++17 compiler). In a bundle or an ` +
        `Electron app, point the addonPath option of open() or ${NATIVE_PATH_VARIABLE} at the unpacked quiverdb folder.`
      : `The override (the addonPath option or ${NATIVE_PATH_VARIABLE}) must name quiverdb's folder, or a ` +
        `quiver_native .node file built for ${platform}; fix or remove it.`;
  throw new QuiverError(
    'NATIVE_ERROR',
    `QuiverDB's native addon could not be loaded for ${platform}. Looked for: ${looked}. ${fix}`,
  );
}

/**
 * QuiverDB's addon, loaded on first use (importing QuiverDB works without it).
 * @throws QuiverError NATIVE_ERROR when no candidate loads.
 */
export function loadQuiverAddon(): unknown {
  if (quiverAddon !== undefined) return quiverAddon.exports;
  const override = overrideOf(chosenPaths.addonPath, NATIVE_PATH_VARIABLE);
  const exports = loadAddonFrom(packageRoot(), override);
  quiverAddon = { exports, override };
  return exports;
}

function firstLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0] ?? '';
}

/** better-sqlite3's constructor and the binding to give it, checked on the first call. */
function sqliteDatabase(): { readonly Database: typeof BetterSqlite3; readonly binding: unknown } {
  if (sqlite !== undefined) return sqlite;
  const override = overrideOf(chosenPaths.sqliteAddonPath, SQLITE_NATIVE_PATH_VARIABLE);
  const load = requireFromHere();
  let expected = override ?? 'better-sqlite3/build/Release/better_sqlite3.node';
  try {
    const Database = load('better-sqlite3') as typeof BetterSqlite3;
    if (override === undefined) {
      expected = join(dirname(load.resolve('better-sqlite3/package.json')), 'build', 'Release', 'better_sqlite3.node');
    }
    const binding = override === undefined ? undefined : load(override);
    // The binding loads with the first handle; an in-memory one makes its failure distinct from a file's.
    new Database(':memory:', withBinding({}, binding)).close();
    sqlite = { Database, binding, override };
    return sqlite;
  } catch (error) {
    const fix =
      override === undefined
        ? 'Run `npm rebuild better-sqlite3` (it downloads its prebuilt binary for this Node, or compiles it); ' +
          'npm skips that step when install scripts are disabled. For Electron run `npx @electron/rebuild -o better-sqlite3`; ' +
          `in a bundle, point the sqliteAddonPath option of open() or ${SQLITE_NATIVE_PATH_VARIABLE} at better_sqlite3.node.`
        : `The override (the sqliteAddonPath option or ${SQLITE_NATIVE_PATH_VARIABLE}) must name a better_sqlite3.node ` +
          `built for ${process.platform}-${process.arch} and this runtime; fix or remove it.`;
    throw new QuiverError(
      'NATIVE_ERROR',
      `better-sqlite3's native binding could not be loaded (${firstLine(error)}). Looked for: ${expected}. ${fix}`,
      { cause: error },
    );
  }
}

/** better-sqlite3 takes an already loaded binding object as `nativeBinding` (its types say only a path). */
function withBinding(options: BetterSqlite3.Options, binding: unknown): BetterSqlite3.Options {
  return binding === undefined ? options : { ...options, nativeBinding: binding as string };
}

/**
 * Opens a SQLite file with better-sqlite3 (loading it on the first call).
 * @throws QuiverError NATIVE_ERROR when better-sqlite3 or its binding does not load; better-sqlite3's
 *   own errors for the file itself are thrown unchanged for the caller to convert.
 */
export function openSqlite(file: string, options: BetterSqlite3.Options): BetterSqlite3.Database {
  const { Database, binding } = sqliteDatabase();
  return new Database(file, withBinding(options, binding));
}
