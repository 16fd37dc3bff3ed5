// The published build (tsup.config.ts) has no crash points: no QUIVERDB_CRASH_AT, no SIGKILL and no
// call naming a crash point in any built file, while the sources the tests run keep them.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'tsup';
import { afterAll, beforeAll, expect, it } from 'vitest';
import configs from '../tsup.config.js';
import { tempDirectory } from './helpers/fixtures.js';
import { REPOSITORY } from './helpers/package-tarball.js';

const CRASH_POINT_SOURCE = readFileSync(join(REPOSITORY, 'src', 'storage', 'crash-point.ts'), 'utf8');
// The point names, from the CrashPoint union, so a point added later is checked too.
const POINT_NAMES = [...CRASH_POINT_SOURCE.matchAll(/^ {2}\| '([a-z-]+)'/gm)].map((match) => match[1]!);

let out: ReturnType<typeof tempDirectory>;
let built: Map<string, string>;

beforeAll(async () => {
  out = tempDirectory('quiver-build-');
  for (const config of Array.isArray(configs) ? configs : [configs]) {
    await build({
      ...config,
      config: false,
      outDir: out.path,
      dts: false,
      clean: false,
      silent: true,
      sourcemap: false,
    });
  }
  built = new Map(
    readdirSync(out.path)
      .filter((file) => /\.(c?js)$/.test(file))
      .map((file) => [file, readFileSync(join(out.path, file), 'utf8')]),
  );
}, 120_000);

afterAll(() => out.cleanup());

it('the sources keep the crash points the crash tests stop at', () => {
  expect(POINT_NAMES).toContain('upsert-after-commit');
  expect(POINT_NAMES.length).toBeGreaterThanOrEqual(9);
  expect(CRASH_POINT_SOURCE).toMatch(/QUIVERDB_CRASH_AT/);
  expect(CRASH_POINT_SOURCE).toMatch(/SIGKILL/);
});

it('every entry of the published build is built, and none holds crash-point code', () => {
  expect([...built.keys()]).toEqual(expect.arrayContaining(['index.js', 'index.cjs', 'cli.js', 'replication.cjs']));
  for (const [file, text] of built) {
    for (const needle of ['QUIVERDB_CRASH_AT', 'SIGKILL', 'crashPoint', 'crash-point', ...POINT_NAMES]) {
      expect(text.includes(needle), `${file} contains ${needle}`).toBe(false);
    }
  }
});
