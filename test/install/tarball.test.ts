// The published package, installed as a user would: packed, installed into a new project with
// install scripts disabled and no compiler on the PATH, better-sqlite3's binary put where its own
// prebuilt download puts it, then an app opens, upserts and queries. Also: the runtime dependency
// tree has no package that compiles at install. And apps bundled with esbuild run.
import { spawnSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshProject, npm, packTarball, pathWithoutCompiler, REPOSITORY } from '../helpers/package-tarball.js';

const APP = `
import { open } from 'quiverdb';
try {
  const db = open(process.argv[2]);
  const docs = db.collection('docs', { dim: 3, metric: 'cosine' });
  docs.upsert([
    { id: 'a', vector: [1, 0, 0], metadata: { lang: 'en' } },
    { id: 'b', vector: [0, 1, 0], metadata: { lang: 'de' } },
  ]);
  const hits = docs.query({ vector: [0.1, 0.9, 0], k: 1, filter: { lang: 'de' } });
  console.log(JSON.stringify({ hits: hits.map((hit) => hit.id), count: docs.count() }));
  db.close();
} catch (error) {
  console.log(JSON.stringify({ code: error.code, message: error.message }));
}
`;

describe('the packed package', () => {
  const scratch = mkdtempSync(join(tmpdir(), 'quiver-pack-'));
  let tarball: string;
  let project: string;
  let bin: string;
  beforeAll(() => {
    tarball = packTarball(join(scratch, 'tarball'));
    project = freshProject();
    bin = pathWithoutCompiler();
  }, 120_000);
  afterAll(() => {
    for (const folder of [scratch, project, bin]) rmSync(folder, { recursive: true, force: true });
  });

  it('is under 10 MB and carries dist, the prebuild for this platform and the licence', () => {
    expect(statSync(tarball).size).toBeLessThan(10 * 1024 * 1024);
    const listing = spawnSync('tar', ['-tzf', tarball], { encoding: 'utf8' }).stdout.split('\n');
    const libc = process.platform === 'linux' ? '.glibc' : '';
    expect(listing).toContain(`package/prebuilds/${process.platform}-${process.arch}/quiverdb${libc}.node`);
    expect(listing).toEqual(
      expect.arrayContaining([
        'package/dist/index.js',
        'package/dist/index.cjs',
        'package/dist/worker.js',
        'package/LICENSE',
      ]),
    );
    expect(listing.filter((file) => file.startsWith('package/build/'))).toEqual([]);
  });

  it('installs without a compiler or install scripts and runs an app that opens, upserts and queries', () => {
    const env = {
      ...process.env,
      PATH: bin,
      npm_config_ignore_scripts: 'true',
      npm_config_audit: 'false',
      npm_config_fund: 'false',
    };
    // The PATH really has no toolchain.
    for (const tool of ['cc', 'c++', 'g++', 'make', 'python3']) {
      expect(spawnSync(tool, ['--version'], { env }).error).toBeDefined();
    }
    npm(['install', '--prefer-offline', '--no-package-lock', tarball], project, env);
    const installed = join(project, 'node_modules', 'quiverdb');
    expect(existsSync(join(installed, 'build'))).toBe(false); // nothing was compiled
    writeFileSync(join(project, 'app.mjs'), APP);
    const runApp = () => {
      const result = spawnSync(process.execPath, ['app.mjs', join(project, 'db')], {
        cwd: project,
        env,
        encoding: 'utf8',
      });
      expect(result.stderr).toBe('');
      return JSON.parse(result.stdout.trim());
    };

    // Install scripts disabled: better-sqlite3 has not fetched its binary, and says how to.
    const sqliteRelease = join(project, 'node_modules', 'better-sqlite3', 'build', 'Release');
    expect(existsSync(join(sqliteRelease, 'better_sqlite3.node'))).toBe(false);
    const skipped = runApp();
    expect(skipped.code).toBe('NATIVE_ERROR');
    expect(skipped.message).toContain('npm rebuild better-sqlite3');
    // What better-sqlite3's prebuilt download would put there.
    mkdirSync(sqliteRelease, { recursive: true });
    copyFileSync(
      join(REPOSITORY, 'node_modules', 'better-sqlite3', 'build', 'Release', 'better_sqlite3.node'),
      join(sqliteRelease, 'better_sqlite3.node'),
    );
    expect(runApp()).toEqual({ hits: ['b'], count: 2 });
  }, 90_000);

  // The settings README.md documents for bundlers: mark quiverdb external (it finds its files in
  // node_modules); or bundle it in with better-sqlite3 external and QUIVERDB_NATIVE_PATH pointing
  // at the unpacked quiverdb folder. Runs after the install above.
  const bundles = [
    { format: 'esm', external: ['quiverdb'], env: {} },
    { format: 'cjs', external: ['quiverdb'], env: {} },
    { format: 'esm', external: ['better-sqlite3'], env: { QUIVERDB_NATIVE_PATH: 'node_modules/quiverdb' } },
    { format: 'cjs', external: ['better-sqlite3'], env: { QUIVERDB_NATIVE_PATH: 'node_modules/quiverdb' } },
  ] as const;
  for (const bundle of bundles) {
    it(`runs an app bundled by esbuild as ${bundle.format} with ${bundle.external.join(', ')} external`, async () => {
      const extension = bundle.format === 'esm' ? 'mjs' : 'cjs';
      const out = join(project, 'bundled', `app-${bundle.external[0]}.${extension}`);
      await build({
        entryPoints: [join(project, 'app.mjs')],
        bundle: true,
        platform: 'node',
        target: 'node20',
        format: bundle.format,
        external: [...bundle.external],
        outfile: out,
        logLevel: 'silent',
      });
      const env = { ...process.env, PATH: bin, QUIVERDB_NATIVE_PATH: '', ...bundle.env };
      if (env.QUIVERDB_NATIVE_PATH !== '') env.QUIVERDB_NATIVE_PATH = join(project, env.QUIVERDB_NATIVE_PATH);
      const database = join(project, `db-${bundle.format}-${bundle.external[0]}`);
      const result = spawnSync(process.execPath, [out, database], { cwd: project, env, encoding: 'utf8' });
      expect(result.stderr).toBe('');
      expect(JSON.parse(result.stdout.trim())).toEqual({ hits: ['b'], count: 2 });
    }, 60_000);
  }
});

