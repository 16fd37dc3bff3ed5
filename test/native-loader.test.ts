// The loader: where QuiverDB's addon and better-sqlite3's binding are looked for, in which order,
// the overrides (open() options and environment variables), and NATIVE_ERROR for each way loading
// fails. Cases that depend on the process-wide first load run in a child process.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, utimesSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { addonCandidates, loadAddonFrom } from '../src/native-loader.js';
import { tempDirectory } from './helpers/fixtures.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const BUILT = join(ROOT, 'build', 'Release', 'quiver_native.node');
const PLATFORM = `${process.platform}-${process.arch}`;

/** A file that starts like a shared library but is not one: what a binary of another architecture looks like to dlopen. */
function writeBogusBinary(path: string): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, Buffer.concat([Buffer.from([0x7f, 0x45, 0x4c, 0x46]), Buffer.alloc(60, 7)]));
}

function nativeErrorOf(run: () => unknown): { code: string; message: string } {
  try {
    run();
  } catch (error) {
    return error as { code: string; message: string };
  }
  throw new Error('expected a NATIVE_ERROR, nothing was thrown');
}

/** Runs `script` (ESM, with tsx) in a child process; returns its exit status and output. */
function runChild(script: string, env: Record<string, string>, args: string[] = []) {
  const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script, ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { status: child.status, stdout: child.stdout, stderr: child.stderr };
}

describe('the addon loader', () => {
  let directory: ReturnType<typeof tempDirectory>;
  beforeEach(() => {
    directory = tempDirectory('quiver-loader-');
  });
  afterEach(() => directory.cleanup());

  it('looks for a prebuild first, then build/Release, then build/Debug', () => {
    const candidates = addonCandidates(directory.path, undefined);
    expect(candidates.map((path) => path.slice(directory.path.length + 1))).toEqual([
      expect.stringMatching(new RegExp(`^prebuilds/${PLATFORM}/quiverdb(\\.glibc|\\.musl)?\\.node$`)),
      'build/Release/quiver_native.node',
      'build/Debug/quiver_native.node',
    ]);
  });

  it('loads the prebuild for this platform before a broken build/Release', () => {
    const prebuild = join(directory.path, 'prebuilds', PLATFORM, 'quiverdb.node');
    mkdirSync(dirname(prebuild), { recursive: true });
    copyFileSync(BUILT, prebuild);
    const release = join(directory.path, 'build', 'Release', 'quiver_native.node');
    writeBogusBinary(release);
    utimesSync(release, new Date(2020, 0, 1), new Date(2020, 0, 1)); // older than the prebuild
    expect(addonCandidates(directory.path, undefined)[0]).toBe(prebuild);
    const addon = loadAddonFrom(directory.path, undefined) as { exactTopK?: unknown };
    expect(typeof addon.exactTopK).toBe('function');
  });

  it('tries a build/Release newer than the prebuild first (a checkout rebuilt after packing)', () => {
    const prebuild = join(directory.path, 'prebuilds', PLATFORM, 'quiverdb.node');
    writeBogusBinary(prebuild);
    utimesSync(prebuild, new Date(2020, 0, 1), new Date(2020, 0, 1));
    const release = join(directory.path, 'build', 'Release', 'quiver_native.node');
    mkdirSync(dirname(release), { recursive: true });
    copyFileSync(BUILT, release);
    expect(addonCandidates(directory.path, undefined).slice(0, 2)).toEqual([release, prebuild]);
    expect(typeof (loadAddonFrom(directory.path, undefined) as { exactTopK?: unknown }).exactTopK).toBe('function');
  });

  it('skips a prebuild tagged for the other libc', () => {
    if (process.platform !== 'linux') return;
    const other = process.report.getReport() as { header: { glibcVersionRuntime?: string } };
    const otherLibc = other.header.glibcVersionRuntime === undefined ? 'glibc' : 'musl';
    writeBogusBinary(join(directory.path, 'prebuilds', PLATFORM, `quiverdb.${otherLibc}.node`));
    expect(addonCandidates(directory.path, undefined)[0]).not.toContain(otherLibc);
  });

  it('falls back to build/Debug when there is neither a prebuild nor build/Release', () => {
    const debug = join(directory.path, 'build', 'Debug', 'quiver_native.node');
    mkdirSync(dirname(debug), { recursive: true });
    copyFileSync(BUILT, debug);
    expect(typeof (loadAddonFrom(directory.path, undefined) as { adcTopK?: unknown }).adcTopK).toBe('function');
  });

  it('is NATIVE_ERROR naming every place looked and the fixing commands when nothing is there', () => {
    const error = nativeErrorOf(() => loadAddonFrom(directory.path, undefined));
    expect(error.code).toBe('NATIVE_ERROR');
    expect(error.message).toContain(`for ${PLATFORM}`);
    expect(error.message).toContain(join(directory.path, 'prebuilds', PLATFORM));
    expect(error.message).toContain(`${join(directory.path, 'build', 'Release', 'quiver_native.node')} (missing)`);
    expect(error.message).toContain(`${join(directory.path, 'build', 'Debug', 'quiver_native.node')} (missing)`);
    expect(error.message).toContain('npm rebuild quiverdb');
    expect(error.message).toContain('QUIVERDB_NATIVE_PATH');
  });

  it('is NATIVE_ERROR naming the platforms it has when only another architecture was shipped', () => {
    writeBogusBinary(join(directory.path, 'prebuilds', 'sunos-mips', 'quiverdb.node'));
    const error = nativeErrorOf(() => loadAddonFrom(directory.path, undefined));
    expect(error.code).toBe('NATIVE_ERROR');
    expect(error.message).toContain('prebuilt binaries for sunos-mips only');
  });

  it('is NATIVE_ERROR with the dlopen reason when a binary is there but does not load (wrong architecture)', () => {
    const release = join(directory.path, 'build', 'Release', 'quiver_native.node');
    writeBogusBinary(release);
    const error = nativeErrorOf(() => loadAddonFrom(directory.path, undefined));
    expect(error.code).toBe('NATIVE_ERROR');
    expect(error.message).toMatch(new RegExp(`${release.replaceAll('/', '\\/')} \\((?!missing)[^)]+\\)`));
  });

  it('takes an override file or folder, and tries nothing else when one is given', () => {
    const file = join(directory.path, 'unpacked', 'quiver_native.node');
    mkdirSync(dirname(file), { recursive: true });
    copyFileSync(BUILT, file);
    expect(typeof (loadAddonFrom(ROOT, file) as { distances?: unknown }).distances).toBe('function');
    expect(typeof (loadAddonFrom(ROOT, dirname(file)) as { distances?: unknown }).distances).toBe('function');
    const missing = join(directory.path, 'nowhere.node');
    const error = nativeErrorOf(() => loadAddonFrom(ROOT, missing));
    expect(error.code).toBe('NATIVE_ERROR');
    expect(error.message).toContain(`${missing} (missing)`);
    expect(error.message).not.toContain('build/Release');
    expect(error.message).toContain('QUIVERDB_NATIVE_PATH');
  });
});

