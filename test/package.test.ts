// The published surface: ESM and CommonJS entry points load from the build, export exactly
// open and QuiverError at run time, and deep imports are refused by package.json#exports.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { expect, it } from 'vitest';

const root = join(import.meta.dirname, '..');
const run = (args: string[]) => execFileSync(process.execPath, args, { cwd: root, encoding: 'utf8' }).trim();

it('loads through require() and import by package name, exporting only open and QuiverError', () => {
  expect(run(['-e', "console.log(Object.keys(require('quiverdb')).sort().join(','))"])).toBe('QuiverError,open');
  expect(
    run(['--input-type=module', '-e', "import * as q from 'quiverdb'; console.log(Object.keys(q).sort().join(','))"]),
  ).toBe('QuiverError,open');
});

it('refuses deep imports', () => {
  expect(() => run(['-e', "require('quiverdb/src/db.ts')"])).toThrow(/ERR_PACKAGE_PATH_NOT_EXPORTED/);
  expect(() => run(['-e', "require('quiverdb/dist/index.cjs')"])).toThrow(/ERR_PACKAGE_PATH_NOT_EXPORTED/);
});

it('quiverdb/langchain loads through import and require, exporting the vector store', () => {
  expect(run(['-e', "console.log(Object.keys(require('quiverdb/langchain')).join(','))"])).toBe('QuiverVectorStore');
  expect(
    run([
      '--input-type=module',
      '-e',
      "import * as l from 'quiverdb/langchain'; console.log(Object.keys(l).join(','))",
    ]),
  ).toBe('QuiverVectorStore');
});

it('an error from the CommonJS build is an instanceof the ESM build’s QuiverError, and vice versa', () => {
  const script = `
    const cjs = require('quiverdb');
    import('quiverdb').then((esm) => {
      const codeOf = (f) => { try { f(); } catch (error) { return error; } };
      const fromCjs = codeOf(() => cjs.open(''));
      const fromEsm = codeOf(() => esm.open(''));
      console.log([fromCjs instanceof esm.QuiverError, fromEsm instanceof cjs.QuiverError,
        new Error('x') instanceof cjs.QuiverError, fromCjs.code].join(','));
    });`;
  expect(run(['-e', script])).toBe('true,true,false,INVALID_ARGUMENT');
});