/**
 * Whether an installed package compiles native code at install: it has a binding.gyp (npm then
 * runs node-gyp rebuild unless it has an install script) and no install step that first looks for
 * a prebuilt binary (prebuild-install downloads one; node-gyp-build and node-pre-gyp load one).
 */
function compilesAtInstall(folder: string): boolean {
  const manifest = JSON.parse(readFileSync(join(folder, 'package.json'), 'utf8')) as {
    gypfile?: boolean;
    scripts?: Record<string, string>;
  };
  const scripts = manifest.scripts ?? {};
  const install = [scripts.preinstall, scripts.install, scripts.postinstall]
    .filter((script) => script !== undefined)
    .join(' && ');
  const hasGyp = existsSync(join(folder, 'binding.gyp')) || manifest.gypfile === true;
  if (install === '') return hasGyp;
  if (/prebuild-install|node-gyp-build|node-pre-gyp/.test(install)) return false;
  return hasGyp || /node-gyp|cmake-js|make\b|gcc|g\+\+/.test(install);
}

describe('the runtime dependencies', () => {
  it('have no package that compiles at install', () => {
    const parseable = spawnSync('npm', ['ls', '--omit=dev', '--all', '--parseable'], {
      cwd: REPOSITORY,
      encoding: 'utf8',
    });
    const folders = parseable.stdout.split('\n').filter((line) => line.includes('node_modules'));
    expect(folders.length).toBeGreaterThan(5);
    const compiling = folders
      .filter(compilesAtInstall)
      .map((folder) => folder.slice(folder.lastIndexOf('node_modules/') + 13));
    expect(compiling).toEqual([]);
    // The check itself sees a compiling package: hnswlib-node (a development dependency, the
    // parity tests' reference), whose addon npm compiles from its binding.gyp.
    expect(compilesAtInstall(join(REPOSITORY, 'node_modules', 'hnswlib-node'))).toBe(true);
    expect(compilesAtInstall(join(REPOSITORY, 'node_modules', 'better-sqlite3'))).toBe(false);
  });
});