describe('loading in a fresh process', () => {
  const script = `
    import { open } from './src/index.ts';
    const options = process.argv[2] ? JSON.parse(process.argv[2]) : {};
    try {
      const db = open(process.argv[1], options);
      const docs = db.collection('docs', { dim: 2 });
      docs.upsert([{ id: 'a', vector: [1, 0] }]);
      console.log(JSON.stringify({ ok: docs.query({ vector: [1, 0], k: 1 })[0].id }));
      db.close();
    } catch (error) {
      console.log(JSON.stringify({ code: error.code, message: error.message }));
    }`;
  let directory: ReturnType<typeof tempDirectory>;
  beforeEach(() => {
    directory = tempDirectory('quiver-loader-child-');
  });
  afterEach(() => directory.cleanup());

  function outcome(env: Record<string, string>, options?: object): { ok?: string; code?: string; message?: string } {
    const args = [join(directory.path, 'db'), ...(options === undefined ? [] : [JSON.stringify(options)])];
    const child = runChild(script, env, args);
    expect(child.stderr).toBe('');
    return JSON.parse(child.stdout.trim().split('\n').pop() ?? '{}');
  }

  it('QUIVERDB_NATIVE_PATH pointing nowhere is NATIVE_ERROR at the first index use, naming the path', () => {
    const missing = join(directory.path, 'missing.node');
    const result = outcome({ QUIVERDB_NATIVE_PATH: missing });
    expect(result.code).toBe('NATIVE_ERROR');
    expect(result.message).toContain(`${missing} (missing)`);
  });

  it('the addonPath option wins over QUIVERDB_NATIVE_PATH', () => {
    const result = outcome({ QUIVERDB_NATIVE_PATH: join(directory.path, 'missing.node') }, { addonPath: BUILT });
    expect(result).toEqual({ ok: 'a' });
  });

  it('a better-sqlite3 binding that does not load is NATIVE_ERROR at open, naming it and what fixes it', () => {
    const bogus = join(directory.path, 'better_sqlite3.node');
    writeBogusBinary(bogus);
    const result = outcome({ QUIVERDB_SQLITE_NATIVE_PATH: bogus });
    expect(result.code).toBe('NATIVE_ERROR');
    expect(result.message).toContain("better-sqlite3's native binding could not be loaded");
    expect(result.message).toContain(bogus);
    expect(result.message).toContain('QUIVERDB_SQLITE_NATIVE_PATH');
  });

  it('the sqliteAddonPath option loads better-sqlite3 from the given file', () => {
    const copy = join(directory.path, 'elsewhere', 'better_sqlite3.node');
    mkdirSync(dirname(copy), { recursive: true });
    copyFileSync(join(ROOT, 'node_modules', 'better-sqlite3', 'build', 'Release', 'better_sqlite3.node'), copy);
    expect(outcome({}, { sqliteAddonPath: copy })).toEqual({ ok: 'a' });
  });

  it('a second open() asking for another addon than the one loaded is INVALID_ARGUMENT', () => {
    const child = runChild(
      `
      import { open } from './src/index.ts';
      const first = open(process.argv[1] + '/one', { addonPath: process.argv[2] });
      first.collection('docs', { dim: 2 }).upsert([{ id: 'a', vector: [1, 0] }]);
      try {
        open(process.argv[1] + '/two', { addonPath: process.argv[1] + '/other.node' });
        console.log('opened');
      } catch (error) {
        console.log(error.code, error.message);
      }`,
      {},
      [directory.path, BUILT],
    );
    expect(child.stdout).toMatch(/^INVALID_ARGUMENT options\.addonPath: this process already loaded/);
  });
});
