// Builds the npm tarball of this checkout as `npm pack` would publish it, in a staging copy so the
// checkout itself is never touched: tsup builds dist/, and this platform's prebuild is the addon of
// build/Release (the binary prebuildify would move into prebuilds/; compiling it again here would
// only repeat that build). Also: a PATH without a compiler, and running npm with it.
import { spawnSync } from 'node:child_process';
import {
  copyFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPOSITORY = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The files `npm pack` takes from the checkout (package.json#files) and what building dist needs. */
const STAGED = [
  'package.json',
  'README.md',
  'LICENSE',
  'docs',
  'src',
  'native',
  'binding.gyp',
  'tsup.config.ts',
  'tsconfig.json',
];

function run(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env): string {
  const result = spawnSync(command, args, { cwd, env, encoding: 'utf8', timeout: 120_000 });
  if (result.status !== 0) {
    throw new Error(`${command} ${args.join(' ')} failed (${result.status}): ${result.stderr}\n${result.stdout}`);
  }
  return result.stdout;
}

/** The npm CLI's script, run with this Node so a PATH without system tools still works. */
export function npmCli(): string {
  const candidates = [
    join(dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'bin', 'npm-cli.js'),
    '/usr/lib/node_modules/npm/bin/npm-cli.js',
    '/usr/local/lib/node_modules/npm/bin/npm-cli.js',
  ];
  const found = candidates.find((candidate) => existsSync(candidate));
  if (found === undefined) throw new Error(`npm-cli.js not found in ${candidates.join(', ')}`);
  return found;
}

/** A folder holding only `node`: as PATH, it has no compiler, make or Python. */
export function pathWithoutCompiler(): string {
  const bin = mkdtempSync(join(tmpdir(), 'quiver-bin-'));
  symlinkSync(process.execPath, join(bin, 'node'));
  return bin;
}

/** Runs npm with this Node and `env`. */
export function npm(args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env): string {
  return run(process.execPath, [npmCli(), ...args], cwd, env);
}

/** Packs the checkout into `destination` and returns the tarball's path. */
export function packTarball(destination: string): string {
  const staging = mkdtempSync(join(tmpdir(), 'quiver-stage-'));
  for (const name of STAGED) {
    if (existsSync(join(REPOSITORY, name))) cpSync(join(REPOSITORY, name), join(staging, name), { recursive: true });
  }
  symlinkSync(join(REPOSITORY, 'node_modules'), join(staging, 'node_modules'));
  run(process.execPath, [join(REPOSITORY, 'node_modules', 'tsup', 'dist', 'cli-default.js')], staging, {
    ...process.env,
    QUIVERDB_NO_DTS: '1',
  });
  const libc = process.platform === 'linux' ? '.glibc' : '';
  const prebuild = join(staging, 'prebuilds', `${process.platform}-${process.arch}`, `quiverdb${libc}.node`);
  mkdirSync(dirname(prebuild), { recursive: true });
  copyFileSync(join(REPOSITORY, 'build', 'Release', 'quiver_native.node'), prebuild);
  mkdirSync(destination, { recursive: true });
  // --ignore-scripts: prepack would compile the addon again; its result is already in place.
  npm(['pack', '--ignore-scripts', '--pack-destination', destination], staging);
  const tarball = readdirSync(destination).find((file) => file.endsWith('.tgz'));
  if (tarball === undefined) throw new Error(`npm pack wrote no tarball into ${destination}`);
  return join(destination, tarball);
}

/** A new project folder with a package.json, for installing the tarball into. */
export function freshProject(): string {
  const project = mkdtempSync(join(tmpdir(), 'quiver-app-'));
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'app', version: '1.0.0', private: true }));
  return project;
}
